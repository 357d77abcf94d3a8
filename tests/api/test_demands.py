"""Demand postings (技术需求) through the owner API and the review service: every move of the demand machine and of
its revision machine (allowed and refused), completeness at submission, If-Match (stale edit 409/412), tenancy
(another institution's demand is 404, anonymous 401), unverified institutions (draft yes, submit no), revisions
that keep the public content until approved, the admin's own-institution rule, notifications, the expiry job."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Demand, DemandIndexEntry, Institution, Notification, User
from hall.services.core.errors import Conflict, Forbidden, InvalidInput
from hall.services.docking import demand_review
from hall.services.docking.demands import DEMAND_TRANSITIONS, REVISION_TRANSITIONS
from tests.support.demands import (
    Poster,
    admin_decides,
    bring_to,
    demand_body,
    expire_now,
    in_days,
    publish,
    status_of,
    the_admin,
)
from tests.support.factories import InstitutionFactory, UserFactory, make_people

MISSING = 987_654
STATUSES = ("draft", "submitted", "changes_requested", "published", "rejected", "withdrawn", "suspended", "closed",
            "expired")


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        found = make_people()
        db.session.remove()
    return found


@pytest.fixture
def poster(app: Flask, people: dict[str, Any]) -> Poster:
    return Poster(app, people["owner"])


@pytest.fixture
def outsider(app: Flask, people: dict[str, Any]) -> Poster:
    return Poster(app, people["other_owner"])


def hall_ids(app: Flask) -> list[int]:
    response = app.test_client().get("/api/v1/demands/hall?per_page=50&sort=newest")
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def row(app: Flask, demand_id: int) -> dict[str, Any]:
    with app.app_context():
        demand = db.session.get(Demand, demand_id)
        assert demand is not None
        values = {c.key: getattr(demand, c.key) for c in Demand.__table__.columns}
        db.session.remove()
    return values


# --- creating and editing ----------------------------------------------------------------------------------

def test_a_member_creates_a_draft_and_reads_it_back(app: Flask, poster: Poster) -> None:
    response = poster.post("/api/v1/demands", demand_body())
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "draft" and data["field_codes"] == ["energy.hydrogen"] and data["bounty_amount"] == 10**7
    assert response.headers["ETag"]
    read = poster.client.get(f"/api/v1/demands/{data['id']}")
    assert read.status_code == 200 and read.get_json()["title_en"] == demand_body()["title_en"]
    listed = poster.client.get("/api/v1/demands?status=draft")
    assert [d["id"] for d in listed.get_json()] == [data["id"]]
    assert '"total": 1' in listed.headers["X-Pagination"]


@pytest.mark.parametrize(("body", "field"), [
    ({"trl_min": 0}, "trl_min"),
    ({"trl_min": 8, "trl_max": 3}, "trl_max"),
    ({"budget_min": -1}, "budget_min"),
    ({"budget_min": 5, "budget_max": 4}, "budget_max"),
    ({"budget_max": 1.5}, "budget_max"),
    ({"bounty_amount": -5}, "bounty_amount"),
    ({"deal_modes": ["barter"]}, "deal_modes"),
    ({"region_code": "999999"}, "region_code"),
    ({"deadline": "tomorrow"}, "deadline"),
    ({"direction_code": "astrology"}, "direction_code"),
    ({"direction_code": "energy", "field_codes": ["health.cell_gene"]}, "field_codes"),
    ({"field_codes": ["energy.hydrogen"]}, "field_codes"),  # a field without its direction
    ({"status": "published"}, "status"),
    ({"institution_id": 1}, "institution_id"),
])
def test_bad_content_is_refused_naming_the_field(app: Flask, poster: Poster, body: dict[str, Any],
                                                  field: str) -> None:
    response = poster.post("/api/v1/demands", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Demand)) == 0


def test_a_stale_edit_is_refused(app: Flask, poster: Poster) -> None:
    demand_id = poster.create()
    etag = poster.client.get(f"/api/v1/demands/{demand_id}").headers["ETag"]
    assert poster.patch(demand_id, {"title_en": "First"}, etag).status_code == 200
    stale = poster.patch(demand_id, {"title_en": "Second"}, etag)
    assert stale.status_code == 412
    assert row(app, demand_id)["title_en"] == "First"
    no_etag = poster.client.patch(f"/api/v1/demands/{demand_id}", json={"title_en": "x"},
                                  headers={"X-CSRFToken": poster.csrf})
    assert no_etag.status_code == 428


def test_the_service_refuses_an_edit_of_an_older_version_with_conflict(app: Flask, people: dict[str, Any],
                                                                        poster: Poster) -> None:
    from hall.services.docking import demands

    demand_id = poster.create()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == people["owner"]))
        assert user is not None
        lock = db.session.get(Demand, demand_id).lock_version  # type: ignore[union-attr]
        with pytest.raises(Conflict):
            demands.edit_demand(user, demand_id, {"title_en": "late"}, lock - 1)


# --- tenancy -------------------------------------------------------------------------------------------------

def test_another_institution_never_sees_nor_changes_a_demand(app: Flask, poster: Poster, outsider: Poster) -> None:
    demand_id = poster.create()
    before = row(app, demand_id)
    etag = poster.client.get(f"/api/v1/demands/{demand_id}").headers["ETag"]
    assert outsider.client.get(f"/api/v1/demands/{demand_id}").status_code == 404
    assert outsider.client.get(f"/api/v1/demands/{demand_id}/history").status_code == 404
    assert outsider.patch(demand_id, {"title_en": "mine"}, etag).status_code == 404
    for action in ("submit", "withdraw", "close"):
        assert outsider.act(demand_id, action).status_code == 404
    assert outsider.client.get("/api/v1/demands").get_json() == []
    assert row(app, demand_id) == before
    assert outsider.client.get(f"/api/v1/demands/{MISSING}").status_code == 404


def test_anonymous_callers_get_401(app: Flask, poster: Poster) -> None:
    demand_id = poster.create()
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/demands").status_code == 401
    assert anonymous.post("/api/v1/demands", json=demand_body()).status_code in (401, 403)
    assert anonymous.get(f"/api/v1/demands/{demand_id}").status_code == 401
    assert anonymous.get(f"/api/v1/demands/hall/{demand_id}").status_code == 404  # a draft is not public
    assert anonymous.get("/api/v1/demands/hall").status_code == 200


def test_a_person_of_no_institution_cannot_post(app: Flask) -> None:
    with app.app_context():
        loner = UserFactory()
        db.session.commit()
        email = loner.email
    response = Poster(app, email).post("/api/v1/demands", demand_body())
    assert response.status_code == 403


def test_an_unverified_institution_may_draft_but_not_submit(app: Flask) -> None:
    with app.app_context():
        org = InstitutionFactory(verification_status="pending")
        person = UserFactory(institution=org)
        db.session.commit()
        email = person.email
    poster = Poster(app, email)
    demand_id = poster.create()
    response = poster.act(demand_id, "submit")
    assert response.status_code == 403
    assert "verified" in response.get_json()["message"]
    assert status_of(app, demand_id) == "draft"


# --- submission ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "field"), [
    ({"title_zh": None, "title_en": None}, "title_zh"),
    ({"description_zh": None, "title_en": None}, "description_zh"),  # no language has both
    ({"direction_code": None, "field_codes": []}, "direction_code"),
    ({"deadline": None}, "deadline"),
    ({"budget_min": None, "budget_max": None}, "budget_max"),
])
def test_an_incomplete_demand_cannot_be_submitted(app: Flask, poster: Poster, overrides: dict[str, Any],
                                                  field: str) -> None:
    demand_id = poster.create(**overrides)
    response = poster.act(demand_id, "submit")
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert status_of(app, demand_id) == "draft"


def test_a_deadline_in_the_past_or_today_cannot_be_submitted(app: Flask, poster: Poster) -> None:
    for days in (0, -3):
        demand_id = poster.create(deadline=in_days(days))
        response = poster.act(demand_id, "submit")
        assert response.status_code == 422 and "deadline" in response.get_json()["errors"]


def test_one_language_and_a_negotiable_budget_are_enough(app: Flask, poster: Poster) -> None:
    demand_id = poster.create(title_en=None, description_en=None, budget_min=None, budget_max=None,
                              budget_negotiable=True, field_codes=[], trl_min=None, trl_max=None, region_code=None,
                              deal_modes=[], bounty_amount=None, keywords=[])
    response = poster.act(demand_id, "submit")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "submitted"


# --- the state machine: every move allowed and refused --------------------------------------------------------

OWNER_ACTIONS = {"submit": "submitted", "withdraw": "withdrawn", "close": "closed"}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(OWNER_ACTIONS))
def test_owner_moves_follow_the_table(app: Flask, poster: Poster, status: str, action: str) -> None:
    demand_id = bring_to(app, poster, status)
    assert status_of(app, demand_id) == status
    before = row(app, demand_id)
    response = poster.act(demand_id, action)
    allowed = status in DEMAND_TRANSITIONS[action][0]
    if allowed:
        assert response.status_code == 200, response.get_json()
        assert status_of(app, demand_id) == OWNER_ACTIONS[action]
    else:
        assert response.status_code == 409, response.get_json()
        assert row(app, demand_id) == before


ADMIN_ACTIONS = ("approve", "request_changes", "reject", "suspend", "reinstate")


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_admin_moves_follow_the_table(app: Flask, poster: Poster, status: str, action: str) -> None:
    demand_id = bring_to(app, poster, status)
    before = row(app, demand_id)
    allowed = status in DEMAND_TRANSITIONS[action][0]
    if allowed:
        admin_decides(app, demand_id, action, "a reason")
        assert status_of(app, demand_id) == DEMAND_TRANSITIONS[action][1]
    else:
        with pytest.raises(Conflict):
            admin_decides(app, demand_id, action, "a reason")
        assert row(app, demand_id) == before


@pytest.mark.parametrize("action", ["request_changes", "reject", "suspend"])
def test_a_reason_is_required(app: Flask, poster: Poster, action: str) -> None:
    demand_id = bring_to(app, poster, "published" if action == "suspend" else "submitted")
    with pytest.raises(InvalidInput) as refused:
        admin_decides(app, demand_id, action, "  ")
    assert "reason" in refused.value.errors


def test_changes_requested_then_edited_and_resubmitted_then_published(app: Flask, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "changes_requested")
    assert row(app, demand_id)["status_reason"] == "unclear"
    assert poster.patch(demand_id, {"title_en": "Clearer"}).status_code == 200
    assert poster.act(demand_id, "submit").status_code == 200
    admin_decides(app, demand_id, "approve")
    assert status_of(app, demand_id) == "published"
    assert demand_id in hall_ids(app)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "demand",
                                                                    AuditEvent.object_id == str(demand_id))
                                    .order_by(AuditEvent.id)).all()
    assert events == ["demand.created", "demand.submit", "demand.request_changes", "demand.edited", "demand.submit",
                      "demand.approve"]


def test_a_submitted_demand_is_not_editable(app: Flask, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "submitted")
    assert poster.patch(demand_id, {"title_en": "x"}).status_code == 409


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "closed", "expired", "suspended"])
def test_final_and_suspended_demands_are_not_editable(app: Flask, poster: Poster, status: str) -> None:
    demand_id = bring_to(app, poster, status)
    before = row(app, demand_id)
    response = poster.patch(demand_id, {"title_en": "x"})
    assert response.status_code == 409, response.get_json()
    assert row(app, demand_id) == before


def test_approval_needs_a_verified_institution_and_an_open_deadline(app: Flask, poster: Poster,
                                                                     people: dict[str, Any]) -> None:
    demand_id = bring_to(app, poster, "submitted")
    with app.app_context():
        db.session.get(Demand, demand_id).deadline = None  # type: ignore[union-attr]
        db.session.commit()
    with pytest.raises(InvalidInput):
        admin_decides(app, demand_id, "approve")
    other = bring_to(app, poster, "submitted")
    with app.app_context():
        db.session.get(Institution, people["org"]).verification_status = "suspended"  # type: ignore[union-attr]
        db.session.commit()
    with pytest.raises(Conflict):
        admin_decides(app, other, "approve")


def test_admins_never_decide_their_own_institutions_demands(app: Flask, poster: Poster,
                                                              people: dict[str, Any]) -> None:
    demand_id = bring_to(app, poster, "submitted")
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == people["member"]))
        assert admin is not None
        admin.is_admin = True
        db.session.commit()
        with pytest.raises(Forbidden):
            demand_review.decide(admin, demand_id, "approve")
        plain = db.session.scalar(select(User).where(User.email == people["other_owner"]))
        with pytest.raises(Forbidden):
            demand_review.decide(plain, demand_id, "approve")  # type: ignore[arg-type]
        db.session.rollback()
    assert status_of(app, demand_id) == "submitted"


def test_review_decisions_reach_the_institutions_inbox(app: Flask, poster: Poster, people: dict[str, Any]) -> None:
    demand_id = bring_to(app, poster, "changes_requested")
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(Notification.user_id == people["owner_id"])).all()
        assert [n.event for n in notes] == ["demand.request_changes"]
        assert notes[0].group == "reviews" and notes[0].link == f"/workspace/demands/{demand_id}"
        assert "unclear" in notes[0].body_en and "Changes requested" in notes[0].body_en
        assert "固态储氢" in notes[0].title_zh
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.user_id == people["member_id"])) == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.user_id == people["other_owner_id"])) == 0


# --- revisions of a published demand -------------------------------------------------------------------------

def public_title(app: Flask, demand_id: int) -> str:
    response = app.test_client().get(f"/api/v1/demands/hall/{demand_id}?lang=en")
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["title"])


def test_a_revision_keeps_the_public_content_until_approved(app: Flask, poster: Poster) -> None:
    demand_id = publish(app, poster)
    original = demand_body()["title_en"]
    response = poster.patch(demand_id, {"title_en": "Revised need", "budget_max": 300_000_000})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "published" and data["has_pending_revision"]
    assert data["title_en"] == original and data["revision"]["status"] == "draft"
    assert data["revision"]["content"]["title_en"] == "Revised need"
    assert public_title(app, demand_id) == original
    assert poster.act(demand_id, "submit").status_code == 200
    assert poster.patch(demand_id, {"title_en": "meanwhile"}).status_code == 409  # under review
    assert public_title(app, demand_id) == original
    with app.app_context():
        assert [d.id for d in demand_review.review_queue()] == [demand_id]
    admin_decides(app, demand_id, "approve")
    assert public_title(app, demand_id) == "Revised need"
    after = row(app, demand_id)
    assert after["status"] == "published" and after["budget_max"] == 300_000_000
    assert after["revision_status"] == "approved" and after["revision"] is None


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_returned_or_rejected_revision_leaves_the_public_content(app: Flask, poster: Poster, decision: str) -> None:
    demand_id = publish(app, poster)
    poster.patch(demand_id, {"title_en": "Revised need"})
    poster.act(demand_id, "submit")
    admin_decides(app, demand_id, decision, "not better")
    after = row(app, demand_id)
    assert after["status"] == "published" and after["revision_status"] == DEMAND_TRANSITIONS[decision][1]
    assert after["revision_reason"] == "not better"
    assert public_title(app, demand_id) == demand_body()["title_en"]
    # returned: edited again and resubmitted; rejected: a new edit starts a fresh revision from the public content
    response = poster.patch(demand_id, {"description_en": "More detail."})
    assert response.status_code == 200
    revision = response.get_json()["revision"]
    assert revision["content"]["title_en"] == ("Revised need" if decision == "request_changes"
                                               else demand_body()["title_en"])
    assert revision["status"] == ("changes_requested" if decision == "request_changes" else "draft")
    assert poster.act(demand_id, "submit").status_code == 200


def test_the_owner_can_discard_a_revision(app: Flask, poster: Poster) -> None:
    demand_id = publish(app, poster)
    poster.patch(demand_id, {"title_en": "Revised need"})
    response = poster.act(demand_id, "withdraw")
    assert response.status_code == 200 and response.get_json()["status"] == "published"
    assert row(app, demand_id)["revision_status"] == "withdrawn"
    assert poster.act(demand_id, "submit").status_code == 409  # nothing to submit any more


def test_revision_moves_follow_their_table(app: Flask, poster: Poster) -> None:
    assert REVISION_TRANSITIONS["approve"][0] == frozenset({"submitted"})
    demand_id = publish(app, poster)
    assert poster.act(demand_id, "submit").status_code == 409  # no revision yet
    with pytest.raises(Conflict):
        admin_decides(app, demand_id, "approve")  # nothing awaits review
    poster.patch(demand_id, {"title_en": "Revised need"})
    with pytest.raises(Conflict):
        admin_decides(app, demand_id, "approve")  # a draft revision is not under review
    poster.act(demand_id, "submit")
    assert poster.act(demand_id, "submit").status_code == 409  # already under review


def test_an_incomplete_revision_cannot_be_submitted(app: Flask, poster: Poster) -> None:
    demand_id = publish(app, poster)
    poster.patch(demand_id, {"title_zh": None, "title_en": None})
    response = poster.act(demand_id, "submit")
    assert response.status_code == 422
    assert row(app, demand_id)["revision_status"] == "draft"


def test_closing_discards_a_pending_revision(app: Flask, poster: Poster) -> None:
    demand_id = publish(app, poster)
    poster.patch(demand_id, {"title_en": "Revised need"})
    poster.act(demand_id, "submit")
    response = poster.act(demand_id, "close")
    assert response.status_code == 200 and response.get_json()["closed_at"]
    after = row(app, demand_id)
    assert after["status"] == "closed" and after["revision_status"] == "withdrawn"
    assert demand_id not in hall_ids(app)


# --- expiry --------------------------------------------------------------------------------------------------

def test_the_expiry_job_moves_demands_past_their_deadline(app: Flask, poster: Poster) -> None:
    due = publish(app, poster)
    fresh = publish(app, poster)
    draft = poster.create(deadline=in_days(-2))
    assert expire_now(app, due) == [due]
    assert status_of(app, due) == "expired" and status_of(app, fresh) == "published"
    assert status_of(app, draft) == "draft"
    assert hall_ids(app) == [fresh]
    with app.app_context():
        assert db.session.get(DemandIndexEntry, due) is None


def test_the_expire_demands_command(app: Flask, poster: Poster) -> None:
    demand_id = publish(app, poster)
    with app.app_context():
        db.session.get(Demand, demand_id).deadline = db.session.get(  # type: ignore[union-attr]
            Demand, demand_id).published_at.date().replace(year=2020)  # type: ignore[union-attr]
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["hall", "expire-demands"])
    assert result.exit_code == 0, result.output
    assert f"1 demand(s) expired: {demand_id}" in result.output
    assert status_of(app, demand_id) == "expired"


def test_a_demand_suspended_past_its_deadline_cannot_be_reinstated(app: Flask, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "suspended")
    with app.app_context():
        db.session.get(Demand, demand_id).deadline = db.session.get(  # type: ignore[union-attr]
            Demand, demand_id).published_at.date().replace(year=2020)  # type: ignore[union-attr]
        db.session.commit()
    with pytest.raises(Conflict):
        admin_decides(app, demand_id, "reinstate")
    assert status_of(app, demand_id) == "suspended"


def test_history_names_the_platforms_reasons(app: Flask, poster: Poster) -> None:
    demand_id = bring_to(app, poster, "changes_requested")
    history = poster.client.get(f"/api/v1/demands/{demand_id}/history").get_json()
    decided = [h for h in history if h["action"] == "demand.request_changes"]
    assert decided and decided[0]["reason"] == "unclear" and decided[0]["by_platform"] is True
    assert the_admin(app)
