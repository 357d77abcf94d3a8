"""Enquiry threads through the API: a market (``open_market``) with second members on both sides, an unverified
institution and a published demand of the buyer's institution; opening threads, writing (text and files), and
reading what is committed (threads, notifications, audit events)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Institution, Notification, Thread, User
from hall.models.types import utcnow
from hall.services.docking import demand_review, demands
from tests.support.factories import InstitutionFactory, UserFactory
from tests.support.orders import Market, Party, open_market

THREADS = "/api/v1/threads"


@dataclass
class Talk:
    """A market and everyone around enquiries: buyer and seller (with a colleague each), a third institution, an
    unverified one, a person of no institution, an admin, and a published demand posted by the buyer's
    institution (so the seller can answer it)."""

    market: Market
    buyer: Party
    buyer_colleague: Party
    seller: Party
    seller_colleague: Party
    outsider: Party
    unverified: Party
    loner: Party
    admin: Party
    demand: int
    buyer_colleague_id: int
    seller_colleague_id: int

    @property
    def listing(self) -> int:
        """The fixed-price achievement (transfer or licences, 500,000.00 yuan)."""
        return self.market.licence


def publish_demand(owner_email: str, admin_id: int) -> int:
    """A demand of ``owner_email``'s institution, submitted and approved (commits); returns its id."""
    owner = db.session.scalar(select(User).where(User.email == owner_email))
    admin = db.session.get(User, admin_id)
    assert owner is not None and admin is not None
    content = {"title_zh": "寻找固态电池隔膜技术", "title_en": "Looking for solid-state battery separators",
               "description_zh": "需要可量产的固态电池隔膜方案。", "description_en": "A separator we can produce.",
               "direction_code": "energy", "budget_negotiable": True,
               "deadline": (utcnow() + timedelta(days=60)).date()}
    demand = demands.create_demand(owner, content)
    demands.submit_demand(owner, demand.id)
    db.session.commit()
    demand_review.decide(admin, demand.id, "approve")
    db.session.commit()
    return demand.id


def open_talk(app: Flask) -> Talk:
    """The market of tests/support/orders.py plus colleagues, an unverified institution, a loner and a demand."""
    market = open_market(app)
    parties = market.parties
    with app.app_context():
        buyer_org = db.session.get(Institution, parties.buyer_org)
        seller_org = db.session.get(Institution, parties.seller_org)
        buyer_colleague = UserFactory(institution=buyer_org, institution_role="member")
        seller_colleague = UserFactory(institution=seller_org, institution_role="member")
        pending_org = InstitutionFactory(verification_status="pending")
        unverified = UserFactory(institution=pending_org, institution_role="owner")
        loner = UserFactory()
        db.session.commit()
        ids = buyer_colleague.id, seller_colleague.id
        emails = buyer_colleague.email, seller_colleague.email, unverified.email, loner.email
        demand = publish_demand(parties.buyer, parties.admin_id)
        db.session.remove()
    return Talk(market, market.buyer, Party(app, emails[0]), market.seller, Party(app, emails[1]), market.outsider,
                Party(app, emails[2]), Party(app, emails[3]), market.admin, demand, *ids)


def open_thread(party: Party, listing_id: int | None = None, demand_id: int | None = None,
                body: str = "请问这项技术是否支持独家许可？", **extra: Any) -> Any:
    """POST /threads as ``party`` about a listing or a demand."""
    payload: dict[str, Any] = {"body": body, **extra}
    if listing_id is not None:
        payload["listing_id"] = listing_id
    if demand_id is not None:
        payload["demand_id"] = demand_id
    return party.post(THREADS, payload)


def started(party: Party, listing_id: int | None = None, demand_id: int | None = None, **extra: Any) -> int:
    """Open a thread that must be created (201); returns its id."""
    response = open_thread(party, listing_id, demand_id, **extra)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def write(party: Party, thread_id: int, body: str = "好的，我们明天联系。") -> Any:
    """POST a text message."""
    return party.post(f"{THREADS}/{thread_id}/messages", {"body": body})


def send_file(party: Party, thread_id: int, content: bytes, name: str, body: str | None = None) -> Any:
    """POST a message with a file (multipart)."""
    data: dict[str, Any] = {"file": (io.BytesIO(content), name)}
    if body is not None:
        data["body"] = body
    return party.client.post(f"{THREADS}/{thread_id}/messages/upload", data=data,
                             headers={"X-CSRFToken": party.csrf}, content_type="multipart/form-data")


def unread_of(party: Party, thread_id: int) -> int:
    """The unread count the list shows ``party`` for one thread."""
    response = party.get(THREADS, query_string={"page_size": 50})
    assert response.status_code == 200, response.get_json()
    counts = {row["id"]: row["unread_count"] for row in response.get_json()}
    return int(counts[thread_id])


def thread_row(app: Flask, thread_id: int) -> dict[str, Any]:
    """The committed thread's columns."""
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread is not None
        row = {column.name: getattr(thread, column.key) for column in Thread.__mapper__.columns}
        db.session.remove()
    return row


def notifications_of(app: Flask, user_id: int, event: str | None = None) -> list[dict[str, Any]]:
    """A person's inbox rows (optionally of one event)."""
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user_id)
        if event is not None:
            query = query.where(Notification.event == event)
        rows = [{"event": n.event, "group": n.group, "link": n.link, "title_en": n.title_en, "body_en": n.body_en}
                for n in db.session.scalars(query.order_by(Notification.id))]
        db.session.remove()
    return rows


def user_id_of(app: Flask, email: str) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        db.session.remove()
    assert user_id is not None
    return int(user_id)


def events(app: Flask, action: str) -> int:
    """How many audit events of ``action`` there are."""
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))
        db.session.remove()
    return int(count or 0)
