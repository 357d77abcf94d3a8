"""Server-side sign-in sessions and personal access tokens (SESS-01: both can be ended at once)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from hall.extensions import db
from hall.models import ApiToken, AuthSession, User
from hall.models.types import utcnow
from hall.services.audit import record_event
from hall.services.errors import NotFound

TOKEN_PREFIX = "hall_pat_"


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
        select(AuthSession, User).join(User, AuthSession.user_id == User.id).where(
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
        raise NotFound("No such token.")
    token.revoked_at, token.revoked_reason = utcnow(), "revoked"
    record_event("api_token.revoked", "api_token", token.id, actor=user)


def user_for_api_token(secret: str) -> User | None:
    """The active person behind a valid, unrevoked, unexpired token, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    return db.session.scalar(
        select(User).join(ApiToken, ApiToken.user_id == User.id).where(
            ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now), User.status == "active",
        )
    )
