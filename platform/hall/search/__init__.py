"""Full-text search over the public hall: one interface, two backends (SQLite FTS5, PostgreSQL tsvector + GIN).

Both index the same pre-segmented tokens (``tokenizer``). ``index_listing`` and ``unindex_listing`` run in the
caller's transaction, so the index always agrees with what is published.
"""
from __future__ import annotations

from typing import Literal

from sqlalchemy import delete, func, literal_column, select, table
from sqlalchemy.sql import Subquery

from hall.extensions import db
from hall.models import HallIndexEntry, Listing, ListingVersion
from hall.models.listings import LANGUAGES, deal_modes_mask
from hall.search.tokenizer import highlight, index_tokens, query_terms

__all__ = ["highlight", "index_listing", "matching", "query_terms", "unindex_listing"]

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
    return entry


def unindex_listing(listing: Listing) -> None:
    """Take the listing out of the hall index, in this transaction."""
    db.session.execute(delete(HallIndexEntry).where(HallIndexEntry.listing_id == listing.id))


def _quote_fts5(term: str) -> str:
    quoted = '"' + term.replace('"', '""') + '"'
    return quoted + "*" if term.isascii() else quoted


def _quote_tsquery(term: str) -> str:
    quoted = "'" + term.replace("'", "''") + "'"
    return quoted + ":*" if term.isascii() else quoted


def matching(terms: list[str], mode: Literal["all", "any"] = "all") -> Subquery:
    """A subquery of (listing_id, score) for listings whose text matches ``terms``; a higher score is better.

    English terms (stems) match as prefixes; Chinese terms match whole tokens.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        expression = (" & " if mode == "all" else " | ").join(_quote_tsquery(t) for t in terms)
        tsquery = func.to_tsquery(literal_column("'simple'"), expression)
        vector = literal_column("hall_index.search_vector")
        return (select(HallIndexEntry.listing_id.label("listing_id"),
                       func.ts_rank(vector, tsquery).label("score"))
                .where(vector.op("@@")(tsquery)).subquery("matches"))
    expression = (" AND " if mode == "all" else " OR ").join(_quote_fts5(t) for t in terms)
    fts = table("hall_fts")
    return (select(literal_column("hall_fts.rowid").label("listing_id"),
                   (-func.bm25(literal_column("hall_fts"), TITLE_WEIGHT, BODY_WEIGHT)).label("score"))
            .select_from(fts).where(literal_column("hall_fts").op("MATCH")(expression)).subquery("matches"))
