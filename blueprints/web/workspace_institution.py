"""The institution in the workspace: its profile and verification, its members and invitations, and the person's
own API tokens. Every page calls the accounts services with the signed-in person: members see, owners change (the
service answers 403 to a member, 404 for another institution's people); the data goes through the API's schemas;
a refusal rolls back and is shown beside the fields it names or on top of the page, with the service's status."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from blueprints.actor import actor
from blueprints.web import web
from blueprints.web.site import check_with, nav_item
from blueprints.web.workspace import Page, member_page, run
from blueprints.web.workspace_forms import ActionForm
from blueprints.web.workspace_institution_forms import (
    PROFILE_FIELDS,
    InviteForm,
    ProfileForm,
    RoleForm,
    TokenForm,
)
from hall.models import Institution
from hall.services.accounts import institutions, sessions
from hall.services.accounts.institutions import IDENTITY_FIELDS
from schemas.accounts import ApiTokenIn, InvitationIn, RoleIn
from schemas.institutions import InstitutionUpdateIn

P = ParamSpec("P")
# The states in which ``update_institution`` still takes the identity fields (only which inputs the page offers;
# the service enforces it).
IDENTITY_OPEN = frozenset({"pending", "rejected"})

nav_item("web.my_institution", _l("Institution"), "members", position=40)
nav_item("web.api_tokens", _l("API tokens"), "signed_in", position=60)


def signed_in_page(view: Callable[P, Page]) -> Callable[P, Page]:
    """Anonymous visitors go to sign in, and come back here afterwards."""
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Page:
        if not current_user.is_authenticated:
            here = request.full_path.rstrip("?") if request.method == "GET" else url_for("web.api_tokens")
            return redirect(url_for("web.sign_in", next=here))
        return view(*args, **kwargs)
    return guarded


def _org_id() -> int:
    org_id = actor().institution_id
    assert org_id is not None, "behind member_page"
    return org_id


# --- The institution's profile ------------------------------------------------------------------------------------


def identity_open(org: Institution) -> bool:
    """Whether the page offers the identity fields (kind, Chinese name, credit code) for editing."""
    return org.verification_status in IDENTITY_OPEN


def _profile_form(org: Institution, *, posted: bool) -> ProfileForm:
    form = ProfileForm() if posted else ProfileForm(formdata=None, obj=org)
    if not identity_open(org):
        for name in IDENTITY_FIELDS:
            del form[name]
    return form


def _institution_page(org: Institution, form: ProfileForm | None = None, status: int = 200) -> tuple[str, int]:
    person = actor()
    if person.is_owner and form is None:
        form = _profile_form(org, posted=False)
    return render_template("web/institution/profile.html", org=org, form=form if person.is_owner else None,
                           buttons=ActionForm(formdata=None), identity_open=identity_open(org),
                           identity_fields=IDENTITY_FIELDS), status


@web.route("/workspace/institution", methods=["GET", "POST"])
@member_page
def my_institution() -> Page:
    """The institution's details and verification in words; its owners edit the profile here."""
    org = institutions.institution_for_member(actor(), _org_id())
    if request.method == "GET":
        return _institution_page(org)
    form = _profile_form(org, posted=True)
    if not form.validate_on_submit():
        return _institution_page(org, form, 422)
    sent = {name for name in PROFILE_FIELDS if name in request.form and name in form}
    outcome = run(form, lambda: institutions.update_institution(
        actor(), org.id, check_with(InstitutionUpdateIn(partial=True), form.payload(sent))))
    if outcome.refused:
        org = institutions.institution_for_member(actor(), _org_id())
        if outcome.status == 422:
            flash(_("Nothing was saved: correct the fields marked below."), "error")
        return _institution_page(org, form, outcome.status or 500)
    flash(_("The profile of the institution is saved."), "success")
    return redirect(url_for("web.my_institution"))


@web.post("/workspace/institution/resubmit")
@member_page
def resubmit_institution() -> Page:
    """The owner of a rejected institution, having corrected it, asks the platform to verify it again."""
    outcome = run(ActionForm(), lambda: institutions.resubmit_institution(actor(), _org_id()))
    if outcome.refused:
        return _institution_page(institutions.institution_for_member(actor(), _org_id()),
                                 status=outcome.status or 500)
    flash(_("The institution is sent for verification again; the platform will tell you its decision."), "success")
    return redirect(url_for("web.my_institution"))


# --- Members and invitations --------------------------------------------------------------------------------------


def _members_page(invite: InviteForm | None = None, status: int = 200) -> tuple[str, int]:
    person = actor()
    org = institutions.institution_for_member(person, _org_id())
    members = institutions.list_members(person, org.id)
    invitations = institutions.list_invitations(person, org.id) if person.is_owner else []
    return render_template("web/institution/members.html", org=org, members=members, invitations=invitations,
                           invite=invite or InviteForm(formdata=None), roles=RoleForm(formdata=None),
                           buttons=ActionForm(formdata=None), me=person), status


@web.get("/workspace/members")
@member_page
def members() -> Page:
    """The institution's people with their roles; owners change roles, remove people and invite new ones."""
    return _members_page()


@web.post("/workspace/members/<int:user_id>/role")
@member_page
def change_member_role(user_id: int) -> Page:
    """An owner makes a member an owner, or an owner a member (the institution keeps at least one owner)."""
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a role."), "error")
        return _members_page(status=422)
    outcome = run(form, lambda: institutions.change_member_role(
        actor(), _org_id(), user_id, check_with(RoleIn(), {"role": form.role.data})["role"]))
    if outcome.refused:
        return _members_page(status=outcome.status or 500)
    flash(_("The role is changed."), "success")
    return redirect(url_for("web.members"))


@web.post("/workspace/members/<int:user_id>/remove")
@member_page
def remove_member(user_id: int) -> Page:
    """An owner removes someone from the institution, or a person leaves it (the last owner cannot)."""
    leaving = user_id == actor().id
    outcome = run(ActionForm(), lambda: institutions.remove_member(actor(), _org_id(), user_id))
    if outcome.refused:
        return _members_page(status=outcome.status or 500)
    if leaving:
        flash(_("You left the institution."), "success")
        return redirect("/")
    flash(_("The person is removed from the institution."), "success")
    return redirect(url_for("web.members"))


@web.post("/workspace/invitations")
@member_page
def invite_member() -> Page:
    """An owner invites an e-mail address; the invitation is mailed with a link to accept it."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _members_page(form, 422)
    outcome = run(form, lambda: institutions.invite_member(
        actor(), _org_id(), **check_with(InvitationIn(), {"email": form.email.data or "", "role": form.role.data})))
    if outcome.refused or outcome.value is None:
        return _members_page(form, outcome.status or 500)
    flash(_("The invitation is mailed to %(email)s.", email=outcome.value.email), "success")
    return redirect(url_for("web.members") + "#invitations")


@web.post("/workspace/invitations/<int:invitation_id>/revoke")
@member_page
def revoke_invitation(invitation_id: int) -> Page:
    """An owner withdraws an open invitation: its link stops working."""
    outcome = run(ActionForm(), lambda: institutions.revoke_invitation(actor(), _org_id(), invitation_id))
    if outcome.refused:
        return _members_page(status=outcome.status or 500)
    flash(_("The invitation is withdrawn."), "success")
    return redirect(url_for("web.members") + "#invitations")


# --- Personal API tokens ------------------------------------------------------------------------------------------


def _tokens_page(form: TokenForm | None = None, *, created: Any = None, secret: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    return render_template("web/institution/tokens.html", tokens=sessions.list_api_tokens(actor()),
                           form=form or TokenForm(formdata=None), buttons=ActionForm(formdata=None),
                           created=created, secret=secret), status


@web.route("/account/tokens", methods=["GET", "POST"])
@signed_in_page
def api_tokens() -> Page:
    """The person's API tokens; a new one's secret is shown on the answer to its form only, never again."""
    if request.method == "GET":
        return _tokens_page()
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    body: dict[str, Any] = {"name": (form.name.data or "").strip()}
    if form.expires_in_days.data is not None:
        body["expires_in_days"] = form.expires_in_days.data
    outcome = run(form, lambda: sessions.create_api_token(actor(), **check_with(ApiTokenIn(), body)))
    if outcome.refused or outcome.value is None:
        return _tokens_page(form, status=outcome.status or 500)
    token, secret = outcome.value
    return _tokens_page(created=token, secret=secret, status=201)


@web.post("/account/tokens/<int:token_id>/revoke")
@signed_in_page
def revoke_api_token(token_id: int) -> Page:
    """Revoke one of the person's tokens: it stops working at once."""
    outcome = run(ActionForm(), lambda: sessions.revoke_api_token(actor(), token_id))
    if outcome.refused:
        return _tokens_page(status=outcome.status or 500)
    flash(_("The token is revoked; clients using it are refused from now on."), "success")
    return redirect(url_for("web.api_tokens"))
