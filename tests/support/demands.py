"""Demand postings (技术需求) through the API as their owner: ``Poster`` (a signed-in member of the posting
institution), a complete demand body, creating and publishing demands, an admin's review decisions through the
service, and bringing a demand to any status through the real transitions."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import Demand, User
from hall.models.types import utcnow
from hall.services.docking import demand_review
from tests.support.factories import UserFactory, sign_in


def in_days(days: int) -> str:
    """An ISO date ``days`` from today."""
    return (utcnow().date() + timedelta(days=days)).isoformat()


def demand_body(**overrides: Any) -> dict[str, Any]:
    """A complete bilingual demand: a hydrogen storage need with a budget, a TRL window and a bounty."""
    body: dict[str, Any] = {
        "title_zh": "高密度固态储氢材料技术需求",
        "title_en": "Solid-state hydrogen storage material wanted",
        "description_zh": "寻求体积储氢密度高、可循环的固态储氢材料及中试工艺。",
        "description_en": "We need a high-density, cyclable solid-state hydrogen storage material and pilot process.",
        "keywords": ["储氢", "hydrogen storage"],
        "direction_code": "energy",
        "field_codes": ["energy.hydrogen"],
        "trl_min": 4,
        "trl_max": 7,
        "budget_min": 50_000_000,
        "budget_max": 200_000_000,
        "currency": "CNY",
        "budget_negotiable": False,
        "deadline": in_days(60),
        "region_code": "440305",
        "deal_modes": ["transfer", "joint_development"],
        "bounty_amount": 10_000_000,
    }
    body.update(overrides)
    return body


class Poster:
    """A signed-in member of the posting institution."""

    def __init__(self, app: Flask, email: str) -> None:
        self.client = app.test_client()
        self.csrf = sign_in(self.client, email)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf})

    def create(self, **overrides: Any) -> int:
        response = self.post("/api/v1/demands", demand_body(**overrides))
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def patch(self, demand_id: int, body: dict[str, Any], etag: str | None = None) -> Any:
        etag = etag or self.client.get(f"/api/v1/demands/{demand_id}").headers["ETag"]
        return self.client.patch(f"/api/v1/demands/{demand_id}", json=body,
                                 headers={"X-CSRFToken": self.csrf, "If-Match": etag})

    def act(self, demand_id: int, action: str) -> Any:
        return self.post(f"/api/v1/demands/{demand_id}/{action}")


def the_admin(app: Flask) -> int:
    """The id of a platform admin of no institution (made if there is none)."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True), User.institution_id.is_(None))) \
            or UserFactory(is_admin=True)
        db.session.commit()
        return admin.id


def admin_decides(app: Flask, demand_id: int, action: str, reason: str | None = None) -> None:
    """The platform admin approves, requests changes, rejects, suspends or reinstates."""
    admin_id = the_admin(app)
    with app.app_context():
        admin = db.session.get(User, admin_id)
        assert admin is not None
        if action in ("approve", "request_changes", "reject"):
            demand_review.decide(admin, demand_id, action, reason)
        elif action == "suspend":
            demand_review.suspend_demand(admin, demand_id, reason)
        else:
            demand_review.reinstate_demand(admin, demand_id, reason)
        db.session.commit()
        db.session.remove()


def publish(app: Flask, poster: Poster, **overrides: Any) -> int:
    """Create, submit and approve a demand; returns its id."""
    demand_id = poster.create(**overrides)
    response = poster.act(demand_id, "submit")
    assert response.status_code == 200, response.get_json()
    admin_decides(app, demand_id, "approve")
    return demand_id


def bring_to(app: Flask, poster: Poster, status: str) -> int:
    """A new demand in ``status`` (draft, submitted, changes_requested, published, rejected, withdrawn, suspended,
    closed, expired), reached through the real transitions."""
    demand_id = poster.create()
    if status == "draft":
        return demand_id
    if status == "withdrawn":
        assert poster.act(demand_id, "withdraw").status_code == 200
        return demand_id
    assert poster.act(demand_id, "submit").status_code == 200
    if status == "submitted":
        return demand_id
    if status in ("changes_requested", "rejected"):
        admin_decides(app, demand_id, "request_changes" if status == "changes_requested" else "reject", "unclear")
        return demand_id
    admin_decides(app, demand_id, "approve")
    if status == "suspended":
        admin_decides(app, demand_id, "suspend", "misleading")
    elif status == "closed":
        assert poster.act(demand_id, "close").status_code == 200
    elif status == "expired":
        expire_now(app, demand_id)
    return demand_id


def expire_now(app: Flask, demand_id: int) -> list[int]:
    """Move the demand's deadline into the past and run the expiry job; returns what it expired."""
    with app.app_context():
        demand = db.session.get(Demand, demand_id)
        assert demand is not None
        demand.deadline = utcnow().date() - timedelta(days=1)
        db.session.commit()
        expired = demand_review.expire_due_demands()
        db.session.commit()
        db.session.remove()
    return expired


def status_of(app: Flask, demand_id: int) -> str:
    """The demand's stored status."""
    with app.app_context():
        demand = db.session.get(Demand, demand_id)
        assert demand is not None
        status = demand.status
        db.session.remove()
    return status
