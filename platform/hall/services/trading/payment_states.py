"""The payment's state machine: one transition table, each step a compare-and-set with an audit event."""
from __future__ import annotations

from typing import Any

from hall.models import Payment
from hall.services.core.state import Machine, try_transition

PAYMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "fail": (frozenset({"pending"}), "failed"),
    # From cancelled too: if the provider reports money taken, it was (the order decides what that means).
    "succeed": (frozenset({"pending", "failed", "cancelled"}), "succeeded"),
    "cancel": (frozenset({"pending", "failed"}), "cancelled"),
}
PAYMENT_MACHINE = Machine("payment", PAYMENT_TRANSITIONS)
OPEN_PAYMENT_STATUSES = ("pending", "failed")
# Methods paid through the card gateway (Stripe, or the fake gateway standing in for it: the method is the rail the
# buyer chose, never the gateway's name).
PROVIDER_METHODS = ("stripe",)


def placeholder_reference(order_reference: str, attempt: int) -> str:
    """The reference a payment carries until its provider object exists (and a bank transfer's for good)."""
    return f"{order_reference}-{attempt}"


def has_intent(payment: Payment) -> bool:
    """True when the card payment's PaymentIntent was created (its reference is the provider's id)."""
    return payment.method in PROVIDER_METHODS and payment.provider_reference.startswith("pi_")


def transition_payment(payment: Payment, action: str, **values: Any) -> bool:
    """Move a payment on if its table allows it from where it is; False (and no change) when it does not.

    Never raises for a step that is not allowed: provider events arrive late and out of order (PAY-04)."""
    return try_transition(PAYMENT_MACHINE, payment, action,
                          details={"order_id": payment.order_id, "method": payment.method}, **values)
