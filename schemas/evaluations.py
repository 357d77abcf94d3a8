"""Schemas of evaluation engagements and reports by professional institutions: the client's request, the list's
filter, the evaluator's decision and report (a multipart body with the PDF), what each side reads, and the public
face of an attached report ("evaluated by …")."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.evaluations import ENGAGEMENT_STATUSES, VALUATION_METHODS
from hall.money import CURRENCIES, MAX_MINOR
from hall.services.policy.evaluations import NOTE_MAX, REASON_MAX
from schemas.common import MAX_ID, StrictSchema


def _grade(top: int, description: str) -> fields.Integer:
    return fields.Integer(required=True, validate=validate.Range(min=1, max=top),
                          metadata={"description": f"{description} (1–{top})"})


def _money(description: str) -> fields.Integer:
    return fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=MAX_MINOR),
                          metadata={"description": description + " (integer minor units, fen for CNY)"})


class EngagementRequestIn(StrictSchema):
    """The client engages an evaluator on one of its listings."""

    listing_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    evaluator_institution_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID),
                                              metadata={"description": "a verified evaluator (GET /evaluators)"})
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=NOTE_MAX),
                         metadata={"description": "the scope asked for"})


class EngagementQueryIn(StrictSchema):
    """Filter and page the institution's engagements."""

    role = fields.String(validate=validate.OneOf(("client", "evaluator")),
                         metadata={"description": "your side: client or evaluator (both when left out)"})
    status = fields.String(validate=validate.OneOf(ENGAGEMENT_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class EvaluationReasonIn(StrictSchema):
    """A refusal or cancellation, with the reason both institutions see."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class EvaluationReportIn(StrictSchema):
    """The report, issued once (immutable after) as a multipart/form-data body with the PDF in ``file``."""

    maturity_grade = _grade(9, "技术成熟度, technology readiness level")
    innovation_grade = _grade(4, "技术创新度, innovation grade")
    advancement_grade = _grade(7, "技术先进度, advancement grade")
    value_low = _money("the lower end of the value range")
    value_high = _money("the upper end of the value range")
    currency = fields.String(load_default="CNY", validate=validate.OneOf(CURRENCIES))
    valuation_method = fields.String(required=True, validate=validate.OneOf(VALUATION_METHODS),
                                     metadata={"description": "cost (成本法), market (市场法), income (收益法), other"})
    report_number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    issued_on = fields.Date(required=True)
    conclusion_zh = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=8000))
    conclusion_en = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=8000))
    file = Upload(required=True, metadata={"description": "the report as a PDF"})

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        low, high = data.get("value_low"), data.get("value_high")
        if (low is None) != (high is None):
            raise ValidationError(_("give both ends of the value range, or neither"),
                                  "value_low" if low is None else "value_high")
        if low is not None and high is not None and low > high:
            raise ValidationError(_("must not be below the lower end of the range"), "value_high")
        if not (data.get("conclusion_zh") or data.get("conclusion_en")):
            raise ValidationError(_("summarise the conclusion in Chinese or in English"), "conclusion_zh")


class EvaluationInstitutionOut(Schema):
    """An institution named by an engagement."""

    id = fields.Integer()
    kind = fields.String()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)


class EvaluatorOut(EvaluationInstitutionOut):
    """A verified evaluator institution that can be engaged."""

    region_code = fields.String()
    website = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class ReportFactsOut(Schema):
    """What every view of an issued report states: the grades, the value range, the method, number and date."""

    maturity_grade = fields.Integer()
    innovation_grade = fields.Integer()
    advancement_grade = fields.Integer()
    value_low = fields.Integer(allow_none=True)
    value_high = fields.Integer(allow_none=True)
    currency = fields.String()
    valuation_method = fields.String()
    report_number = fields.String()
    issued_on = fields.Date()


class EvaluationReportOut(ReportFactsOut):
    """An issued report (immutable)."""

    conclusion_zh = fields.String(allow_none=True)
    conclusion_en = fields.String(allow_none=True)
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    download = fields.String(metadata={"description": "the PDF (GET)"})


class EngagementOut(Schema):
    """An engagement as the client or the evaluator sees it."""

    id = fields.Integer()
    listing_id = fields.Integer()
    listing_title = fields.String(allow_none=True)
    client = fields.Nested(EvaluationInstitutionOut)
    evaluator = fields.Nested(EvaluationInstitutionOut)
    role = fields.String(metadata={"description": "your side: client or evaluator"})
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    responded_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    reported_at = fields.DateTime(allow_none=True)
    attached = fields.Boolean()
    attached_at = fields.DateTime(allow_none=True)
    report = fields.Nested(EvaluationReportOut, allow_none=True)


class PublicEvaluationReportOut(ReportFactsOut):
    """An attached report as the public listing shows it: "evaluated by …"."""

    id = fields.Integer()
    evaluator = fields.Nested(EvaluationInstitutionOut)
    evaluator_url = fields.String(metadata={"description": "the evaluator's public institution page (API)"})
    conclusion = fields.String(allow_none=True)
    download = fields.String(metadata={"description": "the report PDF (GET)"})


def _report(engagement: Any) -> dict[str, Any] | None:
    if engagement.status != "reported":
        return None
    values = {name: getattr(engagement, name) for name in (
        "maturity_grade", "innovation_grade", "advancement_grade", "value_low", "value_high", "currency",
        "valuation_method", "report_number", "issued_on", "conclusion_zh", "conclusion_en")}
    values.update(filename=engagement.report_filename, size=engagement.report_size, sha256=engagement.report_sha256,
                  download=url_for("evaluations.report_pdf", engagement_id=engagement.id))
    return values


def present_engagement(engagement: Any, institution_id: int | None) -> dict[str, Any]:
    """An engagement for one of its two institutions (``institution_id`` says which side is reading)."""
    version = engagement.listing.published_version or engagement.listing.working_version
    title = (version.title_zh or version.title_en) if version is not None else None
    data = {name: getattr(engagement, name) for name in (
        "id", "listing_id", "client", "evaluator", "status", "status_reason", "note", "created_at", "responded_at",
        "cancelled_at", "reported_at", "attached", "attached_at")}
    data.update(listing_title=title, report=_report(engagement),
                role="client" if institution_id == engagement.client_institution_id else "evaluator")
    return data


def present_public_report(engagement: Any, lang: str) -> dict[str, Any]:
    """An attached report on a public listing, its conclusion in ``lang`` (else the other language)."""
    first, second = (engagement.conclusion_en, engagement.conclusion_zh) if lang == "en" else (
        engagement.conclusion_zh, engagement.conclusion_en)
    data = {name: getattr(engagement, name) for name in (
        "id", "evaluator", "maturity_grade", "innovation_grade", "advancement_grade", "value_low", "value_high",
        "currency", "valuation_method", "report_number", "issued_on")}
    data.update(conclusion=first or second,
                evaluator_url=url_for("hall.institution_profile", institution_id=engagement.evaluator_institution_id),
                download=url_for("evaluations.report_pdf", engagement_id=engagement.id))
    return data
