"""factory_boy factories (they flush, never commit) and small helpers for API tests (signing in, the newest mail,
a registration body)."""
from __future__ import annotations

import re
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from hall.extensions import db
from hall.models import Institution, OutboxMail, User
from hall.models.types import utcnow
from hall.services.core.validation import credit_code_check_character

PASSWORD = "correct horse battery staple"
_HASH: dict[str, str] = {}


def valid_credit_code(n: int, region: str = "110108") -> str:
    """A valid unified social credit code numbered ``n``."""
    first17 = f"91{region}{n:09d}"
    return first17 + credit_code_check_character(first17)


def registration(email: str = "Li.Na@Example.CN", code_number: int = 900) -> dict[str, Any]:
    """A complete POST /auth/register body: a person and a new university with credit code number ``code_number``."""
    return {
        "email": email, "password": "钙钛矿 solar cells 2026", "display_name": "李娜", "locale": "zh_CN",
        "institution": {"kind": "university", "name_zh": "未来科技大学", "name_en": "Future Tech University",
                        "credit_code": valid_credit_code(code_number), "region_code": "310104",
                        "website": "https://ftu.example.cn"},
    }


def _password_hash() -> str:
    if "value" not in _HASH:
        _HASH["value"] = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
    return _HASH["value"]


class InstitutionFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Institution
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"

    kind = "research_institute"
    name_zh = factory.Sequence(lambda n: f"测试研究所{n}号")
    name_en = factory.Sequence(lambda n: f"Test Institute {n}")
    credit_code = factory.Sequence(lambda n: valid_credit_code(n + 1))
    region_code = "110108"
    verification_status = "verified"


class UserFactory(SQLAlchemyModelFactory):
    class Meta:
        model = User
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"

    email = factory.Sequence(lambda n: f"person{n}@example.cn")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password_hash = factory.LazyFunction(_password_hash)
    locale = "zh_CN"
    status = "active"
    email_confirmed_at = factory.LazyFunction(utcnow)
    institution = None
    institution_role = factory.LazyAttribute(lambda o: "owner" if o.institution is not None else None)


def make_people(**roles: Any) -> dict[str, Any]:
    """Create and commit an institution with an owner and a member, and an outsider; returns their ids/emails."""
    org = InstitutionFactory()
    owner = UserFactory(institution=org, institution_role="owner")
    member = UserFactory(institution=org, institution_role="member")
    other_org = InstitutionFactory()
    other_owner = UserFactory(institution=other_org, institution_role="owner")
    db.session.commit()
    return {"org": org.id, "owner": owner.email, "member": member.email, "other_org": other_org.id,
            "other_owner": other_owner.email, "owner_id": owner.id, "member_id": member.id,
            "other_owner_id": other_owner.id}


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the API; returns the CSRF token for cookie-authenticated writes."""
    response = client.post("/api/v1/auth/sign-in", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["csrf_token"]


def last_mail(recipient: str, purpose: str | None = None) -> OutboxMail:
    """The newest outbox message to ``recipient`` (optionally of one purpose)."""
    query = select(OutboxMail).where(OutboxMail.recipient == recipient)
    if purpose:
        query = query.where(OutboxMail.purpose == purpose)
    mail = db.session.scalars(query.order_by(OutboxMail.id.desc())).first()
    assert mail is not None, f"no mail to {recipient}"
    return mail


def token_from_mail(recipient: str, purpose: str) -> str:
    """The token line of the newest mail of ``purpose`` to ``recipient``."""
    match = re.search(r"^Token: (\S+)$", last_mail(recipient, purpose).body, re.MULTILINE)
    assert match, "mail carries no token"
    return match.group(1)
