"""Every error is a JSON problem document (ERR-01, INPUT-01, AUTHZ-03), Chinese comes back as UTF-8, and the
OpenAPI document describes the API."""
from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import User
from hall.services.accounts import accounts
from tests.support.factories import make_people, registration, sign_in


def _assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    body = response.get_json()
    assert body["status"] == status and body["message"] and body["title"] and body["request_id"]
    assert response.headers["X-Request-ID"] == body["request_id"]
    return body


def test_unknown_route_and_wrong_method_answer_json(client: FlaskClient) -> None:
    _assert_problem(client.get("/api/v1/no-such-thing"), 404)
    _assert_problem(client.get("/definitely/not/here"), 404)
    body = _assert_problem(client.put("/api/v1/auth/sign-in", json={}), 405)
    assert "method" in body["message"]


def test_malformed_json_is_400_not_500(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/sign-in", data=b'{"email": "a@b.cn",', content_type="application/json")
    _assert_problem(response, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str) -> None:
    response = client.post("/api/v1/auth/sign-in", data=b"email=a@b.cn&password=x", content_type=content_type)
    _assert_problem(response, 415)


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_a_body_that_is_not_an_object_is_422(client: FlaskClient, body: object) -> None:
    _assert_problem(client.post("/api/v1/auth/sign-in", json=body), 422)


def test_unknown_fields_are_refused_and_named(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/sign-in", json={"email": "a@b.cn", "password": "x", "remember": True})
    body = _assert_problem(response, 422)
    assert "remember" in body["errors"]


@pytest.mark.parametrize("field,value", [("is_admin", True), ("status", "active"), ("institution_id", 1),
                                         ("institution_role", "owner"), ("email_confirmed_at", "2026-01-01")])
def test_privileged_fields_in_a_profile_update_are_refused(app: Flask, client: FlaskClient, field: str,
                                                           value: object) -> None:
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["member"])
    response = client.patch("/api/v1/me", json={"display_name": "改名", field: value}, headers={"X-CSRFToken": csrf})
    body = _assert_problem(response, 422)
    assert field in body["errors"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == people["member"]))
        assert user.is_admin is False and user.display_name != "改名" and user.institution_role == "member"


def test_is_admin_or_verification_status_at_registration_are_refused(client: FlaskClient) -> None:
    body = registration()
    body["is_admin"] = True
    assert "is_admin" in _assert_problem(client.post("/api/v1/auth/register", json=body), 422)["errors"]
    body = registration()
    body["institution"]["verification_status"] = "verified"
    errors = _assert_problem(client.post("/api/v1/auth/register", json=body), 422)["errors"]
    assert "verification_status" in errors["institution"]


def test_a_server_error_answers_json_with_a_correlation_id_and_no_internals(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with app.app_context():
        people = make_people()
    csrf = sign_in(client, people["owner"])

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("SELECT password_hash FROM users -- internal detail")

    monkeypatch.setattr(accounts, "update_profile", explode)
    with caplog.at_level(logging.ERROR, logger="hall"):
        response = client.patch("/api/v1/me", json={"display_name": "x"}, headers={"X-CSRFToken": csrf})
    body = _assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "password_hash" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["request_id"] in body["message"]
    logged = [r for r in caplog.records if r.name == "hall.errors"]
    assert logged and logged[0].request_id == body["request_id"] and logged[0].exc_info is not None


def test_chinese_text_comes_back_as_utf8(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
    response = client.get(f"/api/v1/institutions/{people['org']}")
    assert response.status_code == 200
    assert "测试研究所".encode() in response.data and b"\\u" not in response.data


def test_security_headers_and_request_id_on_errors_too(client: FlaskClient) -> None:
    for response in (client.get("/api/v1/me"), client.get("/nowhere"), client.get("/healthz")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Request-ID"]
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


def test_a_sane_incoming_request_id_is_kept(client: FlaskClient) -> None:
    response = client.get("/api/v1/me", headers={"X-Request-ID": "trace-1234abcd"})
    assert response.get_json()["request_id"] == "trace-1234abcd"
    hostile = client.get("/api/v1/me", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert "<" not in hostile.headers["X-Request-ID"]


def test_openapi_document_and_interactive_docs(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for path in ("/api/v1/auth/register", "/api/v1/auth/sign-in", "/api/v1/me", "/api/v1/me/tokens",
                 "/api/v1/institutions/{institution_id}", "/api/v1/institutions/{institution_id}/members"):
        assert path in paths
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.data.lower()
