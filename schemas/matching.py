"""Schemas of matches between demands and listings, with their reasons, and of an owner's verdict on one."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from schemas.common import MAX_ID, StrictSchema


class ReasonOut(Schema):
    """One consideration behind a match."""

    kind = fields.String(metadata={"description": "terms, field, trl, budget, deal_modes, region or feedback"})
    fits = fields.Boolean(metadata={"description": "true when it speaks for the match"})
    text = fields.String(metadata={"description": "the reason in the request's language"})
    values = fields.Dict(keys=fields.String(), values=fields.Raw(),
                         metadata={"description": "the facts behind the sentence (amounts in minor units)"})


class ListingMatchOut(Schema):
    """A published listing proposed for a demand."""

    listing_id = fields.Integer()
    kind = fields.String()
    title = fields.String(allow_none=True)
    institution_id = fields.Integer()
    field_code = fields.String(allow_none=True)
    trl = fields.Integer(allow_none=True)
    price_mode = fields.String(allow_none=True)
    price_amount = fields.Integer(allow_none=True, metadata={"description": "minor units"})
    currency = fields.String()
    score = fields.Float(metadata={"description": "higher is a better fit; comparable within one answer only"})
    verdict = fields.String(allow_none=True, metadata={"description": "star or dismiss, when you gave one"})
    reasons = fields.List(fields.Nested(ReasonOut))


class DemandMatchOut(Schema):
    """A published demand a listing could answer."""

    demand_id = fields.Integer()
    title = fields.String(allow_none=True)
    institution_id = fields.Integer()
    direction_code = fields.String(allow_none=True)
    deadline = fields.Date(allow_none=True)
    budget_max = fields.Integer(allow_none=True, metadata={"description": "minor units"})
    currency = fields.String()
    score = fields.Float()
    verdict = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(ReasonOut))


class MatchQueryIn(StrictSchema):
    """How many matches to return."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class MatchFeedbackIn(StrictSchema):
    """Star or dismiss a match, or take the verdict back (null)."""

    demand_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    listing_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    side = fields.String(required=True, validate=validate.OneOf(("demand", "listing")),
                         metadata={"description": "demand: you own the demand and judge the listing; listing: the "
                                                  "other way round"})
    verdict = fields.String(required=True, allow_none=True, validate=validate.OneOf(("star", "dismiss")))


def present_listing_match(match: Any, lang: str) -> dict[str, Any]:
    """A listing match for the API, its title in the caller's language."""
    version, entry = match.version, match.entry
    other = "en" if lang == "zh" else "zh"
    return {"listing_id": match.listing_id, "kind": entry.kind,
            "title": version.text("title", lang) or version.text("title", other),
            "institution_id": entry.institution_id, "field_code": entry.field_code, "trl": entry.trl,
            "price_mode": entry.price_mode, "price_amount": entry.price_amount, "currency": entry.currency,
            "score": match.score, "verdict": match.verdict,
            "reasons": [{"kind": r.kind, "fits": r.fits, "text": r.text, "values": r.values} for r in match.reasons]}


def present_demand_match(match: Any, lang: str) -> dict[str, Any]:
    """A demand match for the API, its title in the caller's language."""
    demand = match.demand
    other = "en" if lang == "zh" else "zh"
    return {"demand_id": match.demand_id, "title": demand.text("title", lang) or demand.text("title", other),
            "institution_id": demand.institution_id, "direction_code": demand.direction_code,
            "deadline": demand.deadline, "budget_max": demand.budget_max, "currency": demand.currency,
            "score": match.score, "verdict": match.verdict,
            "reasons": [{"kind": r.kind, "fits": r.fits, "text": r.text, "values": r.values} for r in match.reasons]}
