"""TRUSTED_PROXIES: how many reverse proxies in front of the app are believed about the client's address. With none
(the default outside production) X-Forwarded-For is the client's own claim and is ignored, so it cannot dodge the
sign-in throttle; with N, the address N hops from the right is the client's (whatever the client put before it)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from hall.config import load_settings
from hall.extensions import db
from hall.models import AuthSession
from tests.conftest import make_app
from tests.support.factories import PASSWORD, make_people

SIGN_IN = "/api/v1/auth/sign-in"


def app_trusting(database_url: str, hops: int | None) -> Flask:
    """The testing app, told to trust ``hops`` proxies (None: the default)."""
    return make_app(database_url) if hops is None else make_app(database_url, TRUSTED_PROXIES=hops)


@pytest.fixture
def apps(database_url: str) -> Iterator[list[Flask]]:
    made: list[Flask] = []
    yield made
    for application in made:
        with application.app_context():
            db.engine.dispose()


def recorded_address(app: Flask, forwarded_for: str) -> str | None:
    """Sign in with an X-Forwarded-For header; the address the new session row recorded."""
    with app.app_context():
        people = make_people()
        db.session.remove()
    response = app.test_client().post(SIGN_IN, json={"email": people["owner"], "password": PASSWORD},
                                      headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        address = db.session.scalar(select(AuthSession.ip_address).order_by(AuthSession.id.desc()))
        db.session.remove()
    return address


@pytest.mark.parametrize("hops, expected", [(None, "127.0.0.1"), (1, "10.0.0.2"), (2, "203.0.113.9")])
def test_the_client_address_is_taken_so_many_hops_from_the_right(database_url: str, apps: list[Flask],
                                                                  hops: int | None, expected: str) -> None:
    apps.append(app_trusting(database_url, hops))
    assert recorded_address(apps[-1], "6.6.6.6, 203.0.113.9, 10.0.0.2") == expected


def test_without_trusted_proxies_a_forged_header_does_not_escape_the_sign_in_throttle(
        database_url: str, apps: list[Flask]) -> None:
    apps.append(app_trusting(database_url, None))
    app = apps[-1]
    with app.app_context():
        people = make_people()
        db.session.remove()
    client = app.test_client()
    statuses = [client.post(SIGN_IN, json={"email": people["owner"], "password": "wrong"},
                            headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2  # the account from 127.0.0.1, whatever the header claims


def test_trusted_proxies_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert load_settings("testing")["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("SECRET_KEY", "a long random production key for this test only")
    monkeypatch.setenv("DATABASE_URL", "postgresql://hall@db.internal/hall")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert load_settings("production")["TRUSTED_PROXIES"] == 1  # nginx in front
    monkeypatch.setenv("TRUSTED_PROXIES", "0")  # served directly: believe no header
    assert load_settings("production")["TRUSTED_PROXIES"] == 0
