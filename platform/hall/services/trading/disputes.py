"""Disputes: the buyer disputes a paid order; an admin closes it in the seller's favour (the order completes) or
refunds the buyer (``hall.services.trading.refunds.refund_order``). Disputes raised at the card provider arrive
by webhook (``hall.services.trading.stripe_events``)."""
from __future__ import annotations

from flask_babel import gettext as _

from hall.models import Order, User
from hall.models.types import utcnow
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.trading import order_notices
from hall.services.trading.orders import order_for_admin, order_for_party, transition_order


def open_dispute(actor: User, order_id: int, reason: str) -> Order:
    """The buyer disputes a paid order; an admin resolves it (refund, or completion)."""
    order = order_for_party(actor, order_id, "buyer")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", _("describe the problem"))
    if order.settled_amount:
        raise Conflict(_("The seller has already been settled for this order; contact the platform."))
    transition_order(order, "dispute", actor, reason=reason)
    order_notices.tell(order, "order.disputed", "seller", note=reason)
    return order


def resolve_dispute(admin: User, order_id: int, reason: str) -> Order:
    """An admin closes a dispute in the seller's favour: the order completes (refund instead to side with the
    buyer)."""
    order = order_for_admin(admin, order_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", _("say how the dispute was resolved"))
    transition_order(order, "resolve", admin, reason=reason, completed_at=utcnow())
    return order
