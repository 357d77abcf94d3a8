"""Schemas of first-of-kind insurance policies and premium compensation applications: the institution's input
(a policy, an application for a policy year, a document upload) and its views (amounts in integer minor units)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.insurance import APPLICATION_STATUSES, DOCUMENT_KINDS
from hall.money import MAX_MINOR
from schemas.common import MAX_ID, StrictSchema

MAX_YEAR = 50


def _money(description: str, required: bool = False) -> fields.Integer:
    return fields.Integer(strict=True, required=required, validate=validate.Range(min=1, max=MAX_MINOR),
                          metadata={"description": description + " (integer minor units, fen)"})


class InsurancePolicyEditIn(StrictSchema):
    """The facts of a policy that can be changed (until an application of it is filed)."""

    insurer = fields.String(validate=validate.Length(min=2, max=200))
    policy_number = fields.String(validate=validate.Length(min=1, max=100))
    coverage = fields.String(validate=validate.Length(min=2, max=2000),
                             metadata={"description": "the risks covered: quality, liability …"})
    insured_amount = _money("the insured amount, at least the product's unit price")
    premium = _money("the premium of one policy year")
    premium_rate_bp = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=10_000),
                                     metadata={"description": "premium rate in basis points (300 = 3 %); computed "
                                                              "from the premium when left out"})
    currency = fields.String(validate=validate.OneOf(("CNY",)))
    period_start = fields.Date()
    period_end = fields.Date()

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("period_start") and data.get("period_end") and data["period_end"] <= data["period_start"]:
            raise ValidationError(_("must be after period_start"), "period_end")


class InsurancePolicyIn(InsurancePolicyEditIn):
    """A new policy of one of the institution's recognised first-of-kind products."""

    listing_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    insurer = fields.String(required=True, validate=validate.Length(min=2, max=200))
    policy_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    coverage = fields.String(required=True, validate=validate.Length(min=2, max=2000),
                             metadata={"description": "the risks covered: quality, liability …"})
    insured_amount = _money("the insured amount, at least the product's unit price", required=True)
    premium = _money("the premium of one policy year", required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


class InsurancePolicyOut(Schema):
    """A policy as its institution sees it."""

    id = fields.Integer()
    listing_id = fields.Integer()
    institution_id = fields.Integer()
    insurer = fields.String()
    policy_number = fields.String()
    coverage = fields.String()
    insured_amount = fields.Integer()
    premium = fields.Integer()
    premium_rate_bp = fields.Integer(allow_none=True)
    currency = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    lock_version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class InsuranceEtagSchema(Schema):
    """What the ETag of a policy or an application is computed from."""

    id = fields.Integer()
    lock_version = fields.Integer()


class CompensationApplicationIn(StrictSchema):
    """A new application: the policy and the policy year (1 = the year from the policy's start)."""

    policy_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    policy_year = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_YEAR))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class CompensationApplicationEditIn(StrictSchema):
    """What a draft application lets its institution change (the amount follows from the policy and the rule)."""

    policy_year = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_YEAR))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class CompensationApplicationQueryIn(StrictSchema):
    """Filter the institution's applications."""

    policy_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(validate=validate.OneOf(APPLICATION_STATUSES))


class CompensationEntryOut(Schema):
    """One amount of an application (append-only)."""

    id = fields.Integer()
    kind = fields.String(metadata={"description": "requested, approved or paid"})
    amount = fields.Integer()
    currency = fields.String()
    note = fields.String(allow_none=True)
    occurred_at = fields.DateTime()


class CompensationDocumentOut(Schema):
    """A document of an application."""

    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()


class CompensationApplicationOut(Schema):
    """An application with the rule it was computed under, its amounts, documents and entries."""

    id = fields.Integer()
    policy_id = fields.Integer()
    policy_year = fields.Integer()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    product_kind = fields.String()
    share_bp = fields.Integer()
    rate_cap_bp = fields.Integer()
    max_years = fields.Integer()
    counted_premium = fields.Integer()
    requested_amount = fields.Integer(metadata={"description": "computed by the platform: share x min(premium, "
                                                               "insured amount x rate cap)"})
    approved_amount = fields.Integer(allow_none=True)
    currency = fields.String()
    payment_reference = fields.String(allow_none=True)
    lock_version = fields.Integer()
    created_at = fields.DateTime()
    filed_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    documents = fields.List(fields.Nested(CompensationDocumentOut))
    entries = fields.List(fields.Nested(CompensationEntryOut))


class CompensationDocumentUploadIn(StrictSchema):
    """A document upload (multipart/form-data): a PDF and what it is."""

    file = Upload(required=True, metadata={"description": "a PDF (type judged by content)"})
    kind = fields.String(load_default="other", validate=validate.OneOf(DOCUMENT_KINDS))
