"""The production configuration: secure cookies, HSTS, and sign-in throttling shared through Redis."""
from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuthSession
from hall.services.accounts.sessions import account_key
from tests.conftest import make_app
from tests.support.factories import PASSWORD, UserFactory, make_people

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def production_app(database_url: str) -> Iterator[Flask]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    application = make_app(database_url, HALL_ENV="production", SECRET_KEY=uuid.uuid4().hex,
                           RATELIMIT_STORAGE_URI=REDIS_URL, PASSWORD_HASH_METHOD="scrypt:1024:8:1",
                           PROPAGATE_EXCEPTIONS=False)
    yield application
    with application.app_context():
        db.engine.dispose()


def client_from_a_fresh_address(app: Flask) -> FlaskClient:
    """Counters in Redis outlive the test run: each test signs in from its own loopback address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.{}.{}.{}".format(*random.sample(range(1, 255), 3))
    return client


def test_production_cookies_are_secure_and_hsts_is_sent(production_app: Flask) -> None:
    with production_app.app_context():
        people = make_people()
    client = client_from_a_fresh_address(production_app)
    response = client.post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": PASSWORD},
                           base_url="https://hall.example.cn")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_sign_in_throttle_is_shared_through_redis(production_app: Flask) -> None:
    email = f"{uuid.uuid4().hex}@example.cn"
    with production_app.app_context():
        UserFactory(email=email)
        db.session.commit()
    # Two clients stand for two gunicorn workers; the counters must live in Redis.
    first = client_from_a_fresh_address(production_app)
    second = production_app.test_client()
    second.environ_base["REMOTE_ADDR"] = first.environ_base["REMOTE_ADDR"]
    for client in (first, second, first, second, first):
        assert client.post("/api/v1/auth/sign-in", json={"email": email, "password": "wrong one"},
                           base_url="https://hall.example.cn").status_code == 401
    throttled = second.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD},
                            base_url="https://hall.example.cn")
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    stored = redis.Redis.from_url(REDIS_URL).keys(f"*sign-in/pair/{account_key(email)}/*")
    assert stored, "the throttle counters are not in Redis"
    assert not redis.Redis.from_url(REDIS_URL).keys(f"*{email}*"), "e-mail addresses are kept in Redis"


def test_client_address_comes_from_the_reverse_proxy(production_app: Flask) -> None:
    with production_app.app_context():
        people = make_people()
    client = client_from_a_fresh_address(production_app)
    response = client.post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": PASSWORD},
                           headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    with production_app.app_context():
        assert db.session.scalar(select(AuthSession.ip_address)) == "203.0.113.7"
