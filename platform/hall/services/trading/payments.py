"""Payments of orders: starting one (Stripe or bank transfer), applying what the provider or the bank says
happened and bank transfers recorded by an
admin. Refunds live in ``hall.services.trading.refunds``, settlements in ``.settlements``, disputes in
``.disputes``, expiry in ``.closing``.

Every effect is idempotent: a payment that already succeeded is not paid again, a ledger reference already
recorded is not recorded again, and counters on the order move only by conditional UPDATE. No call to Stripe is
made inside a database transaction (``hall.services.trading.provider_calls``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from hall.extensions import db
from hall.labels import state_word
from hall.models import Order, Payment, User
from hall.models.types import utcnow
from hall.money import money_text
from hall.payments import GatewayUnavailable, Intent, gateway
from hall.services.core.audit import lock_row, record_event
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.core.transactions import end_transaction
from hall.services.trading import order_notices, provider_calls
from hall.services.trading.ledger import add_entry, entry_by_reference
from hall.services.trading.order_rules import bank_today, platform_fee
from hall.services.trading.orders import check_notice_over, order_for_admin, order_for_party, transition_order
from hall.services.trading.payment_states import (
    OPEN_PAYMENT_STATUSES,
    has_intent,
    placeholder_reference,
    transition_payment,
)

PAYABLE_ORDER_STATUSES = frozenset({"accepted", "awaiting_payment"})


def _open_payment(order: Order) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                   Payment.status.in_(OPEN_PAYMENT_STATUSES))
                             .order_by(Payment.id.desc()).limit(1))


def _payable_order(actor: User, order_id: int) -> Order:
    lock_row(Order, order_id)  # the order before its payments (lock order: hall.services.core.audit)
    order = order_for_party(actor, order_id, "buyer")
    if order.status not in PAYABLE_ORDER_STATUSES:
        raise Conflict(_("The order is “%(state)s”; only an accepted order can be paid.",
                         state=state_word(order.status)))
    if order.reserved_until is not None and order.reserved_until < utcnow():
        raise Conflict(_("The time to pay this order has run out; it will expire. Order again."))
    check_notice_over(order)
    assert order.amount is not None
    return order


@dataclass(frozen=True)
class _IntentRequest:
    """What creating the payment's intent asks Stripe (plain values: safe across the commit)."""

    payment_id: int
    placeholder: str
    amount: int
    currency: str
    key: str
    metadata: dict[str, str]


def _new_payment(actor: User, order: Order, method: str) -> Payment:
    attempt = (db.session.scalar(select(func.max(Payment.attempt)).where(Payment.order_id == order.id)) or 0) + 1
    payment = Payment(order_id=order.id, attempt=attempt, method=method, amount=order.amount,
                      currency=order.currency, created_by_id=actor.id,
                      provider_reference=placeholder_reference(order.reference, attempt))
    db.session.add(payment)
    db.session.flush()
    record_event("payment.start", "payment", payment.id, actor=actor, to_state="pending",
                 details={"order_id": order.id, "method": method, "amount": order.amount})
    if order.status == "accepted":
        transition_order(order, "start_payment", actor, details={"method": method})
    return payment


def attach_intent(payment: Payment, placeholder: str, intent: Intent) -> bool:
    """Record the intent created for ``payment`` (whose reference was ``placeholder``); True when the payment is
    still open, False when it was cancelled meanwhile (its intent must then be cancelled too)."""
    db.session.execute(update(Payment).where(Payment.id == payment.id, Payment.provider_reference == placeholder)
                       .values(provider_reference=intent.id).execution_options(synchronize_session=False))
    db.session.refresh(payment)
    return payment.status in OPEN_PAYMENT_STATUSES


def start_payment(actor: User, order_id: int, method: str) -> tuple[Payment, dict[str, Any]]:
    """The buyer chooses how to pay; returns the payment and what the buyer's front end needs.

    Stripe: a PaymentIntent for the order's amount (never a client's) created with a key built from our ids, and
    its client_secret. Bank transfer: the platform's account and the order's remittance reference. Asking again
    returns the open payment; choosing the other method cancels it first (at Stripe before here). The payment is
    recorded and committed before Stripe is called; a retry, or reconcile, finishes a payment whose intent was
    never attached.
    """
    from hall.payments.bank_transfer import transfer_instructions

    if method not in ("stripe", "bank_transfer"):
        raise InvalidInput.field("method", _("choose stripe or bank_transfer"))
    if method == "stripe" and gateway().name == "none":
        raise GatewayUnavailable(_("Card payments are not configured; pay by bank transfer."))
    order = _payable_order(actor, order_id)
    current = _open_payment(order)
    if current is not None and current.method != method:
        intents = provider_calls.open_intents(order.id)
        if intents:
            end_transaction()
            provider_calls.cancel_at_provider(intents)
            order = _payable_order(actor, order_id)
        provider_calls.cancel_recorded(order.id, intents)
        current = None
    payment = current if current is not None else _new_payment(actor, order, method)
    if method == "bank_transfer":
        return payment, {"bank_transfer": transfer_instructions(order)}
    request = None if has_intent(payment) else _IntentRequest(
        payment.id, payment.provider_reference, payment.amount, payment.currency,
        f"hall-order-{order.id}-pay-{payment.attempt}",
        {"order_id": str(order.id), "order_reference": order.reference, "payment_attempt": str(payment.attempt)})
    payment_id, intent_id = payment.id, payment.provider_reference
    end_transaction()
    if request is None:
        intent = gateway().retrieve_intent(intent_id)
    else:
        intent = gateway().create_intent(amount=request.amount, currency=request.currency,
                                         idempotency_key=request.key, metadata=request.metadata)
        payment = _payment_by_id(payment_id)
        if not attach_intent(payment, request.placeholder, intent):
            end_transaction()
            provider_calls.cancel_at_provider([provider_calls.IntentRef(payment_id, payment.order_id,
                                                                        payment.attempt, intent.id)])
            raise Conflict(_("The order changed while the card payment was being prepared; reload it."))
    payment = _payment_by_id(payment_id)
    return payment, {"client_secret": intent.client_secret, "publishable_key": gateway().publishable_key}



def _payment_by_id(payment_id: int) -> Payment:
    """A payment read again after ``end_transaction`` (it was committed before, so it is there)."""
    payment = db.session.get(Payment, payment_id)
    assert payment is not None
    return payment


def _pay_order(order: Order, payment: Payment, charge_reference: str, rail: str, actor: User | None,
               value_date: date | None) -> None:
    add_entry(order, "charge", payment.amount, rail=rail, provider_reference=charge_reference, actor=actor,
              value_date=value_date)
    fee = platform_fee(payment.amount, order.fee_rate_bp)
    if fee:
        add_entry(order, "platform_fee", fee, rail="platform", provider_reference=f"fee:{charge_reference}")
    db.session.execute(update(Order).where(Order.id == order.id)
                       .values(paid_amount=Order.paid_amount + payment.amount)
                       .execution_options(synchronize_session=False))
    db.session.expire(order)
    if order.status in PAYABLE_ORDER_STATUSES:
        transition_order(order, "pay", actor, details={"payment_id": payment.id, "amount": payment.amount},
                         paid_at=utcnow(), reserved_until=None)
        order_notices.tell(order, "order.paid", "both", amount=payment.amount)
    else:
        # Paid after it was cancelled or expired: the money is recorded and stays refundable by an admin.
        record_event("order.paid_after_close", "order", order.id, actor=actor, from_state=order.status,
                     to_state=order.status, details={"payment_id": payment.id, "amount": payment.amount})


def payment_succeeded(payment: Payment, *, amount: int, currency: str, charge_reference: str, rail: str,
                      actor: User | None = None, value_date: date | None = None) -> str:
    """Apply a successful payment once: 'applied', 'already' (nothing to do) or 'mismatch' (refused, audited).

    The amount and currency the provider reports must equal what the order was to be paid (PAY-06)."""
    if amount != payment.amount or currency.upper() != payment.currency:
        record_event("payment.mismatch", "payment", payment.id, actor=actor,
                     details={"order_id": payment.order_id, "expected": [payment.amount, payment.currency],
                              "reported": [amount, currency.upper()], "reference": charge_reference})
        return "mismatch"
    if payment.status == "succeeded" or entry_by_reference(charge_reference) is not None:
        return "already"
    if not transition_payment(payment, "succeed"):
        return "already"
    _pay_order(payment.order, payment, charge_reference, rail, actor, value_date)
    return "applied"


def payment_failed(payment: Payment, message: str | None) -> str:
    """A card attempt failed; the order stays payable. Ignored once the payment succeeded (PAY-04)."""
    return "applied" if transition_payment(payment, "fail", failure_message=(message or "")[:500]) else "ignored"


def payment_cancelled(payment: Payment) -> str:
    """The provider cancelled the intent."""
    return "applied" if transition_payment(payment, "cancel") else "ignored"


def _check_transfer(order: Order, amount: int, currency: str, value_date: date, bank_reference: str) -> None:
    if entry_by_reference(f"bank:{bank_reference}") is not None:
        raise Conflict(_("A transfer with bank reference %(reference)s has already been recorded.",
                         reference=bank_reference))
    if order.status not in PAYABLE_ORDER_STATUSES:
        raise Conflict(_("The order is “%(state)s”; record transfers only for orders awaiting payment.",
                         state=state_word(order.status)))
    check_notice_over(order)
    if currency.upper() != order.currency or amount != order.amount:
        raise InvalidInput.field("amount", _("the order is to be paid exactly %(amount)s; return a wrong transfer "
                                             "to the sender", amount=money_text(order.amount or 0, order.currency)))
    if value_date > bank_today():
        raise InvalidInput.field("value_date", _("cannot be in the future"))


def record_bank_transfer(admin: User, order_id: int, *, amount: int, currency: str, value_date: date,
                         bank_reference: str) -> Order:
    """An admin records a transfer received for an order; it pays the order when amount and currency match.
    An open card payment is cancelled at Stripe first (outside the transaction), then here."""
    bank_reference = " ".join((bank_reference or "").split())
    if not bank_reference:
        raise InvalidInput.field("bank_reference", _("the bank's reference of the incoming transfer is required"))
    order = order_for_admin(admin, order_id)
    _check_transfer(order, amount, currency, value_date, bank_reference)
    payment = _open_payment(order)
    if payment is not None and payment.method != "bank_transfer":
        intents = provider_calls.open_intents(order.id)
        if intents:
            end_transaction()
            provider_calls.cancel_at_provider(intents)
            order = order_for_admin(admin, order_id)
            _check_transfer(order, amount, currency, value_date, bank_reference)
        provider_calls.cancel_recorded(order.id, intents)
        payment = None
    if payment is None:
        attempt = (db.session.scalar(select(func.max(Payment.attempt)).where(Payment.order_id == order.id)) or 0) + 1
        payment = Payment(order_id=order.id, attempt=attempt, method="bank_transfer", amount=order.amount,
                          currency=order.currency, provider_reference=placeholder_reference(order.reference, attempt),
                          created_by_id=admin.id)
        db.session.add(payment)
        db.session.flush()
    outcome = payment_succeeded(payment, amount=amount, currency=currency, charge_reference=f"bank:{bank_reference}",
                                rail="bank_transfer", actor=admin, value_date=value_date)
    if outcome != "applied":
        raise Conflict(_("The payment was already recorded."))
    return order
