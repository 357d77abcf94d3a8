"""Schemas for institutions."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from hall.models.accounts import INSTITUTION_KINDS
from hall.services.core.validation import credit_code_problem, region_code_problem
from schemas.common import StrictSchema, checked_by

URL = fields.Url(validate=validate.Length(max=300), allow_none=True, schemes={"http", "https"})


class InstitutionIn(StrictSchema):
    """Registration data of a new institution."""

    kind = fields.String(required=True, validate=validate.OneOf(INSTITUTION_KINDS))
    name_zh = fields.String(required=True, validate=validate.Length(min=2, max=200))
    name_en = fields.String(validate=validate.Length(max=300), allow_none=True)
    credit_code = fields.String(required=True, validate=checked_by(credit_code_problem),
                                metadata={"description": "18-character unified social credit code (GB 32100)"})
    region_code = fields.String(required=True, validate=checked_by(region_code_problem),
                                metadata={"description": "six-digit administrative division code, e.g. 110108"})
    address = fields.String(validate=validate.Length(max=300), allow_none=True)
    website = URL
    description = fields.String(validate=validate.Length(max=5000), allow_none=True)


class InstitutionUpdateIn(InstitutionIn):
    """An owner's edit: any subset of the registration fields (load it with ``partial=True``)."""


class InstitutionSummaryOut(Schema):
    """The institution a person belongs to, in brief."""

    id = fields.Integer()
    kind = fields.String()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)
    verification_status = fields.String()


class InstitutionOut(InstitutionSummaryOut):
    """An institution's public profile."""

    credit_code = fields.String()
    region_code = fields.String()
    address = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    status_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
