"""Institution verification: the queue, the detail page, the decisions."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.actions import form_action
from blueprints.admin.forms import InstitutionDecisionForm
from blueprints.admin.pages import paginate
from hall.models.accounts import VERIFICATION_STATUSES
from hall.services.accounts import institutions
from hall.services.console import admin_queries
from hall.services.core.validation import credit_code_problem


@admin.get("/institutions")
def institution_list() -> str:
    """Institutions by verification status (the queue is status=pending, oldest first), with search."""
    status: str | None = request.args.get("status", "pending")
    status = status if status in VERIFICATION_STATUSES else None
    query = admin_queries.institutions_query(actor(), status, request.args.get("q"))
    page = paginate(query)
    return render_template("admin/institutions.html", page=page, status=status, q=request.args.get("q", ""),
                           statuses=VERIFICATION_STATUSES)


def _render(org_id: int, form: InstitutionDecisionForm, status: int = 200) -> tuple[str, int]:
    org = institutions.get_institution(org_id)
    return render_template("admin/institution.html", org=org, form=form,
                           credit_code_problem=credit_code_problem(org.credit_code),
                           history=admin_queries.object_history(actor(), "institution", org.id)), status


@admin.get("/institutions/<int:org_id>")
def institution_detail(org_id: int) -> tuple[str, int]:
    """Everything the institution registered, the credit-code check, its members and history."""
    org = institutions.get_institution(org_id)
    return _render(org_id, InstitutionDecisionForm(status=org.verification_status))


@admin.post("/institutions/<int:org_id>/decision")
def institution_decision(org_id: int) -> Response | tuple[str, int]:
    """Verify, reject, suspend or reinstate (reasons required to reject and suspend)."""
    org = institutions.get_institution(org_id)
    form = InstitutionDecisionForm()
    if not form.validate_on_submit():
        return _render(org_id, form, 422)
    stale = form.status.data != org.verification_status
    outcome = form_action(form, lambda: institutions.review_institution(
        actor(), org, form.action.data or "", form.reason.data, expected_status=form.status.data),
        general_field="reason",
        conflict_message=_("The institution changed after you opened the page; review it again.") if stale else None)
    if outcome.conflict:
        org = institutions.get_institution(org_id)
        return _render(org_id, InstitutionDecisionForm(formdata=None, status=org.verification_status), 409)
    if outcome.status is not None:
        return _render(org_id, form, outcome.status)
    flash(_("Decision recorded; the institution has been told by e-mail."), "success")
    return redirect(url_for("admin.institution_detail", org_id=org_id))
