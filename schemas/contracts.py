"""Schemas of technical-contract registration records of completed orders and of the annual transformation report."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.contracts import ContractRecord
from hall.money import MAX_MINOR
from hall.services.policy import contracts
from hall.services.policy.contracts_annual import FIRST_YEAR, AnnualReport, WayTotal, way_of
from schemas.common import MAX_ID, StrictSchema


class PeriodIn(StrictSchema):
    """A period of completion dates, both ends inclusive (at most about five years)."""

    start = fields.Date(data_key="from", metadata={"description": "completed on or after (YYYY-MM-DD)"})
    end = fields.Date(data_key="to", metadata={"description": "completed on or before (YYYY-MM-DD)"})
    type = fields.String(validate=validate.OneOf(contracts.TYPE_FILTERS),
                         metadata={"description": "a contract type, or sales (product sales)"})

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problem = contracts.period_problem(data.get("start"), data.get("end"))
        if problem:
            raise ValidationError({name: [message] for name, message in problem.items()})


class ContractQueryIn(PeriodIn):
    """Filters and page of the institution's contract records."""

    side = fields.String(validate=validate.OneOf(contracts.SIDES),
                         metadata={"description": "seller (contracts you file) or buyer; both when absent"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ContractExportIn(PeriodIn):
    """The registration export's period, side and file format."""

    side = fields.String(validate=validate.OneOf(contracts.SIDES))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ContractPatchIn(StrictSchema):
    """The seller's edits: the technology-transaction amount (minor units; null resets it to the amount net of
    refunds) with the reason it is lower, and the registry's number and date after filing."""

    technology_amount = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=MAX_MINOR))
    technology_amount_reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    registration_number = fields.String(allow_none=True, validate=validate.Length(max=60))
    registered_on = fields.Date(allow_none=True)


class ContractEtagSchema(Schema):
    """What the ETag of a contract record is computed from."""

    id = fields.Integer()
    lock_version = fields.Integer()


class PartySnapshotOut(Schema):
    """A party as it was when the order completed."""

    institution_id = fields.Integer()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)
    credit_code = fields.String()


class ContractOut(Schema):
    """A contract record as either party sees it; amounts in minor units of ``currency``."""

    id = fields.Integer()
    order_id = fields.Integer()
    listing_id = fields.Integer()
    side = fields.String(metadata={"description": "your institution's side: seller or buyer"})
    category = fields.String(metadata={"description": "technology, or sales for a product sale (not registered)"})
    contract_type = fields.String(allow_none=True)
    deal_mode = fields.String()
    way = fields.String(metadata={"description": "transfer, license, equity or other"})
    contract_number = fields.String()
    name_zh = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    seller = fields.Nested(PartySnapshotOut)
    buyer = fields.Nested(PartySnapshotOut)
    amount = fields.Integer()
    refunded_amount = fields.Integer()
    technology_amount = fields.Integer(metadata={"description": "the figure that counts (never above the net)"})
    technology_amount_set = fields.Integer(allow_none=True, metadata={"description": "the seller's figure, if any"})
    technology_amount_reason = fields.String(allow_none=True)
    currency = fields.String()
    signed_on = fields.Date()
    performance_start = fields.Date(allow_none=True)
    performance_end = fields.Date(allow_none=True)
    completed_on = fields.Date()
    direction_code = fields.String(allow_none=True)
    field_code = fields.String(allow_none=True)
    ip_types = fields.List(fields.String())
    state_funded = fields.Boolean()
    registration_number = fields.String(allow_none=True)
    registered_on = fields.Date(allow_none=True)
    lock_version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def present_contract(record: ContractRecord, side: str) -> dict[str, Any]:
    """A record with its computed amounts and the reader's side, for ``ContractOut``."""
    simple = ("id", "order_id", "listing_id", "category", "contract_type", "deal_mode", "contract_number", "name_zh",
              "name_en", "amount", "technology_amount_reason", "currency", "signed_on", "performance_start",
              "performance_end", "completed_on", "direction_code", "field_code", "ip_types", "state_funded",
              "registration_number", "registered_on", "lock_version", "created_at", "updated_at")
    return {**{name: getattr(record, name) for name in simple}, "side": side, "way": way_of(record.deal_mode),
            "seller": {"institution_id": record.seller_institution_id, "name_zh": record.seller_name_zh,
                       "name_en": record.seller_name_en, "credit_code": record.seller_credit_code},
            "buyer": {"institution_id": record.buyer_institution_id, "name_zh": record.buyer_name_zh,
                      "name_en": record.buyer_name_en, "credit_code": record.buyer_credit_code},
            "refunded_amount": contracts.refunded_amount(record),
            "technology_amount": contracts.technology_amount(record),
            "technology_amount_set": record.technology_amount}


class AnnualQueryIn(StrictSchema):
    """The year of the report (2000 to this year) and its format."""

    year = fields.Integer(required=True, validate=validate.Range(min=FIRST_YEAR, max=9999))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))
    institution = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                                 metadata={"description": "admins: any institution; members: their own only"})


class WayTotalOut(Schema):
    """A line of the summary: one way of transformation (and licence kind) in one currency."""

    way = fields.String(metadata={"description": "transfer, license, equity, other (or total)"})
    licence_kind = fields.String(allow_none=True)
    currency = fields.String()
    count = fields.Integer()
    amount = fields.Integer()
    technology_amount = fields.Integer()
    refunded = fields.Integer()
    state_funded = fields.Integer()


class AnnualDetailOut(Schema):
    """A contract of the year."""

    contract_id = fields.Integer()
    contract_number = fields.String()
    achievement_zh = fields.String(allow_none=True)
    achievement_en = fields.String(allow_none=True)
    way = fields.String()
    licence_kind = fields.String(allow_none=True)
    counterparty = fields.Nested(PartySnapshotOut)
    amount = fields.Integer()
    technology_amount = fields.Integer()
    refunded = fields.Integer()
    currency = fields.String()
    completed_on = fields.Date()
    state_funded = fields.Boolean()


class AnnualReportOut(Schema):
    """An institution's annual transformation report (Art. 21)."""

    institution_id = fields.Integer()
    institution_name_zh = fields.String()
    institution_name_en = fields.String(allow_none=True)
    credit_code = fields.String()
    year = fields.Integer()
    summary = fields.List(fields.Nested(WayTotalOut))
    totals = fields.List(fields.Nested(WayTotalOut))
    details = fields.List(fields.Nested(AnnualDetailOut))


def _line(line: WayTotal) -> dict[str, Any]:
    return {"way": line.way, "licence_kind": line.licence_kind, "currency": line.currency, "count": line.count,
            "amount": line.amount, "technology_amount": line.technology_amount, "refunded": line.refunded,
            "state_funded": line.state_funded}


def present_annual(report: AnnualReport) -> dict[str, Any]:
    """The report for ``AnnualReportOut``."""
    org = report.institution
    details = [{"contract_id": r.id, "contract_number": r.contract_number, "achievement_zh": r.name_zh,
                "achievement_en": r.name_en, "way": way_of(r.deal_mode),
                "licence_kind": r.deal_mode if way_of(r.deal_mode) == "license" else None,
                "counterparty": {"institution_id": r.buyer_institution_id, "name_zh": r.buyer_name_zh,
                                 "name_en": r.buyer_name_en, "credit_code": r.buyer_credit_code},
                "amount": r.amount, "technology_amount": contracts.technology_amount(r),
                "refunded": contracts.refunded_amount(r), "currency": r.currency, "completed_on": r.completed_on,
                "state_funded": r.state_funded} for r in report.records]
    return {"institution_id": org.id, "institution_name_zh": org.name_zh, "institution_name_en": org.name_en,
            "credit_code": org.credit_code, "year": report.year, "summary": [_line(x) for x in report.lines],
            "totals": [_line(x) for x in report.totals], "details": details}
