"""Schemas for listings: owner input (drafts may be partial), owner view, and the public hall view."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.listings import DEAL_MODES, LISTING_KINDS, PRICE_MODES, PRODUCT_KINDS, RECOGNITION_LEVELS
from hall.money import CURRENCIES, MAX_MINOR
from hall.services.core.validation import patent_number_problem, region_code_problem
from schemas.common import StrictSchema, checked_by

IP_TYPES = ("invention_patent", "utility_model", "design", "software_copyright", "plant_variety",
            "ic_layout_design", "know_how")
PATENT_TYPES = ("invention_patent", "utility_model", "design")
IP_LEGAL_STATUSES = ("filed", "published", "granted", "lapsed", "invalidated")
COMPENSATION_STATUSES = ("qualification", "fund_application", "granted", "denied")
MAX_MONEY = MAX_MINOR  # minor units

Money = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_MONEY),
                       metadata={"description": "integer amount in minor units (fen for CNY)"})


def _text(max_length: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length))


class EvaluationIn(StrictSchema):
    """A professional evaluation (GB/T 22900): maturity 1–9, innovation 1–4, advancement 1–7."""

    maturity_level = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=9))
    innovation_level = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=4))
    advancement_level = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=7))
    evaluator = fields.String(required=True, validate=validate.Length(min=2, max=200))
    report_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    report_date = fields.Date(required=True)


class IpAssetIn(StrictSchema):
    """One patent, copyright or other IP right behind the achievement."""

    ip_type = fields.String(required=True, validate=validate.OneOf(IP_TYPES))
    number = fields.String(validate=validate.Length(max=40), load_default=None, allow_none=True)
    title = fields.String(validate=validate.Length(max=300), allow_none=True)
    legal_status = fields.String(required=True, validate=validate.OneOf(IP_LEGAL_STATUSES))
    expiry_date = fields.Date(allow_none=True)
    co_owners = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=20))

    @validates_schema
    def _number(self, data: dict[str, Any], **_kwargs: Any) -> None:
        number, ip_type = data.get("number"), data.get("ip_type")
        if ip_type in PATENT_TYPES:
            if not number:
                raise ValidationError(_("a patent needs its number, e.g. CN202310123456.7"), "number")
            problem = patent_number_problem(number.upper(), ip_type)
            if problem:
                raise ValidationError(problem, "number")
        elif ip_type != "know_how" and not number:
            raise ValidationError(_("give the registration number"), "number")


class InsuranceIn(StrictSchema):
    """The first-of-kind insurance compensation policy."""

    insurer = fields.String(required=True, validate=validate.Length(min=2, max=200))
    policy_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    insured_amount = Money
    premium = Money
    premium_rate_bp = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000),
                                     metadata={"description": "premium rate in basis points (1/100 of a percent)"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    compensation_status = fields.String(validate=validate.OneOf(COMPENSATION_STATUSES), allow_none=True)

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("period_start") and data.get("period_end") and data["period_end"] <= data["period_start"]:
            raise ValidationError(_("must be after period_start"), "period_end")


class FirstOfKindIn(StrictSchema):
    """Recognition and product facts of a first major equipment, first batch of material or first software."""

    product_kind = fields.String(validate=validate.OneOf(PRODUCT_KINDS), allow_none=True)
    recognition_level = fields.String(validate=validate.OneOf(RECOGNITION_LEVELS), allow_none=True)
    catalogue = _text(200)
    catalogue_edition = _text(50)
    catalogue_item = _text(200)
    authority = _text(200)
    announcement_number = _text(100)
    announcement_date = fields.Date(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    certificate_number = _text(100)
    model = _text(200)
    specifications = _text(5000)
    benchmarks = _text(5000)
    stock = fields.Integer(strict=True, validate=validate.Range(min=0, max=10**9), allow_none=True)
    stock_unit = fields.String(validate=validate.OneOf(("units", "batches", "licenses")), allow_none=True)
    lead_time_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=3650), allow_none=True)
    insurance = fields.Nested(InsuranceIn, allow_none=True)

    @validates_schema
    def _validity(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            raise ValidationError(_("must be after valid_from"), "valid_until")


class ListingContentIn(StrictSchema):
    """A listing's content; every field optional in a draft (submission checks completeness)."""

    title_zh = fields.String(allow_none=True, validate=validate.Length(max=200))
    title_en = fields.String(allow_none=True, validate=validate.Length(max=300))
    summary_zh = _text(2000)
    summary_en = _text(4000)
    description_zh = _text(20000)
    description_en = _text(40000)
    benefit_zh = _text(5000)
    benefit_en = _text(10000)
    scenarios_zh = _text(5000)
    scenarios_en = _text(10000)
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=20))
    direction_code = fields.String(allow_none=True, validate=validate.Length(max=40))
    field_code = fields.String(allow_none=True, validate=validate.Length(max=60))
    region_code = fields.String(allow_none=True, validate=checked_by(region_code_problem))
    trl = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=9),
                         metadata={"description": "technology readiness level 1–9"})
    evaluation = fields.Nested(EvaluationIn, allow_none=True)
    ip_assets = fields.List(fields.Nested(IpAssetIn), validate=validate.Length(max=50))
    inventors = fields.List(fields.String(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=50))
    deal_modes = fields.List(fields.String(validate=validate.OneOf(DEAL_MODES)), validate=validate.Length(max=8))
    price_mode = fields.String(allow_none=True, validate=validate.OneOf(PRICE_MODES))
    price_amount = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_MONEY),
                                  metadata={"description": "minor units (fen for CNY); none when negotiable"})
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    state_funded = fields.Boolean()
    funding_source = _text(300)
    first_of_kind = fields.Nested(FirstOfKindIn, allow_none=True)

    @validates_schema
    def _price(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("price_mode") == "negotiable" and data.get("price_amount") is not None:
            raise ValidationError(_("a negotiable price has no amount; leave it out"), "price_amount")


class ListingCreateIn(ListingContentIn):
    """A new draft: its kind and any content."""

    kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))


class ListingStatusQuery(StrictSchema):
    """Filter and page the institution's own listings."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))

    status = fields.String(validate=validate.OneOf(("draft", "submitted", "published", "changes_requested",
                                                    "rejected", "withdrawn", "suspended", "expired")))
    kind = fields.String(validate=validate.OneOf(LISTING_KINDS))


class AttachmentOut(Schema):
    """An uploaded file's metadata."""

    id = fields.Integer()
    role = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime()
    confidential = fields.Boolean(metadata={
        "description": "listed to everyone, downloadable only by the owner and institutions under the accepted NDA"})


class VersionOut(Schema):
    """A version's content as its institution sees it."""

    id = fields.Integer()
    number = fields.Integer()
    review_status = fields.String()
    review_reason = fields.String(allow_none=True)
    title_zh = fields.String(allow_none=True)
    title_en = fields.String(allow_none=True)
    summary_zh = fields.String(allow_none=True)
    summary_en = fields.String(allow_none=True)
    description_zh = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    benefit_zh = fields.String(allow_none=True)
    benefit_en = fields.String(allow_none=True)
    scenarios_zh = fields.String(allow_none=True)
    scenarios_en = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    direction_code = fields.String(allow_none=True)
    field_code = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    trl = fields.Integer(allow_none=True)
    evaluation = fields.Dict(allow_none=True)
    ip_assets = fields.List(fields.Dict())
    inventors = fields.List(fields.String())
    deal_modes = fields.List(fields.String())
    price_mode = fields.String(allow_none=True)
    price_amount = fields.Integer(allow_none=True)
    currency = fields.String()
    state_funded = fields.Boolean()
    funding_source = fields.String(allow_none=True)
    first_of_kind = fields.Dict(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentOut))
    updated_at = fields.DateTime()


class ListingOut(Schema):
    """A listing as its institution sees it: state, the version being edited, the public version's number."""

    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    lock_version = fields.Integer()
    institution_id = fields.Integer()
    has_pending_revision = fields.Boolean()
    working_version = fields.Nested(VersionOut, allow_none=True)
    published_version_number = fields.Function(
        lambda listing: listing.published_version.number if listing.published_version else None)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    stock = fields.Integer(allow_none=True, metadata={"description": "first-of-kind units still available to "
                                                                     "order (set from the approved version)"})


class ListingEtagSchema(Schema):
    """What the ETag of a listing is computed from."""

    id = fields.Integer()
    lock_version = fields.Integer()


class HistoryEntryOut(Schema):
    """One step of a listing's review history."""

    occurred_at = fields.DateTime()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    by_platform = fields.Boolean(metadata={"description": "true when a platform admin took the decision"})
