"""Sign-in throttling (AUTHN-01, issue 9 item 5): failed sign-ins count per (account, address) on one counter the API
and the console share, under a looser per-account ceiling and a per-address ceiling; the attacker's address is
throttled while the owner elsewhere signs in; a 429 carries Retry-After and one message for every case."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hall.extensions import limiter
from hall.services.accounts.sessions import SIGN_IN_THROTTLED, sign_in_address
from tests.support.console import console_sign_in, make_admin
from tests.support.factories import PASSWORD, make_people
from tests.support.streams import CountingStream

SIGN_IN = "/api/v1/auth/sign-in"
ATTACKER, OWNER_HOME, OWNER_PHONE = "203.0.113.66", "198.51.100.7", "198.51.100.8"


def api(client: FlaskClient, email: str, password: str, address: str) -> Any:
    """Sign in through the API from ``address``."""
    return client.post(SIGN_IN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def console(app: Flask, email: str, password: str, address: str) -> Any:
    """Sign in through the console's form from ``address`` (a new browser each time)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return console_sign_in(client, email, password)


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    if response.is_json:
        assert response.get_json()["message"] == SIGN_IN_THROTTLED


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return make_people()


def test_the_attackers_address_is_throttled_and_the_owner_elsewhere_signs_in(
        app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    owner = people["owner"]
    for _ in range(5):
        assert api(client, owner, "guess", ATTACKER).status_code == 401
    assert_throttled(api(client, owner, "guess", ATTACKER))
    assert_throttled(api(client, owner, PASSWORD, ATTACKER))  # even the right password, from there
    assert api(app.test_client(), owner, PASSWORD, OWNER_HOME).status_code == 200
    assert api(app.test_client(), people["member"], PASSWORD, ATTACKER).status_code == 200  # other accounts


def test_unknown_accounts_are_throttled_with_the_same_answer(app: Flask, client: FlaskClient,
                                                             people: dict[str, Any]) -> None:
    for email in (people["owner"], "nobody@example.cn"):
        for _ in range(5):
            assert api(client, email, "guess", ATTACKER).status_code == 401
    known, unknown = api(client, people["owner"], "guess", ATTACKER), api(client, "nobody@example.cn", "x", ATTACKER)
    assert_throttled(known)
    assert_throttled(unknown)
    assert known.get_json() | {"request_id": ""} == unknown.get_json() | {"request_id": ""}


def test_the_console_and_the_api_share_one_counter(app: Flask, client: FlaskClient) -> None:
    admin = make_admin(app)["email"]
    for door in ("api", "console", "api", "console", "api"):
        response = api(client, admin, "guess", ATTACKER) if door == "api" else console(app, admin, "guess", ATTACKER)
        assert response.status_code == 401, door
    at_console = console(app, admin, PASSWORD, ATTACKER)
    assert at_console.status_code == 429 and int(at_console.headers["Retry-After"]) > 0
    assert_throttled(api(client, admin, PASSWORD, ATTACKER))
    assert console(app, admin, PASSWORD, OWNER_HOME).status_code == 302  # the admin, from elsewhere


def test_the_account_ceiling_stops_a_distributed_attack(app: Flask, people: dict[str, Any]) -> None:
    owner = people["owner"]
    assert app.config["SIGN_IN_LIMIT_ACCOUNT_CEILING"] == "50 per hour"
    botnet = [f"192.0.2.{n}" for n in range(1, 13)]
    guesses = 0
    for address in botnet:  # 4 guesses from each of 12 addresses: never 5 from one, 48 in all
        for _ in range(4):
            assert api(app.test_client(), owner, "guess", address).status_code == 401
            guesses += 1
    assert api(app.test_client(), owner, PASSWORD, OWNER_HOME).status_code == 200  # under the ceiling
    for address in ("192.0.2.101", "192.0.2.102"):
        assert api(app.test_client(), owner, "guess", address).status_code == 401
        guesses += 1
    assert guesses == 50
    assert_throttled(api(app.test_client(), owner, "guess", "192.0.2.103"))
    assert_throttled(api(app.test_client(), owner, PASSWORD, OWNER_PHONE))  # the price of the ceiling
    assert api(app.test_client(), people["member"], PASSWORD, OWNER_PHONE).status_code == 200


def test_the_address_ceiling_answers_429_before_the_body_is_read(app: Flask, client: FlaskClient) -> None:
    assert app.config["SIGN_IN_LIMIT_PER_IP"] == "30 per 15 minutes"
    for n in range(30):  # credential stuffing: one guess at each of many accounts
        assert api(client, f"victim{n}@example.cn", "guess", ATTACKER).status_code == 401
    body = CountingStream(500_000)
    response = client.post(SIGN_IN, input_stream=body, content_type="application/json",
                           environ_base={"REMOTE_ADDR": ATTACKER})
    assert_throttled(response)
    assert body.bytes_read == 0, "the body was read before the 429"
    form = CountingStream(500_000, prefix=b"email=")
    at_console = app.test_client().post("/admin/sign-in", input_stream=form, environ_base={"REMOTE_ADDR": ATTACKER},
                                        content_type="application/x-www-form-urlencoded")
    assert at_console.status_code == 429 and form.bytes_read == 0
    assert api(client, "victim99@example.cn", "guess", OWNER_HOME).status_code == 401  # other addresses go on


def test_a_right_password_clears_that_addresss_count(app: Flask, client: FlaskClient,
                                                     people: dict[str, Any]) -> None:
    owner = people["owner"]
    for _ in range(4):  # typos
        assert api(client, owner, "typo", OWNER_HOME).status_code == 401
    assert api(app.test_client(), owner, PASSWORD, OWNER_HOME).status_code == 200
    for _ in range(4):
        assert api(client, owner, "typo", OWNER_HOME).status_code == 401
    assert api(app.test_client(), owner, PASSWORD, OWNER_HOME).status_code == 200


def test_ipv6_is_counted_by_its_64_block(app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    assert sign_in_address("2001:db8:1:2::1") == sign_in_address("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert sign_in_address("::ffff:203.0.113.66") == ATTACKER == sign_in_address(ATTACKER)
    owner = people["owner"]
    for n in range(5):
        assert api(client, owner, "guess", f"2001:db8:1:2::{n + 1:x}").status_code == 401
    assert_throttled(api(client, owner, PASSWORD, "2001:db8:1:2:abcd::1"))
    assert api(app.test_client(), owner, PASSWORD, "2001:db8:1:3::1").status_code == 200


def test_the_throttle_fails_closed_when_its_storage_is_down(app: Flask, client: FlaskClient,
                                                            people: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> bool:
        raise ConnectionError("redis is down")

    with app.app_context():
        monkeypatch.setattr(limiter.limiter, "test", unreachable)
    response = api(client, people["owner"], PASSWORD, OWNER_HOME)
    assert response.status_code == 503 and response.is_json and int(response.headers["Retry-After"]) > 0
    assert "hall_session" not in response.headers.get("Set-Cookie", "")
