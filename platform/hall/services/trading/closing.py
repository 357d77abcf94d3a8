"""Closing orders by the clock (batch jobs, ``flask hall expire-orders`` / ``complete-orders``): unpaid orders past
their reservation expire and release what they held (PAY-14); delivered orders the buyer did not confirm complete.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hall.extensions import db
from hall.models import Order
from hall.models.types import utcnow
from hall.payments import GatewayError
from hall.services.core.audit import lock_chain
from hall.services.core.errors import Conflict
from hall.services.core.transactions import end_transaction
from hall.services.trading import inventory, provider_calls
from hall.services.trading.orders import HOLDING_STATUSES, transition_order


def _expire_one(order_id: int, now: datetime) -> bool:
    """Expire one due order in its own transactions: its card intents cancelled at Stripe with none open, then
    the order expired and what it held released, committed. False when it was paid or moved on meanwhile."""
    intents = provider_calls.open_intents(order_id)
    end_transaction()
    if intents:
        provider_calls.cancel_at_provider(intents)
    lock_chain()
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
