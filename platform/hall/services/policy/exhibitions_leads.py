"""What an exhibition brought: the enquiries and orders started from it (their ``exhibition_id``), counted for the
console (the whole exhibition) and for an institution (the leads on its own entries only)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from hall.extensions import db
from hall.models import Order, Thread, User
from hall.services.core.access import require_member
from hall.services.policy.exhibitions import admin_exhibition


@dataclass
class LeadCounts:
    """Enquiries started, orders placed, orders paid, and what was paid net of refunds (per currency)."""

    enquiries: int = 0
    orders: int = 0
    paid_orders: int = 0
    paid_amounts: dict[str, int] = field(default_factory=dict)


def _counts(exhibition_id: int, institution_id: int | None) -> LeadCounts:
    threads = select(func.count(Thread.id)).where(Thread.exhibition_id == exhibition_id)
    orders = select(Order.currency, func.count(Order.id),
                    func.sum(func.coalesce(Order.paid_amount, 0) - func.coalesce(Order.refunded_amount, 0)),
                    func.count(Order.id).filter(Order.paid_amount > 0)).where(Order.exhibition_id == exhibition_id)
    if institution_id is not None:
        threads = threads.where(Thread.counterpart_institution_id == institution_id)
        orders = orders.where(Order.seller_institution_id == institution_id)
    counts = LeadCounts(enquiries=int(db.session.scalar(threads) or 0))
    for currency, placed, net, paid in db.session.execute(orders.group_by(Order.currency)):
        counts.orders += int(placed)
        counts.paid_orders += int(paid or 0)
        if paid:
            counts.paid_amounts[currency] = int(net or 0)
    return counts


def exhibition_leads(admin: User, exhibition_id: int) -> LeadCounts:
    """The whole exhibition's leads, for an admin."""
    admin_exhibition(admin, exhibition_id)
    return _counts(exhibition_id, None)


def own_leads(actor: User, exhibition_id: int) -> LeadCounts:
    """The leads the exhibition brought to the actor's institution (enquiries it received, orders it sold)."""
    org = require_member(actor)
    return _counts(exhibition_id, org.id)
