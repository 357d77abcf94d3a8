"""Full-text search over the public hall: one interface, two backends (SQLite FTS5, PostgreSQL tsvector + GIN).

Both index the same pre-segmented tokens (``tokenizer``). ``index_listing`` and ``unindex_listing`` run in the
caller's transaction, so the index always agrees with what is published.
"""
from __future__ import annotations

import secrets
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    delete,
    event,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall import recent_answers
from hall.extensions import db
from hall.models import Direction, HallIndexEntry, HallState, HallText, IndustryField, Listing, ListingVersion
from hall.models.listings import LANGUAGES, deal_modes_mask
from hall.search.facet_counts import entry_facets, note_change, rebuild_facet_counts, write_pending
from hall.search.facet_terms import entry_terms
from hall.search.query import (
    Unit,
    build_query,
    fts5_expression,
    fts5_unit,
    tsquery_expression,
    tsquery_unit_parts,
    units_of_terms,
)
from hall.search.tokenizer import gram_tokens, highlight, index_tokens, query_terms

__all__ = ["build_query", "count_text_matches", "hall_version", "highlight", "index_listing", "query_terms", "ranked",
           "text_condition", "unindex_listing"]

Mode = Literal["all", "any"]
Query = list[Unit] | list[str]  # units (build_query) or plain index tokens (units_of_terms)

# bm25 column weights on SQLite (title, keywords, body, taxonomy, bigrams, facet words); PostgreSQL weighs A, B, C,
# D the same way and ranks by the words alone (its bigrams are in gram_vector, for matching only).
COLUMN_WEIGHTS = (10.0, 4.0, 1.0, 0.5, 0.5, 0.0)
TS_RANK_WEIGHTS = "{0.05, 0.1, 0.4, 1.0}"  # D, C, B, A
TS_RANK_NORMALIZATION = 1  # divide by 1 + log(document length): a long text's many words weigh less each


def taxonomy_names() -> dict[str, str]:
    """Each direction's and field's code → its Chinese and English names (indexed with a listing, at low weight)."""
    rows = [*db.session.execute(select(Direction.code, Direction.name_zh, Direction.name_en)),
            *db.session.execute(select(IndustryField.code, IndustryField.name_zh, IndustryField.name_en))]
    return {code: f"{zh} {en}" for code, zh, en in rows}


def version_text(version: ListingVersion, names: dict[str, str]) -> dict[str, str]:
    """The token columns of ``hall_text`` for a version; ``names`` as ``taxonomy_names`` gives them."""
    titles = [version.text("title", lang) for lang in LANGUAGES]
    texts = [version.text(name, lang) for name in ("summary", "description", "benefit", "scenarios")
             for lang in LANGUAGES]
    body = texts + [" ".join(version.inventors or [])]
    body += [asset.get("title") for asset in version.ip_assets or []]
    if version.first_of_kind:
        body += [version.first_of_kind.get(key) for key in ("model", "specifications", "catalogue", "catalogue_item")]
    keywords = list(version.keywords or [])
    taxonomy = [names.get(code or "") for code in (version.direction_code, version.field_code)]
    return {"title_tokens": index_tokens(*titles), "keyword_tokens": index_tokens(*keywords),
            "body_tokens": index_tokens(*body), "taxonomy_tokens": index_tokens(*taxonomy),
            "gram_tokens": gram_tokens(*titles, *keywords, *body)}


def index_listing(listing: Listing, names: dict[str, str] | None = None) -> HallIndexEntry:
    """Put the listing's published version into the hall index (insert or replace), in this transaction.
    ``names``: ``taxonomy_names()`` when the caller indexes many listings (read here otherwise)."""
    version = listing.published_version
    assert version is not None and listing.published_at is not None
    values = dict(
        version_id=version.id, institution_id=listing.institution_id, kind=listing.kind,
        direction_code=version.direction_code, field_code=version.field_code, region_code=version.region_code,
        trl=version.trl, deal_modes_mask=deal_modes_mask(version.deal_modes or []), price_mode=version.price_mode,
        price_amount=version.price_amount, currency=version.currency, state_funded=version.state_funded,
        product_kind=version.product_kind, recognition_level=version.recognition_level,
        published_at=listing.published_at,
    )
    entry = db.session.get(HallIndexEntry, listing.id)
    before = None if entry is None else entry_facets(entry)
    if entry is None:
        entry = HallIndexEntry(listing_id=listing.id, **values)
        db.session.add(entry)
    else:
        for key, value in values.items():
            setattr(entry, key, value)
    note_change(before, entry_facets(entry))
    columns = version_text(version, taxonomy_names() if names is None else names)
    columns["facet_tokens"] = "" if is_postgresql() else entry_terms(entry)
    text_row = db.session.get(HallText, listing.id)
    if text_row is None:
        db.session.add(HallText(listing_id=listing.id, **columns))
    else:
        for key, value in columns.items():
            setattr(text_row, key, value)
    db.session.flush()
    hall_changed()
    return entry


def unindex_listing(listing: Listing) -> None:
    """Take the listing out of the hall index, in this transaction."""
    entry = db.session.get(HallIndexEntry, listing.id)
    if entry is not None:
        note_change(entry_facets(entry), None)
    db.session.execute(delete(HallText).where(HallText.listing_id == listing.id))
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


def hall_version_read_at() -> float | None:
    """When (``time.monotonic()``) this process last read the hall's version from this database, if it has."""
    recent = _RECENT.get(db.engine)
    return recent[0] if recent is not None else None


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
    write_pending(session)  # the facet counts' rows after the version's: one lock order for every writer


def rebuild_hall_facets() -> int:
    """Count the hall's kept facet counts again from ``hall_index`` (``facet_counts.rebuild_facet_counts``), in
    this transaction; the hall's version is raised first, so its row lock comes before the counts' as in every
    other writer. Returns the number of count rows."""
    _raise_version(db.session())
    db.session.info[_RAISED] = True
    return rebuild_facet_counts()


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop(_RAISED, False):
        _RECENT.clear()  # this process's next reader asks the database (one read per engine in this process)
        recent_answers.forget()


def _units(query: Query) -> list[Unit]:
    return [u for u in query if isinstance(u, Unit)] if query and isinstance(query[0], Unit) \
        else units_of_terms([t for t in query if isinstance(t, str)])


def is_postgresql() -> bool:
    """True when the session talks to PostgreSQL (tsvector), else SQLite (FTS5)."""
    return db.session.get_bind().dialect.name == "postgresql"


def tsquery(query: Query, mode: str) -> Any:
    """PostgreSQL's query for ``query`` (every unit, or any), on the 'simple' configuration."""
    return func.to_tsquery(literal_column("'simple'"), tsquery_expression(_units(query), mode))


def fts5_query(query: Query, mode: str, facets: str | None = None) -> str:
    """SQLite FTS5's MATCH expression for ``query`` (every unit, or any); with ``facets`` (an expression over the
    facet words, ``facet_terms``), of the listings that also meet it."""
    expression = fts5_expression(_units(query), mode)
    return f"({expression}) AND {facets}" if facets else expression


_VECTOR: ColumnClause[Any] = literal_column("hall_text.search_vector")
_GRAMS: ColumnClause[Any] = literal_column("hall_text.gram_vector")
_FTS: ColumnClause[Any] = literal_column("hall_fts")


def _ts(expression: str) -> Any:
    return func.to_tsquery(literal_column("'simple'"), expression)


def _pg_unit(unit: Unit) -> ColumnElement[bool]:
    """A unit on PostgreSQL: its words in ``search_vector`` or its bigrams in ``gram_vector`` (each GIN-indexed)."""
    words, grams = tsquery_unit_parts(unit)
    parts = ([_VECTOR.op("@@")(_ts(words))] if words else []) + ([_GRAMS.op("@@")(_ts(grams))] if grams else [])
    return or_(*parts) if len(parts) > 1 else parts[0]


def _pg_match(query: Query, mode: str) -> ColumnElement[bool]:
    """A condition on ``hall_text`` rows: every unit (mode all) or any matches."""
    clauses = [_pg_unit(unit) for unit in _units(query)]
    return and_(*clauses) if mode == "all" else or_(*clauses)


def _pg_rank_query(units: list[Unit]) -> Any:
    """The words of every unit, any of them: what ``ts_rank`` weighs (bigram matches add nothing to the rank)."""
    words = [part for unit in units for part in [tsquery_unit_parts(unit)[0]] if part]
    return _ts(" | ".join(words) if words else "''")


def _fts_ids(expression: str) -> Any:
    return select(literal_column("rowid")).select_from(table("hall_fts")).where(_FTS.op("MATCH")(expression))


def text_condition(query: Query, mode: Mode = "all", facets: str | None = None) -> Any:
    """A condition on ``hall_index`` rows: their text matches ``query`` (answered by the full-text index);
    ``facets``: filter values matched with it, SQLite only (``fts5_query``)."""
    if is_postgresql():
        _no_facets(facets)
        return HallIndexEntry.listing_id.in_(select(HallText.listing_id).where(_pg_match(query, mode)))
    return HallIndexEntry.listing_id.in_(_fts_ids(fts5_query(query, mode, facets)))


def count_text_matches(query: Query, mode: Mode = "all", facets: str | None = None) -> int:
    """How many published listings match ``query`` (and ``facets``, as ``text_condition``), read from the
    full-text index alone."""
    if is_postgresql():
        _no_facets(facets)
        return db.session.scalar(select(func.count()).select_from(HallText).where(_pg_match(query, mode))) or 0
    return db.session.scalar(select(func.count()).select_from(table("hall_fts"))
                             .where(_FTS.op("MATCH")(fts5_query(query, mode, facets)))) or 0


def _no_facets(facets: str | None) -> None:
    if facets:  # PostgreSQL's planner joins hall_index with its statistics; its vectors hold no facet words
        raise ValueError("facet words are matched by SQLite's FTS5 only")


def _coverage(units: list[Unit], listing_id: Any) -> ColumnElement[Any]:
    """How many of ``units`` a listing's text meets (each unit's matches are read once, as a set)."""
    parts: list[ColumnElement[Any]]
    if is_postgresql():
        parts = [cast(_pg_unit(u), Integer) for u in units]
    else:
        parts = [case((listing_id.in_(_fts_ids(fts5_unit(u))), 1), else_=0) for u in units]
    total: ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def ranked(query: Query, mode: Mode, conditions: list[Any], limit: int, offset: int,
           window: int | None = None, facets: str | None = None) -> list[tuple[int, float]]:
    """(listing_id, score) of the best matches that also meet ``conditions``; a higher score is better.

    Relevance: title above keywords above body above taxonomy names and bigrams, each unit counted once
    per column; in the any-word widening (``mode`` any, several units of ``build_query``) a listing meeting more
    units comes first.
    Ties go to the newer listing. Only ids and scores are sorted; the caller fetches the rows of the one page it
    shows. With ``window``, only the newest ``window`` matches that meet ``conditions`` are ranked: for a very
    common word scoring hundreds of thousands of matches costs seconds, and the newest are what a visitor wants
    first. ``facets``: filter values matched with the text, SQLite only (``fts5_query``).
    """
    units = _units(query)
    h = HallIndexEntry
    # by units met only for a query's units: the matching service's many plain words are ranked by relevance alone
    by_coverage = mode == "any" and len(units) > 1 and isinstance(query[0], Unit)
    if is_postgresql():
        _no_facets(facets)
        condition = _pg_match(units, mode)
        score: ColumnElement[Any] = func.ts_rank(literal_column(f"'{TS_RANK_WEIGHTS}'::float4[]"), _VECTOR,
                                                 _pg_rank_query(units), TS_RANK_NORMALIZATION).label("score")
        query_ = (select(h.listing_id, score).join(HallText, HallText.listing_id == h.listing_id)
                  .where(condition, *conditions))
        if window is not None:
            newest = (select(h.listing_id).join(HallText, HallText.listing_id == h.listing_id)
                      .where(condition, *conditions).order_by(h.listing_id.desc()).limit(window).scalar_subquery())
            query_ = query_.where(h.listing_id.in_(newest))
        listing_id: Any = h.listing_id
    else:
        rowid: ColumnClause[Any] = literal_column("hall_fts.rowid")
        matching = (select(rowid.label("listing_id"), (-func.bm25(_FTS, *COLUMN_WEIGHTS)).label("score"))
                    .select_from(table("hall_fts")).where(_FTS.op("MATCH")(fts5_query(units, mode, facets))))
        if window is not None and not conditions:
            # FTS5 walks the matches newest first and scores only the ones it visits. (A rowid IN (…) list
            # beside MATCH would re-run the match for every id.)
            matching = matching.order_by(rowid.desc()).limit(window)
        elif window is not None:
            # With filters: the matches newest first, each joined to its hall_index row, until ``window`` of them
            # pass the filters; only those are scored.
            recent = matching.order_by(rowid.desc()).subquery("recent")
            matching = (select(recent.c.listing_id, recent.c.score).join(h, h.listing_id == recent.c.listing_id)
                        .where(*conditions).order_by(recent.c.listing_id.desc()).limit(window))
        matches = matching.subquery("matches")
        score, listing_id = matches.c.score, matches.c.listing_id
        query_ = select(matches.c.listing_id, score)
        if conditions and window is None:
            query_ = query_.join(h, h.listing_id == matches.c.listing_id).where(*conditions)
    if by_coverage and not is_postgresql():
        return _by_coverage_sqlite(units, db.session.execute(query_).all(), limit, offset)
    order: list[Any] = [_coverage(units, listing_id).desc()] if by_coverage else []
    ordered = query_.order_by(*order, score.desc(), listing_id.desc())
    rows = db.session.execute(ordered.limit(limit).offset(offset)).all()
    return [(int(row_id), float(value)) for row_id, value in rows]



def _by_coverage_sqlite(units: list[Unit], candidates: Sequence[Any], limit: int,
                        offset: int) -> list[tuple[int, float]]:
    """The widened search's candidates (the ranking window, or every match) ordered by how many units each meets,
    then score, then newest. Each unit's matches are read only between the candidates' lowest and highest rowid:
    FTS5 seeks that range in its doclists, where a set of all of a common unit's matches (``_coverage``) would
    read hundreds of thousands."""
    if not candidates:
        return []
    ids = [int(row[0]) for row in candidates]
    rowid: ColumnClause[Any] = literal_column("rowid")
    met: Counter[int] = Counter()
    for unit in units:
        met.update(int(found) for found in db.session.scalars(
            select(rowid).select_from(table("hall_fts"))
            .where(_FTS.op("MATCH")(fts5_unit(unit)), rowid >= min(ids), rowid <= max(ids))))
    ordered = sorted(((int(row_id), float(value)) for row_id, value in candidates),
                     key=lambda pair: (-met[pair[0]], -pair[1], -pair[0]))
    return ordered[offset:offset + limit]
