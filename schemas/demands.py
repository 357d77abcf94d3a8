"""Schemas for demand postings (技术需求): owner input (drafts may be partial), the owner's view, the public demand
hall's query and results."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.demands import DEMAND_STATUSES
from hall.models.listings import DEAL_MODES
from hall.money import CURRENCIES, MAX_MINOR
from hall.search import highlight
from hall.services.core.validation import region_code_problem
from hall.services.docking.demand_hall import SORTS
from schemas.common import MAX_ID, StrictSchema, checked_by

LANGS = ("zh", "en")


def _text(max_length: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


def _money(description: str) -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=MAX_MINOR),
                          metadata={"description": description + " (integer minor units, fen for CNY)"})


def _trl() -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=9),
                          metadata={"description": "technology readiness level 1–9"})


class DemandContentIn(StrictSchema):
    """A demand's content; every field optional in a draft (submission checks completeness)."""

    title_zh = _text(200)
    title_en = _text(300)
    description_zh = _text(20000)
    description_en = _text(40000)
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=20))
    direction_code = fields.String(allow_none=True, validate=validate.Length(max=40))
    field_codes = fields.List(fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(max=10),
                              metadata={"description": "taxonomy field codes of the direction"})
    trl_min = _trl()
    trl_max = _trl()
    budget_min = _money("the lower end of the budget")
    budget_max = _money("the upper end of the budget")
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    budget_negotiable = fields.Boolean(metadata={"description": "面议: the budget is negotiable"})
    deadline = fields.Date(allow_none=True, metadata={"description": "the posting closes after this day"})
    region_code = fields.String(allow_none=True, validate=checked_by(region_code_problem))
    deal_modes = fields.List(fields.String(validate=validate.OneOf(DEAL_MODES)), validate=validate.Length(max=8))
    bounty_amount = _money("揭榜挂帅 reward for who solves it")

    @validates_schema
    def _ranges(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for low, high in (("trl_min", "trl_max"), ("budget_min", "budget_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ValidationError(_("must not be below %(field)s", field=low), high)


class DemandStatusQuery(StrictSchema):
    """Filter and page the institution's own demands."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))
    status = fields.String(validate=validate.OneOf(DEMAND_STATUSES))


class DemandContentOut(Schema):
    """A demand's content (the published one, or a pending revision's)."""

    title_zh = fields.String(allow_none=True)
    title_en = fields.String(allow_none=True)
    description_zh = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    direction_code = fields.String(allow_none=True)
    field_codes = fields.List(fields.String())
    trl_min = fields.Integer(allow_none=True)
    trl_max = fields.Integer(allow_none=True)
    budget_min = fields.Integer(allow_none=True)
    budget_max = fields.Integer(allow_none=True)
    currency = fields.String()
    budget_negotiable = fields.Boolean()
    deadline = fields.Date(allow_none=True)
    region_code = fields.String(allow_none=True)
    deal_modes = fields.List(fields.String())
    bounty_amount = fields.Integer(allow_none=True)


class RevisionOut(Schema):
    """The pending (or last decided) revision of a published demand."""

    status = fields.String()
    reason = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    content = fields.Nested(DemandContentOut, allow_none=True)


def _revision(demand: Any) -> dict[str, Any] | None:
    if demand.revision_status is None:
        return None
    from hall.services.docking.demands import pending_content
    content = pending_content(demand) if demand.has_pending_revision else None
    return {"status": demand.revision_status, "reason": demand.revision_reason,
            "submitted_at": demand.revision_submitted_at, "content": content}


class DemandOut(DemandContentOut):
    """A demand as its institution sees it: state, content (the published one once published), revision."""

    id = fields.Integer()
    institution_id = fields.Integer()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    lock_version = fields.Integer()
    has_pending_revision = fields.Boolean()
    revision = fields.Function(_revision, allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class DemandEtagSchema(Schema):
    """What the ETag of a demand is computed from."""

    id = fields.Integer()
    lock_version = fields.Integer()


class DemandHistoryOut(Schema):
    """One step of a demand's review history."""

    occurred_at = fields.DateTime()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    by_platform = fields.Boolean()


class DemandHallQueryIn(StrictSchema):
    """Filters, sort and page of a demand hall search."""

    q = fields.String(validate=validate.Length(max=200), metadata={"description": "words in Chinese or English"})
    direction = fields.String(validate=validate.Length(max=40))
    field = fields.String(validate=validate.Length(max=60))
    region = fields.String(validate=checked_by(region_code_problem),
                           metadata={"description": "a province (110000), city (110100) or county code"})
    trl_min = fields.Integer(validate=validate.Range(min=1, max=9),
                             metadata={"description": "demands whose TRL window overlaps trl_min..trl_max"})
    trl_max = fields.Integer(validate=validate.Range(min=1, max=9))
    deal_mode = fields.String(validate=validate.OneOf(DEAL_MODES))
    budget_min = fields.Integer(validate=validate.Range(min=0, max=MAX_MINOR),
                                metadata={"description": "minor units; demands whose budget overlaps the range"})
    budget_max = fields.Integer(validate=validate.Range(min=0, max=MAX_MINOR), metadata={"description": "minor units"})
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    negotiable = fields.Boolean(metadata={"description": "面议 demands only (true) or none of them (false)"})
    has_bounty = fields.Boolean(metadata={"description": "揭榜挂帅: demands with a reward"})
    closes_before = fields.Date(metadata={"description": "open demands whose deadline is on or before this day"})
    institution = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))
    facets = fields.Boolean(load_default=True)
    lang = fields.String(validate=validate.OneOf(LANGS))

    @validates_schema
    def _ranges(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for low, high in (("trl_min", "trl_max"), ("budget_min", "budget_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ValidationError(_("must not be below %(field)s", field=low), high)


class DemandLangIn(StrictSchema):
    """The language to answer in."""

    lang = fields.String(validate=validate.OneOf(LANGS))


class PublicInstitutionRef(Schema):
    """Who posted the demand."""

    id = fields.Integer()
    name = fields.String()


class DemandPublicOut(DemandContentOut):
    """A published demand as the public sees it, in the caller's language where both are given."""

    id = fields.Integer()
    institution = fields.Nested(PublicInstitutionRef)
    title = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    language = fields.String()
    title_highlighted = fields.String(allow_none=True)
    snippet = fields.String(allow_none=True)
    published_at = fields.DateTime()
    score = fields.Float(allow_none=True)


class DemandHallPageOut(Schema):
    """One page of the demand hall with the facet counts of the current filter."""

    items = fields.List(fields.Nested(DemandPublicOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    terms = fields.List(fields.String())
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))


def present_demand(demand: Any, lang: str, terms: list[str] | None = None,
                   score: float | None = None) -> dict[str, Any]:
    """The public face of a published demand in ``lang`` (falling back to the other language)."""
    other = "en" if lang == "zh" else "zh"
    data: dict[str, Any] = {name: getattr(demand, name) for name in DemandContentOut._declared_fields}
    data["title"] = demand.text("title", lang) or demand.text("title", other)
    data["description"] = demand.text("description", lang) or demand.text("description", other)
    data["language"] = lang if demand.text("title", lang) else other
    if terms:
        data["title_highlighted"] = highlight(data["title"], terms, width=200)
        data["snippet"] = highlight(data["description"], terms)
    org = demand.institution
    name = (org.name_en or org.name_zh) if lang == "en" else org.name_zh
    data.update(id=demand.id, institution={"id": org.id, "name": name}, published_at=demand.published_at,
                score=score)
    return data
