"""Reading orders: lists for buyers and sellers, one order with its history, ledger and balance."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Institution, ListingVersion, Order, User
from hall.models.ledger import LEDGER_KINDS
from hall.models.types import day_start, utcnow
from hall.services.core.access import require_admin
from hall.services.core.errors import NotFound
from hall.services.trading.ledger import BUYER_KINDS, order_balance, order_entries
from hall.services.trading.orders import order_for_party


def list_orders(actor: User, role: str, *, status: str | None = None, listing_id: int | None = None,
                created_from: date | None = None, created_to: date | None = None, page: int = 1,
                per_page: int = 20) -> tuple[list[Order], int]:
    """The orders the actor's institution places (buyer) or receives (seller), newest first, and their count."""
    if actor.institution_id is None:
        return [], 0
    side = Order.buyer_institution_id if role == "buyer" else Order.seller_institution_id
    query = select(Order).where(side == actor.institution_id)
    if status:
        query = query.where(Order.status == status)
    if listing_id:
        query = query.where(Order.listing_id == listing_id)
    if created_from:
        query = query.where(Order.created_at >= day_start(created_from))
    if created_to:
        query = query.where(Order.created_at < day_start(created_to) + timedelta(days=1))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total


def order_history(order_id: int) -> list[dict[str, Any]]:
    """Every step of the order (from the audit trail), oldest first; people are not named to the other side."""
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "order",
                                                         AuditEvent.object_id == str(order_id))
                                .order_by(AuditEvent.id)).all()
    admins = set(db.session.scalars(select(User.id).where(User.is_admin.is_(True))))
    return [{"occurred_at": e.occurred_at, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "reason": e.reason, "by_platform": e.actor_id is None or e.actor_id in admins,
             "side": _acting_side(e.details)} for e in events]


def _acting_side(details: str | None) -> str | None:
    """The side that took a step either side may take (a cancellation), as the audit event recorded it."""
    try:
        side = json.loads(details).get("side") if details else None
    except (ValueError, AttributeError):
        return None
    return side if side in ("buyer", "seller") else None


class OrderDetail:
    """An order with its history, ledger entries and balance; other attributes are the order's."""

    def __init__(self, order: Order) -> None:
        balance = order_balance(order.id)
        self.order = order
        self.history = order_history(order.id)
        self.ledger = order_entries(order.id)
        self.balance = {**asdict(balance), "held": balance.held, "seller_due": balance.seller_due}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.order, name)


def order_detail(order: Order) -> OrderDetail:
    """The order's fields with its history, ledger entries and balance."""
    return OrderDetail(order)


def party_order_detail(actor: User, order_id: int) -> OrderDetail:
    """One order of the actor's institution (either side); 404 for anyone else. The buyer sees its own money's
    moves only: the platform's fee and the settlement to the seller are between the platform and the seller."""
    order = order_for_party(actor, order_id)
    detail = order_detail(order)
    if actor.institution_id == order.buyer_institution_id:
        detail.ledger = [entry for entry in detail.ledger if entry.kind in BUYER_KINDS]
        hidden = {f"ledger.{kind}" for kind in LEDGER_KINDS if kind not in BUYER_KINDS}
        detail.history = [step for step in detail.history if step["action"] not in hidden]
        detail.balance = {key: value for key, value in detail.balance.items()
                          if key in ("charged", "refunded", "disputed")}
    return detail


def admin_order(admin: User, order_id: int) -> Order:
    """Any order, for the admin console (admins only)."""
    require_admin(admin)
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    return order


def public_notices(page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """Negotiated prices of state-funded achievements under public notice (公示) now, ending soonest first."""
    now = utcnow()
    query = (select(Order, ListingVersion, Institution)
             .join(ListingVersion, ListingVersion.id == Order.listing_version_id)
             .join(Institution, Institution.id == Order.seller_institution_id)
             .where(Order.notice_until > now, Order.status.in_(("accepted", "awaiting_payment"))))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.order_by(Order.notice_until, Order.id).offset((page - 1) * per_page)
                              .limit(per_page)).all()
    return [{"order_reference": order.reference, "listing_id": order.listing_id, "title_zh": version.title_zh,
             "title_en": version.title_en, "seller": {"id": seller.id, "name_zh": seller.name_zh,
                                                      "name_en": seller.name_en},
             "deal_mode": order.deal_mode, "amount": order.amount, "currency": order.currency,
             "notice_from": order.accepted_at, "notice_until": order.notice_until}
            for order, version, seller in rows], total
