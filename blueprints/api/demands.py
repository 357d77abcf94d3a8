"""Demand postings (技术需求): your institution's needs, their review, and the public demand hall."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_login import login_required

from blueprints.actor import actor, per_person
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, paginated
from hall.extensions import limiter
from hall.services.docking import demand_hall, demands
from hall.services.docking.demand_hall import DemandFilter
from schemas.common import ErrorSchema
from schemas.demands import (
    DemandContentIn,
    DemandEtagSchema,
    DemandHallPageOut,
    DemandHallQueryIn,
    DemandHistoryOut,
    DemandLangIn,
    DemandOut,
    DemandPublicOut,
    DemandStatusQuery,
    present_demand,
)

blp = ApiBlueprint("demands", __name__, url_prefix="/demands",
                   description="Demand postings (技术需求): your needs, their review, the public demand hall")

FILTER_KEYS = ("q", "direction", "field", "region", "trl_min", "trl_max", "deal_mode", "budget_min", "budget_max",
               "currency", "negotiable", "has_bounty", "closes_before")
CREATE_LIMIT = "60 per hour"  # new drafts per person (RATE-01)


def _with_etag(demand: Any) -> Any:
    blp.set_etag(demand, DemandEtagSchema)
    return demand


def _lang(explicit: str | None) -> str:
    """?lang= wins, then Accept-Language, then Chinese."""
    if explicit:
        return explicit
    return "en" if request.accept_languages.best_match(["zh", "en"]) == "en" else "zh"


# --- the public demand hall -------------------------------------------------------------------------------------

@blp.route("/hall", methods=["GET"])
@blp.arguments(DemandHallQueryIn, location="query")
@blp.response(200, DemandHallPageOut)
def search_hall(args: dict[str, Any]) -> dict[str, Any]:
    """Search and filter published, open demands; sorted by relevance (with q), newest, deadline soonest or budget;
    facet counts (direction, field, deal mode, province) for the current filter."""
    f = DemandFilter(institution_id=args.get("institution"), **{key: args.get(key) for key in FILTER_KEYS})
    result = demand_hall.search_demands(f, sort=args["sort"], page=args["page"], per_page=args["per_page"],
                                        with_facets=args["facets"])
    lang = _lang(args.get("lang"))
    return {"items": [present_demand(demand, lang, result.terms, score) for demand, score in result.rows],
            "total": result.total, "page": args["page"], "per_page": args["per_page"], "terms": result.terms,
            "facets": result.facets}


@blp.route("/hall/<int:demand_id>", methods=["GET"])
@blp.arguments(DemandLangIn, location="query")
@blp.response(200, DemandPublicOut)
@blp.alt_response(404, schema=ErrorSchema, description="No published demand with this id.")
def hall_demand(args: dict[str, Any], demand_id: int) -> dict[str, Any]:
    """A published, open demand; anything else is 404."""
    return present_demand(demand_hall.published_demand(demand_id), _lang(args.get("lang")))


# --- your institution's demands ---------------------------------------------------------------------------------

@blp.route("", methods=["GET"])
@login_required
@blp.arguments(DemandStatusQuery, location="query")
@blp.response(200, DemandOut(many=True), headers=PAGINATION_HEADER)
def list_demands(query: dict[str, Any]) -> Any:
    """Your institution's demands, newest first, optionally by status (totals in X-Pagination)."""
    items, total = demands.list_own_demands(actor(), query.get("status"), page=query["page"],
                                            per_page=query["page_size"])
    return paginated(items, total, query["page"], query["page_size"])


@blp.route("", methods=["POST"])
@login_required
@limiter.limit(CREATE_LIMIT, key_func=per_person, scope="demand-create")
@blp.etag
@blp.arguments(DemandContentIn)
@blp.response(201, DemandOut)
def create_demand(data: dict[str, Any]) -> Any:
    """Start a draft; content may be filled in over several edits (send the ETag as If-Match with the first)."""
    return _with_etag(demands.create_demand(actor(), data))


@blp.route("/<int:demand_id>", methods=["GET"])
@login_required
@blp.etag
@blp.response(200, DemandOut)
@blp.alt_response(404, schema=ErrorSchema, description="No demand of your institution with this id.")
def read_demand(demand_id: int) -> Any:
    """One of your demands with its pending revision; the ETag guards edits."""
    return _with_etag(demands.own_demand(actor(), demand_id))


@blp.route("/<int:demand_id>", methods=["PATCH"])
@login_required
@blp.etag
@blp.arguments(DemandContentIn)
@blp.response(200, DemandOut)
@blp.alt_response(409, schema=ErrorSchema, description="The demand cannot be edited in its state.")
def edit_demand(changes: dict[str, Any], demand_id: int) -> Any:
    """Edit the content. Send If-Match with the ETag you read (428 without, 412 when stale). Editing a published
    demand makes a revision that is reviewed while the public keeps the published content."""
    demand = demands.own_demand(actor(), demand_id)
    blp.check_etag(demand, DemandEtagSchema)
    return _with_etag(demands.edit_demand(actor(), demand_id, changes, demand.lock_version))


@blp.route("/<int:demand_id>/submit", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, DemandOut)
@blp.alt_response(409, schema=ErrorSchema, description="Nothing to submit in this state.")
def submit_demand(demand_id: int) -> Any:
    """Send for review: a draft, a demand returned for changes, or a revision of a published demand."""
    return _with_etag(demands.submit_demand(actor(), demand_id))


@blp.route("/<int:demand_id>/withdraw", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, DemandOut)
@blp.alt_response(409, schema=ErrorSchema, description="Nothing to withdraw in this state.")
def withdraw_demand(demand_id: int) -> Any:
    """Withdraw a draft or a demand returned for changes; on a published demand, discard its pending revision."""
    return _with_etag(demands.withdraw_demand(actor(), demand_id))


@blp.route("/<int:demand_id>/close", methods=["POST"])
@login_required
@blp.etag
@blp.response(200, DemandOut)
@blp.alt_response(409, schema=ErrorSchema, description="Only a published demand can be closed.")
def close_demand(demand_id: int) -> Any:
    """Close a published demand (it leaves the demand hall)."""
    return _with_etag(demands.close_demand(actor(), demand_id))


@blp.route("/<int:demand_id>/history", methods=["GET"])
@login_required
@blp.response(200, DemandHistoryOut(many=True))
def demand_history(demand_id: int) -> Any:
    """Every step of the demand's lifecycle with the platform's reasons."""
    return demands.demand_history(actor(), demand_id)
