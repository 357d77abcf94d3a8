"""Settlements: an admin records the transfer paid to the seller of a completed order, never more than is due
(what the seller received less the platform's fee and what was settled before), each bank reference once."""
from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, update

from hall.extensions import db
from hall.models import Order, User
from hall.services.core import notifications
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.trading.ledger import add_entry, entry_by_reference, order_balance
from hall.services.trading.order_rules import bank_today
from hall.services.trading.orders import order_for_admin


def record_settlement(admin: User, order_id: int, *, amount: int, bank_reference: str, value_date: date) -> Order:
    """An admin records the transfer paid to the seller for a completed order (never more than is due)."""
    order = order_for_admin(admin, order_id)
    if order.status != "completed":
        raise Conflict(f"Only completed orders are settled; this one is {order.status}.")
    bank_reference = " ".join((bank_reference or "").split())
    if not bank_reference:
        raise InvalidInput.field("bank_reference", "the bank's reference of the transfer to the seller is required")
    due = order_balance(order.id).seller_due
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= due:
        raise InvalidInput.field("amount", f"between 1 and {due} (minor units) is due to the seller")
    if value_date > bank_today():
        raise InvalidInput.field("value_date", "cannot be in the future")
    if entry_by_reference(f"settlement:{bank_reference}") is not None:
        raise Conflict(f"A settlement with bank reference {bank_reference} has already been recorded.")
    result = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(Order).where(Order.id == order.id, Order.settled_amount == order.settled_amount)
        .values(settled_amount=Order.settled_amount + amount).execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        raise Conflict("Another settlement was recorded meanwhile; reload and check what is due.")
    db.session.expire(order)
    add_entry(order, "settlement", amount, rail="bank_transfer", provider_reference=f"settlement:{bank_reference}",
              actor=admin, value_date=value_date)
    notifications.send_order_update(order, order.seller_institution_id, f"已结算 {amount} / settled {amount}")
    return order
