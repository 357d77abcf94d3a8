"""Closing orders by the clock (batch jobs, ``flask hall expire-orders`` / ``complete-orders``): unpaid orders past
their reservation expire and release what they held (PAY-14); delivered orders the buyer did not confirm complete;
both sides are told when the public notice (公示) of a negotiated price ends (``flask hall announce-notices``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent, Order
from hall.models.types import utcnow
from hall.payments import GatewayError
from hall.services.core.audit import lock_job, lock_row, record_event
from hall.services.core.errors import Conflict
from hall.services.core.transactions import end_transaction
from hall.services.trading import inventory, order_notices, provider_calls
from hall.services.trading.orders import HOLDING_STATUSES, transition_order


def _expire_one(order_id: int, now: datetime) -> bool:
    """Expire one due order in its own transactions: its card intents cancelled at Stripe with none open, then
    the order expired and what it held released, committed. False when it was paid or moved on meanwhile."""
    intents = provider_calls.open_intents(order_id)
    end_transaction()
    if intents:
        provider_calls.cancel_at_provider(intents)
    lock_row(Order, order_id)
    order = db.session.get(Order, order_id)
    if order is None or order.status not in HOLDING_STATUSES or order.reserved_until is None \
            or order.reserved_until >= now:
        db.session.rollback()
        return False
    provider_calls.cancel_recorded(order_id, intents)
    transition_order(order, "expire", None, reason="not paid in time", closed_at=now)
    inventory.release(order)
    end_transaction()
    return True


def expire_due_orders(now: datetime | None = None) -> list[int]:
    """Unpaid orders past their reservation end: expired, their stock or exclusivity released (PAY-14).

    A batch job (``flask hall expire-orders``): it commits order by order, so one slow or failing call to Stripe
    holds no lock and costs no other order its expiry; an order Stripe cannot cancel now is tried next run."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Order.id).where(Order.status.in_(HOLDING_STATUSES),
                                                         Order.reserved_until < now).order_by(Order.id)))
    end_transaction()
    expired = []
    for order_id in due:
        try:
            done = _expire_one(order_id, now)
        except (Conflict, GatewayError):  # paid meanwhile, or Stripe unreachable: try again next run
            db.session.rollback()
            continue
        if done:
            expired.append(order_id)
    return expired


def complete_due_orders(now: datetime | None = None) -> list[int]:
    """Delivered orders the buyer did not confirm within the set period complete automatically."""
    now = now or utcnow()
    due = db.session.scalars(select(Order).where(Order.status == "delivered", Order.complete_after < now)
                             .order_by(Order.id)).all()
    completed = []
    for order in due:
        try:
            transition_order(order, "complete", None, reason="completed automatically after delivery",
                             completed_at=now)
        except Conflict:
            continue
        completed.append(order.id)
    return completed


def announce_ended_notices(now: datetime | None = None) -> list[int]:
    """Tell buyer and seller that an accepted order's public notice (公示) has ended and it can be paid; each order
    once (an ``order.notice_ended`` audit event marks it told). Returns the orders announced."""
    now = now or utcnow()
    lock_job("announce_ended_notices")  # one announcer at a time: the audit event says an order was told
    due = list(db.session.scalars(select(Order).where(Order.status.in_(HOLDING_STATUSES),
                                                      Order.notice_until.is_not(None), Order.notice_until <= now)
                                  .order_by(Order.id)))
    if not due:
        return []
    told = set(db.session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "order.notice_ended", AuditEvent.object_type == "order",
        AuditEvent.object_id.in_([str(order.id) for order in due]))))
    announced = []
    for order in due:
        if str(order.id) in told:
            continue
        record_event("order.notice_ended", "order", order.id, details={"notice_until": order.notice_until.isoformat()
                                                                       if order.notice_until else None})
        order_notices.tell(order, "order.notice_ended", "both")
        announced.append(order.id)
    return announced
