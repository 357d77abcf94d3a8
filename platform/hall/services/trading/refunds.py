"""Refunds: admins return money (never beyond what remains: PAY-08), the provider reports refunds, and a refund
the provider later reports failed is reversed in the ledger.

A card refund is recorded (status requested, counted on the order, with its idempotency key) and committed before
Stripe is asked; the answer is applied in a new transaction (``hall.services.trading.provider_calls``). A refund left
requested by a crash or an unreachable Stripe is finished by ``flask hall reconcile-stripe`` with the same key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, select, update

from hall.extensions import db
from hall.models import Order, Payment, Refund, User
from hall.models.refunds import BOOKED_REFUND_STATUSES
from hall.models.types import utcnow
from hall.money import money_text
from hall.payments import GatewayRefused, gateway
from hall.payments import Refund as ProviderRefund
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.core.state import Machine, compare_and_set, try_transition
from hall.services.core.transactions import end_transaction
from hall.services.trading import inventory, order_notices
from hall.services.trading.ledger import add_entry, entry_by_reference, order_balance
from hall.services.trading.order_rules import platform_fee
from hall.services.trading.orders import order_for_admin, transition_order

REFUND_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({"requested"}), "pending"),
    "succeed": (frozenset({"requested", "pending"}), "succeeded"),
    "fail": (frozenset({"requested", "pending", "succeeded"}), "failed"),
    "cancel": (frozenset({"requested", "pending"}), "cancelled"),
}
REFUND_MACHINE = Machine("refund", REFUND_TRANSITIONS)
# The provider's refund status -> our action.
PROVIDER_STATUS_ACTIONS = {"pending": "accept", "requires_action": "accept", "succeeded": "succeed",
                           "failed": "fail", "canceled": "cancel"}
FULLY_REFUNDABLE = ("paid", "delivered", "completed", "disputed")


def transition_refund(refund: Refund, action: str, actor: User | None = None, **values: Any) -> bool:
    """Move a refund on if its table allows it (compare-and-set, audited); False when it does not."""
    return try_transition(REFUND_MACHINE, refund, action, actor=actor,
                          details={"order_id": refund.order_id, "amount": refund.amount}, **values)


def count_refund(order: Order, amount: int, *, keep_settled: bool = False) -> None:
    """Count a refund on the order if it fits in what remains; the conditional UPDATE serialises refunds.

    ``keep_settled``: an admin's refund may not touch money already settled to the seller (the platform no
    longer holds it). A refund the provider reports has happened and is counted up to what was paid."""
    limit = Order.paid_amount - Order.settled_amount if keep_settled else Order.paid_amount
    result = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(Order).where(Order.id == order.id, Order.refunded_amount + amount <= limit)
        .values(refunded_amount=Order.refunded_amount + amount).execution_options(synchronize_session=False)))
    db.session.expire(order)
    if result.rowcount != 1:
        remaining = order.admin_refundable_amount if keep_settled else max(order.refundable_amount, 0)
        amount_text = money_text(remaining, order.currency)
        raise Conflict(_("Only %(amount)s remains refundable (money settled to the seller is not refundable here).",
                         amount=amount_text) if keep_settled and order.settled_amount
                       else _("Only %(amount)s remains refundable.", amount=amount_text))


def _uncount_refund(order: Order, amount: int) -> None:
    db.session.execute(update(Order).where(Order.id == order.id, Order.refunded_amount >= amount)
                       .values(refunded_amount=Order.refunded_amount - amount)
                       .execution_options(synchronize_session=False))
    db.session.expire(order)


def rebalance_fee(order: Order, reference: str) -> None:
    """Bring the fee booked for ``order`` to the fee on the money it kept (charged − refunded − lost to disputes):
    a fee_reversal when money went back, a platform_fee when it came back. Same rounding as the first fee, so a
    full refund or a lost dispute leaves no fee behind."""
    balance = order_balance(order.id)
    target = platform_fee(max(balance.charged - balance.refunded - balance.disputed, 0), order.fee_rate_bp)
    if balance.fees > target:
        add_entry(order, "fee_reversal", balance.fees - target, rail="platform", provider_reference=reference)
    elif balance.fees < target:
        add_entry(order, "platform_fee", target - balance.fees, rail="platform", provider_reference=reference)


def _book(refund: Refund, ledger_reference: str, rail: str, actor: User | None) -> None:
    """The refund is on its way back to the buyer: ledger entry, fee, and the order refunded when nothing is left."""
    order = refund.order
    add_entry(order, "refund", refund.amount, rail=rail, provider_reference=ledger_reference, actor=actor,
              memo=refund.reason)
    rebalance_fee(order, f"fee:{ledger_reference}")
    db.session.refresh(order)
    if order.refunded_amount == order.paid_amount and order.status in FULLY_REFUNDABLE:
        transition_order(order, "refund", actor, reason=refund.reason, closed_at=utcnow())
        if order.is_scoped:
            inventory.release_claim(order)
    order_notices.tell(order, "order.refunded", "buyer", amount=refund.amount, note=refund.reason)


def _reverse(refund: Refund, provider_status: str) -> None:
    """A booked refund did not happen after all: book it back, give the amount back to the order's refundable
    counter, restore the fee, and reopen an order that this refund had closed."""
    order = refund.order
    reference = refund.provider_reference or refund.idempotency_key
    add_entry(order, "refund_reversal", refund.amount, rail=refund.payment.method,
              provider_reference=f"reversal:{reference}", memo=f"refund {provider_status} at the provider")
    _uncount_refund(order, refund.amount)
    rebalance_fee(order, f"fee:reversal:{reference}")
    if order.status == "refunded":
        transition_order(order, "refund_reversed", None, reason=f"refund {reference} {provider_status}")
        if order.is_scoped:
            try:
                with db.session.begin_nested():
                    inventory.claim_scope(order)
            except Conflict:
                record_event("order.claim_lost", "order", order.id,
                             details={"reason": "its scope was taken while the order stood refunded"})
    order_notices.tell(order, "order.refund_failed", "buyer", amount=refund.amount, note=provider_status)


def apply_provider_status(refund: Refund, status: str, provider_reference: str | None,
                          actor: User | None = None) -> str:
    """Bring our refund in line with the provider's: 'applied', 'already' or 'ignored'."""
    action = PROVIDER_STATUS_ACTIONS.get(status)
    if action is None:
        return "ignored"
    if provider_reference and refund.provider_reference is None:
        compare_and_set(refund, "provider_reference", None, provider_reference)
    was = refund.status
    if was == REFUND_TRANSITIONS[action][1]:
        return "already"
    if not transition_refund(refund, action, actor):
        return "ignored"
    if action in ("accept", "succeed") and was == "requested":
        _book(refund, refund.provider_reference or refund.idempotency_key, refund.payment.method, actor)
    elif action in ("fail", "cancel"):
        if was in BOOKED_REFUND_STATUSES:
            _reverse(refund, status)
        else:
            _uncount_refund(refund.order, refund.amount)
    return "applied"


def _next_sequence(order_id: int) -> int:
    return (db.session.scalar(select(func.max(Refund.sequence)).where(Refund.order_id == order_id)) or 0) + 1


@dataclass(frozen=True)
class RefundCall:
    """What step 2 asks the provider (plain values, safe across the commit)."""

    refund_id: int
    intent_id: str
    amount: int
    key: str
    metadata: dict[str, str]


def call_for(refund: Refund) -> RefundCall:
    """What asking the provider for ``refund`` sends (the same key and metadata on every retry)."""
    return RefundCall(refund.id, refund.payment.provider_reference, refund.amount, refund.idempotency_key,
                      {"order_id": str(refund.order_id), "order_reference": refund.order.reference,
                       "refund_id": str(refund.id)})


def waiting_refund_call(admin: User, order: Order, amount: int) -> RefundCall | None:
    """A card refund of the order still waiting for the provider's answer: the admin who asked for it, asking
    again for the same amount, retries it (same key); anything else is refused until it is answered."""
    waiting = db.session.scalar(select(Refund).where(Refund.order_id == order.id, Refund.status == "requested")
                                .order_by(Refund.id).limit(1))
    if waiting is None:
        return None
    if waiting.amount != amount or waiting.requested_by_id != admin.id:
        raise Conflict(_("A refund of %(amount)s is still waiting for Stripe's answer: the admin who asked for it "
                         "may ask again for that amount to retry it, or reconcile finishes it.",
                         amount=money_text(waiting.amount, order.currency)))
    return call_for(waiting)


def record_refund(admin: User, order: Order, payment: Payment, amount: int, reason: str,
                  bank_reference: str | None) -> tuple[Refund, RefundCall | None]:
    """Step 1 of an admin's refund: count it on the order and record it; a bank refund is booked at once, a card
    refund returns what to ask the provider."""
    count_refund(order, amount, keep_settled=True)
    sequence = _next_sequence(order.id)
    refund = Refund(order_id=order.id, payment_id=payment.id, sequence=sequence, amount=amount,
                    currency=order.currency, reason=reason, requested_by_id=admin.id,
                    idempotency_key=f"hall-order-{order.id}-refund-{sequence}")
    db.session.add(refund)
    db.session.flush()
    record_event("refund.request", "refund", refund.id, actor=admin, to_state="requested",
                 details={"order_id": order.id, "amount": amount, "method": payment.method})
    if payment.method == "bank_transfer":
        reference = f"bank-refund:{bank_reference}"
        apply_provider_status(refund, "succeeded", reference, admin)
        return refund, None
    return refund, call_for(refund)


def call_provider(call: RefundCall, actor_id: int | None) -> Refund:
    """Steps 2 and 3 of a card refund (no transaction open): ask Stripe with the refund's key, then apply its
    answer. A refusal is recorded (the amount is refundable again) and answered 409; an unreachable Stripe leaves
    the refund requested for a retry or for reconcile, and answers 502."""
    try:
        answer: ProviderRefund = gateway().refund(intent_id=call.intent_id, amount=call.amount,
                                                  idempotency_key=call.key, metadata=call.metadata)
    except GatewayRefused as error:
        refund = db.session.get(Refund, call.refund_id)
        assert refund is not None
        apply_provider_status(refund, "failed", None)
        refund.failure_reason = str(error)[:500]
        end_transaction()
        raise Conflict(_("Stripe did not refund (%(error)s); nothing was refunded.", error=str(error))) from error
    refund = db.session.get(Refund, call.refund_id)
    assert refund is not None
    actor = db.session.get(User, actor_id) if actor_id else None
    apply_provider_status(refund, answer.status, answer.id, actor)
    if refund.status in ("failed", "cancelled"):
        end_transaction()
        raise Conflict(_("Stripe did not refund (%(error)s); nothing was refunded.", error=answer.status))
    return refund


def refund_for_provider_object(payment: Payment, refund_id: str, metadata: dict[str, Any] | None) -> Refund | None:
    """Our record of a provider refund: by its id, or by the refund id we put in its metadata."""
    found = db.session.scalar(select(Refund).where(Refund.provider_reference == refund_id))
    if found is None and metadata and str(metadata.get("refund_id", "")).isdigit():
        found = db.session.scalar(select(Refund).where(Refund.id == int(metadata["refund_id"]),
                                                       Refund.payment_id == payment.id))
    return found


def provider_refund(payment: Payment, refund_id: str, amount: Any, currency: str, status: str,
                    metadata: dict[str, Any] | None = None) -> str:
    """Apply a refund the provider reports (made by us, in Stripe's dashboard, or found by reconciliation).

    Returns 'applied', 'already', 'ignored' or 'mismatch' (refused and audited; the webhook still answers 200,
    so the provider does not retry an event that can never apply)."""
    order = payment.order
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 or \
            currency.upper() != order.currency:
        record_event("refund.mismatch", "order", order.id,
                     details={"refund": refund_id, "amount": repr(amount)[:40], "currency": currency[:8]})
        return "mismatch"
    refund = refund_for_provider_object(payment, refund_id, metadata)
    if refund is not None:
        if refund.amount != amount:
            record_event("refund.mismatch", "refund", refund.id,
                         details={"refund": refund_id, "amount": amount, "recorded": refund.amount})
            return "mismatch"
        return apply_provider_status(refund, status, refund_id)
    if status in ("failed", "canceled") or entry_by_reference(refund_id) is not None:
        return "ignored" if status in ("failed", "canceled") else "already"
    try:
        count_refund(order, amount)
    except Conflict:
        record_event("refund.mismatch", "order", order.id,
                     details={"refund": refund_id, "amount": amount, "refundable": order.refundable_amount})
        return "mismatch"
    sequence = _next_sequence(order.id)
    refund = Refund(order_id=order.id, payment_id=payment.id, sequence=sequence, amount=amount,
                    currency=order.currency, reason="refund reported by the payment provider",
                    idempotency_key=f"provider:{refund_id}"[:100])
    db.session.add(refund)
    db.session.flush()
    apply_provider_status(refund, status, refund_id)
    return "applied"


def refund_order(admin: User, order_id: int, amount: int, reason: str, bank_reference: str | None = None) -> Order:
    """Refund part or all of what was paid (admins only). Card payments are refunded through Stripe with a key
    from our ids — recorded and committed first, Stripe asked outside the transaction, its answer applied after;
    bank transfers are returned by the admin, who records the bank's reference."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", _("say why the money is returned"))
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidInput.field("amount", _("must be an amount more than zero"))
    order = order_for_admin(admin, order_id)
    if order.paid_amount == 0:
        raise Conflict(_("Nothing has been paid for this order."))
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded")
                                .order_by(Payment.id.desc()).limit(1))
    assert payment is not None
    if payment.method == "bank_transfer":  # every check before the refund counter moves
        bank_reference = " ".join((bank_reference or "").split())
        if not bank_reference:
            raise InvalidInput.field("bank_reference", _("the bank's reference of the return transfer is required"))
        if entry_by_reference(f"bank-refund:{bank_reference}") is not None:
            raise Conflict(_("A refund with bank reference %(reference)s has already been recorded.",
                             reference=bank_reference))
    call = waiting_refund_call(admin, order, amount) if payment.method != "bank_transfer" else None
    if call is None:
        _refund, call = record_refund(admin, order, payment, amount, reason, bank_reference)
    if call is not None:
        admin_id = admin.id
        end_transaction()
        call_provider(call, admin_id)
    refreshed = db.session.get(Order, order_id)
    assert refreshed is not None
    return refreshed
