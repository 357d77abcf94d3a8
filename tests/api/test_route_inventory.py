"""AUTHZ-02: every API route answers 401 to an anonymous caller unless it is on the explicit PUBLIC list.

The guarded routes are derived from ``app.url_map``, never listed by hand, so a new route that forgets
``login_required`` makes this module fail."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.routes import API_PREFIX, UNSAFE, sample_path

# (method, rule) pairs that anyone may call; HEAD follows GET. Keep this list short and explicit.
PUBLIC = frozenset({
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/confirm"),
    ("POST", "/api/v1/auth/confirm/resend"),
    ("POST", "/api/v1/auth/sign-in"),
    ("GET", "/api/v1/auth/csrf"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("POST", "/api/v1/auth/invitations/accept"),
    ("GET", "/api/v1/institutions/<int:institution_id>"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/hall/listings"),
    ("GET", "/api/v1/hall/listings/<int:listing_id>"),
    ("GET", "/api/v1/hall/listings/<int:listing_id>/attachments/<int:attachment_id>"),
    ("GET", "/api/v1/hall/institutions/<int:institution_id>"),
    ("GET", "/api/v1/hall/taxonomy"),
    ("GET", "/api/v1/hall/directory"),
    ("GET", "/api/v1/hall/notices"),
    ("GET", "/api/v1/hall/listings/<int:listing_id>/nda"),  # the NDA a requester accepts (data rooms)
    ("GET", "/api/v1/demands/hall"),  # the public demand hall (技术需求)
    ("GET", "/api/v1/demands/hall/<int:demand_id>"),
    ("GET", "/api/v1/exhibitions"),  # docking exhibitions (对接会/路演): published ones and their roadshow
    ("GET", "/api/v1/exhibitions/<int:exhibition_id>"),
    ("GET", "/api/v1/evaluators"),  # evaluation institutions that can be engaged
    ("GET", "/api/v1/evaluations/<int:engagement_id>/report.pdf"),  # public while attached to a public listing
    # Stripe calls it without a session; its signature is its authentication (PAY-01, tests/api/test_webhook.py).
    ("POST", "/api/v1/payments/stripe/webhook"),
})
DOCS_BLUEPRINT = "api-docs."  # flask-smorest's documentation blueprint


def _is_public(method: str, rule: Any) -> bool:
    method = "GET" if method == "HEAD" else method
    if (method, rule.rule) in PUBLIC:
        return True
    # static assets of the docs page (if the UI is ever served locally): read-only, docs blueprint only
    return (rule.rule.startswith(API_PREFIX + "/docs/") and rule.endpoint.startswith(DOCS_BLUEPRINT)
            and method == "GET")


def guarded_calls(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, path) of every API call that is not public; OPTIONS is answered by Flask itself."""
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.rule != API_PREFIX and not rule.rule.startswith(API_PREFIX + "/"):
            continue
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            if not _is_public(method, rule):
                calls.append((method, rule.rule, sample_path(rule.rule)))
    return calls


def anonymous_failures(client: FlaskClient, calls: list[tuple[str, str, str]]) -> list[str]:
    """The calls that do not answer an anonymous caller with a 401 JSON problem document."""
    failures = []
    for method, rule, path in calls:
        response = client.open(path, method=method, json={} if method in UNSAFE else None)
        if method == "HEAD":  # no body, but the status and the JSON content type must hold
            ok = response.status_code == 401 and response.is_json
        else:
            body = response.get_json(silent=True)
            ok = (response.status_code == 401 and isinstance(body, dict) and body.get("status") == 401
                  and bool(body.get("message")))
        if not ok:
            failures.append(f"{method} {rule} -> {response.status_code} {response.data[:120]!r}")
    return failures


def test_every_non_public_api_route_answers_401_to_anonymous(app: Flask, client: FlaskClient) -> None:
    calls = guarded_calls(app)
    assert calls, "no guarded API routes found: is the API mounted under /api/v1?"
    failures = anonymous_failures(client, calls)
    assert failures == [], "unguarded API routes (add login_required, or list them in PUBLIC):\n" + "\n".join(
        failures)


def test_every_public_entry_names_an_existing_route(app: Flask) -> None:
    existing = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods or ()}
    missing = sorted(PUBLIC - existing)
    assert missing == [], f"PUBLIC lists routes that no longer exist: {missing}"


def test_public_routes_answer_anonymous_callers_without_401(client: FlaskClient) -> None:
    """PUBLIC must not hide routes that are in fact guarded (the list would then say nothing)."""
    for method, rule in sorted(PUBLIC):
        response = client.open(sample_path(rule), method=method, json={} if method in UNSAFE else None)
        assert response.status_code != 401, f"{method} {rule} is listed as public but answers 401"
        assert response.status_code < 500, f"{method} {rule} -> {response.status_code}"


def test_inventory_catches_a_new_unguarded_route(app: Flask, client: FlaskClient) -> None:
    """The check itself works: an API route added without login_required is reported."""
    app.add_url_rule(API_PREFIX + "/probe/<int:thing_id>", "probe", lambda thing_id: {"thing": thing_id},
                     methods=["GET", "POST"])
    failures = anonymous_failures(client, guarded_calls(app))
    flagged = {line.split(" -> ")[0] for line in failures}
    assert flagged == {f"{method} /api/v1/probe/<int:thing_id>" for method in ("GET", "HEAD", "POST")}
