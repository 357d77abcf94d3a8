"""Signed, expiring, single-use tokens for the links we mail (confirmation, password reset, invitation)."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.models import ConsumedToken
from hall.services.core.errors import InvalidInput

PURPOSES = ("confirm", "reset", "invite")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"hall.token.{purpose}")


def issue_token(purpose: str, **claims: Any) -> str:
    """Sign ``claims`` plus a fresh token id for ``purpose``."""
    assert purpose in PURPOSES
    return _serializer(purpose).dumps({"jti": secrets.token_hex(16), **claims})


def read_token(purpose: str, token: str) -> dict[str, Any]:
    """Check signature and age and return the claims; raises ``InvalidInput`` naming the ``token`` field."""
    max_age = current_app.config["TOKEN_MAX_AGE"][purpose]
    try:
        claims = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput.field("token", _("this link has expired; ask for a new one")) from None
    except BadSignature:
        raise InvalidInput.field("token", _("this link is not valid; copy the whole link from the e-mail")) from None
    if not isinstance(claims, dict) or "jti" not in claims:
        raise InvalidInput.field("token", _("this link is not valid"))
    if db.session.get(ConsumedToken, claims["jti"]) is not None:
        raise InvalidInput.field("token", _("this link has already been used"))
    return claims


def consume_token(purpose: str, claims: dict[str, Any]) -> None:
    """Mark the token used; the primary key on its id makes a concurrent second use fail."""
    try:
        with db.session.begin_nested():
            db.session.add(ConsumedToken(jti=claims["jti"], purpose=purpose))
    except IntegrityError:
        raise InvalidInput.field("token", _("this link has already been used")) from None


def fingerprint(value: str) -> str:
    """A short digest that changes when ``value`` changes (binds a reset link to the current password)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
