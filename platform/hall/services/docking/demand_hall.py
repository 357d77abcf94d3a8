"""The public demand hall: the visibility rule for demands, filtered, ranked, paginated search with facet counts,
and a published demand's detail.

A demand is public while it is published, its deadline has not passed and its institution is public (verified,
not pending, rejected or suspended) — ``demand_is_public`` / ``public_demand_conditions``. Searches filter,
count and rank in ``demand_index`` (kept by the transitions, in the same transaction, to the published demands);
the institution and the deadline are applied as conditions on every query, so a suspended institution's demands
and demands past their deadline (until the daily ``expire-demands`` sweeps them) are never found nor counted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, case, func, or_, select

from hall.extensions import db
from hall.models import Demand, DemandIndexEntry, DemandIndexField, Institution
from hall.models.listings import DEAL_MODES
from hall.models.types import utcnow
from hall.search import Mode, query_terms
from hall.search.demands import demand_text_condition, ranked_demands
from hall.services.core.errors import NotFound
from hall.services.publishing.hall import institution_is_public, region_prefix

SORTS = ("relevance", "newest", "deadline", "budget_desc", "budget_asc")
FACETS = ("direction_code", "field_code", "deal_mode", "province")


@dataclass
class DemandFilter:
    """What a visitor asks the demand hall for (all optional). Money in minor units."""

    q: str | None = None
    direction: str | None = None
    field: str | None = None
    region: str | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    deal_mode: str | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    currency: str | None = None
    negotiable: bool | None = None
    has_bounty: bool | None = None
    closes_before: date | None = None
    institution_id: int | None = None


@dataclass
class DemandPage:
    """One page of results: (demand, score) rows, the total and the facet counts."""

    rows: list[tuple[Demand, float | None]]
    total: int
    terms: list[str]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


# --- the visibility rule ------------------------------------------------------------------------------------

def demand_is_public(demand: Demand | None, today: date | None = None) -> bool:
    """A demand is public while it is published, open (its deadline not passed) and its institution public."""
    today = today or utcnow().date()
    return (demand is not None and demand.status == "published"
            and (demand.deadline is None or demand.deadline >= today)
            and institution_is_public(demand.institution))


def public_demand_conditions(today: date | None = None) -> list[ColumnElement[bool]]:
    """``demand_is_public`` as SQL conditions on ``demand_index`` rows."""
    today = today or utcnow().date()
    verified = select(Institution.id).where(Institution.verification_status == "verified")
    published = select(Demand.id).where(Demand.status == "published")
    d = DemandIndexEntry
    return [d.institution_id.in_(verified), d.demand_id.in_(published),
            or_(d.deadline.is_(None), d.deadline >= today)]


def published_demand(demand_id: int) -> Demand:
    """A public demand (its published content); anything else (draft, pending, rejected, suspended, closed,
    expired, of an institution that is not public, missing) is 404."""
    demand = db.session.get(Demand, demand_id)
    if demand is None or not demand_is_public(demand):
        raise NotFound(_("No such demand in the hall."))
    return demand


# --- search ---------------------------------------------------------------------------------------------------

def _conditions(f: DemandFilter) -> list[Any]:
    d = DemandIndexEntry
    conditions: list[Any] = public_demand_conditions()
    for column, value in ((d.direction_code, f.direction), (d.institution_id, f.institution_id),
                          (d.currency, f.currency), (d.budget_negotiable, f.negotiable)):
        if value is not None:
            conditions.append(column == value)
    if f.field is not None:
        conditions.append(d.demand_id.in_(select(DemandIndexField.demand_id)
                                          .where(DemandIndexField.field_code == f.field)))
    if f.region:
        conditions.append(d.region_code.startswith(region_prefix(f.region), autoescape=True))
    # the demand's TRL window overlaps the one asked for (an open end is 1 or 9)
    if f.trl_min is not None:
        conditions.append(func.coalesce(d.trl_max, 9) >= f.trl_min)
    if f.trl_max is not None:
        conditions.append(func.coalesce(d.trl_min, 1) <= f.trl_max)
    if f.deal_mode is not None:
        conditions.append(d.deal_modes_mask.op("&")(1 << DEAL_MODES.index(f.deal_mode)) != 0)
    # the demand's budget range overlaps the one asked for (demands without an amount are left out)
    low, high = func.coalesce(d.budget_min, d.budget_max), func.coalesce(d.budget_max, d.budget_min)
    if f.budget_min is not None:
        conditions.append(high >= f.budget_min)
    if f.budget_max is not None:
        conditions.append(low <= f.budget_max)
    if f.has_bounty is True:
        conditions.append(d.bounty_amount > 0)
    elif f.has_bounty is False:
        conditions.append(or_(d.bounty_amount.is_(None), d.bounty_amount == 0))
    if f.closes_before is not None:
        conditions.append(d.deadline <= f.closes_before)
    return conditions


def filtered_demands(f: DemandFilter, terms: list[str], mode: Mode = "all") -> Select[Any]:
    """The ids of public demands that meet the filter and, with ``terms``, match the text."""
    conditions = _conditions(f)
    if terms:
        conditions.append(demand_text_condition(terms, mode))
    return select(DemandIndexEntry.demand_id).where(*conditions)


def _count(f: DemandFilter, terms: list[str], mode: Mode) -> int:
    return db.session.scalar(select(func.count()).select_from(filtered_demands(f, terms, mode).subquery())) or 0


def _page_ids(f: DemandFilter, terms: list[str], mode: Mode, sort: str, limit: int,
              offset: int) -> Sequence[tuple[int, float | None]]:
    d = DemandIndexEntry
    if terms and sort == "relevance":
        return ranked_demands(terms, mode, _conditions(f), limit, offset)
    if sort == "deadline":
        order: list[ColumnElement[Any]] = [d.deadline.is_(None), d.deadline.asc(), d.demand_id.desc()]
    elif sort in ("budget_desc", "budget_asc"):
        amount = func.coalesce(d.budget_max, d.budget_min)
        order = [amount.is_(None), amount.desc() if sort == "budget_desc" else amount.asc(), d.demand_id.desc()]
    else:
        order = [d.published_at.desc(), d.demand_id.desc()]
    query = filtered_demands(f, terms, mode).order_by(*order).limit(limit).offset(offset)
    return [(demand_id, None) for demand_id in db.session.scalars(query)]


def search_demands(f: DemandFilter, *, sort: str = "relevance", page: int = 1, per_page: int = 20,
                   with_facets: bool = True) -> DemandPage:
    """Public demands matching ``f``: ranked by relevance (title above body), newest, deadline soonest or budget.

    Only ids (and scores) are sorted; the rows of the one page shown are fetched afterwards.
    """
    terms = query_terms(f.q) if f.q else []
    mode: Mode = "all"
    total = _count(f, terms, mode)
    if terms and total == 0 and len(terms) > 1:  # a long phrase: fall back to any of its words
        mode = "any"
        total = _count(f, terms, mode)
    ids = _page_ids(f, terms, mode, sort, per_page, (page - 1) * per_page) if total else []
    facets = demand_facets(filtered_demands(f, terms, mode)) if with_facets else {}
    return DemandPage(rows=public_demand_rows(ids), total=total, terms=terms, facets=facets)


def public_demand_rows(ids: Sequence[tuple[int, float | None]]) -> list[tuple[Demand, float | None]]:
    """The demand of each (demand id, score), in the given order; demands that are not public are left out."""
    if not ids:
        return []
    demands = {demand.id: demand for demand in db.session.scalars(
        select(Demand).join(DemandIndexEntry, DemandIndexEntry.demand_id == Demand.id)
        .where(Demand.id.in_([demand_id for demand_id, _ in ids]), *public_demand_conditions()))}
    return [(demands[demand_id], score) for demand_id, score in ids if demand_id in demands]


def demand_facets(filtered: Select[Any]) -> dict[str, dict[str, int]]:
    """How many of the filtered demands fall under each direction, field, deal mode and province."""
    ids = filtered.subquery()
    d = DemandIndexEntry
    joined = select(d).join(ids, ids.c.demand_id == d.demand_id).subquery()
    facets: dict[str, dict[str, int]] = {}
    rows = db.session.execute(select(joined.c.direction_code, func.count()).group_by(joined.c.direction_code))
    facets["direction_code"] = {str(value): int(count) for value, count in rows if value is not None}
    rows = db.session.execute(select(DemandIndexField.field_code, func.count())
                              .join(ids, ids.c.demand_id == DemandIndexField.demand_id)
                              .group_by(DemandIndexField.field_code))
    facets["field_code"] = {str(value): int(count) for value, count in rows}
    sums = [func.sum(case((joined.c.deal_modes_mask.op("&")(1 << i) != 0, 1), else_=0))
            for i in range(len(DEAL_MODES))]
    totals = db.session.execute(select(*sums)).one()
    facets["deal_mode"] = {mode: int(count or 0) for mode, count in zip(DEAL_MODES, totals) if count}
    province = func.substr(joined.c.region_code, 1, 2)
    facets["province"] = {str(value): int(count) for value, count in
                          db.session.execute(select(province, func.count()).group_by(province)).all() if value}
    return facets
