"""Web pages of evaluation engagements and reports by professional institutions (第三方科技成果评价).

The workspace: ``/workspace/evaluations`` (the institution's engagements as client and as evaluator, by state), the
request form reached from a listing of the institution, one engagement's page (accept / decline for the evaluator,
cancel for the client, the evaluator's report form with its PDF, attach / detach for the client). The public
listing shows attached reports through ``evaluation_reports(listing)`` and the evaluator's public page its count
through ``evaluation_report_count(org)`` (template globals, for ``web/evaluations/_badge.html``). Every page calls
the evaluations services with the signed-in person (another institution's engagement is 404)."""
from __future__ import annotations

from math import ceil
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from blueprints.actor import actor
from blueprints.web import web
from blueprints.web.evaluations_forms import ActionForm, ReasonForm, ReportForm, RequestForm
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from hall.models import Institution, Listing
from hall.models.evaluations import ENGAGEMENT_STATUSES, EvaluationEngagement
from hall.services.policy import evaluations, evaluations_reports
from hall.services.policy.evaluations_words import ROLE_WORDS, STATE_WORDS, action_words, method_words
from hall.services.publishing import listings
from hall.services.publishing.hall import listing_is_public
from schemas.evaluations import EngagementQueryIn

PER_PAGE = 20

nav_item("web.workspace_evaluations", _l("Evaluations"), "members", position=39)


def _english() -> bool:
    return str(get_locale()) == "en"


def listing_title(listing: Listing) -> str:
    """A listing's title in the page's language (the public version's, else the one being edited)."""
    version = listing.published_version or listing.working_version
    if version is None:
        return f"#{listing.id}"
    first, second = (version.title_en, version.title_zh) if _english() else (version.title_zh, version.title_en)
    return first or second or f"#{listing.id}"


def org_words(org: Institution) -> str:
    """An institution's name in the page's language."""
    return (org.name_en or org.name_zh) if _english() else org.name_zh


@web.app_context_processor
def evaluation_globals() -> dict[str, Any]:
    """Words and lookups for the evaluation templates (workspace, public badge, console)."""
    return {"evaluation_state": lambda status: str(STATE_WORDS.get(status, status)),
            "evaluation_method": method_words, "evaluation_action": action_words,
            "evaluation_listing_title": listing_title, "evaluation_org": org_words,
            "evaluation_reports": evaluations_reports.public_reports,
            "evaluation_report_count": lambda org: evaluations_reports.public_report_count(org.id)
            if org.kind == "evaluator" else 0}


# --- the list ---------------------------------------------------------------------------------------------------

@web.get("/workspace/evaluations")
@member_page
def workspace_evaluations() -> Page:
    """The institution's engagements, newest first: as client, as evaluator, or both; by state."""
    given = {name: request.args[name] for name in ("role", "status", "page") if request.args.get(name)}
    try:
        query = dict(EngagementQueryIn().load(given))
    except ValidationError as error:
        refused = error.messages if isinstance(error.messages, dict) else {}
        query = dict(EngagementQueryIn().load({k: v for k, v in given.items() if k not in refused}))
    person = actor()
    items, total = evaluations.list_engagements(person, query.get("role"), query.get("status"), page=query["page"],
                                                per_page=PER_PAGE)
    return render_template("web/evaluations/list.html", items=items, total=total, page=query["page"],
                           pages=max(ceil(total / PER_PAGE), 1), role=query.get("role"), status=query.get("status"),
                           statuses=ENGAGEMENT_STATUSES, roles=ROLE_WORDS, org=person.institution,
                           counts={side: evaluations.count_engagements(person, side) for side in ROLE_WORDS})


# --- the request ------------------------------------------------------------------------------------------------

def _request_page(form: RequestForm, listing: Listing, status: int = 200) -> tuple[str, int]:
    return render_template("web/evaluations/request.html", form=form, listing=listing,
                           title=listing_title(listing), org=actor().institution,
                           engagements=evaluations.engagements_of_listing(actor(), listing.id)), status


@web.route("/workspace/listings/<int:listing_id>/evaluations/new", methods=["GET", "POST"])
@member_page
def workspace_request_evaluation(listing_id: int) -> Page:
    """Engage a verified evaluation institution on one of the institution's listings."""
    listing = listings.own_listing(actor(), listing_id)
    form = RequestForm()
    form.offer([org for org in evaluations.list_evaluators() if org.id != listing.institution_id], _english())
    if request.method != "POST":
        return _request_page(form, listing)
    if not form.validate_on_submit():
        flash(_("Nothing was sent: reload the page and try again."), "error")
        return _request_page(form, listing, 422)
    outcome = run(form, lambda: evaluations.request_evaluation(actor(), listing_id, form.chosen(), form.note.data))
    if outcome.refused or outcome.value is None:
        return _request_page(form, listing, outcome.status or 500)
    flash(_("The request is sent; the evaluation institution will accept or decline it."), "success")
    return redirect(url_for("web.workspace_evaluation", engagement_id=outcome.value.id))


# --- one engagement ---------------------------------------------------------------------------------------------

def _page(engagement: EvaluationEngagement, *, report_form: ReportForm | None = None,
          reason_form: ReasonForm | None = None, status: int = 200) -> tuple[str, int]:
    person = actor()
    return render_template(
        "web/evaluations/engagement.html", engagement=engagement, role=evaluations.role_of(person, engagement),
        title=listing_title(engagement.listing), report_form=report_form or ReportForm(formdata=None),
        reason_form=reason_form or ReasonForm(formdata=None), action_form=ActionForm(),
        listing_public=listing_is_public(engagement.listing)), status


@web.get("/workspace/evaluations/<int:engagement_id>")
@member_page
def workspace_evaluation(engagement_id: int) -> Page:
    """One engagement of the institution, as client or as evaluator, with what that side may do now."""
    return _page(evaluations.engagement_for(actor(), engagement_id))


def _act(engagement_id: int, form: Any, call: Any, done: str, *, reason: bool = False) -> Page:
    evaluations.engagement_for(actor(), engagement_id)
    if not form.validate_on_submit():
        flash(_("That button did not work; reload the page and try again."), "error")
        return redirect(url_for("web.workspace_evaluation", engagement_id=engagement_id))
    outcome = run(form, call, general_field="reason" if reason else None)
    if outcome.refused:
        engagement = evaluations.engagement_for(actor(), engagement_id)
        return _page(engagement, reason_form=form if reason else None, status=outcome.status or 500)
    flash(done, "success")
    return redirect(url_for("web.workspace_evaluation", engagement_id=engagement_id))


@web.post("/workspace/evaluations/<int:engagement_id>/accept")
@member_page
def workspace_accept_evaluation(engagement_id: int) -> Page:
    """The evaluator accepts the engagement."""
    return _act(engagement_id, ActionForm(), lambda: evaluations.accept(actor(), engagement_id),
                _("You accepted the evaluation; issue the report here when it is ready."))


@web.post("/workspace/evaluations/<int:engagement_id>/decline")
@member_page
def workspace_decline_evaluation(engagement_id: int) -> Page:
    """The evaluator declines the engagement, with a reason."""
    form = ReasonForm()
    return _act(engagement_id, form, lambda: evaluations.decline(actor(), engagement_id, form.reason.data),
                _("You declined the evaluation; the institution has been told."), reason=True)


@web.post("/workspace/evaluations/<int:engagement_id>/cancel")
@member_page
def workspace_cancel_evaluation(engagement_id: int) -> Page:
    """The client cancels the engagement, with a reason."""
    form = ReasonForm()
    return _act(engagement_id, form, lambda: evaluations.cancel(actor(), engagement_id, form.reason.data),
                _("The evaluation is cancelled; the evaluation institution has been told."), reason=True)


@web.post("/workspace/evaluations/<int:engagement_id>/attach")
@member_page
def workspace_attach_evaluation(engagement_id: int) -> Page:
    """The client shows the report on its public listing."""
    return _act(engagement_id, ActionForm(), lambda: evaluations_reports.attach(actor(), engagement_id),
                _("The report is shown on the public listing."))


@web.post("/workspace/evaluations/<int:engagement_id>/detach")
@member_page
def workspace_detach_evaluation(engagement_id: int) -> Page:
    """The client stops showing the report on its public listing."""
    return _act(engagement_id, ActionForm(), lambda: evaluations_reports.detach(actor(), engagement_id),
                _("The report is no longer shown on the public listing."))


@web.post("/workspace/evaluations/<int:engagement_id>/report")
@member_page
def workspace_issue_report(engagement_id: int) -> Page:
    """The evaluator issues the report with its PDF (once: it never changes afterwards)."""
    engagement = evaluations.engagement_for(actor(), engagement_id)
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("Nothing was saved: correct the fields marked below."), "error")
        return _page(engagement, report_form=form, status=422)
    upload = form.file.data

    def issue() -> EvaluationEngagement:
        return evaluations_reports.issue_report(actor(), engagement_id, form.values(),
                                                upload.stream if upload else None,
                                                upload.filename if upload else None)

    outcome = run(form, issue)
    if outcome.refused:
        if not outcome.conflict:
            flash(_("Nothing was saved: correct the fields marked below."), "error")
        return _page(evaluations.engagement_for(actor(), engagement_id), report_form=form,
                     status=outcome.status or 500)
    flash(_("The report is issued; the institution has been told and may attach it to its listing."), "success")
    return redirect(url_for("web.workspace_evaluation", engagement_id=engagement_id))
