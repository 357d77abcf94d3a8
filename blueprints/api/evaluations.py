"""The API of evaluation engagements and reports by professional institutions (第三方科技成果评价): the public list of
evaluators; your institution's engagements as client (request, cancel, attach/detach the report to the public
listing) and as evaluator (accept, decline, issue the report with its PDF); the report's PDF."""
from __future__ import annotations

from typing import Any

from flask_login import login_required

from blueprints.actor import actor, viewer
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, file_download, paginated
from blueprints.downloads import send_attachment
from hall.services.policy import evaluations, evaluations_reports
from schemas.common import ErrorSchema
from schemas.evaluations import (
    EngagementOut,
    EngagementQueryIn,
    EngagementRequestIn,
    EvaluationReasonIn,
    EvaluationReportIn,
    EvaluatorOut,
    present_engagement,
)

blp = ApiBlueprint("evaluations", __name__, description="Evaluations by professional institutions")


def _out(engagement: Any) -> dict[str, Any]:
    return present_engagement(engagement, actor().institution_id)


@blp.route("/evaluators", methods=["GET"])
@blp.response(200, EvaluatorOut(many=True))
def list_evaluators() -> Any:
    """The verified evaluation institutions that can be engaged (public: anyone may look them up)."""
    return evaluations.list_evaluators()


@blp.route("/evaluations", methods=["GET"])
@login_required
@blp.arguments(EngagementQueryIn, location="query")
@blp.response(200, EngagementOut(many=True), headers=PAGINATION_HEADER)
def list_engagements(query: dict[str, Any]) -> Any:
    """Your institution's engagements, newest first: as client, as evaluator (``role``) or both; by status."""
    items, total = evaluations.list_engagements(actor(), query.get("role"), query.get("status"), page=query["page"],
                                                per_page=query["page_size"])
    return paginated([_out(item) for item in items], total, query["page"], query["page_size"])


@blp.route("/evaluations", methods=["POST"])
@login_required
@blp.arguments(EngagementRequestIn)
@blp.response(201, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="an open engagement of this evaluator on this listing exists")
def request_evaluation(data: dict[str, Any]) -> Any:
    """Engage a verified evaluator on one of your listings (the evaluator is told)."""
    return _out(evaluations.request_evaluation(actor(), data["listing_id"], data["evaluator_institution_id"],
                                               data.get("note")))


@blp.route("/evaluations/<int:engagement_id>", methods=["GET"])
@login_required
@blp.response(200, EngagementOut)
@blp.alt_response(404, schema=ErrorSchema, description="no engagement of your institution with this id")
def read_engagement(engagement_id: int) -> Any:
    """One engagement of your institution (as client or as evaluator), with its report once issued."""
    return _out(evaluations.engagement_for(actor(), engagement_id))


@blp.route("/evaluations/<int:engagement_id>/cancel", methods=["POST"])
@login_required
@blp.arguments(EvaluationReasonIn)
@blp.response(200, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="not open any more")
def cancel(data: dict[str, Any], engagement_id: int) -> Any:
    """The client cancels an open engagement, with a reason."""
    return _out(evaluations.cancel(actor(), engagement_id, data["reason"]))


@blp.route("/evaluations/<int:engagement_id>/accept", methods=["POST"])
@login_required
@blp.response(200, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="not awaiting a decision")
def accept(engagement_id: int) -> Any:
    """The evaluator accepts a requested engagement."""
    return _out(evaluations.accept(actor(), engagement_id))


@blp.route("/evaluations/<int:engagement_id>/decline", methods=["POST"])
@login_required
@blp.arguments(EvaluationReasonIn)
@blp.response(200, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="not awaiting a decision")
def decline(data: dict[str, Any], engagement_id: int) -> Any:
    """The evaluator declines a requested engagement, with a reason."""
    return _out(evaluations.decline(actor(), engagement_id, data["reason"]))


@blp.route("/evaluations/<int:engagement_id>/report", methods=["POST"])
@login_required
@blp.arguments(EvaluationReportIn, location="multipart")
@blp.response(200, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="the engagement is not accepted (or already reported)")
def issue_report(form: dict[str, Any], engagement_id: int) -> Any:
    """The evaluator issues the report of an accepted engagement: multipart/form-data with the grades, the value
    range (minor units, both ends or neither), the method, the report number (unique for your institution), the
    issue date, the conclusion and the PDF in ``file``. An issued report never changes: a correction is a new
    engagement and a new report."""
    upload = form.pop("file")
    return _out(evaluations_reports.issue_report(actor(), engagement_id, form, upload.stream, upload.filename))


@blp.route("/evaluations/<int:engagement_id>/attach", methods=["POST"])
@login_required
@blp.response(200, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="no issued report")
def attach(engagement_id: int) -> Any:
    """The client shows the issued report on its public listing ("evaluated by …")."""
    return _out(evaluations_reports.attach(actor(), engagement_id))


@blp.route("/evaluations/<int:engagement_id>/detach", methods=["POST"])
@login_required
@blp.response(200, EngagementOut)
@blp.alt_response(409, schema=ErrorSchema, description="no issued report")
def detach(engagement_id: int) -> Any:
    """The client stops showing the report on its public listing."""
    return _out(evaluations_reports.detach(actor(), engagement_id))


@blp.route("/evaluations/<int:engagement_id>/report.pdf", methods=["GET"])
@file_download(blp, ["application/pdf"])
@blp.alt_response(404, schema=ErrorSchema, description="no such report, or not public")
def report_pdf(engagement_id: int) -> Any:
    """The report's PDF: anyone while it is attached to a published listing; otherwise only the two institutions
    and platform admins (anyone else: 404)."""
    engagement, path = evaluations_reports.report_file(viewer(), engagement_id)
    return send_attachment(engagement, path)
