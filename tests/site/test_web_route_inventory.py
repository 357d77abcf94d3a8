"""AUTHZ-02 and CSRF-01 for the web front, derived from ``app.url_map`` (never listed by hand, so a new page is
covered the day it is added):

- anonymous visitors may read only the explicit PUBLIC pages; every other page sends them to sign in (or refuses);
- every form post without its CSRF token is refused with 400 and changes nothing;
- a member of the owning institution reads every workspace page of its objects (200);
- a member of another institution never reads an institution's workspace objects (404/403, never 200);
- a platform admin reads the public pages as anyone does; the workspace is for members of an institution, so an
  admin who belongs to none is refused every workspace page (403, the page on joining an institution), and an
  admin who belongs to another institution never reads the objects of this one;
- no page answers 500, whoever asks."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Institution
from tests.support.console import make_admin
from tests.support.factories import UserFactory, make_people, sign_in
from tests.support.listing_data import achievement
from tests.support.routes import UNSAFE, sample_path
from tests.support.web_routes import HTML, PUBLIC, filled_path, seller_workspace, web_pages, web_rules

# Public pages with content (the rest of PUBLIC are account pages: a signed-in person is sent on from some).
PUBLIC_CONTENT = frozenset({"web.home", "web.search", "web.listing", "web.institution", "web.notices",
                            "web.sitemap", "web.robots", "web.demands", "web.demand",
                            "web.exhibitions_list", "web.exhibition_page"})
# Pages of the signed-in person (not of an institution): anyone signed in reads their own.
PERSONAL = frozenset({"web.api_tokens", "web.notifications"})
# The buyer's pages: the owner column asks them as the buying institution's member (the card page pays an order;
# the order form orders another institution's listing).
AS_BUYER = frozenset({"web.order_listing", "web.order_card"})
# The order form and the NDA page of a public listing are open to a member of any institution (the listing is
# public).
ANY_MEMBER = frozenset({"web.order_listing", "web.data_room_nda"})


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


def _status(client: FlaskClient, path: str) -> tuple[int, str]:
    """GET ``path`` as a browser (redirects not followed); the response is closed (downloads hold a file)."""
    with client.get(path, headers=HTML) as response:
        return response.status_code, response.headers.get("Location", "")


def test_a_member_of_the_owning_institution_reads_every_workspace_page_of_its_objects(app: Flask) -> None:
    workspace = seller_workspace(app)
    market = workspace.market
    failures = []
    for rule in web_pages(app):
        if rule.endpoint in PUBLIC:
            continue
        member = market.buyer if rule.endpoint in AS_BUYER else market.seller
        path = filled_path(rule.rule, workspace.ids)
        status, location = _status(member.client, path)
        if status != 200:
            failures.append(f"{path} ({rule.endpoint}) as {member.email}: {status} {location}")
    assert failures == []


def test_a_platform_admin_reads_the_public_pages_and_no_workspace_without_belonging_to_an_institution(
        app: Flask) -> None:
    workspace = seller_workspace(app)
    admin_email = make_admin(app)["email"]
    admin = app.test_client()
    sign_in(admin, admin_email)
    signed_in = workspace.market.outsider.client  # a signed-in member, for the account pages' answers
    failures = []
    for rule in web_pages(app):
        path = filled_path(rule.rule, workspace.ids)
        status, location = _status(admin, path)
        if rule.endpoint in PUBLIC_CONTENT or rule.endpoint in PERSONAL:
            expected = 200
        elif rule.endpoint in PUBLIC:
            expected = _status(signed_in, path)[0]  # as for anyone signed in (sign-in sends them on, …)
        else:
            expected = 403  # member_page: the page on joining an institution, whatever the object
        if status != expected or status >= 500:
            failures.append(f"{path} ({rule.endpoint}): {status} {location}, expected {expected}")
    assert failures == []


def test_a_platform_admin_of_another_institution_never_reads_the_workspace_objects_of_one(app: Flask) -> None:
    workspace = seller_workspace(app)
    with app.app_context():
        other = db.session.get(Institution, workspace.market.parties.outsider_org)
        admin_email = str(UserFactory(is_admin=True, institution=other, institution_role="member").email)
        db.session.commit()
    admin = app.test_client()
    sign_in(admin, admin_email)
    failures = []
    for rule in web_pages(app):
        if rule.endpoint in PUBLIC or rule.endpoint in ANY_MEMBER or not rule.arguments:
            continue
        path = filled_path(rule.rule, workspace.ids)
        status, _location = _status(admin, path)
        if status not in (403, 404):
            failures.append(f"{path} ({rule.endpoint}): {status}")
    assert failures == []
    assert _status(admin, "/workspace")[0] == 200  # its own institution's workspace it does read
