"""PAY-02: the Stripe webhook is the only write that takes no CSRF token from a cookie-authenticated caller.

Every POST/PUT/PATCH/DELETE under /api/v1 is called by a signed-in browser session without the X-CSRFToken
header; each must be refused for the missing token, except exactly the routes in EXEMPT. The admin console's
forms are covered by tests/web/test_admin_routes.py (no admin view is exempt)."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from hall.extensions import db
from tests.support.factories import make_people, sign_in
from tests.support.routes import API_PREFIX, UNSAFE, sample_path

EXEMPT = frozenset({("POST", "/api/v1/payments/stripe/webhook")})


def writes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every state-changing API route."""
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                  if rule.rule.startswith(API_PREFIX + "/") for method in (rule.methods or set()) & UNSAFE)


def csrf_refusals(client: FlaskClient, calls: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The calls answered 400 for a missing CSRF token."""
    refused = set()
    for method, rule in calls:
        response = client.open(sample_path(rule), method=method, json={})
        body = response.get_json(silent=True) or {}
        if response.status_code == 400 and "CSRF" in str(body.get("message", "")):
            refused.add((method, rule))
    return refused


def test_only_the_webhook_skips_the_csrf_check(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
        db.session.remove()
    sign_in(client, people["owner"])
    calls = writes(app)
    assert ("POST", "/api/v1/orders") in calls and EXEMPT <= set(calls)
    not_refused = set(calls) - csrf_refusals(client, calls)
    assert not_refused == EXEMPT, f"writes that took no CSRF token: {sorted(not_refused - EXEMPT)}; " \
                                  f"exempt routes that now demand one: {sorted(EXEMPT - not_refused)}"


def test_the_webhook_with_a_session_cookie_still_needs_its_signature(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        people = make_people()
        db.session.remove()
    sign_in(client, people["owner"])
    response = client.post("/api/v1/payments/stripe/webhook", json={"id": "evt_1", "type": "x", "data": {}})
    assert response.status_code == 400
    assert "Stripe-Signature" in response.get_json()["message"]
