"""Inputs that once reached the database badly: huge ids, unreadable JSON, long or multi-line mail subjects, a mail
server that does not answer; and the console refusing Bearer tokens."""
from __future__ import annotations

import socket

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import Institution, OutboxMail
from tests.support.factories import UserFactory, make_people, sign_in


def test_huge_ids_are_404_and_huge_numbers_422(client: FlaskClient) -> None:
    for path in ("/api/v1/hall/listings/99999999999999999999", "/api/v1/institutions/4294967296",
                 "/api/v1/hall/institutions/2147483648"):
        assert client.get(path).status_code == 404, path
    for query in ("price_min=1000000000000000000000", "institution=99999999999999", "page=10001"):
        assert client.get(f"/api/v1/hall/listings?{query}").status_code == 422, query


def test_a_lone_surrogate_or_absurd_nesting_is_a_400(client: FlaskClient) -> None:
    body = '{"email": "a@b.cn", "password": "\\ud800abc"}'
    assert client.post("/api/v1/auth/sign-in", data=body, content_type="application/json").status_code == 400
    nested = "[" * 50_000 + "]" * 50_000
    assert client.post("/api/v1/auth/sign-in", data=nested, content_type="application/json").status_code == 400


def test_nul_characters_are_refused(client: FlaskClient) -> None:
    assert client.get("/api/v1/hall/listings?q=a%00b").status_code == 400


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_long_subject_is_cut_and_an_unreachable_mail_server_blocks_nothing(app: Flask) -> None:
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=_closed_port())
    with app.app_context():
        people = make_people()
        org = db.session.get(Institution, people["org"])
        org.name_en = "Very long name " * 17 + "\r\nBcc: x@evil.example"  # near the 300 limit
        db.session.commit()
    owner = app.test_client()
    csrf = sign_in(owner, people["owner"])
    for email in ("first@example.cn", "second@example.cn"):
        response = owner.post(f"/api/v1/institutions/{people['org']}/invitations", json={"email": email},
                              headers={"X-CSRFToken": csrf})
        assert response.status_code == 201, response.get_json()
    with app.app_context():
        mails = db.session.scalars(select(OutboxMail).where(OutboxMail.purpose == "invite")).all()
        assert len(mails) == 2
        for mail in mails:
            assert len(mail.subject) <= 300 and "\n" not in mail.subject and "\r" not in mail.subject
            assert mail.sent_at is None and mail.attempts == 1 and "ConnectionRefused" in (mail.last_error or "")


def test_the_console_does_not_accept_bearer_tokens(app: Flask) -> None:
    with app.app_context():
        UserFactory(email="chief@hall.example.cn", is_admin=True)
        db.session.commit()
    browser = app.test_client()
    csrf = sign_in(browser, "chief@hall.example.cn")
    secret = browser.post("/api/v1/me/tokens", json={"name": "t"}, headers={"X-CSRFToken": csrf}).get_json()["token"]
    response = app.test_client().get("/admin/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]
