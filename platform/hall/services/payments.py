"""Payments of orders: starting one (Stripe or bank transfer), applying what the provider or the bank says
happened, refunds (admin only, serialised, never beyond what remains: PAY-08) and settlements to sellers.

Every effect is idempotent: a payment that already succeeded is not paid again, a ledger reference already
recorded is not recorded again, and counters on the order move only by conditional UPDATE.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update

from hall.extensions import db
from hall.models import LedgerEntry, Order, Payment, User
from hall.models.types import utcnow
from hall.payments import GatewayRefused, gateway
from hall.services import inventory, notifications
from hall.services.audit import lock_chain, record_event
from hall.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall.services.ledger import add_entry, entry_by_reference, order_balance
from hall.services.order_rules import platform_fee
from hall.services.orders import check_notice_over, order_for_party, transition_order
from hall.services.state import compare_and_set

PAYMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "fail": (frozenset({"pending"}), "failed"),
    # From cancelled too: if the provider reports money taken, it was (the order decides what that means).
    "succeed": (frozenset({"pending", "failed", "cancelled"}), "succeeded"),
    "cancel": (frozenset({"pending", "failed"}), "cancelled"),
}
OPEN_PAYMENT_STATUSES = ("pending", "failed")
PAYABLE_ORDER_STATUSES = frozenset({"accepted", "awaiting_payment"})


def transition_payment(payment: Payment, action: str, **values: Any) -> bool:
    """Move a payment on if its table allows it from where it is; False (and no change) when it does not.

    Never raises for a step that is not allowed: provider events arrive late and out of order (PAY-04)."""
    allowed_from, to_state = PAYMENT_TRANSITIONS[action]
    if payment.status not in allowed_from:
        return False
    try:
        compare_and_set(payment, "status", payment.status, to_state, **values)
    except Conflict:
        return False
    record_event(f"payment.{action}", "payment", payment.id, from_state=None, to_state=to_state,
                 details={"order_id": payment.order_id, "method": payment.method})
    return True


def _open_payment(order: Order) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                   Payment.status.in_(OPEN_PAYMENT_STATUSES))
                             .order_by(Payment.id.desc()).limit(1))


def _cancel_payment(payment: Payment) -> None:
    if payment.method == "stripe" or payment.method == "fake":
        try:
            gateway().cancel_intent(payment.provider_reference,
                                    idempotency_key=f"hall-order-{payment.order_id}-cancel-{payment.attempt}")
        except GatewayRefused as error:
            intent = gateway().retrieve_intent(payment.provider_reference)
            if intent.status == "succeeded":
                raise Conflict("The card payment has already gone through; the order will be marked paid.") \
                    from error
            if intent.status != "canceled":
                raise
    transition_payment(payment, "cancel")


def cancel_open_payments(order: Order) -> None:
    """Cancel the order's unpaid payments (at Stripe too); Conflict if a card payment already went through."""
    for payment in db.session.scalars(select(Payment).where(Payment.order_id == order.id,
                                                            Payment.status.in_(OPEN_PAYMENT_STATUSES))).all():
        _cancel_payment(payment)


def start_payment(actor: User, order_id: int, method: str) -> tuple[Payment, dict[str, Any]]:
    """The buyer chooses how to pay; returns the payment and what the buyer's front end needs.

    Stripe: a PaymentIntent for the order's amount (never a client's) created with a key built from our ids, and
    its client_secret. Bank transfer: the platform's account and the order's remittance reference. Asking again
    returns the open payment; choosing the other method cancels it first.
    """
    from hall.payments.bank_transfer import transfer_instructions

    if method not in ("stripe", "bank_transfer"):
        raise InvalidInput.field("method", "choose stripe or bank_transfer")
    lock_chain()
    order = order_for_party(actor, order_id, "buyer")
    if order.status not in PAYABLE_ORDER_STATUSES:
        raise Conflict(f"The order is {order.status}; only an accepted order can be paid.")
    if order.reserved_until is not None and order.reserved_until < utcnow():
        raise Conflict("The time to pay this order has run out; it will expire. Order again.")
    check_notice_over(order)
    assert order.amount is not None
    provider_method = "fake" if (method == "stripe" and gateway().name == "fake") else method
    current = _open_payment(order)
    if current is not None and current.method == provider_method:
        payment = current
    else:
        if current is not None:
            _cancel_payment(current)
        attempt = (db.session.scalar(select(func.max(Payment.attempt)).where(Payment.order_id == order.id)) or 0) + 1
        payment = Payment(order_id=order.id, attempt=attempt, method=provider_method, amount=order.amount,
                          currency=order.currency, created_by_id=actor.id,
                          provider_reference=f"{order.reference}-{attempt}")
        if method == "stripe":
            intent = gateway().create_intent(
                amount=order.amount, currency=order.currency, idempotency_key=f"hall-order-{order.id}-pay-{attempt}",
                metadata={"order_id": str(order.id), "order_reference": order.reference,
                          "payment_attempt": str(attempt)})
            payment.provider_reference = intent.id
        db.session.add(payment)
        db.session.flush()
        record_event("payment.start", "payment", payment.id, actor=actor, to_state="pending",
                     details={"order_id": order.id, "method": provider_method, "amount": order.amount})
        if order.status == "accepted":
            transition_order(order, "start_payment", actor, details={"method": method})
    extra: dict[str, Any]
    if method == "stripe":
        intent = gateway().retrieve_intent(payment.provider_reference)
        extra = {"client_secret": intent.client_secret, "publishable_key": gateway().publishable_key}
    else:
        extra = {"bank_transfer": transfer_instructions(order)}
    return payment, extra


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
        notifications.send_order_update(order, order.seller_institution_id, "已付款 / paid")
        notifications.send_order_update(order, order.buyer_institution_id, "已付款 / paid")
    else:
        # Paid after it was cancelled or expired: the money is recorded and stays refundable by an admin.
        record_event("order.paid_after_close", "order", order.id, actor=actor, from_state=order.status,
                     to_state=order.status, details={"payment_id": payment.id, "amount": payment.amount})


def payment_succeeded(payment: Payment, *, amount: int, currency: str, charge_reference: str, rail: str,
                      actor: User | None = None, value_date: date | None = None) -> str:
    """Apply a successful payment once: 'applied', 'already' (nothing to do) or 'mismatch' (refused, audited).

    The amount and currency the provider reports must equal what the order was to be paid (PAY-06)."""
    if payment.status == "succeeded" or entry_by_reference(charge_reference) is not None:
        return "already"
    if amount != payment.amount or currency.upper() != payment.currency:
        record_event("payment.mismatch", "payment", payment.id, actor=actor,
                     details={"order_id": payment.order_id, "expected": [payment.amount, payment.currency],
                              "reported": [amount, currency.upper()], "reference": charge_reference})
        return "mismatch"
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


def _admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Only platform admins do this.")


def _admin_order(actor: User, order_id: int) -> Order:
    _admin(actor)
    lock_chain()  # before any row lock (see hall.services.audit.lock_chain)
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound("No such order.")
    if actor.institution_id in (order.buyer_institution_id, order.seller_institution_id):
        raise Forbidden("Admins do not handle money of their own institution's orders; ask another admin.")
    return order


def record_bank_transfer(admin: User, order_id: int, *, amount: int, currency: str, value_date: date,
                         bank_reference: str) -> Order:
    """An admin records a transfer received for an order; it pays the order when amount and currency match."""
    order = _admin_order(admin, order_id)
    bank_reference = " ".join((bank_reference or "").split())
    if not bank_reference:
        raise InvalidInput.field("bank_reference", "the bank's reference of the incoming transfer is required")
    if entry_by_reference(f"bank:{bank_reference}") is not None:
        raise Conflict(f"A transfer with bank reference {bank_reference} has already been recorded.")
    if order.status not in PAYABLE_ORDER_STATUSES:
        raise Conflict(f"The order is {order.status}; record transfers only for orders awaiting payment.")
    check_notice_over(order)
    if currency.upper() != order.currency or amount != order.amount:
        raise InvalidInput.field("amount", f"the order is to be paid exactly {order.amount} {order.currency} "
                                           "(minor units); return a wrong transfer to the sender")
    if value_date > _bank_today():
        raise InvalidInput.field("value_date", "cannot be in the future")
    payment = _open_payment(order)
    if payment is not None and payment.method != "bank_transfer":
        _cancel_payment(payment)
        payment = None
    if payment is None:
        attempt = (db.session.scalar(select(func.max(Payment.attempt)).where(Payment.order_id == order.id)) or 0) + 1
        payment = Payment(order_id=order.id, attempt=attempt, method="bank_transfer", amount=order.amount,
                          currency=order.currency, provider_reference=f"{order.reference}-{attempt}",
                          created_by_id=admin.id)
        db.session.add(payment)
        db.session.flush()
    outcome = payment_succeeded(payment, amount=amount, currency=currency, charge_reference=f"bank:{bank_reference}",
                                rail="bank_transfer", actor=admin, value_date=value_date)
    if outcome != "applied":
        raise Conflict("The payment was already recorded.")
    return order


def _bank_today() -> date:
    """Today in the banks' calendar (Asia/Shanghai): between 00:00 and 08:00 there UTC is still on the day before."""
    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def _reserve_refund(order: Order, amount: int, *, keep_settled: bool = False) -> None:
    """Count a refund on the order if it fits in what remains; the conditional UPDATE serialises refunds.

    ``keep_settled``: an admin's refund may not touch money already settled to the seller (the platform no
    longer holds it). A refund the provider reports has happened and is counted up to what was paid."""
    limit = Order.paid_amount - Order.settled_amount if keep_settled else Order.paid_amount
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.refunded_amount + amount <= limit)
        .values(refunded_amount=Order.refunded_amount + amount).execution_options(synchronize_session=False))
    db.session.expire(order)
    if result.rowcount != 1:
        remaining = order.paid_amount - order.refunded_amount - (order.settled_amount if keep_settled else 0)
        settled = " (money settled to the seller is not refundable here)" if keep_settled and order.settled_amount \
            else ""
        raise Conflict(f"Only {max(remaining, 0)} {order.currency} (minor units) remain refundable{settled}.")


def rebalance_fee(order: Order, reference: str) -> None:
    """Bring the fee booked for ``order`` to the fee on the money it kept (charged − refunded − lost to disputes):
    a fee_reversal when money went back, a platform_fee when a dispute's money came back. Same rounding as the
    first fee, so a full refund or a lost dispute leaves no fee behind."""
    balance = order_balance(order.id)
    target = platform_fee(max(balance.charged - balance.refunded - balance.disputed, 0), order.fee_rate_bp)
    if balance.fees > target:
        add_entry(order, "fee_reversal", balance.fees - target, rail="platform", provider_reference=reference)
    elif balance.fees < target:
        add_entry(order, "platform_fee", target - balance.fees, rail="platform", provider_reference=reference)


def _after_refund(order: Order, refund_reference: str, amount: int, rail: str, actor: User | None,
                  reason: str | None) -> None:
    add_entry(order, "refund", amount, rail=rail, provider_reference=refund_reference, actor=actor, memo=reason)
    rebalance_fee(order, f"fee:{refund_reference}")
    if order.refunded_amount == order.paid_amount and order.status in ("paid", "delivered", "completed", "disputed"):
        transition_order(order, "refund", actor, reason=reason, closed_at=utcnow())
        if order.is_exclusive:
            inventory.release_exclusive(order)
    notifications.send_order_update(order, order.buyer_institution_id, f"退款 {amount} / refund {amount}", reason)


def refund_order(admin: User, order_id: int, amount: int, reason: str, bank_reference: str | None = None) -> Order:
    """Refund part or all of what was paid (admins only). Card payments are refunded through Stripe with a key
    from our ids; bank transfers are returned by the admin, who records the bank's reference."""
    order = _admin_order(admin, order_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "say why the money is returned")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidInput.field("amount", "a positive whole number of minor units")
    if order.paid_amount == 0:
        raise Conflict("Nothing has been paid for this order.")
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded")
                                .order_by(Payment.id.desc()).limit(1))
    assert payment is not None
    reference = ""
    if payment.method == "bank_transfer":  # every check before the refund counter moves
        bank_reference = " ".join((bank_reference or "").split())
        if not bank_reference:
            raise InvalidInput.field("bank_reference", "the bank's reference of the return transfer is required")
        reference = f"bank-refund:{bank_reference}"
        if entry_by_reference(reference) is not None:
            raise Conflict(f"A refund with bank reference {bank_reference} has already been recorded.")
    _reserve_refund(order, amount, keep_settled=True)
    if payment.method == "bank_transfer":
        rail = "bank_transfer"
    else:
        sequence = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.order_id == order.id, LedgerEntry.kind == "refund")) + 1
        refund = gateway().refund(intent_id=payment.provider_reference, amount=amount,
                                  idempotency_key=f"hall-order-{order.id}-refund-{sequence}",
                                  metadata={"order_id": str(order.id), "order_reference": order.reference})
        if refund.status in ("failed", "canceled"):
            raise Conflict(f"Stripe did not refund ({refund.status}); nothing was recorded.")
        reference, rail = refund.id, payment.method
    _after_refund(order, reference, amount, rail, admin, reason)
    return order


def provider_refund(payment: Payment, refund_id: str, amount: int, currency: str, status: str) -> str:
    """Apply a refund the provider reports (made by us, in Stripe's dashboard, or found by reconciliation)."""
    lock_chain()
    if entry_by_reference(refund_id) is not None or status in ("failed", "canceled"):
        return "already" if status not in ("failed", "canceled") else "ignored"
    order = payment.order
    if currency.upper() != order.currency:
        record_event("refund.mismatch", "order", order.id, details={"refund": refund_id, "currency": currency})
        return "mismatch"
    try:
        _reserve_refund(order, amount)
    except Conflict:
        record_event("refund.mismatch", "order", order.id,
                     details={"refund": refund_id, "amount": amount, "refundable": order.refundable_amount})
        return "mismatch"
    _after_refund(order, refund_id, amount, payment.method, None, "refund reported by the payment provider")
    return "applied"


def record_settlement(admin: User, order_id: int, *, amount: int, bank_reference: str, value_date: date) -> Order:
    """An admin records the transfer paid to the seller for a completed order (never more than is due)."""
    order = _admin_order(admin, order_id)
    if order.status != "completed":
        raise Conflict(f"Only completed orders are settled; this one is {order.status}.")
    bank_reference = " ".join((bank_reference or "").split())
    if not bank_reference:
        raise InvalidInput.field("bank_reference", "the bank's reference of the transfer to the seller is required")
    due = order_balance(order.id).seller_due
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= due:
        raise InvalidInput.field("amount", f"between 1 and {due} (minor units) is due to the seller")
    if value_date > _bank_today():
        raise InvalidInput.field("value_date", "cannot be in the future")
    if entry_by_reference(f"settlement:{bank_reference}") is not None:
        raise Conflict(f"A settlement with bank reference {bank_reference} has already been recorded.")
    result = db.session.execute(
        update(Order).where(Order.id == order.id, Order.settled_amount == order.settled_amount)
        .values(settled_amount=Order.settled_amount + amount).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("Another settlement was recorded meanwhile; reload and check what is due.")
    db.session.expire(order)
    add_entry(order, "settlement", amount, rail="bank_transfer", provider_reference=f"settlement:{bank_reference}",
              actor=admin, value_date=value_date)
    notifications.send_order_update(order, order.seller_institution_id, f"已结算 {amount} / settled {amount}")
    return order


def resolve_dispute(admin: User, order_id: int, reason: str) -> Order:
    """An admin closes a dispute in the seller's favour: the order completes (refund instead to side with the
    buyer)."""
    order = _admin_order(admin, order_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "say how the dispute was resolved")
    transition_order(order, "resolve", admin, reason=reason, completed_at=utcnow())
    return order
