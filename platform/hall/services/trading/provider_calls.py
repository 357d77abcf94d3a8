"""Money steps that need the payment provider, done without holding a database transaction across the call.

A call to Stripe may take seconds (or hang until its timeout). Made inside a transaction it would hold what the
transaction holds — on SQLite the database's write lock, on PostgreSQL row locks and audit stream locks —
and every other buyer would wait for Stripe. So such a step is split:

1. check and record what is about to be asked (a payment or refund row carrying the idempotency key built from
   our ids), then ``hall.services.core.transactions.end_transaction()``;
2. call the provider with no transaction open (``hall.payments.gateway()`` refuses otherwise) and a timeout well
   under the worker's;
3. apply the answer in a new short transaction (the request's own commit, or ``end_transaction()`` again).

A crash between 1 and 3 leaves a record whose key lets a retry, or ``flask hall reconcile-stripe``, finish the
work without doing it twice. Cancelling intents goes the other way round: the provider is asked first (after
checking who asks), and the order moves only once the intents are cancelled there.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from hall.extensions import db
from hall.models import Payment
from hall.payments import GatewayRefused, gateway
from hall.services.core.errors import Conflict
from hall.services.trading.payment_states import OPEN_PAYMENT_STATUSES, PROVIDER_METHODS, has_intent, transition_payment


@dataclass(frozen=True)
class IntentRef:
    """A recorded card payment whose PaymentIntent exists at the provider (plain values: safe between steps)."""

    payment_id: int
    order_id: int
    attempt: int
    intent_id: str

    @property
    def cancel_key(self) -> str:
        """The idempotency key of cancelling this intent (the same on every retry)."""
        return f"hall-order-{self.order_id}-cancel-{self.attempt}"


def open_intents(order_id: int) -> list[IntentRef]:
    """The order's unpaid card payments that have an intent at the provider."""
    found = db.session.scalars(select(Payment).where(Payment.order_id == order_id,
                                                     Payment.method.in_(PROVIDER_METHODS),
                                                     Payment.status.in_(OPEN_PAYMENT_STATUSES))
                               .order_by(Payment.id)).all()
    return [IntentRef(p.id, p.order_id, p.attempt, p.provider_reference) for p in found if has_intent(p)]


def cancel_at_provider(refs: list[IntentRef]) -> None:
    """Cancel the intents at the provider (no transaction may be open). Conflict when one has already been paid:
    the provider's event will mark the order paid, so the order must not be cancelled or expired now."""
    for ref in refs:
        try:
            gateway().cancel_intent(ref.intent_id, idempotency_key=ref.cancel_key)
        except GatewayRefused as error:
            intent = gateway().retrieve_intent(ref.intent_id)
            if intent.status == "succeeded":
                raise Conflict(_("The card payment has already gone through; the order will be marked paid.")) \
                    from error
            if intent.status != "canceled":
                raise


def cancel_recorded(order_id: int, cancelled: list[IntentRef]) -> None:
    """In the transaction after ``cancel_at_provider``: cancel the order's open payments on our side.

    A card payment whose intent was not among those cancelled at the provider was started in between: Conflict
    (the caller tries again). One whose intent was never created (its step 2 has not run) is cancelled here; its
    own step 3 then finds it cancelled and cancels the intent it made.
    """
    done = {ref.payment_id for ref in cancelled}
    for payment in db.session.scalars(select(Payment).where(Payment.order_id == order_id,
                                                            Payment.status.in_(OPEN_PAYMENT_STATUSES))).all():
        if payment.method in PROVIDER_METHODS and has_intent(payment) and payment.id not in done:
            raise Conflict(_("A card payment was started for this order meanwhile; try again."))
        transition_payment(payment, "cancel")
