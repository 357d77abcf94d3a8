"""Registration, e-mail confirmation, sign-in and sign-out, password reset, accepting an invitation."""
from __future__ import annotations

from typing import Any

from flask import current_app, session
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import generate_csrf

from blueprints.actor import actor
from blueprints.api.base import ApiBlueprint
from hall.auth import authenticate_throttled, begin_browser_session
from hall.extensions import limiter
from hall.services.accounts import accounts, sessions
from schemas.accounts import (
    CsrfOut,
    EmailIn,
    InvitationAcceptIn,
    MessageOut,
    PasswordResetIn,
    RegistrationIn,
    RegistrationOut,
    SignInIn,
    SignInOut,
    TokenIn,
    UserOut,
)
from schemas.common import ErrorSchema

blp = ApiBlueprint("auth", __name__, url_prefix="/auth", description="Accounts: register, confirm, sign in and out")


@blp.route("/register", methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTRATION_LIMIT"])
@blp.arguments(RegistrationIn)
@blp.response(201, RegistrationOut)
def register(data: dict[str, Any]) -> dict[str, Any]:
    """Register a person with a new institution they own; a confirmation link is mailed."""
    user, _org = accounts.register(**data)
    return {"user": user, "message": "Registered. Open the link we mailed you to confirm your address."}


@blp.route("/confirm", methods=["POST"])
@blp.arguments(TokenIn)
@blp.response(200, UserOut)
def confirm(data: dict[str, Any]) -> Any:
    """Confirm the e-mail address with the mailed token."""
    return accounts.confirm_email(data["token"])


@blp.route("/confirm/resend", methods=["POST"])
@limiter.limit(lambda: current_app.config["MAIL_REQUEST_LIMIT"])
@blp.arguments(EmailIn)
@blp.response(202, MessageOut)
def resend_confirmation(data: dict[str, Any]) -> dict[str, str]:
    """Mail a new confirmation link (the answer is the same whether or not the address is known)."""
    accounts.resend_confirmation(data["email"])
    return {"message": "If the address belongs to an unconfirmed account, a new link is on its way."}


@blp.route("/sign-in", methods=["POST"])
@blp.arguments(SignInIn)
@blp.response(200, SignInOut)
@blp.alt_response(429, schema=ErrorSchema, description="Too many failed sign-ins for this account from this "
                  "address, for this account, or from this address; wait for Retry-After")
def sign_in(data: dict[str, Any]) -> dict[str, Any]:
    """Sign in with e-mail and password; sets a fresh session cookie and returns the CSRF token for it.

    Failed sign-ins are throttled per account and address, per account and per address, shared with the console."""
    user = authenticate_throttled(data["email"], data["password"])
    begin_browser_session(user)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/sign-out", methods=["POST"])
@login_required
@blp.response(204)
def sign_out() -> None:
    """End this session server-side; its cookie stops working everywhere."""
    key = current_user.get_id()
    if key:
        sessions.end_session(actor(), key)
    logout_user()
    session.clear()


@blp.route("/csrf", methods=["GET"])
@blp.response(200, CsrfOut)
def csrf_token() -> dict[str, str]:
    """The CSRF token to send as X-CSRFToken with cookie-authenticated writes."""
    return {"csrf_token": generate_csrf()}


@blp.route("/password-reset", methods=["POST"])
@limiter.limit(lambda: current_app.config["MAIL_REQUEST_LIMIT"])
@blp.arguments(EmailIn)
@blp.response(202, MessageOut)
def request_password_reset(data: dict[str, Any]) -> dict[str, str]:
    """Mail a reset link (the answer is the same whether or not the address is known)."""
    accounts.request_password_reset(data["email"])
    return {"message": "If the address belongs to an account, a reset link is on its way."}


@blp.route("/password-reset/confirm", methods=["POST"])
@blp.arguments(PasswordResetIn)
@blp.response(204)
def reset_password(data: dict[str, Any]) -> None:
    """Choose a new password with the mailed token; every session and token of the account ends."""
    accounts.reset_password(data["token"], data["new_password"])


@blp.route("/invitations/accept", methods=["POST"])
@blp.arguments(InvitationAcceptIn)
@blp.response(200, UserOut)
def accept_invitation(data: dict[str, Any]) -> Any:
    """Join an institution with a mailed invitation (sign in first if you already have an account)."""
    signed_in = actor() if current_user.is_authenticated else None
    return accounts.accept_invitation(data["token"], signed_in, display_name=data.get("display_name"),
                                      password=data.get("password"), locale=data["locale"])
