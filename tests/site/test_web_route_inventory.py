"""AUTHZ-02 and CSRF-01 for the web front, derived from ``app.url_map`` (never listed by hand, so a new page is
covered the day it is added):

- anonymous visitors may read only the explicit PUBLIC pages; every other page sends them to sign in (or refuses);
- every form post without its CSRF token is refused with 400 and changes nothing;
- a member of another institution never reads an institution's workspace objects (404/403, never 200);
- no page answers 500, whoever asks."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent
from tests.support.factories import make_people, sign_in
from tests.support.listing_data import achievement
from tests.support.routes import UNSAFE, sample_path

HTML = {"Accept": "text/html"}
# Pages anyone may read (GET); the account pages are public by nature (a visitor signs in or registers there).
PUBLIC = frozenset({
    "web.home", "web.search", "web.listing", "web.institution", "web.notices", "web.sitemap", "web.robots",
    "web.language_link", "web.register", "web.check_mail", "web.confirm_email", "web.resend_confirmation",
    "web.sign_in", "web.request_password_reset", "web.reset_password", "web.accept_invitation",
})


def web_rules(app: Flask) -> list[Any]:
    """Every URL rule of the web front."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("web.")]


def test_every_public_entry_names_an_existing_page(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in web_rules(app)}
    assert PUBLIC <= endpoints, sorted(PUBLIC - endpoints)


def test_anonymous_visitors_read_public_pages_only_and_nothing_answers_500(client: FlaskClient, app: Flask) -> None:
    failures = []
    for rule in web_rules(app):
        if "GET" not in (rule.methods or set()):
            continue
        response = client.get(sample_path(rule.rule), headers=HTML)
        status, location = response.status_code, response.headers.get("Location", "")
        if status >= 500:
            failures.append(f"{rule.rule}: {status}")
        elif rule.endpoint not in PUBLIC and not (status in (401, 403, 404) or
                                                  (status == 302 and location.startswith("/sign-in"))):
            failures.append(f"{rule.rule} ({rule.endpoint}) is not public but answered {status} {location}")
    assert failures == []


def _event_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_every_form_post_without_its_csrf_token_is_refused_and_changes_nothing(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    client = app.test_client()
    sign_in(client, people["owner"])  # signed in: the CSRF check must hold for people, not only for visitors
    before = _event_count(app)
    failures = []
    for rule in web_rules(app):
        for method in sorted((rule.methods or set()) & UNSAFE):
            response = client.open(sample_path(rule.rule), method=method, data={"x": "1"}, headers=HTML)
            if response.status_code != 400:
                failures.append(f"{method} {rule.rule}: {response.status_code}")
    assert failures == []
    assert _event_count(app) == before


def test_a_member_of_another_institution_never_reads_the_workspace_objects_of_one(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    owner, outsider = app.test_client(), app.test_client()
    csrf = sign_in(owner, people["owner"])
    created = owner.post("/api/v1/listings", json=achievement(), headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    listing_id = created.get_json()["id"]
    sign_in(outsider, people["other_owner"])
    failures = []
    for rule in web_rules(app):
        if rule.endpoint in PUBLIC or "GET" not in (rule.methods or set()) or "<" not in rule.rule:
            continue
        path = sample_path(rule.rule).replace("/1", f"/{listing_id}", 1)
        response = outsider.get(path, headers=HTML)
        if response.status_code == 200 or response.status_code >= 500:
            failures.append(f"{path}: {response.status_code}")
    assert failures == []
    assert owner.get(f"/workspace/listings/{listing_id}", headers=HTML).status_code == 200  # the owner does
