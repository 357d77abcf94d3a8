"""The public hall: filtered, ranked, paginated search with facet counts, listing detail, the taxonomy.

Everything here reads ``hall_index``, which holds published listings only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from hall.extensions import db
from hall.models import Direction, HallIndexEntry, Institution, Listing, ListingVersion
from hall.models.listings import DEAL_MODES
from hall.search import matching, query_terms
from hall.services.errors import NotFound

SORTS = ("relevance", "newest", "price_asc", "price_desc")
FACETS = ("kind", "direction_code", "field_code", "trl", "price_mode", "product_kind", "recognition_level",
          "state_funded", "province", "deal_mode")


@dataclass
class HallFilter:
    """What a visitor asks the hall for (all optional)."""

    q: str | None = None
    kind: str | None = None
    direction: str | None = None
    field: str | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    deal_mode: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    currency: str | None = None
    region: str | None = None
    institution_id: int | None = None
    product_kind: str | None = None
    recognition_level: str | None = None
    state_funded: bool | None = None


@dataclass
class HallPage:
    """One page of results: (index entry, public version, score) rows, the total and the facet counts."""

    rows: list[tuple[HallIndexEntry, ListingVersion, float | None]]
    total: int
    terms: list[str]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def _conditions(f: HallFilter) -> list[Any]:
    h = HallIndexEntry
    conditions: list[Any] = []
    for column, value in ((h.kind, f.kind), (h.direction_code, f.direction), (h.field_code, f.field),
                          (h.institution_id, f.institution_id), (h.product_kind, f.product_kind),
                          (h.recognition_level, f.recognition_level), (h.state_funded, f.state_funded),
                          (h.currency, f.currency)):
        if value is not None:
            conditions.append(column == value)
    if f.trl_min is not None:
        conditions.append(h.trl >= f.trl_min)
    if f.trl_max is not None:
        conditions.append(h.trl <= f.trl_max)
    if f.price_min is not None:
        conditions.append(h.price_amount >= f.price_min)
    if f.price_max is not None:
        conditions.append(h.price_amount <= f.price_max)
    if f.deal_mode is not None:
        conditions.append(h.deal_modes_mask.op("&")(1 << DEAL_MODES.index(f.deal_mode)) != 0)
    if f.region:
        conditions.append(h.region_code.startswith(region_prefix(f.region), autoescape=True))
    return conditions


def region_prefix(code: str) -> str:
    """A province (110000) or city (110100) code covers every code under it; a county code is exact."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def filtered_selection(f: HallFilter, terms: list[str], mode: str) -> tuple[Select[Any], Any]:
    """The filtered selection of index entries and the score column (None without text)."""
    query = select(HallIndexEntry.listing_id).where(*_conditions(f))
    if not terms:
        return query, None
    matches = matching(terms, mode)  # type: ignore[arg-type]
    query = query.join(matches, matches.c.listing_id == HallIndexEntry.listing_id)
    return query, matches.c.score


def search_hall(f: HallFilter, *, sort: str = "relevance", page: int = 1, per_page: int = 20,
                with_facets: bool = True) -> HallPage:
    """Published listings matching ``f``: ranked by relevance (title above body), newest or price."""
    terms = query_terms(f.q) if f.q else []
    query, score = filtered_selection(f, terms, "all")
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if terms and total == 0 and len(terms) > 1:  # a long phrase: fall back to any of its words
        query, score = filtered_selection(f, terms, "any")
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    h = HallIndexEntry
    if sort == "relevance" and score is not None:
        order = [score.desc(), h.published_at.desc()]
    elif sort in ("price_asc", "price_desc"):
        price = h.price_amount.asc() if sort == "price_asc" else h.price_amount.desc()
        order = [h.price_amount.is_(None), price, h.published_at.desc()]
    else:
        order = [h.published_at.desc(), h.listing_id.desc()]
    columns = [h, ListingVersion] + ([score.label("score")] if score is not None else [])
    page_query = (query.with_only_columns(*columns).join(ListingVersion, ListingVersion.id == h.version_id)
                  .order_by(*order).limit(per_page).offset((page - 1) * per_page)
                  .options(selectinload(ListingVersion.attachments)))
    rows = [(row[0], row[1], float(row[2]) if score is not None else None)
            for row in db.session.execute(page_query).all()]
    facets = facet_counts(query) if with_facets else {}
    return HallPage(rows=rows, total=total, terms=terms, facets=facets)


def facet_counts(filtered: Select[Any]) -> dict[str, dict[str, int]]:
    """How many of the filtered listings fall under each value of each facet."""
    ids = filtered.subquery()
    h = HallIndexEntry
    joined = select(h).join(ids, ids.c.listing_id == h.listing_id).subquery()
    facets: dict[str, dict[str, int]] = {}
    for name in FACETS[:-2]:
        column = joined.c[name]
        rows = db.session.execute(select(column, func.count()).group_by(column)).all()
        facets[name] = {str(value).lower() if isinstance(value, bool) else str(value): count
                        for value, count in rows if value is not None}
    province = func.substr(joined.c.region_code, 1, 2)
    facets["province"] = {value: count for value, count in
                          db.session.execute(select(province, func.count()).group_by(province)).all() if value}
    sums = [func.sum(case((joined.c.deal_modes_mask.op("&")(1 << i) != 0, 1), else_=0)) for i in
            range(len(DEAL_MODES))]
    totals = db.session.execute(select(*sums)).one()
    facets["deal_mode"] = {mode: int(count or 0) for mode, count in zip(DEAL_MODES, totals) if count}
    return facets


def published_listing(listing_id: int) -> tuple[Listing, ListingVersion]:
    """A published listing with its public version; anything else (draft, pending, suspended, missing) is 404."""
    entry = db.session.get(HallIndexEntry, listing_id)
    listing = db.session.get(Listing, listing_id) if entry is not None else None
    if listing is None or listing.status != "published" or listing.published_version is None:
        raise NotFound("No such listing in the hall.")
    return listing, listing.published_version


def public_institution(institution_id: int) -> Institution:
    """A verified institution's public profile."""
    org = db.session.get(Institution, institution_id)
    if org is None or not org.is_verified:
        raise NotFound("No such institution.")
    return org


def taxonomy() -> list[Direction]:
    """The six directions with their fields, in their published order."""
    return list(db.session.scalars(select(Direction).options(selectinload(Direction.fields))
                                   .order_by(Direction.position)))
