"""Settlements: an admin records the transfer paid to the seller of a completed order, never more than is due
(what the seller received less the platform's fee and what was settled before), each bank reference once."""
from __future__ import annotations

from datetime import date
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, update

from hall.extensions import db
from hall.labels import state_word
from hall.models import Order, User
from hall.money import money_text
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.trading import order_notices
from hall.services.trading.ledger import add_entry, entry_by_reference, order_balance
from hall.services.trading.order_rules import bank_today
from hall.services.trading.orders import order_for_admin


def record_settlement(admin: User, order_id: int, *, amount: int, bank_reference: str, value_date: date) -> Order:
    """An admin records the transfer paid to the seller for a completed order (never more than is due)."""
    order = order_for_admin(admin, order_id)
    if order.status != "completed":
        raise Conflict(_("Only completed orders are settled; this one is “%(state)s”.", state=state_word(order.status)))
    bank_reference = " ".join((bank_reference or "").split())
    if not bank_reference:
        raise InvalidInput.field("bank_reference", _("the bank's reference of the transfer to the seller is "
                                                     "required"))
    due = order_balance(order.id).seller_due
    if due <= 0:
        raise InvalidInput.field("amount", _("nothing more is due to the seller of this order"))
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= due:
        raise InvalidInput.field("amount", _("between %(least)s and %(due)s is due to the seller",
                                              least=money_text(1, order.currency),
                                              due=money_text(due, order.currency)))
    if value_date > bank_today():
        raise InvalidInput.field("value_date", _("cannot be in the future"))
    if entry_by_reference(f"settlement:{bank_reference}") is not None:
        raise Conflict(_("A settlement with bank reference %(reference)s has already been recorded.",
                         reference=bank_reference))
    result = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(Order).where(Order.id == order.id, Order.settled_amount == order.settled_amount)
        .values(settled_amount=Order.settled_amount + amount).execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        raise Conflict(_("Another settlement was recorded meanwhile; reload and check what is due."))
    db.session.expire(order)
    add_entry(order, "settlement", amount, rail="bank_transfer", provider_reference=f"settlement:{bank_reference}",
              actor=admin, value_date=value_date)
    order_notices.tell(order, "order.settled", "seller", amount=amount)
    return order
