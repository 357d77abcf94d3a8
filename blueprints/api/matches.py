"""Matches between demands and listings, with their reasons, and the owners' stars and dismissals."""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_login import login_required

from blueprints.actor import actor
from blueprints.api.base import ApiBlueprint
from hall.services.docking import listing_matches, matching
from schemas.common import ErrorSchema
from schemas.matching import (
    DemandMatchOut,
    ListingMatchOut,
    MatchFeedbackIn,
    MatchQueryIn,
    present_demand_match,
    present_listing_match,
)

blp = ApiBlueprint("matches", __name__, description="Matches between demands and listings, with their reasons")


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


@blp.route("/demands/<int:demand_id>/matches", methods=["GET"])
@login_required
@blp.arguments(MatchQueryIn, location="query")
@blp.response(200, ListingMatchOut(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such demand of your institution.")
def demand_matches(args: dict[str, Any], demand_id: int) -> Any:
    """The published listings that fit your institution's demand, best first, each with the reasons (shared
    words, field, TRL window, budget against price, deal modes, region). Dismissed matches are left out."""
    lang = _lang()
    return [present_listing_match(match, lang)
            for match in matching.listings_for_demand(actor(), demand_id, limit=args["limit"])]


@blp.route("/listings/<int:listing_id>/matches", methods=["GET"])
@login_required
@blp.arguments(MatchQueryIn, location="query")
@blp.response(200, DemandMatchOut(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such listing of your institution.")
def listing_matches_view(args: dict[str, Any], listing_id: int) -> Any:
    """The published demands your institution's published listing could answer, best first, with the reasons."""
    lang = _lang()
    return [present_demand_match(match, lang)
            for match in listing_matches.demands_for_listing(actor(), listing_id, limit=args["limit"])]


@blp.route("/matches/feedback", methods=["PUT"])
@login_required
@blp.arguments(MatchFeedbackIn)
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="No such demand or listing of your institution.")
def match_feedback(data: dict[str, Any]) -> None:
    """Star a match (it comes first, and similar ones rise) or dismiss it (it is not proposed again, and similar
    ones sink); a null verdict takes yours back."""
    matching.record_feedback(actor(), data["demand_id"], data["listing_id"], data["side"], data["verdict"])
