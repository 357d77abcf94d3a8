"""Web pages of first-of-kind insurance policies and premium compensation applications, in the institution's
workspace: the policies with their applications (states and amounts in yuan), the policy form (new and edit, a
stale edit shown as "someone else changed this"), and one application's page (the rule in words, the computed
amount, documents, filing, the entries ledger, the platform's reason).

Every page calls the insurance services with the signed-in person (another institution's ids answer 404); a
refusal rolls back and is shown beside the fields it names. The console's side is blueprints/admin/insurance.py."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from blueprints.actor import actor
from blueprints.downloads import send_attachment
from blueprints.web import web
from blueprints.web.insurance_forms import (
    DOCUMENT_LABELS,
    ApplicationStartForm,
    DocumentForm,
    InsuranceActionForm,
    PolicyForm,
    policy_data,
)
from blueprints.web.site import nav_item
from blueprints.web.workspace import Page, member_page, run
from hall.models.insurance import CompensationApplication, InsurancePolicy
from hall.services.core.errors import InvalidInput
from hall.services.policy import insurance, insurance_applications
from hall.services.policy.insurance_rules import RULES, percent, policy_years, year_start

STALE = _l("Someone else changed this policy since you opened it. The form now shows the current values: apply "
           "your changes again.")

nav_item("web.insurance_home", _l("Insurance compensation"), "members", position=37)


def _years(policy: InsurancePolicy) -> list[SelectChoice]:
    """The policy years an application may be started for, as choices ("Year 2 (from 2025-10-01)")."""
    return [SelectChoice(str(year), _("Year %(year)s (from %(day)s)", year=year,
                                      day=year_start(policy, year).isoformat()))
            for year in range(1, policy_years(policy) + 1)]


def _product_names() -> dict[int, str]:
    """The institution's insurable products by listing id, named by their title."""
    names = {}
    for listing, version in insurance.insurable_listings(actor()):
        names[listing.id] = version.title_zh or version.title_en or _("Listing #%(id)s", id=listing.id)
    return names


@web.get("/workspace/insurance")
@member_page
def insurance_home() -> Page:
    """The institution's policies, each with its applications and a form to start one for a policy year."""
    person = actor()
    policies = insurance.list_own_policies(person)
    applications: dict[int, list[CompensationApplication]] = {}
    for application in insurance_applications.list_own_applications(person):
        applications.setdefault(application.policy_id, []).append(application)
    starts = {policy.id: ApplicationStartForm(formdata=None, prefix=f"p{policy.id}") for policy in policies}
    for policy in policies:
        starts[policy.id].policy_year.choices = _years(policy)
    return render_template("web/insurance/home.html", policies=policies, applications=applications, starts=starts,
                           products=_product_names(), locked=insurance.policy_locked, rules=RULES,
                           org=person.institution)


# --- policies ----------------------------------------------------------------------------------------------------

def _policy_form(**kwargs: Any) -> PolicyForm:
    form = PolicyForm(**kwargs)
    form.listing_id.choices = [SelectChoice("", _("Choose the product"))] + [
        SelectChoice(str(listing_id), name) for listing_id, name in _product_names().items()]
    return form


def _form_page(form: PolicyForm, status: int, policy: InsurancePolicy | None = None) -> tuple[str, int]:
    if status == 422 or (status >= 400 and any(item.errors for item in form)):
        flash(_("Nothing was saved: correct the fields marked below."), "error")
    action = url_for("web.insurance_edit_policy", policy_id=policy.id) if policy is not None \
        else url_for("web.insurance_new_policy")
    return render_template("web/insurance/policy_form.html", form=form, policy=policy, action=action,
                           products=_product_names()), status


@web.route("/workspace/insurance/policies/new", methods=["GET", "POST"])
@member_page
def insurance_new_policy() -> Page:
    """Record a policy of one of the institution's recognised first-of-kind products."""
    posted = request.method == "POST"
    chosen = request.args.get("listing_id", "")
    form = _policy_form(data=None if posted else {"listing_id": chosen if chosen.isdigit() else ""})
    if not form.validate_on_submit():
        return _form_page(form, 422 if posted else 200)
    data = form.checked(editing=False)
    if data is None:
        return _form_page(form, 422)
    outcome = run(form, lambda: insurance.create_policy(actor(), data), general_field="policy_number")
    if outcome.refused or outcome.value is None:
        return _form_page(form, outcome.status or 500)
    flash(_("The policy is recorded. Start an application for a policy year when you want the premium "
            "compensated."), "success")
    return redirect(url_for("web.insurance_home") + f"#policy-{outcome.value.id}")


def _lock_version(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else 0


@web.route("/workspace/insurance/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@member_page
def insurance_edit_policy(policy_id: int) -> Page:
    """Change a policy's facts, guarded by the lock version the form was opened with (refused once an application
    of it is filed)."""
    policy = insurance.own_policy(actor(), policy_id)
    if request.method == "GET":
        return _form_page(_policy_form(data=policy_data(policy), lock_version=policy.lock_version), 200, policy)
    form = _policy_form()
    if not form.validate_on_submit():
        return _form_page(form, 422, policy)
    data = form.checked(editing=True)
    if data is None:
        return _form_page(form, 422, policy)
    expected = _lock_version(form.lock_version.data)
    stale = expected != policy.lock_version
    outcome = run(form, lambda: insurance.edit_policy(actor(), policy_id, data, expected),
                  general_field="policy_number", conflict_message=str(STALE) if stale else None)
    if outcome.conflict:
        fresh = insurance.own_policy(actor(), policy_id)
        return _form_page(_policy_form(formdata=None, data=policy_data(fresh), lock_version=fresh.lock_version), 409,
                          fresh)
    if outcome.refused:
        return _form_page(form, outcome.status or 500, policy)
    flash(_("Your changes are saved."), "success")
    return redirect(url_for("web.insurance_home") + f"#policy-{policy_id}")


@web.post("/workspace/insurance/policies/<int:policy_id>/applications")
@member_page
def insurance_start_application(policy_id: int) -> Page:
    """Start a draft application for one policy year of the policy."""
    policy = insurance.own_policy(actor(), policy_id)
    form = ApplicationStartForm(prefix=f"p{policy.id}")
    form.policy_year.choices = _years(policy)
    if not form.validate_on_submit():
        flash(_("Choose one of the policy's years."), "error")
        return redirect(url_for("web.insurance_home") + f"#policy-{policy_id}")
    year = int(form.policy_year.data or 0)
    outcome = run(form, lambda: insurance_applications.create_application(actor(), policy_id, year))
    if outcome.refused or outcome.value is None:
        message = "; ".join(str(m) for m in form.policy_year.errors)
        if message:
            flash(message, "error")
        return redirect(url_for("web.insurance_home") + f"#policy-{policy_id}")
    flash(_("The draft application is started: attach the documents, then file it."), "success")
    return redirect(url_for("web.insurance_application", application_id=outcome.value.id))


# --- one application ---------------------------------------------------------------------------------------------

def _application_page(application: CompensationApplication, upload: DocumentForm | None = None,
                      status: int = 200, missing: list[str] | None = None) -> tuple[str, int]:
    return render_template("web/insurance/application.html", application=application, policy=application.policy,
                           upload=upload or DocumentForm(formdata=None), labels=DOCUMENT_LABELS, percent=percent,
                           years=policy_years(application.policy), products=_product_names(),
                           missing=missing or [], org=actor().institution), status


@web.get("/workspace/insurance/applications/<int:application_id>")
@member_page
def insurance_application(application_id: int) -> Page:
    """One application: the rule in words, the computed amount, documents, filing, entries, the platform's reason."""
    return _application_page(insurance_applications.own_application(actor(), application_id))


@web.post("/workspace/insurance/applications/<int:application_id>/documents")
@member_page
def insurance_upload_document(application_id: int) -> Page:
    """Attach a PDF to a draft application (type judged by content)."""
    insurance_applications.own_application(actor(), application_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        return _application_page(insurance_applications.own_application(actor(), application_id), form, 422)
    upload = form.file.data
    outcome = run(form, lambda: insurance_applications.add_document(actor(), application_id, upload.stream,
                                                                    upload.filename or "", form.kind.data or "other"),
                  general_field="file")
    if outcome.refused:
        return _application_page(insurance_applications.own_application(actor(), application_id), form,
                                 outcome.status or 500)
    flash(_("The document is attached."), "success")
    return redirect(url_for("web.insurance_application", application_id=application_id) + "#documents")


@web.get("/workspace/insurance/applications/<int:application_id>/documents/<int:document_id>")
@member_page
def insurance_document(application_id: int, document_id: int) -> Page:
    """Download a document of one of the institution's applications."""
    document, path = insurance_applications.document_for_institution(actor(), application_id, document_id)
    response: Response = send_attachment(document, path)
    return response


@web.post("/workspace/insurance/applications/<int:application_id>/documents/<int:document_id>/delete")
@member_page
def insurance_remove_document(application_id: int, document_id: int) -> Page:
    """Take a document off a draft application."""
    insurance_applications.own_application(actor(), application_id)
    outcome = run(InsuranceActionForm(), lambda: insurance_applications.remove_document(actor(), application_id,
                                                                                        document_id))
    if outcome.refused:
        return _application_page(insurance_applications.own_application(actor(), application_id),
                                 status=outcome.status or 500)
    flash(_("The document is removed."), "success")
    return redirect(url_for("web.insurance_application", application_id=application_id) + "#documents")


@web.post("/workspace/insurance/applications/<int:application_id>/file")
@member_page
def insurance_file_application(application_id: int) -> Page:
    """File the draft with the platform; what it lacks is shown on the page."""
    insurance_applications.own_application(actor(), application_id)
    lacking: list[str] = []

    def file() -> CompensationApplication:
        try:
            return insurance_applications.file_application(actor(), application_id)
        except InvalidInput as error:
            lacking.extend(str(m) for messages in error.errors.values() for m in messages)
            raise InvalidInput(_("The application cannot be filed yet: see what it lacks below."),
                               error.errors) from None

    outcome = run(InsuranceActionForm(), file)
    if outcome.refused:
        missing = lacking
        return _application_page(insurance_applications.own_application(actor(), application_id),
                                 status=outcome.status or 500, missing=missing)
    flash(_("The application is filed; the platform will tell you its decision."), "success")
    return redirect(url_for("web.insurance_application", application_id=application_id))


@web.post("/workspace/insurance/applications/<int:application_id>/withdraw")
@member_page
def insurance_withdraw_application(application_id: int) -> Page:
    """Give up a draft application (its policy year is free again)."""
    insurance_applications.own_application(actor(), application_id)
    outcome = run(InsuranceActionForm(), lambda: insurance_applications.withdraw_application(actor(),
                                                                                             application_id))
    if outcome.refused:
        return _application_page(insurance_applications.own_application(actor(), application_id),
                                 status=outcome.status or 500)
    flash(_("The application is withdrawn."), "success")
    return redirect(url_for("web.insurance_application", application_id=application_id))
