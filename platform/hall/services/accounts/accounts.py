"""People: registration, e-mail confirmation, passwords, suspension, and the admin flag (CLI only)."""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hall.extensions import db
from hall.models import Institution, User
from hall.models.types import utcnow
from hall.services.accounts import sessions
from hall.services.accounts.institutions import join_by_invitation, new_institution, open_invitation
from hall.services.accounts.tokens import consume_token, fingerprint, issue_token, read_token
from hall.services.core import notifications
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from hall.services.core.state import Machine, transition
from hall.services.core.validation import normalise_email, password_problem

log = logging.getLogger("hall.accounts")
SIGN_IN_FAILED = _l("E-mail address or password is wrong.")


# A person's account: suspended by an admin (or the CLI), every session and token ending with it.
USER_MACHINE = Machine("user", {"suspend": (frozenset({"active"}), "suspended"),
                                "reinstate": (frozenset({"suspended"}), "active")},
                       events={"suspend": "user.suspended", "reinstate": "user.reinstated"})


class EmailNotConfirmed(Forbidden):
    """Sign-in refused until the person confirms their e-mail address (403, like any Forbidden); pages test for
    this class to offer a new confirmation link."""


def hash_password(password: str) -> str:
    """Hash with Werkzeug's scrypt (cheaper parameters only under the testing config)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_new_password(password: str, email: str, field: str = "password") -> None:
    """Raise ``InvalidInput`` naming ``field`` when the password breaks the policy (AUTHN-02)."""
    problem = password_problem(password, email=email)
    if problem:
        raise InvalidInput.field(field, problem)


def find_user_by_email(email: str) -> User | None:
    """The person with this address (compared case-insensitively), or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def ensure_email_free(email: str) -> None:
    """Raise ``Conflict`` naming ``email`` when someone already uses the address."""
    if find_user_by_email(email) is not None:
        errors = {"email": [_("already registered")]}
        raise Conflict(_("This e-mail address is already registered; sign in or reset the password."), errors)


def new_user(email: str, password: str, display_name: str, locale: str, *, confirmed: bool) -> User:
    """Create a person (flushed) after checking the address is free and the password acceptable."""
    email = normalise_email(email)
    ensure_email_free(email)
    check_new_password(password, email)
    user = User(email=email, display_name=display_name.strip(), password_hash=hash_password(password),
                locale=locale, email_confirmed_at=utcnow() if confirmed else None)
    db.session.add(user)
    db.session.flush()
    return user


def register(*, email: str, password: str, display_name: str, locale: str,
             institution: dict[str, Any]) -> tuple[User, Institution]:
    """Register a person together with a new institution they own; mail the confirmation link."""
    org = new_institution(**institution)
    user = new_user(email, password, display_name, locale, confirmed=False)
    user.institution_id, user.institution_role = org.id, "owner"
    db.session.flush()
    record_event("institution.registered", "institution", org.id, actor=user, to_state="pending",
                 details={"credit_code": org.credit_code, "kind": org.kind})
    record_event("user.registered", "user", user.id, actor=user, to_state="active",
                 details={"institution_id": org.id, "role": "owner"})
    send_confirmation_mail(user)
    return user, org


def send_confirmation_mail(user: User) -> None:
    """Mail a fresh confirmation link to an unconfirmed person (nothing for a confirmed one)."""
    if user.email_confirmed_at is None:
        notifications.send_confirmation(user, issue_token("confirm", uid=user.id, email=user.email))


def resend_confirmation(email: str) -> None:
    """Mail another confirmation link if the address belongs to an unconfirmed person; silent otherwise."""
    user = find_user_by_email(email)
    if user is not None:
        send_confirmation_mail(user)


def confirm_email(token: str) -> User:
    """Mark the address confirmed using the mailed token (single use)."""
    claims = read_token("confirm", token)
    user = db.session.get(User, claims.get("uid"))
    if user is None or user.email != claims.get("email"):
        raise InvalidInput.field("token", _("this link is not valid"))
    consume_token("confirm", claims)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        record_event("user.email_confirmed", "user", user.id, actor=user)
    return user


def authenticate(email: str, password: str) -> User:
    """Return the person whose e-mail and password match, else ``Unauthorized`` with one message for both.

    An unknown address still costs one hash check, so timing does not tell which part was wrong.
    """
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        log.warning("sign-in failed: unknown e-mail %s", normalise_email(email))
        raise Unauthorized(SIGN_IN_FAILED)
    if not check_password_hash(user.password_hash, password):
        log.warning("sign-in failed: wrong password for user %s", user.id)
        raise Unauthorized(SIGN_IN_FAILED)
    if user.status != "active":
        raise Forbidden(_("This account is suspended; contact the platform administrators."))
    if user.email_confirmed_at is None:
        raise EmailNotConfirmed(_("Confirm your e-mail address first: open the link we mailed you, or ask for a new "
                                  "one."))
    return user


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; ends every session and token of the person."""
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidInput.field("current_password", _("is wrong"))
    check_new_password(new_password, user.email, "new_password")
    _set_password(user, new_password, actor=user, action="user.password_changed")


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address belongs to an active person; the caller learns nothing either way."""
    user = find_user_by_email(email)
    if user is None or user.status != "active":
        return
    token = issue_token("reset", uid=user.id, pwd=fingerprint(user.password_hash))
    notifications.send_password_reset(user, token)
    record_event("user.password_reset_requested", "user", user.id)


def reset_password(token: str, new_password: str) -> User:
    """Set a new password with a mailed reset token (single use, void once the password changes)."""
    claims = read_token("reset", token)
    user = db.session.get(User, claims.get("uid"))
    if user is None or claims.get("pwd") != fingerprint(user.password_hash):
        raise InvalidInput.field("token", _("this link is no longer valid; ask for a new one"))
    if user.status != "active":
        raise Forbidden(_("This account is suspended; contact the platform administrators."))
    check_new_password(new_password, user.email, "new_password")
    consume_token("reset", claims)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the mailed link proves the address
    _set_password(user, new_password, actor=user, action="user.password_reset")
    return user


def _set_password(user: User, new_password: str, *, actor: User | None, action: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    sessions.end_everything(user, reason="password_changed")
    record_event(action, "user", user.id, actor=actor)
    notifications.send_password_changed(user)


def suspend_user(actor: User | None, user: User, reason: str) -> None:
    """Suspend a person (admin or CLI): every session and token ends at once."""
    if not reason.strip():
        raise InvalidInput.field("reason", _("a reason is required"))
    transition(USER_MACHINE, user, "suspend", actor=actor, reason=reason)
    sessions.end_everything(user, reason="suspended")


def reinstate_user(actor: User | None, user: User, reason: str | None = None) -> None:
    """Lift a person's suspension; they sign in again."""
    transition(USER_MACHINE, user, "reinstate", actor=actor, reason=reason)


def grant_admin(email: str, *, display_name: str | None = None, password: str | None = None) -> User:
    """Make a person a platform admin (CLI only), creating the account when ``password`` is given."""
    user = find_user_by_email(email)
    if user is None:
        if password is None:
            raise NotFound(_("No account for %(email)s; give a password to create one.", email=email))
        user = new_user(email, password, display_name or email.split("@")[0], "zh_CN", confirmed=True)
        record_event("user.registered", "user", user.id, to_state="active", details={"via": "cli"})
    if not user.is_admin:
        user.is_admin = True
        record_event("user.admin_granted", "user", user.id, details={"via": "cli"})
    return user


def update_profile(user: User, changes: dict[str, Any]) -> User:
    """Change the person's display name or language."""
    for key in ("display_name", "locale"):
        if key in changes:
            setattr(user, key, changes[key].strip() if key == "display_name" else changes[key])
    db.session.flush()
    return user


def accept_invitation(token: str, signed_in: User | None, *, display_name: str | None = None,
                      password: str | None = None, locale: str = "zh_CN") -> User:
    """Join the invited institution: an existing account must be signed in; a new one is created (confirmed,
    since the mailed link proves the address) from ``display_name`` and ``password``."""
    invitation, claims = open_invitation(token)
    existing = find_user_by_email(invitation.email)
    if existing is not None:
        if signed_in is None or signed_in.id != existing.id:
            raise Conflict(_("An account for %(email)s exists: sign in with it, then accept again.",
                             email=invitation.email))
        user = existing
    else:
        missing = {name: [_("required for a new account")] for name, value in
                   (("display_name", display_name), ("password", password)) if not value}
        if missing:
            raise InvalidInput(_("Choose a display name and a password for your new account."), missing)
        assert display_name is not None and password is not None
        user = new_user(invitation.email, password, display_name, locale, confirmed=True)
        record_event("user.registered", "user", user.id, actor=user, to_state="active",
                     details={"invitation_id": invitation.id})
    join_by_invitation(user, invitation, claims)
    return user
