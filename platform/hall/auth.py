"""How a request is tied to a person: a session cookie naming a server-side session, or a Bearer token."""
from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from flask_login import LoginManager

from hall.models import User
from hall.services.accounts import accounts, sessions
from hall.services.core.errors import Unauthorized

SIGN_IN_ENDPOINTS = frozenset({"auth.sign_in", "admin.sign_in", "web.sign_in"})  # the doors; one throttle for all


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def client_address() -> str:
    """The address failed sign-ins are counted against (``remote_addr`` is the client's behind TRUSTED_PROXIES)."""
    return sessions.sign_in_address(request.remote_addr)


def guard_sign_in_door() -> None:
    """Before a sign-in's body is read: 429 when its address has used up its failed sign-ins (the account named in
    the body is checked once the body, capped by MAX_JSON_BODY_BYTES, has been parsed)."""
    if request.method == "POST" and request.endpoint in SIGN_IN_ENDPOINTS:
        sessions.check_sign_in_allowed(None, client_address())


def authenticate_throttled(email: str, password: str) -> User:
    """Check e-mail and password under the sign-in throttle both doors share (the API and the console, AUTHN-01).

    A used-up limit answers 429 before the password is checked; a wrong e-mail or password counts against the
    account from this address, the account and the address; a right one clears this address's count."""
    address = client_address()
    sessions.check_sign_in_allowed(email, address)
    try:
        user = accounts.authenticate(email, password)
    except Unauthorized:
        sessions.record_sign_in_failure(email, address)
        raise
    sessions.record_sign_in_success(email, address)
    return user


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
        raise Unauthorized(_("Sign in first, or send a valid personal access token as 'Authorization: Bearer …'."))
