"""How a request is tied to a person: a session cookie naming a server-side session, or a Bearer token."""
from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import LoginManager

from hall.models import User
from hall.services import sessions
from hall.services.errors import Unauthorized
from hall.services.validation import normalise_email


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def sign_in_account_key() -> str:
    """Rate-limit key of the account named in a sign-in (JSON body or form): AUTHN-01 per account and per IP."""
    body = request.get_json(silent=True) if request.is_json else request.form
    email = body.get("email") if hasattr(body, "get") else None
    return "account:" + (normalise_email(email) if isinstance(email, str) else "-")


def sign_in_failed(response: Any) -> bool:
    """Only failed sign-ins count towards the limit."""
    return response.status_code in (401, 403)


def begin_browser_session(user: User) -> None:
    """Sign ``user`` in on this browser: a fresh cookie (nothing of the old session survives) naming a new
    server-side session row."""
    from flask import session
    from flask_login import login_user

    session.clear()
    sessions.start_session(user, ip_address=request.remote_addr, user_agent=request.user_agent.string)
    login_user(user)
    session.permanent = True


def configure_login_manager(login_manager: LoginManager) -> None:
    """Install the loaders: a Bearer header, when present, is the only credential that counts."""

    @login_manager.user_loader
    def load_from_session(key: str) -> User | None:
        if request and bearer_token() is not None:
            return None
        user = sessions.user_for_session(key)
        if user is not None:
            g.auth_method = "session"
        return user

    @login_manager.request_loader
    def load_from_bearer(_request: object) -> User | None:
        token = bearer_token()
        if token is None:
            return None
        user = sessions.user_for_api_token(token)
        if user is not None:
            g.auth_method = "token"
        return user

    @login_manager.unauthorized_handler
    def unauthorized() -> None:
        raise Unauthorized("Sign in first, or send a valid personal access token as 'Authorization: Bearer …'.")
