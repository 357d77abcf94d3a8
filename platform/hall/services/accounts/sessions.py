"""Server-side sign-in sessions and personal access tokens (SESS-01: both can be ended at once), and the
sign-in throttle (AUTHN-01) that the API and the console share."""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import secrets
import time
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import RateLimitItem, parse
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from hall.extensions import db, limiter
from hall.models import ApiToken, AuthSession, User
from hall.models.types import utcnow
from hall.services.core.audit import record_event
from hall.services.core.errors import NotFound, ServiceError
from hall.services.core.validation import normalise_email

log = logging.getLogger("hall.sessions")
TOKEN_PREFIX = "hall_pat_"
SIGN_IN_THROTTLED = _l("Too many failed sign-ins; wait before trying again (see Retry-After), or reset your "
                       "password.")


class SignInThrottled(ServiceError):
    """Too many failed sign-ins for this account from this address, for this account, or from this address.

    One message whichever limit it was and whether or not the account exists (AUTHN-01)."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(SIGN_IN_THROTTLED)
        self.retry_after = retry_after


class SignInUnavailable(ServiceError):
    """The throttle's storage cannot be reached: sign-in fails closed rather than run unthrottled."""

    status = 503
    title = "Service Unavailable"
    retry_after = 30

    def __init__(self) -> None:
        super().__init__(_("Sign-in is unavailable for a moment; try again shortly."))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(user: User, *, ip_address: str | None, user_agent: str | None) -> str:
    """Open a session row for a signed-in person; returns the key the cookie will carry."""
    key = secrets.token_urlsafe(32)
    lifetime: timedelta = current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    db.session.add(AuthSession(user_id=user.id, key_hash=_digest(key), expires_at=utcnow() + lifetime,
                               ip_address=ip_address, user_agent=(user_agent or "")[:300] or None))
    record_event("user.signed_in", "user", user.id, actor=user, details={"ip": ip_address})
    db.session.flush()
    user.current_session_key = key
    return key


def user_for_session(key: str) -> User | None:
    """The active person behind an open, unexpired session key, or None."""
    row = db.session.execute(
        select(AuthSession, User).join(User, AuthSession.user_id == User.id)
        .options(joinedload(User.institution))  # nearly every signed-in request asks for it
        .where(
            AuthSession.key_hash == _digest(key), AuthSession.ended_at.is_(None),
            AuthSession.expires_at > utcnow(), User.status == "active",
        )
    ).first()
    if row is None:
        return None
    user = row.User
    user.current_session_key = key
    return user


def end_session(user: User, key: str) -> None:
    """Sign out: end the session the key names (its cookie no longer counts anywhere)."""
    _end(AuthSession.key_hash == _digest(key), "signed_out")
    record_event("user.signed_out", "user", user.id, actor=user)


def end_everything(user: User, *, reason: str) -> None:
    """End every session and revoke every token of the person (password change, reset, suspension)."""
    _end(AuthSession.user_id == user.id, reason)
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason).execution_options(synchronize_session=False)
    )


def _end(condition: object, reason: str) -> None:
    db.session.execute(
        update(AuthSession).where(condition, AuthSession.ended_at.is_(None))  # type: ignore[arg-type]
        .values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session=False)
    )


def create_api_token(user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a personal access token (optionally expiring); the plain text is returned once and never stored."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip(), prefix=secret[: len(TOKEN_PREFIX) + 4],
                     token_hash=_digest(secret), expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    record_event("api_token.created", "api_token", token.id, actor=user, details={"name": token.name})
    return token, secret


def list_api_tokens(user: User) -> list[ApiToken]:
    """The person's tokens that still work, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())
    ))


def revoke_api_token(user: User, token_id: int) -> None:
    """Revoke one of the person's own tokens; anyone else's id is 404."""
    token = db.session.scalar(select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    if token is None:
        raise NotFound(_("No such token."))
    token.revoked_at, token.revoked_reason = utcnow(), "revoked"
    record_event("api_token.revoked", "api_token", token.id, actor=user)


def user_for_api_token(secret: str) -> User | None:
    """The active person behind a valid, unrevoked, unexpired token, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    return db.session.scalar(
        select(User).join(ApiToken, ApiToken.user_id == User.id).options(joinedload(User.institution)).where(
            ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now), User.status == "active",
        )
    )


# --- Sign-in throttle (AUTHN-01) -------------------------------------------------------------------------------
# Counters live in Flask-Limiter's storage (memory:// locally, Redis in production: RATELIMIT_STORAGE_URI), so
# every worker and both doors (the API and the console) count the same failures. Only failed passwords count.


def sign_in_address(remote_addr: str | None) -> str:
    """The address a sign-in is counted against: IPv4 as is, IPv6 by its /64 (one customer's whole block)."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return remote_addr or "-"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_key(email: str) -> str:
    """The account's name in the counters: a digest of the normalised e-mail address (none in the store)."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()[:32]


def _limits(email: str | None, address: str) -> dict[str, tuple[RateLimitItem, tuple[str, ...]]]:
    """Each limit that applies, by name: (the limit, its counter's identifiers). Without an e-mail only the
    address's ceiling applies."""
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "hall"
    found: dict[str, tuple[RateLimitItem, tuple[str, ...]]] = {
        "address": (parse(config["SIGN_IN_LIMIT_PER_IP"]), (prefix, "sign-in", "address", address))}
    if email is not None:
        account = account_key(email)
        found["pair"] = (parse(config["SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS"]),
                         (prefix, "sign-in", "pair", account, address))
        found["account"] = (parse(config["SIGN_IN_LIMIT_ACCOUNT_CEILING"]), (prefix, "sign-in", "account", account))
    return found


def check_sign_in_allowed(email: str | None, address: str) -> None:
    """Raise ``SignInThrottled`` (with the seconds to wait) when a failed-sign-in limit for ``email`` from
    ``address`` is used up. ``email=None`` checks only the address's ceiling (possible before the body is read)."""
    if not limiter.enabled:
        return
    waits: list[int] = []
    try:
        strategy = limiter.limiter
        for item, identifiers in _limits(email, address).values():
            if not strategy.test(item, *identifiers):
                reset_at = strategy.get_window_stats(item, *identifiers).reset_time
                waits.append(max(1, math.ceil(reset_at - time.time())))
    except Exception as error:  # Redis down: fail closed, never sign in unthrottled
        log.error("sign-in throttle storage unreachable: %s", error)
        raise SignInUnavailable() from error
    if waits:
        raise SignInThrottled(max(waits))


def record_sign_in_failure(email: str, address: str) -> None:
    """Count a wrong e-mail or password against the account from this address, the account and the address."""
    if not limiter.enabled:
        return
    try:
        for item, identifiers in _limits(email, address).values():
            limiter.limiter.hit(item, *identifiers)
    except Exception as error:
        log.error("sign-in throttle storage unreachable: %s", error)
        raise SignInUnavailable() from error


def record_sign_in_success(email: str, address: str) -> None:
    """The owner got in from this address: forget this pair's failures (typos); the ceilings keep theirs."""
    if not limiter.enabled:
        return
    item, identifiers = _limits(email, address)["pair"]
    try:
        limiter.limiter.clear(item, *identifiers)
    except Exception as error:  # the sign-in itself succeeded: a stale pair counter only delays a later typo
        log.warning("could not clear the sign-in counter: %s", error)
