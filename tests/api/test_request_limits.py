"""Request bodies (issue 9, item 4): a JSON body is capped before anything is read (413 as a problem document),
chunked bodies stop at the cap, uploads keep their own larger limit, the body is parsed once, a 422 never echoes
a body back in bulk, and a rate limit answers 429 without reading the body."""
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from hall.errors import MAX_ERROR_FIELDS, MAX_FIELD_NAME_CHARS
from tests.support.listings import PDF, Owner, create
from tests.support.streams import CountingStream

SIGN_IN = "/api/v1/auth/sign-in"


def _assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:300]
    assert response.is_json, response.data[:300]
    body = response.get_json()
    assert body["status"] == status and body["message"] and body["request_id"]
    return body


def test_an_oversized_json_body_is_413_before_a_byte_is_read(app: Flask, client: FlaskClient) -> None:
    cap = app.config["MAX_JSON_BODY_BYTES"]
    assert 64 * 1024 <= cap <= 1024 * 1024
    body = CountingStream(16 * 1024 * 1024)
    response = client.post(SIGN_IN, input_stream=body, content_type="application/json")
    problem = _assert_problem(response, 413)
    assert f"{cap:,}" in problem["message"]
    assert body.bytes_read == 0, "the body was read before the 413"
    assert len(response.data) < 2000


def test_the_cap_is_a_setting_and_a_body_just_under_it_is_read(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_JSON_BODY_BYTES"] = 4096
    small = json.dumps({"email": "a@b.cn", "password": "x"}) + " " * 4000
    assert _assert_problem(client.post(SIGN_IN, data=small, content_type="application/json"), 401)
    big = json.dumps({"email": "a@b.cn", "password": "x"}) + " " * 4100
    _assert_problem(client.post(SIGN_IN, data=big, content_type="application/json"), 413)


def test_a_chunked_body_without_content_length_stops_at_the_cap(app: Flask, client: FlaskClient) -> None:
    cap = app.config["MAX_JSON_BODY_BYTES"]
    body = CountingStream(16 * 1024 * 1024)
    response = client.post(SIGN_IN, input_stream=body, content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    _assert_problem(response, 413)
    assert body.bytes_read <= cap + 64 * 1024, f"read {body.bytes_read:,} bytes of a chunked body"


def test_a_small_chunked_body_is_read_normally(app: Flask, client: FlaskClient) -> None:
    payload = json.dumps({"email": "nobody@example.cn", "password": "whatever12"}).encode()
    response = client.post(SIGN_IN, input_stream=io.BytesIO(payload), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    _assert_problem(response, 401)


def test_unknown_fields_are_named_but_never_echoed_in_bulk(client: FlaskClient) -> None:
    body: dict[str, Any] = {"email": "a@b.cn", "password": "x"}
    body.update({f"key{n:05d}_" + "k" * 400: "v" * 10 for n in range(2000)})
    data = json.dumps(body)
    assert 700_000 < len(data) < 1024 * 1024  # under the cap: it is parsed and refused field by field
    response = client.post(SIGN_IN, data=data, content_type="application/json")
    problem = _assert_problem(response, 422)
    assert len(response.data) < 16 * 1024, f"the 422 is {len(response.data):,} bytes"
    errors = problem["errors"]
    assert 0 < len(errors) <= MAX_ERROR_FIELDS
    assert all(len(name) <= MAX_FIELD_NAME_CHARS for name in errors)
    assert all(name.startswith("key") for name in errors)
    assert "more not listed" in problem["message"] and "1,980" in problem["message"]


def test_a_few_unknown_fields_are_still_named_in_full(client: FlaskClient) -> None:
    response = client.post(SIGN_IN, json={"email": "a@b.cn", "password": "x", "remember": True, "otp": "1"})
    problem = _assert_problem(response, 422)
    assert set(problem["errors"]) == {"remember", "otp"} and "more not listed" not in problem["message"]


def test_the_body_is_parsed_once(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = json.dumps({"email": "nobody@example.cn", "password": "whatever12"})
    parses: list[int] = []
    original = json.loads

    def counting_loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        if (text.decode() if isinstance(text, bytes) else text) == payload:
            parses.append(1)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    _assert_problem(client.post(SIGN_IN, data=payload, content_type="application/json"), 401)
    assert len(parses) == 1


@pytest.mark.parametrize("body,status", [
    ('{"email": "a\\u0000@b.cn", "password": "x"}', 400),  # NUL: PostgreSQL text cannot hold it
    ('{"email": "a@b.cn", "\\ud800": "x"}', 400),  # a lone surrogate in a key
    ('{"email": "a@b.cn", "password": ', 400),  # malformed
    ("", 422),  # an empty body is no body: the required fields are missing
])
def test_unreadable_bodies_are_refused_when_parsed(client: FlaskClient, body: str, status: int) -> None:
    _assert_problem(client.post(SIGN_IN, data=body, content_type="application/json"), status)


def test_a_rate_limited_route_answers_429_without_reading_the_body(app: Flask, client: FlaskClient) -> None:
    app.config["MAIL_REQUEST_LIMIT"] = "2 per hour"
    for _ in range(2):
        assert client.post("/api/v1/auth/password-reset", json={"email": "x@example.cn"}).status_code == 202
    body = CountingStream(100_000, prefix=b'{"email": "x@example.cn", "pad": "')
    response = client.post("/api/v1/auth/password-reset", input_stream=body, content_type="application/json")
    _assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert body.bytes_read == 0, "the body was read before the 429"


def test_the_upload_route_keeps_its_own_larger_limit(app: Flask, owner: Owner) -> None:  # noqa: F811
    assert app.config["UPLOAD_MAX_BYTES"] > 3 * 1024 * 1024 > app.config["MAX_JSON_BODY_BYTES"]
    listing_id = create(owner)
    big_pdf = PDF + b"%" + b"x" * (3 * 1024 * 1024) + b"\n"
    # Encoded in memory: the test client would spool a body this size to a temporary file it never closes.
    boundary, body = encode_multipart(MultiDict({"role": "attachment", "file": FileStorage(
        io.BytesIO(big_pdf), filename="three-megabytes.pdf", content_type="application/pdf")}))
    response = owner.client.post(f"/api/v1/listings/{listing_id}/attachments", data=body,
                                 content_type=f"multipart/form-data; boundary={boundary}",
                                 headers={"X-CSRFToken": owner.csrf})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["size"] == len(big_pdf)


def test_a_json_body_to_the_upload_route_gets_the_json_cap(app: Flask, owner: Owner) -> None:  # noqa: F811
    listing_id = create(owner)
    body = CountingStream(2 * 1024 * 1024)
    response = owner.client.post(f"/api/v1/listings/{listing_id}/attachments", input_stream=body,
                                 content_type="application/json", headers={"X-CSRFToken": owner.csrf})
    _assert_problem(response, 413)
    assert body.bytes_read == 0


def test_an_oversized_console_form_is_413(app: Flask, client: FlaskClient) -> None:
    body = CountingStream(2 * 1024 * 1024, prefix=b"email=")
    response = client.post("/admin/sign-in", input_stream=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and body.bytes_read == 0
