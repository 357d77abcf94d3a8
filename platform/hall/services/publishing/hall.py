"""The public hall: the one visibility rule for everything public, filtered, ranked, paginated search with facet
counts, listing detail, institution profiles, public files, the taxonomy.

The visibility rule (``listing_is_public`` / ``public_listing_conditions``, ``institution_is_public``) decides
what anyone without an account may see: a listing is public only while it is published with an approved
version, its institution is verified (not pending, rejected or suspended) and its term has not ended; of its
files, only those of that approved version. Every public view goes through it: the hall's detail, files,
institution profiles, search and the directory; any other public view must use it too.

Searches filter, count and rank in ``hall_index``, which the transitions keep, in the same transaction, to the
published listings of verified institutions; the one thing it cannot follow is the clock (a term ends; the
daily ``expire-listings`` takes the listing out), so the rows of each page shown are held to the rule once more
and a listing whose term ended is never shown, though until the sweep it may still be counted in a facet.
The directory, an export, applies the rule in SQL.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from hall.db import not_from_an_index
from hall.extensions import db
from hall.models import Direction, HallIndexEntry, Institution, Listing, ListingAttachment, ListingVersion
from hall.models.listings import DEAL_MODES
from hall.models.types import utcnow
from hall.search import Mode, count_text_matches, hall_version, is_postgresql, ranked, text_condition
from hall.search.facet_counts import TOTAL, maintained_facets, scope_total
from hall.search.query import Unit, build_query, highlight_terms
from hall.services.core.errors import NotFound
from hall.services.publishing.hall_facets import FACETS, facet_counts, facets_and_total
from hall.services.publishing.hall_filter import HallFilter, region_prefix
from hall.services.publishing.hall_scopes import facet_scope, fts_facets, kept_total

SORTS = ("relevance", "newest", "price_asc", "price_desc")
WALK_ENTRIES = 20_000  # index entries a sorted page may expect to walk in SQLite (``_walks_the_order``)


@dataclass
class HallPage:
    """One page of results: (index entry, public version, score) rows, the total and the facet counts;
    ``matched_all``: how many of the total match every word of the query (they come first)."""

    rows: list[tuple[HallIndexEntry, ListingVersion, float | None]]
    total: int
    terms: list[str]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    matched_all: int | None = None


# --- the visibility rule ------------------------------------------------------------------------------------

def institution_is_public(org: Institution | None) -> bool:
    """An institution is public while it is verified (a pending, rejected or suspended one is not)."""
    return org is not None and org.verification_status == "verified"


def listing_is_public(listing: Listing | None, now: datetime | None = None) -> bool:
    """A listing is public while it is published with an approved version, its institution is public and its
    term has not ended."""
    now = now or utcnow()
    return (listing is not None and listing.status == "published" and listing.published_version_id is not None
            and (listing.expires_at is None or listing.expires_at > now)
            and institution_is_public(listing.institution))


def public_listing_conditions(now: datetime | ColumnElement[Any] | None = None) -> list[ColumnElement[bool]]:
    """``listing_is_public`` as SQL conditions on ``listings`` (for queries that list or count public things);
    ``now`` may also be a bound parameter of a statement built once."""
    if now is None:
        now = utcnow()
    verified = select(Institution.id).where(Institution.verification_status == "verified")
    return [Listing.status == "published", Listing.published_version_id.is_not(None),
            or_(Listing.expires_at.is_(None), Listing.expires_at > now), Listing.institution_id.in_(verified)]


def published_listing(listing_id: int) -> tuple[Listing, ListingVersion]:
    """A public listing with its public version; anything else (draft, pending, withdrawn, suspended, expired,
    of an institution that is not verified, missing) is 404."""
    # the institution and the public version in the same statement, its files in one more: the detail shows all three
    listing = db.session.get(Listing, listing_id, options=[
        joinedload(Listing.institution),
        joinedload(Listing.published_version).selectinload(ListingVersion.attachments)])
    if listing is None or not listing_is_public(listing) or listing.published_version is None:
        raise NotFound(_("No such listing in the hall."))
    return listing, listing.published_version


def public_attachment(listing_id: int, attachment_id: int) -> ListingAttachment:
    """A file of a public listing's approved version; any other file (of a draft, of a pending revision only, of
    another listing, of a listing that is not public) is 404."""
    try:
        _listing, version = published_listing(listing_id)
    except NotFound:
        raise NotFound(_("No such attachment.")) from None
    attachment = db.session.get(ListingAttachment, attachment_id)
    if attachment is None or attachment.version_id != version.id:
        raise NotFound(_("No such attachment."))
    return attachment


def public_institution(institution_id: int) -> Institution:
    """A public institution's profile; any other is 404."""
    org = db.session.get(Institution, institution_id)
    if org is None or not institution_is_public(org):
        raise NotFound(_("No such institution."))
    return org


# --- search ---------------------------------------------------------------------------------------------------

def _conditions(f: HallFilter) -> list[Any]:
    h = HallIndexEntry
    conditions: list[Any] = []
    for column, value in ((h.kind, f.kind), (h.direction_code, f.direction), (h.field_code, f.field),
                          (h.institution_id, f.institution_id), (h.product_kind, f.product_kind),
                          (h.recognition_level, f.recognition_level), (h.state_funded, f.state_funded),
                          (h.price_mode, f.price_mode),
                          (h.currency, f.currency)):
        if value is not None:
            conditions.append(column == value)
    if f.trl_min is not None:
        conditions.append(h.trl >= f.trl_min)
    if f.trl_max is not None:
        conditions.append(h.trl <= f.trl_max)
    if f.deal_mode is not None:
        conditions.append(h.deal_modes_mask.op("&")(1 << DEAL_MODES.index(f.deal_mode)) != 0)
    if f.region:
        conditions.append(h.region_code.startswith(region_prefix(f.region), autoescape=True))
    return conditions + _price_conditions(f)


def _price_conditions(f: HallFilter) -> list[Any]:
    h = HallIndexEntry
    return ([h.price_amount >= f.price_min] if f.price_min is not None else []) + \
        ([h.price_amount <= f.price_max] if f.price_max is not None else [])


@dataclass(frozen=True)
class _Search:
    """How a filter with text is asked: ``conditions`` on ``hall_index``, and ``facets``, the rest of the filter as
    FTS5's expression over the facet words, matched with the text (SQLite only)."""

    conditions: list[Any]
    facets: str | None = None


def _search(f: HallFilter, terms: list[Unit]) -> _Search:
    """On SQLite, a filter with text leaves to SQL only a price range: the rest is matched in the full-text index
    (``hall_scopes.fts_facets``), an intersection of doclists there instead of a join of each of a common word's
    matches to its ``hall_index`` row (at 1M listings, 电池 + a direction + a TRL range: 225 → ~100 ms)."""
    facets = fts_facets(f) if terms and not is_postgresql() else None
    return _Search(_price_conditions(f) if facets else _conditions(f), facets)


def filtered_selection(f: HallFilter, terms: list[Unit], mode: Mode = "all") -> Select[Any]:
    """The ids of published listings that meet the filter and, with ``terms`` (``build_query``), match the text."""
    search = _search(f, terms)
    conditions = list(search.conditions)
    if terms:
        conditions.append(text_condition(terms, mode, search.facets))
    return select(HallIndexEntry.listing_id).where(*conditions)


def _count(f: HallFilter, terms: list[Unit], mode: Mode) -> int:
    search = _search(f, terms)
    if terms and not search.conditions:
        return count_text_matches(terms, mode, search.facets)
    return db.session.scalar(select(func.count()).select_from(filtered_selection(f, terms, mode).subquery())) or 0


def _page_ids(f: HallFilter, terms: list[Unit], mode: Mode, sort: str, limit: int, offset: int,
              total: int) -> Sequence[tuple[int, float | None]]:
    h = HallIndexEntry
    search = _search(f, terms)
    if terms and sort == "relevance":
        window = int(current_app.config.get("SEARCH_RANK_WINDOW", 5000))
        return ranked(terms, mode, search.conditions, limit, offset,
                      window=max(window, offset + limit) if total > window else None, facets=search.facets)
    if sort in ("price_asc", "price_desc"):  # the order of the indexes of migration 0021
        price = h.price_amount.asc() if sort == "price_asc" else h.price_amount.desc()
        order: list[ColumnElement[Any]] = [h.price_amount.is_(None), price, h.published_at.desc()]
    else:
        order = [h.published_at.desc(), h.listing_id.desc()]
    conditions = search.conditions + ([text_condition(terms, mode, search.facets)] if terms else [])
    if _walks_the_order(total, limit + offset):
        conditions = [not_from_an_index(condition) for condition in conditions]
    query = select(h.listing_id).where(*conditions).order_by(*order).limit(limit).offset(offset)
    return [(listing_id, None) for listing_id in db.session.scalars(query)]


def _walks_the_order(total: int, wanted: int) -> bool:
    """Whether SQLite should walk the sort's own index and test each listing against the filter and the text until
    the page is full, rather than find every match and sort them: when matches are dense enough that about
    ``wanted × hall size / total`` index entries, at most WALK_ENTRIES, give the page. SQLite's planner has no
    such estimate for a full-text match and sorts, at 1M listings 100–150 ms for a common word or a direction;
    PostgreSQL's has its statistics."""
    if not total or is_postgresql():
        return False
    return wanted * _hall_size() <= total * WALK_ENTRIES


_SIZE: weakref.WeakKeyDictionary[Any, tuple[float, int]] = weakref.WeakKeyDictionary()


def _hall_size() -> int:
    """How many listings the hall holds, for ``_walks_the_order``'s estimate only: read from the kept counts at
    most once a minute per process and database (a stale size can make a page slower, never different)."""
    engine = db.engine
    known = _SIZE.get(engine)
    if known is None or time.monotonic() - known[0] > 60:
        known = (time.monotonic(), scope_total(TOTAL))
        _SIZE[engine] = known
    return known[1]


def index_version(fresh_within: float = 0.0) -> tuple[str, int] | None:
    """The hall index's (token, version): it changes in the same transaction as anything the index holds (with
    ``fresh_within``, a version this process saw that many seconds ago may be answered: ``hall_version``)."""
    return hall_version(fresh_within)


_UNREAD: Any = object()


def search_hall(f: HallFilter, *, sort: str = "relevance", page: int = 1, per_page: int = 20,
                with_facets: bool = True, version: tuple[str, int] | None = _UNREAD) -> HallPage:
    """Public listings matching ``f``: ranked by relevance (title above body), newest or price.

    Only ids (and scores) are sorted; the rows of the one page shown are fetched afterwards. The total, the ids
    and the facet counts come from the hall index alone, so they are kept under the hall's version and asked
    again only when the index has changed: the total and facets once for every page and sort of the same filter
    (``_COUNTS``), the ids per page (``_RESULTS``); the rows are always read anew (the clock may have ended a
    listing's term since). ``version``: the ``index_version()`` the caller read in this transaction, if it did.
    """
    terms = build_query(f.q) if f.q else []
    if version is _UNREAD:
        version = hall_version()
    window = int(current_app.config.get("SEARCH_RANK_WINDOW", 5000))
    counts_key = (version, astuple(f), per_page, with_facets) if version is not None else None
    counts = _COUNTS.get(counts_key) if counts_key is not None else None
    if counts is None:
        counts = _counts(f, terms, per_page, with_facets)
        if counts_key is not None:
            _COUNTS.put(counts_key, counts)
    key = (counts_key, sort, page, window) if counts_key is not None else None
    ids = _RESULTS.get(key) if key is not None else None
    if ids is None:
        ids = _ids(f, terms, sort, page, per_page, counts)
        if key is not None:
            _RESULTS.put(key, ids)
    total, matched_all, _mode, facets = counts
    return HallPage(rows=public_rows(ids), total=total, terms=highlight_terms(terms),
                    facets={name: dict(counts) for name, counts in (facets or {}).items()},
                    matched_all=matched_all if terms else None)


# (total, how many match every unit, the mode the total counts, the facet counts or None when not asked)
Counts = tuple[int, int, Mode, dict[str, dict[str, int]] | None]


def _counts(f: HallFilter, terms: list[Unit], per_page: int, with_facets: bool) -> Counts:
    """The total, how many match every unit, the mode counted and the facet counts, from the hall index.

    A query of several units that fewer than a page of listings match in full is widened to the listings that
    match any of them (mode ``any``): those matching every unit come first (``matched_all`` of them)."""
    known: dict[str, dict[str, int]] | None = None
    scope = facet_scope(f)
    if scope is not None:  # no text and at most one facet filter: the kept counts
        kept, total = maintained_facets(scope)
        known = kept if with_facets else None
    elif with_facets and is_postgresql():  # one pass there gives the facets and the total: the text is matched once
        known, total = facets_and_total(filtered_selection(f, terms, "all"))
    else:
        kept_sum = kept_total(f)  # two facet conditions, or a TRL range: the total is kept, the facets counted
        total = kept_sum if kept_sum is not None else _count(f, terms, "all")
    matched_all = total
    mode: Mode = "all"
    if terms and len(terms) > 1 and total < per_page:
        widened = _count(f, terms, "any")
        if widened > total:
            mode, total, known = "any", widened, None
    if with_facets and known is None:
        known = facet_counts(filtered_selection(f, terms, mode)) if total else {name: {} for name in FACETS}
    return total, matched_all, mode, known


def _ids(f: HallFilter, terms: list[Unit], sort: str, page: int, per_page: int,
         counts: Counts) -> list[tuple[int, float | None]]:
    """The page's (listing id, score) pairs; in mode ``any`` by relevance, those matching every unit first, then
    by how many units they match."""
    total, matched_all, mode, _facets = counts
    offset = (page - 1) * per_page
    if not total:
        return []
    if mode == "any" and sort == "relevance" and matched_all:
        full = list(_page_ids(f, terms, "all", sort, matched_all, 0, matched_all))
        seen = {listing_id for listing_id, _score in full}
        rest = [pair for pair in _page_ids(f, terms, "any", sort, offset + per_page + matched_all, 0, total)
                if pair[0] not in seen]
        return (full + rest)[offset:offset + per_page]
    return list(_page_ids(f, terms, mode, sort, per_page, offset, total))


class _ResultCache:
    """A small least-recently-used map, per process, of what a search found by (hall version, query); an entry of
    an older version is never asked for again and ages out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_RESULTS = _ResultCache(512)  # a page's ids by (the Counts' key, sort, page, window)
_COUNTS = _ResultCache(512)  # Counts by (version, filter, per page, facets)


def public_entries(listing_ids: Sequence[int], *, with_text: bool = False) -> dict[int, HallIndexEntry]:
    """The index entries of those of ``listing_ids`` that are public, by listing id (no versions; with
    ``with_text``, their search text too, in a second query)."""
    if not listing_ids:
        return {}
    query = (select(HallIndexEntry).join(Listing, Listing.id == HallIndexEntry.listing_id)
             .where(HallIndexEntry.listing_id.in_(list(listing_ids)), *public_listing_conditions()))
    if with_text:
        query = query.options(selectinload(HallIndexEntry.text))
    return {entry.listing_id: entry for entry in db.session.scalars(query)}


def public_rows(ids: Sequence[tuple[int, float | None]]) -> list[tuple[HallIndexEntry, ListingVersion, float | None]]:
    """The index entry and public version of each (listing id, score), in the given order; listings that are not
    public (any more) are left out."""
    if not ids:
        return []
    rows_by_id = {entry.listing_id: (entry, version) for entry, version in db.session.execute(
        select(HallIndexEntry, ListingVersion).join(ListingVersion, ListingVersion.id == HallIndexEntry.version_id)
        .join(Listing, Listing.id == HallIndexEntry.listing_id)
        .where(HallIndexEntry.listing_id.in_([listing_id for listing_id, _ in ids]), *public_listing_conditions())
        .options(selectinload(ListingVersion.attachments))).all()}
    return [(*rows_by_id[listing_id], score) for listing_id, score in ids if listing_id in rows_by_id]


def direction_counts() -> dict[str, int]:
    """How many public listings each direction has (the home page's tiles), from the kept facet counts."""
    return maintained_facets(TOTAL)[0]["direction_code"]


def taxonomy() -> list[Direction]:
    """The six directions with their fields, in their published order."""
    return list(db.session.scalars(select(Direction).options(selectinload(Direction.fields))
                                   .order_by(Direction.position)))
