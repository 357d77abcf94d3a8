"""The console's demand review: the queue (new demands and revisions, oldest first) and lists by status, the
review page with field labels in words and a revision's differences, decisions posted from the page (audited,
told to the institution), a missing reason (422), a stale page (409), a foreign CSRF token (400), an admin's own
institution (403), and non-admins kept out."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import Demand, Notification, User
from tests.support.console import (
    Member,
    audit_events,
    field_errors,
    flashes,
    input_values,
    text,
)
from tests.support.demands import Poster, bring_to, publish
from tests.support.factories import make_people

REASON = "请写明指标 / state the target figures"


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        found = make_people()
        db.session.remove()
    return found


@pytest.fixture
def poster(app: Flask, people: dict[str, Any]) -> Poster:
    return Poster(app, people["owner"])


def decide(client: FlaskClient, demand_id: int, action: str, reason: str = "") -> Any:
    """Open the review page and post a decision from it (token and lock version from the page)."""
    values = input_values(text(client.get(f"/admin/demands/{demand_id}")))
    return client.post(f"/admin/demands/{demand_id}/decision", data={
        "csrf_token": values["csrf_token"], "lock_version": values["lock_version"], "action": action,
        "reason": reason})


def stored(app: Flask, demand_id: int) -> tuple[str, str | None, str | None]:
    with app.app_context():
        demand = db.session.get(Demand, demand_id)
        assert demand is not None
        return demand.status, demand.status_reason, demand.revision_status


def test_the_queue_lists_new_demands_and_revisions(app: Flask, admin_client: FlaskClient, poster: Poster) -> None:
    new = bring_to(app, poster, "submitted")
    revised = publish(app, poster)
    assert poster.patch(revised, {"title_en": "Revised need"}).status_code == 200
    assert poster.act(revised, "submit").status_code == 200
    bring_to(app, poster, "draft")
    page = admin_client.get("/admin/demands")
    assert page.status_code == 200
    html = text(page)
    assert f'data-demand="{new}"' in html and f'data-demand="{revised}"' in html
    assert html.count("data-demand=") == 2
    assert 'href="/admin/demands"' in text(admin_client.get("/admin/"))  # in the console's navigation
    drafts = text(admin_client.get("/admin/demands?status=draft"))
    assert drafts.count("data-demand=") == 1
    assert text(admin_client.get("/admin/demands?status=bogus")).count("data-demand=") == 2  # unknown: the queue


def test_the_review_page_names_fields_in_words(app: Flask, admin_client: FlaskClient, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "submitted")
    html = text(admin_client.get(f"/admin/demands/{demand_id}"))
    assert "高密度固态储氢材料技术需求" in html
    assert "field_codes" not in html.replace('data-field="field_codes"', "")
    assert '<dd data-field="budget_max">¥2,000,000.00</dd>' in html
    assert '<dd data-field="field_codes">氢能</dd>' in html
    assert '<dd data-field="deal_modes">转让, 合作开发</dd>' in html
    assert 'value="approve"' in html and 'value="suspend"' not in html


def test_an_approval_from_the_page_publishes_and_tells_the_institution(app: Flask, admin_client: FlaskClient,
                                                                        admin: dict[str, Any], poster: Poster,
                                                                        people: dict[str, Any]) -> None:
    demand_id = bring_to(app, poster, "submitted")
    response = decide(admin_client, demand_id, "approve")
    assert response.status_code == 302, text(response)[:500]
    assert flashes(text(admin_client.get(f"/admin/demands/{demand_id}")), "success")
    assert stored(app, demand_id)[0] == "published"
    event = audit_events(app, "demand", demand_id)[-1]
    assert event["action"] == "demand.approve" and event["actor_id"] == admin["id"]
    assert app.test_client().get(f"/api/v1/demands/hall/{demand_id}").status_code == 200
    with app.app_context():
        events = db.session.scalars(select(Notification.event).where(Notification.user_id == people["owner_id"]))
        assert list(events) == ["demand.approve"]


@pytest.mark.parametrize(("action", "status"), [("reject", "rejected"), ("request_changes", "changes_requested")])
def test_a_refusal_needs_a_reason(app: Flask, admin_client: FlaskClient, poster: Poster, action: str,
                                  status: str) -> None:
    demand_id = bring_to(app, poster, "submitted")
    missing = decide(admin_client, demand_id, action, "")
    assert missing.status_code == 422
    assert field_errors(text(missing), "reason")
    assert stored(app, demand_id)[0] == "submitted"
    response = decide(admin_client, demand_id, action, REASON)
    assert response.status_code == 302
    assert stored(app, demand_id)[:2] == (status, REASON)


def test_suspend_and_reinstate_from_the_page(app: Flask, admin_client: FlaskClient, poster: Poster) -> None:
    demand_id = publish(app, poster)
    assert decide(admin_client, demand_id, "suspend", "").status_code == 422
    assert decide(admin_client, demand_id, "suspend", REASON).status_code == 302
    assert stored(app, demand_id)[0] == "suspended"
    assert app.test_client().get(f"/api/v1/demands/hall/{demand_id}").status_code == 404
    assert 'value="reinstate"' in text(admin_client.get(f"/admin/demands/{demand_id}"))
    assert decide(admin_client, demand_id, "reinstate").status_code == 302
    assert stored(app, demand_id)[0] == "published"


def test_a_revision_shows_its_differences_and_is_published_on_approval(app: Flask, admin_client: FlaskClient,
                                                                        poster: Poster) -> None:
    demand_id = publish(app, poster)
    poster.patch(demand_id, {"title_en": "Revised need", "budget_max": 300_000_000})
    poster.act(demand_id, "submit")
    html = text(admin_client.get(f"/admin/demands/{demand_id}"))
    assert 'data-field="title_en"' in html and "Revised need" in html
    assert '<tr data-field="budget_max">' in html and '<tr data-field="title_zh">' not in html
    assert decide(admin_client, demand_id, "approve").status_code == 302
    assert stored(app, demand_id) == ("published", None, "approved")
    public = app.test_client().get(f"/api/v1/demands/hall/{demand_id}?lang=en").get_json()
    assert public["title"] == "Revised need"


def test_a_stale_page_is_refused(app: Flask, admin_client: FlaskClient, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "submitted")
    values = input_values(text(admin_client.get(f"/admin/demands/{demand_id}")))
    assert decide(admin_client, demand_id, "request_changes", REASON).status_code == 302
    poster.patch(demand_id, {"title_en": "Clearer"})
    poster.act(demand_id, "submit")
    stale = admin_client.post(f"/admin/demands/{demand_id}/decision", data={
        "csrf_token": values["csrf_token"], "lock_version": values["lock_version"], "action": "approve",
        "reason": ""})
    assert stale.status_code == 409
    assert stored(app, demand_id)[0] == "submitted"


def test_a_foreign_csrf_token_is_refused(app: Flask, admin_client: FlaskClient, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "submitted")
    values = input_values(text(admin_client.get(f"/admin/demands/{demand_id}")))
    response = admin_client.post(f"/admin/demands/{demand_id}/decision", data={
        "csrf_token": "forged", "lock_version": values["lock_version"], "action": "approve"})
    assert response.status_code == 400
    assert stored(app, demand_id)[0] == "submitted"


def test_an_admin_never_decides_for_their_own_institution(app: Flask, poster: Poster,
                                                          people: dict[str, Any]) -> None:
    from tests.support.console import admin_client_for

    demand_id = bring_to(app, poster, "submitted")
    with app.app_context():
        member = db.session.scalar(select(User).where(User.email == people["member"]))
        assert member is not None
        member.is_admin = True
        db.session.commit()
    client = admin_client_for(app, people["member"])
    response = decide(client, demand_id, "approve")
    assert response.status_code == 403
    assert stored(app, demand_id)[0] == "submitted"


def test_non_admins_and_anonymous_visitors_are_kept_out(app: Flask, member: Member, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "submitted")
    for path in ("/admin/demands", f"/admin/demands/{demand_id}"):
        assert member.client.get(path).status_code == 403
        assert app.test_client().get(path).status_code == 302
    assert member.client.post(f"/admin/demands/{demand_id}/decision", data={"action": "approve"}).status_code in (
        400, 403)
    assert stored(app, demand_id)[0] == "submitted"


def test_a_missing_demand_is_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/demands/987654").status_code == 404
