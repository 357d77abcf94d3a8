"""Console pages of premium compensation applications (首台套/首批次 保险补偿): the queue of filed applications (and
every application by status), one application's page (the policy, documents, the computed cap, the entries) with
the decisions: approve an amount (a reason when below the cap), reject with a reason, record the payment with its
reference. The page's lock version refuses decisions taken on a stale page."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from blueprints.actor import actor
from blueprints.admin import admin
from blueprints.admin.actions import form_action
from blueprints.admin.order_forms import AMOUNT_INPUT, MoneyField
from blueprints.admin.pages import paginate
from blueprints.downloads import send_attachment
from blueprints.web.insurance_forms import DOCUMENT_LABELS
from hall.models.insurance import APPLICATION_STATUSES, CompensationApplication
from hall.money import to_major_text
from hall.services.console import admin_queries
from hall.services.policy import insurance_review
from hall.services.policy.insurance_applications import document_for_admin
from hall.services.policy.insurance_rules import percent, policy_years

ACTIONS = ("approve", "reject", "pay")
DONE = {"approve": _l("Approved; the institution has been told."),
        "reject": _l("Rejected; the institution has been told."),
        "pay": _l("Payment recorded; the institution has been told.")}


class CompensationDecisionForm(FlaskForm):
    """A decision on an application; the lock version of the page refuses decisions taken on stale pages."""

    action = StringField(validators=[DataRequired(), AnyOf(ACTIONS)])
    amount = MoneyField(lambda unit: _("Approved amount (%(unit)s)", unit=unit), render_kw=AMOUNT_INPUT)
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    reference = StringField(_l("Payment reference"), validators=[Optional(), Length(max=120)],
                            render_kw={"autocomplete": "off"})
    lock_version = IntegerField(validators=[DataRequired()])


@admin.get("/insurance")
def insurance_queue() -> str:
    """Filed applications awaiting a decision, oldest first; or, with ?status=, every application in that status."""
    status = request.args.get("status") or None
    status = status if status in APPLICATION_STATUSES else None
    page = paginate(insurance_review.applications_query(actor(), status))
    return render_template("admin/insurance/queue.html", page=page, status=status, statuses=APPLICATION_STATUSES)


def _render(application: CompensationApplication, form: CompensationDecisionForm,
            status: int = 200) -> tuple[str, int]:
    history = admin_queries.object_history(actor(), "compensation_application", application.id)
    return render_template("admin/insurance/application.html", application=application, policy=application.policy,
                           form=form, history=history, percent=percent, labels=DOCUMENT_LABELS,
                           years=policy_years(application.policy)), status


def _fresh_form(application: CompensationApplication) -> CompensationDecisionForm:
    amount = to_major_text(application.requested_amount, application.currency) if application.requested_amount else ""
    return CompensationDecisionForm(formdata=None, lock_version=application.lock_version, amount=amount)


@admin.get("/insurance/<int:application_id>")
def insurance_application(application_id: int) -> tuple[str, int]:
    """Everything an application carries, and the decisions its state allows."""
    application = insurance_review.console_application(actor(), application_id)
    return _render(application, _fresh_form(application))


@admin.get("/insurance/<int:application_id>/documents/<int:document_id>")
def insurance_document(application_id: int, document_id: int) -> Response:
    """Download a document of an application (as it was uploaded)."""
    application = insurance_review.console_application(actor(), application_id)
    document, path = document_for_admin(application, document_id)
    return send_attachment(document, path)


def _decide(form: CompensationDecisionForm, application_id: int) -> CompensationApplication:
    action, lock = form.action.data, form.lock_version.data
    if action == "approve":
        return insurance_review.approve(actor(), application_id, form.amount.minor, form.reason.data, lock)
    if action == "reject":
        return insurance_review.reject(actor(), application_id, form.reason.data, lock)
    return insurance_review.record_payment(actor(), application_id, form.reference.data, lock)


@admin.post("/insurance/<int:application_id>/decision")
def insurance_decision(application_id: int) -> Response | tuple[str, int]:
    """Approve, reject or record the payment; refused when the page is stale."""
    application = insurance_review.console_application(actor(), application_id)
    form = CompensationDecisionForm()
    form.amount.use_currency(application.currency)
    if not form.validate_on_submit():
        return _render(application, form, 422)
    action = form.action.data or ""
    outcome = form_action(form, lambda: _decide(form, application_id), general_field="reason")
    if outcome.conflict:
        fresh = insurance_review.console_application(actor(), application_id)
        return _render(fresh, _fresh_form(fresh), 409)
    if outcome.status is not None:
        return _render(insurance_review.console_application(actor(), application_id), form, outcome.status)
    flash(str(DONE[action]), "success")
    return redirect(url_for("admin.insurance_application", application_id=application_id))
