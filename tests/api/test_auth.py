"""Accounts through the API: register, confirm, sign in and out (SESS-01), tokens, CSRF, passwords, suspension."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import ApiToken, AuditEvent, AuthSession, Institution, User
from hall.services.accounts import accounts
from tests.support.factories import (
    PASSWORD,
    UserFactory,
    make_people,
    registration,
    sign_in,
    token_from_mail,
)

NEW_PASSWORD = "a much better passphrase 42"


def test_register_confirm_sign_in_me_sign_out_and_the_old_cookie_is_dead(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/register", json=registration())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["user"]["email"] == "li.na@example.cn"  # case-insensitive: stored in lower case

    unconfirmed = client.post("/api/v1/auth/sign-in", json={"email": "li.na@example.cn",
                                                              "password": "钙钛矿 solar cells 2026"})
    assert unconfirmed.status_code == 403 and "Confirm" in unconfirmed.get_json()["message"]

    with app.app_context():
        token = token_from_mail("li.na@example.cn", "confirm")
    assert client.post("/api/v1/auth/confirm", json={"token": token}).status_code == 200
    again = client.post("/api/v1/auth/confirm", json={"token": token})
    assert again.status_code == 422 and "token" in again.get_json()["errors"]

    csrf = sign_in(client, "LI.NA@example.cn", "钙钛矿 solar cells 2026")
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    body = me.get_json()
    assert body["institution"]["name_zh"] == "未来科技大学"
    assert body["institution"]["verification_status"] == "pending"
    assert body["institution_role"] == "owner" and body["is_admin"] is False
    captured_cookie = client.get_cookie("hall_session").value

    assert client.post("/api/v1/auth/sign-out", headers={"X-CSRFToken": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401

    replay = app.test_client()
    replay.set_cookie("hall_session", captured_cookie)
    response = replay.get("/api/v1/me")
    assert response.status_code == 401 and response.is_json

    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"institution.registered", "user.registered", "user.email_confirmed", "user.signed_in",
            "user.signed_out"} <= actions


def test_sign_in_rotates_the_session_cookie(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    client.get("/api/v1/auth/csrf")
    before = client.get_cookie("hall_session").value
    sign_in(client, people["owner"])
    assert client.get_cookie("hall_session").value != before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 1


def test_unknown_email_and_wrong_password_get_the_same_answer(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    wrong = client.post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": "not the password"})
    unknown = client.post("/api/v1/auth/sign-in", json={"email": "nobody@example.cn", "password": "whatever12"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"]


def test_sixth_failed_sign_in_within_the_window_is_throttled(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    for _ in range(5):
        assert client.post("/api/v1/auth/sign-in",
                           json={"email": people["owner"], "password": "wrong password"}).status_code == 401
    sixth = client.post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": PASSWORD})
    assert sixth.status_code == 429 and sixth.is_json
    assert int(sixth.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by these failures.
    assert client.post("/api/v1/auth/sign-in", json={"email": people["member"],
                                                      "password": PASSWORD}).status_code == 200


def test_successful_sign_ins_do_not_count_towards_the_limit(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    for _ in range(7):
        sign_in(app.test_client(), people["owner"])
    # A browser that is already signed in must send its CSRF token to sign in again.
    csrf = sign_in(client, people["owner"])
    assert client.post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": PASSWORD}).status_code == 400
    assert client.post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": PASSWORD},
                       headers={"X-CSRFToken": csrf}).status_code == 200


def test_cookie_authenticated_writes_need_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["owner"])
    missing = client.post("/api/v1/me/tokens", json={"name": "ci"})
    assert missing.status_code == 400 and "CSRF" in missing.get_json()["message"]
    other = app.test_client()
    other_csrf = sign_in(other, people["member"])
    forged = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers={"X-CSRFToken": other_csrf})
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    ok = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 201


def test_bearer_token_works_without_csrf_and_a_revoked_token_gets_401(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["owner"])
    created = client.post("/api/v1/me/tokens", json={"name": "数据同步", "expires_in_days": 30},
                          headers={"X-CSRFToken": csrf}).get_json()
    secret = created["token"]
    assert secret.startswith("hall_pat_")

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/me", headers=bearer).get_json()["email"] == people["owner"]
    assert api.patch("/api/v1/me", json={"display_name": "新名字"}, headers=bearer).status_code == 200
    listed = api.get("/api/v1/me/tokens", headers=bearer).get_json()
    assert [t["name"] for t in listed] == ["数据同步"] and "token" not in listed[0]

    assert client.delete(f"/api/v1/me/tokens/{created['id']}", headers={"X-CSRFToken": csrf}).status_code == 204
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer hall_pat_forged"}).status_code == 401


def test_a_token_of_someone_else_cannot_be_revoked(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["owner"])
    token_id = client.post("/api/v1/me/tokens", json={"name": "mine"}, headers={"X-CSRFToken": csrf}).get_json()["id"]
    intruder = app.test_client()
    intruder_csrf = sign_in(intruder, people["other_owner"])
    response = intruder.delete(f"/api/v1/me/tokens/{token_id}", headers={"X-CSRFToken": intruder_csrf})
    assert response.status_code == 404
    assert len(client.get("/api/v1/me/tokens").get_json()) == 1


def _session_and_token(app: Flask, email: str) -> tuple[FlaskClient, str, dict[str, str]]:
    browser = app.test_client()
    csrf = sign_in(browser, email)
    secret = browser.post("/api/v1/me/tokens", json={"name": "t"}, headers={"X-CSRFToken": csrf}).get_json()["token"]
    return browser, csrf, {"Authorization": f"Bearer {secret}"}


def test_password_change_ends_every_session_and_token(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    browser, csrf, bearer = _session_and_token(app, people["owner"])
    second_browser = app.test_client()
    sign_in(second_browser, people["owner"])

    wrong = browser.post("/api/v1/me/password", json={"current_password": "nope nope", "new_password": NEW_PASSWORD},
                         headers={"X-CSRFToken": csrf})
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["errors"]
    weak = browser.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "12345678"},
                        headers={"X-CSRFToken": csrf})
    assert weak.status_code == 422 and "new_password" in weak.get_json()["errors"]
    assert browser.get("/api/v1/me").status_code == 200  # failed attempts change nothing

    done = browser.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                        headers={"X-CSRFToken": csrf})
    assert done.status_code == 204
    for client, headers in ((browser, {}), (second_browser, {}), (app.test_client(), bearer)):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    sign_in(app.test_client(), people["owner"], NEW_PASSWORD)


def test_suspension_ends_every_session_and_token_and_blocks_sign_in(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    browser, _csrf, bearer = _session_and_token(app, people["member"])
    with app.app_context():
        admin = UserFactory(is_admin=True)
        accounts.suspend_user(admin, accounts.find_user_by_email(people["member"]), "账号被盗用")
        db.session.commit()
    assert browser.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    response = app.test_client().post("/api/v1/auth/sign-in", json={"email": people["member"], "password": PASSWORD})
    assert response.status_code == 403 and "suspended" in response.get_json()["message"]


def test_password_reset_by_mailed_single_use_token(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    browser, _csrf, bearer = _session_and_token(app, people["owner"])
    for email in (people["owner"], "nobody@example.cn"):
        response = client.post("/api/v1/auth/password-reset", json={"email": email})
        assert response.status_code == 202
    with app.app_context():
        token = token_from_mail(people["owner"], "reset")
    weak = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "password"})
    assert weak.status_code == 422
    forged = client.post("/api/v1/auth/password-reset/confirm", json={"token": token[:-3] + "abc",
                                                                       "new_password": NEW_PASSWORD})
    assert forged.status_code == 422 and "token" in forged.get_json()["errors"]
    assert client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    reused = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": PASSWORD + "!"})
    assert reused.status_code == 422
    assert browser.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    sign_in(app.test_client(), people["owner"], NEW_PASSWORD)


def test_registration_refuses_a_taken_email_or_credit_code_and_changes_nothing(app: Flask,
                                                                              client: FlaskClient) -> None:
    assert client.post("/api/v1/auth/register", json=registration()).status_code == 201
    taken_email = client.post("/api/v1/auth/register", json=registration(email="LI.NA@example.cn", code_number=901))
    assert taken_email.status_code == 409 and "email" in taken_email.get_json()["errors"]
    taken_code = client.post("/api/v1/auth/register", json=registration(email="other@example.cn"))
    assert taken_code.status_code == 409 and "credit_code" in taken_code.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Institution)) == 1
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_registration_validates_the_credit_code_region_and_password(client: FlaskClient) -> None:
    body = registration()
    body["password"] = "password"
    body["institution"]["credit_code"] = "91330100716105852G"
    body["institution"]["region_code"] = "990000"
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "credit_code" in errors["institution"] and "region_code" in errors["institution"]
    fixed = registration()
    fixed["password"] = "password"
    weak = client.post("/api/v1/auth/register", json=fixed)
    assert weak.status_code == 422 and "password" in weak.get_json()["errors"]
