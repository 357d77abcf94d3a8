"""Institutions: registration data, the verification state machine, profile edits, members and invitations."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.labels import state_word
from hall.library_messages import N_
from hall.models import Institution, Invitation, User
from hall.models.types import utcnow
from hall.services.accounts.tokens import consume_token, issue_token, read_token
from hall.services.core import inbox, notifications
from hall.services.core.access import forbid_own_institution, require_admin
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.core.validation import credit_code_problem, normalise_email, region_code_problem

# The verification state machine: action -> (states it may start from, state it leads to).
VERIFICATION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "verify": (frozenset({"pending"}), "verified"),
    "reject": (frozenset({"pending"}), "rejected"),
    "suspend": (frozenset({"verified"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "verified"),
    "resubmit": (frozenset({"rejected"}), "pending"),  # the owner corrected the data and asks again
}
INSTITUTION_MACHINE = Machine("institution", VERIFICATION_TRANSITIONS, column="verification_status",
                              reason_column="status_reason")
REASON_REQUIRED = frozenset({"reject", "suspend"})
ADMIN_ACTIONS = frozenset({"verify", "reject", "suspend", "reinstate"})
# Fields an owner may change only until the institution is verified.
IDENTITY_FIELDS = frozenset({"kind", "name_zh", "credit_code"})


def _check_codes(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "credit_code" in values and (problem := credit_code_problem(values["credit_code"])):
        errors["credit_code"] = [problem]
    if "region_code" in values and (problem := region_code_problem(values["region_code"])):
        errors["region_code"] = [problem]
    if errors:
        raise InvalidInput(_("Fix the fields named in errors."), errors)


def _ensure_credit_code_free(credit_code: str, own_id: int | None = None) -> None:
    existing = db.session.scalar(select(Institution.id).where(Institution.credit_code == credit_code))
    if existing is not None and existing != own_id:
        errors = {"credit_code": [_("already registered")]}
        raise Conflict(_("An institution with this unified social credit code is already registered; "
                         "ask its owner to invite you."), errors)


def new_institution(**values: Any) -> Institution:
    """Create an institution awaiting verification (flushed) after checking its codes."""
    _check_codes(values)
    _ensure_credit_code_free(values["credit_code"])
    org = Institution(verification_status="pending", **values)
    db.session.add(org)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        errors = {"credit_code": [_("already registered")]}
        raise Conflict(_("An institution with this unified social credit code is already registered."),
                       errors) from None
    return org


def get_institution(institution_id: int) -> Institution:
    """Any institution by id (for admins and members), or ``NotFound``."""
    org = db.session.get(Institution, institution_id)
    if org is None:
        raise NotFound(_("No such institution."))
    return org


def get_public_institution(institution_id: int, viewer: User | None) -> Institution:
    """An institution as the public may see it: verified ones to all, others only to members and admins."""
    org = get_institution(institution_id)
    if org.is_verified or (viewer is not None and (viewer.is_admin or viewer.institution_id == org.id)):
        return org
    raise NotFound(_("No such institution."))


def institution_for_member(actor: User, institution_id: int, *, owner: bool = False) -> Institution:
    """The actor's own institution (404 for any other id); with ``owner`` the actor must own it (403)."""
    if actor.institution_id != institution_id:
        raise NotFound(_("No such institution."))
    org = get_institution(institution_id)
    if owner and not actor.is_owner:
        raise Forbidden(_("Only an owner of the institution may do this."))
    return org


def change_verification(actor: User | None, org: Institution, action: str, reason: str | None = None) -> None:
    """Apply one verification transition with compare-and-set, record it and tell the owners."""
    if action not in VERIFICATION_TRANSITIONS:
        raise InvalidInput.field("action", _("must be one of %(choices)s",
                                              choices=", ".join(VERIFICATION_TRANSITIONS)))
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and reason is None:
        raise InvalidInput.field("reason", _("a reason is required to reject") if action == "reject"
                                else _("a reason is required to suspend"))
    from_state = transition(INSTITUTION_MACHINE, org, action, actor=actor, reason=reason,
                            status_changed_at=utcnow())
    to_state = org.verification_status
    if "verified" in (from_state, to_state):
        _sync_hall(org, visible=to_state == "verified")
    _tell_members(org, action, reason, actor)


_STATUS_EVENTS = {"verify": "verified", "reject": "rejected", "suspend": "suspended", "reinstate": "reinstated",
                  "resubmit": "resubmitted"}


def _tell_members(org: Institution, action: str, reason: str | None, actor: User | None) -> None:
    """Notify the institution's members (not the one who acted) of its new verification status."""
    state = org.verification_status

    def name() -> str:
        return (org.name_en or org.name_zh) if str(get_locale()) == "en" else org.name_zh

    inbox.notify(f"institution.{_STATUS_EVENTS[action]}", group="reviews",
                 title=N_("Institution verification: %(state)s"),
                 body=N_("The verification status of “%(name)s” is now: %(state)s.\nReason: %(reason)s"),
                 institution_id=org.id, params={"name": name, "state": lambda: state_word(state),
                                                "reason": reason or "—"},
                 link="/workspace/institution", exclude_user_id=actor.id if actor is not None else None)


def _sync_hall(org: Institution, *, visible: bool) -> None:
    """A suspended institution's listings leave the public hall; reinstated, they come back."""
    from hall.models import Listing
    from hall.search import index_listing, unindex_listing

    for listing in db.session.scalars(select(Listing).where(Listing.institution_id == org.id,
                                                            Listing.status == "published")):
        if visible:
            index_listing(listing)
        else:
            unindex_listing(listing)


def review_institution(admin: User, org: Institution, action: str, reason: str | None = None,
                       expected_status: str | None = None) -> None:
    """A platform admin verifies, rejects, suspends or reinstates an institution (never their own); with
    ``expected_status``, a decision taken on a page showing another status is refused."""
    if expected_status is not None and org.verification_status != expected_status:
        raise Conflict(_("The institution changed after you opened the page; review it again."))
    require_admin(admin, _("review institutions"))
    forbid_own_institution(admin, org.id, doing=_("decide on their own institution"))
    if action not in ADMIN_ACTIONS:
        raise InvalidInput.field("action", _("must be one of %(choices)s", choices=", ".join(sorted(ADMIN_ACTIONS))))
    change_verification(admin, org, action, reason)


def resubmit_institution(actor: User, institution_id: int) -> Institution:
    """The owner of a rejected institution asks for verification again."""
    org = institution_for_member(actor, institution_id, owner=True)
    change_verification(actor, org, "resubmit")
    return org


def update_institution(actor: User, institution_id: int, changes: dict[str, Any]) -> Institution:
    """The owner edits the profile; kind, Chinese name and credit code are fixed once verified."""
    org = institution_for_member(actor, institution_id, owner=True)
    changes = {key: value for key, value in changes.items() if getattr(org, key) != value}
    locked = IDENTITY_FIELDS & changes.keys()
    if locked and org.verification_status not in ("pending", "rejected"):
        raise InvalidInput(_("These fields are fixed once the institution is verified; contact the platform."),
                           {field: [_("cannot change after verification")] for field in sorted(locked)})
    _check_codes(changes)
    if "credit_code" in changes:
        _ensure_credit_code_free(changes["credit_code"], org.id)
    for key, value in changes.items():
        setattr(org, key, value)
    db.session.flush()
    if changes:
        record_event("institution.profile_updated", "institution", org.id, actor=actor,
                     details={"fields": sorted(changes)})
    return org


def list_members(actor: User, institution_id: int) -> list[User]:
    """The people of the actor's own institution."""
    org = institution_for_member(actor, institution_id)
    return list(org.members)


def _member(org: Institution, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.institution_id != org.id:
        raise NotFound(_("No such member."))
    return user


def _owner_count(org: Institution) -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.institution_id == org.id,
                                                     User.institution_role == "owner")) or 0


def change_member_role(actor: User, institution_id: int, user_id: int, role: str) -> User:
    """An owner makes a member an owner or an owner a member; the last owner stays an owner."""
    org = institution_for_member(actor, institution_id, owner=True)
    member = _member(org, user_id)
    if member.institution_role == role:
        return member
    if member.institution_role == "owner" and _owner_count(org) <= 1:
        raise Conflict(_("An institution keeps at least one owner; make someone else owner first."))
    before = member.institution_role
    member.institution_role = role
    record_event("member.role_changed", "user", member.id, actor=actor, from_state=before, to_state=role,
                 details={"institution_id": org.id})
    return member


def remove_member(actor: User, institution_id: int, user_id: int) -> None:
    """An owner removes a member, or a member leaves; the last owner cannot leave."""
    org = institution_for_member(actor, institution_id, owner=actor.id != user_id)
    member = _member(org, user_id)
    if member.institution_role == "owner" and _owner_count(org) <= 1:
        raise Conflict(_("An institution keeps at least one owner; make someone else owner first."))
    role = member.institution_role
    member.institution_id, member.institution_role = None, None
    record_event("member.removed", "user", member.id, actor=actor, from_state=role,
                 details={"institution_id": org.id})


def invite_member(actor: User, institution_id: int, email: str, role: str) -> Invitation:
    """An owner invites an address; an earlier open invitation for it is replaced."""
    org = institution_for_member(actor, institution_id, owner=True)
    email = normalise_email(email)
    existing_user = db.session.scalar(select(User).where(User.email == email))
    if existing_user is not None and existing_user.institution_id is not None:
        errors = {"email": [_("already a member")]}
        raise Conflict(_("This person already belongs to an institution."), errors)
    now = utcnow()
    for old in db.session.scalars(select(Invitation).where(
            Invitation.institution_id == org.id, Invitation.email == email,
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))):
        old.revoked_at = now
    days = current_app.config["TOKEN_MAX_AGE"]["invite"] // 86400
    invitation = Invitation(institution_id=org.id, email=email, role=role, invited_by_id=actor.id,
                            expires_at=now + timedelta(days=days))
    db.session.add(invitation)
    db.session.flush()
    notifications.send_invitation(email, org, actor, issue_token("invite", inv=invitation.id, email=email))
    record_event("member.invited", "invitation", invitation.id, actor=actor,
                 details={"institution_id": org.id, "email": email, "role": role})
    return invitation


def list_invitations(actor: User, institution_id: int) -> list[Invitation]:
    """Open invitations of the owner's institution."""
    org = institution_for_member(actor, institution_id, owner=True)
    return [inv for inv in db.session.scalars(
        select(Invitation).where(Invitation.institution_id == org.id).order_by(Invitation.id.desc())) if inv.is_open]


def revoke_invitation(actor: User, institution_id: int, invitation_id: int) -> None:
    """An owner withdraws an open invitation."""
    org = institution_for_member(actor, institution_id, owner=True)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.institution_id != org.id or not invitation.is_open:
        raise NotFound(_("No such open invitation."))
    invitation.revoked_at = utcnow()
    record_event("member.invitation_revoked", "invitation", invitation.id, actor=actor)


def open_invitation(token: str) -> tuple[Invitation, dict[str, Any]]:
    """Read an invitation token and return the open invitation it names with the token's claims."""
    claims = read_token("invite", token)
    invitation = db.session.get(Invitation, claims.get("inv"))
    if invitation is None or invitation.email != claims.get("email") or not invitation.is_open:
        raise InvalidInput.field("token", _("this invitation is no longer open; ask the owner for a new one"))
    return invitation, claims


def join_by_invitation(user: User, invitation: Invitation, claims: dict[str, Any]) -> None:
    """Make ``user`` a member as the invitation says, consuming its token."""
    if user.institution_id is not None:
        raise Conflict(_("You already belong to an institution; leave it first."))
    consume_token("invite", claims)
    invitation.accepted_at = utcnow()
    user.institution_id, user.institution_role = invitation.institution_id, invitation.role
    db.session.flush()
    record_event("member.joined", "user", user.id, actor=user, to_state=invitation.role,
                 details={"institution_id": invitation.institution_id, "invitation_id": invitation.id})
