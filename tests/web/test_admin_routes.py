"""AUTHZ-02 and CSRF-01 for the admin console, derived from ``app.url_map`` so that a new route under /admin that
forgets the guard, or accepts GET for an action, or is exempted from CSRF, makes this module fail.

Anonymous visitors are sent to the sign-in page (with ``next=``), signed-in people who are not admins get an HTML
403 page, state-changing routes take POST only, and no admin view is CSRF-exempt (PAY-02: only the API's
cookie-less calls and, later, the payment webhook may be)."""
from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.support.console import Member, page_csrf, signed_in_member, text

ADMIN_PREFIX = "/admin"
PUBLIC = frozenset({"/admin/sign-in"})
KNOWN_ROUTES = frozenset({
    "/admin/", "/admin/sign-in", "/admin/sign-out", "/admin/language", "/admin/institutions",
    "/admin/institutions/<int:org_id>", "/admin/institutions/<int:org_id>/decision", "/admin/listings/queue",
    "/admin/listings", "/admin/listings/<int:listing_id>", "/admin/listings/<int:listing_id>/decision",
    "/admin/attachments/<int:attachment_id>", "/admin/audit", "/admin/orders", "/admin/orders/<int:order_id>",
    "/admin/orders/<int:order_id>/bank-transfer", "/admin/orders/<int:order_id>/refund",
    "/admin/orders/<int:order_id>/settlement", "/admin/orders/<int:order_id>/resolve-dispute",
    "/admin/demands", "/admin/demands/<int:demand_id>", "/admin/demands/<int:demand_id>/decision",
    "/admin/threads", "/admin/threads/<int:thread_id>", "/admin/threads/<int:thread_id>/messages/<int:message_id>/file",
    # policy workflows (issue 13)
    "/admin/insurance", "/admin/insurance/<int:application_id>",
    "/admin/insurance/<int:application_id>/documents/<int:document_id>",
    "/admin/insurance/<int:application_id>/decision",
    "/admin/contracts", "/admin/contracts/export", "/admin/contracts/annual",
    "/admin/contracts/annual/<int:org_id>/download", "/admin/evaluations", "/admin/evaluations/<int:engagement_id>",
    "/admin/exhibitions", "/admin/exhibitions/new", "/admin/exhibitions/create",
    "/admin/exhibitions/<int:exhibition_id>",
    "/admin/exhibitions/<int:exhibition_id>/edit", "/admin/exhibitions/<int:exhibition_id>/state",
    "/admin/exhibitions/<int:exhibition_id>/invite",
    "/admin/exhibitions/<int:exhibition_id>/entries/<int:exhibition_entry_id>",
})
# Routes that change state: POST only, never GET.
ACTIONS = frozenset({"/admin/sign-out", "/admin/language", "/admin/institutions/<int:org_id>/decision",
                     "/admin/listings/<int:listing_id>/decision", "/admin/orders/<int:order_id>/bank-transfer",
                     "/admin/orders/<int:order_id>/refund", "/admin/orders/<int:order_id>/settlement",
                     "/admin/orders/<int:order_id>/resolve-dispute", "/admin/demands/<int:demand_id>/decision",
                     "/admin/insurance/<int:application_id>/decision", "/admin/exhibitions/create",
                     "/admin/exhibitions/<int:exhibition_id>/edit", "/admin/exhibitions/<int:exhibition_id>/state",
                     "/admin/exhibitions/<int:exhibition_id>/invite",
                     "/admin/exhibitions/<int:exhibition_id>/entries/<int:exhibition_entry_id>"})
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _sample_path(rule: str) -> str:
    return _ARGUMENT.sub(lambda m: "1" if m.group("converter") == "int" else "x", rule)


def admin_rules(app: Flask) -> list[Any]:
    """Every rule of the URL map under /admin."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule == ADMIN_PREFIX or rule.rule.startswith(ADMIN_PREFIX + "/")]


def guarded_calls(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, path) of every admin call except the sign-in page; OPTIONS is Flask's own."""
    return [(method, rule.rule, _sample_path(rule.rule)) for rule in admin_rules(app) if rule.rule not in PUBLIC
            for method in sorted((rule.methods or set()) - {"OPTIONS"})]


def _call(client: FlaskClient, method: str, path: str, csrf: str) -> Any:
    # A valid CSRF token goes with every POST so that the guard, not the CSRF check, is what answers.
    return client.open(path, method=method, data={"csrf_token": csrf} if method == "POST" else None)


def anonymous_failures(app: Flask, calls: list[tuple[str, str, str]]) -> list[str]:
    """The calls that do not send an anonymous visitor to the sign-in page with next= the requested path."""
    client = app.test_client()
    csrf = page_csrf(client, "/admin/sign-in")
    failures = []
    for method, rule, path in calls:
        response = _call(client, method, path, csrf)
        target = urlsplit(response.headers.get("Location", ""))
        if response.status_code != 302 or target.path != "/admin/sign-in" or \
                parse_qs(target.query).get("next") != [path]:
            failures.append(f"{method} {rule} -> {response.status_code} {response.headers.get('Location')}")
    return failures


def non_admin_failures(client: FlaskClient, csrf: str, calls: list[tuple[str, str, str]]) -> list[str]:
    """The calls that do not answer a signed-in non-admin with the console's HTML 403 page."""
    failures = []
    for method, rule, path in calls:
        response = _call(client, method, path, csrf)
        html_page = response.mimetype == "text/html" and not response.is_json
        if method != "HEAD":
            html_page = html_page and "<html" in text(response) and "403" in text(response)
        if response.status_code != 403 or not html_page:
            failures.append(f"{method} {rule} -> {response.status_code} {response.mimetype}")
    return failures


def test_inventory_covers_the_known_console_routes(app: Flask) -> None:
    rules = {rule.rule for rule in admin_rules(app)}
    calls = guarded_calls(app)
    assert calls, "no admin routes found: is the console mounted under /admin?"
    assert KNOWN_ROUTES <= rules, f"routes missing from the URL map: {sorted(KNOWN_ROUTES - rules)}"
    assert {rule for _, rule, _ in calls} == rules - PUBLIC
    assert {("POST", "/admin/listings/1/decision"), ("GET", "/admin/institutions/1")} <= {
        (method, path) for method, _, path in calls}


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(app: Flask) -> None:
    failures = anonymous_failures(app, guarded_calls(app))
    assert failures == [], "admin routes reachable without signing in:\n" + "\n".join(failures)


def test_signed_in_non_admins_get_an_html_403_everywhere(app: Flask, member: Member) -> None:
    failures = non_admin_failures(member.client, member.csrf, guarded_calls(app))
    assert failures == [], "admin routes open to people who are not admins:\n" + "\n".join(failures)


def test_the_sign_in_page_itself_is_open(client: FlaskClient) -> None:
    response = client.get("/admin/sign-in")
    assert response.status_code == 200 and 'name="password"' in text(response)


def test_inventory_catches_a_new_unguarded_route(app: Flask) -> None:
    """The check itself works: a route under /admin outside the guarded blueprint is reported."""
    app.add_url_rule(ADMIN_PREFIX + "/probe/<int:thing_id>", "probe", lambda thing_id: f"thing {thing_id}",
                     methods=["GET", "POST"])
    member = signed_in_member(app)
    probe = [call for call in guarded_calls(app) if call[1].startswith("/admin/probe/")]
    assert {method for method, _, _ in probe} == {"GET", "HEAD", "POST"}
    assert len(anonymous_failures(app, probe)) == 3
    assert len(non_admin_failures(member.client, member.csrf, probe)) == 3


def test_state_changing_routes_take_post_only(app: Flask) -> None:
    methods = {rule.rule: set(rule.methods or ()) - {"OPTIONS", "HEAD"} for rule in admin_rules(app)}
    for rule in ACTIONS:
        assert methods[rule] == {"POST"}, f"{rule} accepts {sorted(methods[rule])}"
    # No route mixes reading and changing, except the sign-in page (its GET only renders the form).
    mixed = sorted(rule for rule, verbs in methods.items() if "POST" in verbs and verbs != {"POST"})
    assert mixed == ["/admin/sign-in"]
    # Every POST-only route is in ACTIONS, so a new one gets the GET → 405 check below.
    assert {rule for rule, verbs in methods.items() if verbs == {"POST"}} == ACTIONS


def test_get_on_an_action_is_405(app: Flask, admin_client: FlaskClient, client: FlaskClient) -> None:
    for rule in sorted(ACTIONS):
        path = _sample_path(rule)
        for browser in (admin_client, client):
            response = browser.get(path)
            assert response.status_code == 405, f"GET {path} -> {response.status_code}"
            assert "POST" in response.headers.get("Allow", "")
            assert response.mimetype == "text/html"


def test_every_admin_post_without_a_csrf_token_is_400(app: Flask, admin_client: FlaskClient) -> None:
    posts = [(rule.rule, _sample_path(rule.rule)) for rule in admin_rules(app) if "POST" in (rule.methods or ())]
    assert len(posts) == len(ACTIONS) + 1
    for rule, path in posts:
        response = admin_client.post(path, data={"action": "approve", "locale": "en", "reason": "x"})
        assert response.status_code == 400, f"POST {rule} without a token -> {response.status_code}"
    assert admin_client.get("/admin/").status_code == 200  # the sign-out above was refused too


def csrf_exempt_admin_endpoints(app: Flask, csrf: Any) -> list[str]:
    """The admin endpoints that Flask-WTF would not check: exempt views or views of exempt blueprints."""
    exempt_blueprints = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints}
    found = []
    for rule in admin_rules(app):
        view = app.view_functions[rule.endpoint]
        parts = rule.endpoint.split(".")[:-1]  # the blueprint and the blueprints it is nested in
        names = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views or names & exempt_blueprints:
            found.append(rule.endpoint)
    return found


def test_no_admin_view_is_csrf_exempt(app: Flask) -> None:
    csrf = app.extensions["csrf"]
    assert app.config["WTF_CSRF_ENABLED"] and app.config["WTF_CSRF_CHECK_DEFAULT"]
    assert csrf_exempt_admin_endpoints(app, csrf) == []
    assert all(not getattr(bp, "name", "").startswith("admin") for bp in csrf._exempt_blueprints)


def test_the_exemption_check_would_notice_an_exempt_admin_view(app: Flask) -> None:
    view = app.view_functions["admin.listing_decision"]
    by_view = SimpleNamespace(_exempt_views={f"{view.__module__}.{view.__name__}"}, _exempt_blueprints=set())
    by_blueprint = SimpleNamespace(_exempt_views=set(), _exempt_blueprints={app.blueprints["admin"]})
    assert csrf_exempt_admin_endpoints(app, by_view) == ["admin.listing_decision"]
    assert len(csrf_exempt_admin_endpoints(app, by_blueprint)) == len(admin_rules(app))
