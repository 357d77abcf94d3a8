"""Full-text search over the public hall: one interface, two backends (SQLite FTS5, PostgreSQL tsvector + GIN).

Both index the same pre-segmented tokens (``tokenizer``). ``index_listing`` and ``unindex_listing`` run in the
caller's transaction, so the index always agrees with what is published.
"""
from __future__ import annotations

import secrets
import time
import weakref
from typing import Any, Literal

from sqlalchemy import ColumnClause, ColumnElement, delete, event, func, literal_column, select, table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall.extensions import db
from hall.models import HallIndexEntry, HallState, Listing, ListingVersion
from hall.models.listings import LANGUAGES, deal_modes_mask
from hall.search.tokenizer import highlight, index_tokens, query_terms

__all__ = ["count_text_matches", "hall_version", "highlight", "index_listing", "query_terms", "ranked",
           "text_condition", "unindex_listing"]

Mode = Literal["all", "any"]

TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0  # bm25 column weights on SQLite; PostgreSQL weighs A (title) over B


def _version_tokens(version: ListingVersion) -> tuple[str, str]:
    titles = [version.text("title", lang) for lang in LANGUAGES]
    body = [version.text(name, lang) for name in ("summary", "description", "benefit", "scenarios")
            for lang in LANGUAGES]
    body += [" ".join(version.keywords or []), " ".join(version.inventors or [])]
    body += [asset.get("title") for asset in version.ip_assets or []]
    if version.first_of_kind:
        body += [version.first_of_kind.get(key) for key in ("model", "specifications", "catalogue", "catalogue_item")]
    return index_tokens(*titles, *(version.keywords or [])), index_tokens(*body)


def index_listing(listing: Listing) -> HallIndexEntry:
    """Put the listing's published version into the hall index (insert or replace), in this transaction."""
    version = listing.published_version
    assert version is not None and listing.published_at is not None
    title_tokens, body_tokens = _version_tokens(version)
    values = dict(
        version_id=version.id, institution_id=listing.institution_id, kind=listing.kind,
        direction_code=version.direction_code, field_code=version.field_code, region_code=version.region_code,
        trl=version.trl, deal_modes_mask=deal_modes_mask(version.deal_modes or []), price_mode=version.price_mode,
        price_amount=version.price_amount, currency=version.currency, state_funded=version.state_funded,
        product_kind=version.product_kind, recognition_level=version.recognition_level,
        published_at=listing.published_at, title_tokens=title_tokens, body_tokens=body_tokens,
    )
    entry = db.session.get(HallIndexEntry, listing.id)
    if entry is None:
        entry = HallIndexEntry(listing_id=listing.id, **values)
        db.session.add(entry)
    else:
        for key, value in values.items():
            setattr(entry, key, value)
    db.session.flush()
    hall_changed()
    return entry


def unindex_listing(listing: Listing) -> None:
    """Take the listing out of the hall index, in this transaction."""
    db.session.execute(delete(HallIndexEntry).where(HallIndexEntry.listing_id == listing.id))
    hall_changed()


# --- the hall's version ----------------------------------------------------------------------------------------

_CHANGED = "hall_index_changed"
_RAISED = "hall_version_raised"


def hall_changed() -> None:
    """Note that this transaction changed the hall index: its commit raises the hall's version (``hall_state``).

    The counter is raised right before the commit, not here, so its row lock (PostgreSQL) is the last one the
    transaction takes and is held only for the commit itself: no lock order through it, no deadlock."""
    db.session.info[_CHANGED] = True  # a rollback leaves it set: one needless raise is harmless, a lost one not


def hall_version(fresh_within: float = 0.0) -> tuple[str, int] | None:
    """(token, version) of the hall index in this database, or None while the index has never changed here.

    With ``fresh_within`` seconds, a version this process read (or committed) that recently is taken without asking
    the database: another process's change then shows here up to that much later. A change committed by this
    process shows at once (``_forget_after_commit``)."""
    engine = db.engine
    if fresh_within > 0:
        recent = _RECENT.get(engine)
        if recent is not None and time.monotonic() - recent[0] < fresh_within:
            return recent[1]
    read_at = time.monotonic()
    row = db.session.execute(_VERSION_QUERY).first()
    version = (str(row[0]), int(row[1])) if row is not None else None
    _RECENT[engine] = (read_at, version)
    return version


_RECENT: weakref.WeakKeyDictionary[Any, tuple[float, tuple[str, int] | None]] = weakref.WeakKeyDictionary()


_VERSION_QUERY = text("SELECT token, version FROM hall_state WHERE id = 1")  # plain text: the cheapest read


def _raise_version(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(HallState).values(id=1, version=1, token=secrets.token_hex(16))
    session.execute(statement.on_conflict_do_update(index_elements=[HallState.id],
                                                    set_={"version": HallState.version + 1}))


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        _raise_version(session)
        session.info[_RAISED] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop(_RAISED, False):
        _RECENT.clear()  # this process's next reader asks the database (one read per engine in this process)


def _quote_fts5(term: str) -> str:
    quoted = '"' + term.replace('"', '""') + '"'
    return quoted + "*" if term.isascii() else quoted


def _quote_tsquery(term: str) -> str:
    quoted = "'" + term.replace("'", "''") + "'"
    return quoted + ":*" if term.isascii() else quoted


def is_postgresql() -> bool:
    """True when the session talks to PostgreSQL (tsvector), else SQLite (FTS5)."""
    return db.session.get_bind().dialect.name == "postgresql"


def tsquery(terms: list[str], mode: str) -> Any:
    """PostgreSQL's query for ``terms`` (all or any; Latin terms as prefixes), on the 'simple' configuration."""
    expression = (" & " if mode == "all" else " | ").join(_quote_tsquery(t) for t in terms)
    return func.to_tsquery(literal_column("'simple'"), expression)


def fts5_query(terms: list[str], mode: str) -> str:
    """SQLite FTS5's MATCH expression for ``terms`` (all or any; Latin terms as prefixes)."""
    return (" AND " if mode == "all" else " OR ").join(_quote_fts5(t) for t in terms)


def text_condition(terms: list[str], mode: Mode = "all") -> Any:
    """A condition on ``hall_index`` rows: their text matches ``terms`` (answered by the full-text index)."""
    if is_postgresql():
        return literal_column("hall_index.search_vector").op("@@")(tsquery(terms, mode))
    return HallIndexEntry.listing_id.in_(
        select(literal_column("rowid")).select_from(table("hall_fts"))
        .where(literal_column("hall_fts").op("MATCH")(fts5_query(terms, mode))))


def count_text_matches(terms: list[str], mode: Mode = "all") -> int:
    """How many published listings match ``terms`` (read from the full-text index alone)."""
    if is_postgresql():
        return db.session.scalar(select(func.count()).select_from(HallIndexEntry)
                                 .where(text_condition(terms, mode))) or 0
    return db.session.scalar(select(func.count()).select_from(table("hall_fts"))
                             .where(literal_column("hall_fts").op("MATCH")(fts5_query(terms, mode)))) or 0


def ranked(terms: list[str], mode: Mode, conditions: list[Any], limit: int, offset: int,
           window: int | None = None) -> list[tuple[int, float]]:
    """(listing_id, score) of the best matches that also meet ``conditions``; a higher score is better.

    Only ids and scores are sorted; the caller fetches the rows of the one page it shows. With ``window``, only
    the newest ``window`` matches are ranked (on SQLite only when there are no other filters): for a very common
    word scoring hundreds of thousands of matches costs seconds, and the newest are what a visitor wants first.
    """
    h = HallIndexEntry
    if is_postgresql():
        score: ColumnElement[Any] = func.ts_rank(literal_column("hall_index.search_vector"),
                                                 tsquery(terms, mode)).label("score")
        query = select(h.listing_id, score).where(text_condition(terms, mode), *conditions)
        if window is not None:
            newest = (select(h.listing_id).where(text_condition(terms, mode), *conditions)
                      .order_by(h.listing_id.desc()).limit(window).scalar_subquery())
            query = query.where(h.listing_id.in_(newest))
        tie_break = h.listing_id.desc()
    else:
        rowid: ColumnClause[Any] = literal_column("hall_fts.rowid")
        matching = (select(rowid.label("listing_id"),
                           (-func.bm25(literal_column("hall_fts"), TITLE_WEIGHT, BODY_WEIGHT)).label("score"))
                    .select_from(table("hall_fts"))
                    .where(literal_column("hall_fts").op("MATCH")(fts5_query(terms, mode))))
        if window is not None and not conditions:
            # FTS5 walks the matches newest first and scores only the ones it visits. (A rowid IN (…) list
            # beside MATCH would re-run the match for every id; with filters the whole match set is ranked.)
            matching = matching.order_by(rowid.desc()).limit(window)
        matches = matching.subquery("matches")
        score, tie_break = matches.c.score, matches.c.listing_id.desc()
        query = select(matches.c.listing_id, score)
        if conditions:
            query = query.join(h, h.listing_id == matches.c.listing_id).where(*conditions)
    rows = db.session.execute(query.order_by(score.desc(), tie_break).limit(limit).offset(offset)).all()
    return [(int(listing_id), float(value)) for listing_id, value in rows]
