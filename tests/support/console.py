"""The admin console in tests: HTML form parsing (field values, errors beside a field, flash messages, table
rows), signing in through the console's form, a platform admin and a signed-in non-admin, listings in the states a
reviewer meets (submitted, published, with a pending revision), review decisions posted from the page, and what
the database holds afterwards (listing row, audit events, outbox mail, a person's language)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import AuditEvent, Listing, OutboxMail, User
from tests.support.factories import PASSWORD, UserFactory, make_people, sign_in
from tests.support.listing_data import achievement
from tests.support.listings import Owner


class _Inputs(HTMLParser):
    """Collects every <input>, <textarea> and <select> name with the value of its first occurrence."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "textarea", "select"):
            found = dict(attrs)
            name = found.get("name")
            if name and name not in self.values:
                self.values[name] = found.get("value") or ""


def input_values(html: str) -> dict[str, str]:
    """Name → value of the form fields on a page (the first field of each name)."""
    parser = _Inputs()
    parser.feed(html)
    return parser.values


def hidden_value(html: str, name: str) -> str:
    """The value of the form field ``name``; fails the test when the page has none."""
    values = input_values(html)
    assert name in values, f"no field named {name!r} on the page"
    return values[name]


def text(response: TestResponse) -> str:
    """The body as text."""
    return response.get_data(as_text=True)


def page_csrf(client: FlaskClient, path: str = "/admin/") -> str:
    """The CSRF token that the page at ``path`` embeds in its forms."""
    response = client.get(path)
    assert response.status_code == 200, f"GET {path} -> {response.status_code}"
    token = hidden_value(text(response), "csrf_token")
    assert token, f"empty csrf_token on {path}"
    return token


def field_errors(html: str, field_id: str) -> list[str]:
    """The messages of the ``<ul class="errors">`` rendered beside the field ``field_id``."""
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.S) if match else []


def flashes(html: str, category: str | None = None) -> list[str]:
    """The flash messages on a page (optionally of one category)."""
    found = re.findall(r'<p class="flash ([a-z]+)" role="(?:status|alert)">(.*?)</p>', html, re.S)
    return [message for kind, message in found if category is None or kind == category]


def table_rows(html: str) -> list[list[str]]:
    """The cells (tags stripped) of every row in the page's first <tbody>."""
    match = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert match, "no table body on the page"
    rows = re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def console_sign_in(client: FlaskClient, email: str, password: str = PASSWORD,
                    next_path: str | None = None) -> TestResponse:
    """Post the console's sign-in form as a browser would (token from the page, then the form)."""
    page = client.get("/admin/sign-in", query_string={"next": next_path} if next_path is not None else None)
    assert page.status_code == 200
    values = input_values(text(page))
    form = {"csrf_token": values["csrf_token"], "next": values.get("next", ""), "email": email,
            "password": password}
    return client.post("/admin/sign-in", data=form)


def admin_client_for(app: Flask, email: str) -> FlaskClient:
    """A new browser signed in to the console as ``email``."""
    client = app.test_client()
    response = console_sign_in(client, email)
    assert response.status_code == 302, text(response)[:500]
    return client


def make_admin(app: Flask, **fields: Any) -> dict[str, Any]:
    """Create and commit a platform admin; returns its id and e-mail."""
    with app.app_context():
        user = UserFactory(is_admin=True, **fields)
        db.session.commit()
        return {"id": user.id, "email": user.email}


@dataclass
class Member:
    """A signed-in person who is not an admin (through the API), with the CSRF token of that session."""

    client: FlaskClient
    csrf: str
    email: str


def signed_in_member(app: Flask) -> Member:
    """A person who is not a platform admin, signed in through the API."""
    with app.app_context():
        user = UserFactory()
        db.session.commit()
        email = user.email
    client = app.test_client()
    return Member(client, sign_in(client, email), email)


@dataclass
class Listed:
    """A listing and the signed-in owner of its institution."""

    id: int
    owner: Owner
    owner_email: str
    org: int


def new_listing(app: Flask, body: dict[str, Any] | None = None, *, people: dict[str, Any] | None = None,
                submit: bool = True) -> Listed:
    """A listing created (and by default submitted) through the API by an institution's owner."""
    if people is None:
        with app.app_context():
            people = make_people()
    owner = Owner(app, people["owner"])
    created = owner.post("/api/v1/listings", body or achievement())
    assert created.status_code == 201, created.get_json()
    listing_id = created.get_json()["id"]
    if submit:
        submitted = owner.post(f"/api/v1/listings/{listing_id}/submit")
        assert submitted.status_code == 200, submitted.get_json()
    return Listed(listing_id, owner, people["owner"], people["org"])


def decide_through_console(client: FlaskClient, listing_id: int, action: str, reason: str = "") -> TestResponse:
    """Open the review page and post a decision from it (token and lock version from the page)."""
    values = input_values(text(client.get(f"/admin/listings/{listing_id}")))
    return client.post(f"/admin/listings/{listing_id}/decision", data={
        "csrf_token": values["csrf_token"], "lock_version": values["lock_version"], "action": action,
        "reason": reason})


def published_listing(app: Flask, client: FlaskClient, body: dict[str, Any] | None = None) -> Listed:
    """A listing approved through the console by the signed-in admin ``client``."""
    listed = new_listing(app, body)
    response = decide_through_console(client, listed.id, "approve")
    assert response.status_code == 302, text(response)[:500]
    return listed


def listing_row(app: Flask, listing_id: int) -> tuple[str, str | None, int]:
    """(status, status_reason, lock_version) as stored."""
    with app.app_context():
        listing = db.session.get(Listing, listing_id)
        assert listing is not None
        return listing.status, listing.status_reason, listing.lock_version


def audit_events(app: Flask, object_type: str, object_id: int) -> list[dict[str, Any]]:
    """The audit events of one object, oldest first, as plain dicts."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)).all()
        return [{"action": e.action, "actor_id": e.actor_id, "reason": e.reason, "from_state": e.from_state,
                 "to_state": e.to_state} for e in events]


def mails(app: Flask, recipient: str, purpose: str) -> list[str]:
    """The bodies of the outbox messages of ``purpose`` to ``recipient``, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(OutboxMail.body).where(
            OutboxMail.recipient == recipient, OutboxMail.purpose == purpose).order_by(OutboxMail.id)))


def user_locale(app: Flask, email: str) -> str:
    """The language stored on the person."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user.locale
