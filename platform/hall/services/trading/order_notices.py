"""What the two sides of an order are told when it moves (the notifications inbox and mail, group "orders").

Each event has an English title and body template (marked with ``N_``, translated when rendered per language);
the listing's title, amounts (``money_text``) and state names (``state_word``) are filled in inside each language.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import get_locale

from hall.labels import state_word
from hall.library_messages import N_
from hall.models import Order
from hall.money import money_text
from hall.services.core import inbox

# event -> (title, body); every template may use reference, title, amount, state and note.
TEMPLATES: dict[str, tuple[str, str]] = {
    "order.created": (N_("New order %(reference)s"),
                      N_("A buyer ordered “%(title)s” for %(amount)s (order %(reference)s). Status: %(state)s.")),
    "order.requested": (N_("Quote requested: order %(reference)s"),
                        N_("A buyer asks for a quote on “%(title)s” (order %(reference)s).\nNote: %(note)s")),
    "order.quoted": (N_("Quote received for order %(reference)s: %(amount)s"),
                     N_("The seller quoted %(amount)s for “%(title)s” (order %(reference)s).\nNote: %(note)s")),
    "order.accepted": (N_("Quote accepted: order %(reference)s"),
                       N_("The buyer accepted your quote of %(amount)s for “%(title)s” (order %(reference)s).")),
    "order.paid": (N_("Payment recorded: order %(reference)s"),
                   N_("A payment of %(amount)s for “%(title)s” was recorded (order %(reference)s). "
                      "Status: %(state)s.")),
    "order.delivered": (N_("Delivered: order %(reference)s"),
                        N_("The seller delivered “%(title)s” (order %(reference)s). Confirm receipt or open a "
                           "dispute.\nDelivery note: %(note)s")),
    "order.completed": (N_("Completed: order %(reference)s"),
                        N_("The buyer confirmed receipt of “%(title)s” (order %(reference)s). Status: %(state)s.")),
    "order.cancelled": (N_("Cancelled: order %(reference)s"),
                        N_("The other side cancelled order %(reference)s for “%(title)s”.\nReason: %(note)s")),
    "order.disputed": (N_("Dispute opened: order %(reference)s"),
                       N_("The buyer disputes order %(reference)s for “%(title)s”; the platform will decide.\n"
                          "Reason: %(note)s")),
    "order.refunded": (N_("Refund of %(amount)s: order %(reference)s"),
                       N_("A refund of %(amount)s for order %(reference)s (“%(title)s”) is on its way. "
                          "Status: %(state)s.\nReason: %(note)s")),
    "order.refund_failed": (N_("Refund failed: order %(reference)s"),
                            N_("The refund of %(amount)s for order %(reference)s (“%(title)s”) did not go through "
                               "at the payment provider; the platform will follow up.\nProvider status: %(note)s")),
    "order.settled": (N_("Settlement of %(amount)s: order %(reference)s"),
                      N_("The platform paid out %(amount)s to you for order %(reference)s (“%(title)s”).")),
    "order.notice_ended": (N_("Public notice ended: order %(reference)s"),
                           N_("The public notice (公示) of the negotiated price of %(amount)s for “%(title)s” "
                              "(order %(reference)s) has ended without objection; the order can now be paid.")),
}


def _listing_title(order: Order) -> Callable[[], str]:
    version = order.listing_version

    def title() -> str:
        if str(get_locale()) == "en":
            return version.title_en or version.title_zh or f"#{order.listing_id}"
        return version.title_zh or version.title_en or f"#{order.listing_id}"

    return title


def _recipients(order: Order, to: str) -> list[int]:
    return {"buyer": [order.buyer_institution_id], "seller": [order.seller_institution_id],
            "both": [order.buyer_institution_id, order.seller_institution_id]}[to]


def tell(order: Order, event: str, to: str, *, amount: int | None = None, note: str | None = None) -> int:
    """Notify the members of one side of the order (``to``: buyer, seller or both) of ``event``; returns how many
    people were told. ``amount`` defaults to the order's amount."""
    title, body = TEMPLATES[event]
    value = order.amount if amount is None else amount
    currency = order.currency
    params: dict[str, Any] = {
        "reference": order.reference, "title": _listing_title(order),
        "amount": (lambda: money_text(value, currency)) if value is not None else "—",
        "state": lambda: state_word(order.status), "note": note or "—",
    }
    return sum(inbox.notify(event, group="orders", title=title, body=body, institution_id=institution_id,
                            params=params, link=f"/workspace/orders/{order.id}")
               for institution_id in _recipients(order, to))
