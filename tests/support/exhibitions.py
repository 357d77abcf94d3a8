"""Test helpers of docking exhibitions: an exhibition made and published by an admin through the services, its
roadshow filled through the real invitations and applications, and the ids the web route inventory needs."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from hall.extensions import db
from hall.models import User
from hall.models.types import utcnow
from hall.services.policy import exhibitions, exhibitions_entries
from tests.support.orders import Market


def hours(n: float) -> datetime:
    """A UTC time ``n`` hours from now."""
    return utcnow() + timedelta(hours=n)


def exhibition_values(**overrides: Any) -> dict[str, Any]:
    """A complete hybrid exhibition in a week, two days long, for the energy and materials directions."""
    values: dict[str, Any] = {
        "title_zh": "新能源成果对接会", "title_en": "New energy docking exhibition",
        "description_zh": "储能与氢能成果路演。", "description_en": "Roadshow of storage and hydrogen achievements.",
        "starts_at": hours(24 * 7), "ends_at": hours(24 * 9), "mode": "hybrid", "place": "深圳会展中心 3 号馆",
        "online_url": "https://meeting.example.cn/room/1", "directions": ["energy", "materials"],
        "registration_deadline": hours(24 * 6), "capacity": 50,
    }
    values.update(overrides)
    return values


def as_admin(app: Flask, admin_id: int, action: Any) -> Any:
    """Run ``action(admin)`` through the services and commit; returns its value (ids, not rows)."""
    with app.app_context():
        value = action(db.session.get(User, admin_id))
        db.session.commit()
        db.session.remove()
    return value


def make_exhibition(app: Flask, admin_id: int, *, publish: bool = True, **overrides: Any) -> int:
    """An exhibition (published unless ``publish`` is False); returns its id."""
    def create(admin: User) -> int:
        exhibition = exhibitions.create_exhibition(admin, exhibition_values(**overrides))
        if publish:
            exhibitions.publish_exhibition(admin, exhibition.id)
        return exhibition.id
    return int(as_admin(app, admin_id, create))


def invite(app: Flask, admin_id: int, exhibition_id: int, **subject: int) -> int:
    """The admin invites a listing (listing_id=) or demand (demand_id=); returns the entry's id."""
    return int(as_admin(app, admin_id, lambda admin: exhibitions_entries.invite(admin, exhibition_id, **subject).id))


def on_roadshow(market: Market, exhibition_id: int, listing_id: int) -> int:
    """The listing invited and accepted by its (seller) institution; returns the entry's id."""
    entry_id = invite(market.app, market.parties.admin_id, exhibition_id, listing_id=listing_id)
    response = market.seller.post(f"/api/v1/exhibitions/{exhibition_id}/entries/{entry_id}/accept")
    assert response.status_code == 200, response.get_json()
    return entry_id


def workspace_ids(market: Market) -> dict[str, int]:
    """The ids the web route inventory needs for this feature's workspace rules, made in ``market`` (the seller's
    institution owns them; see tests/support/web_routes.py)."""
    exhibition_id = make_exhibition(market.app, market.parties.admin_id)
    entry_id = invite(market.app, market.parties.admin_id, exhibition_id, listing_id=market.licence)
    return {"exhibition_id": exhibition_id, "exhibition_entry_id": entry_id}
