"""Stripe's webhook events, applied exactly once (PAY-03), never backwards (PAY-04), and reconciliation (PAY-11).

The event id is inserted under a unique key in the same transaction as the event's effects: a redelivery, or
the same event delivered by 20 threads at once, finds the id taken and changes nothing. Effects go through the
same functions the rest of the platform uses (``hall.services.payments``), each idempotent on its own.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall.extensions import db
from hall.models import Order, Payment, ProviderEvent
from hall.models.types import utcnow
from hall.payments import gateway
from hall.services import payments
from hall.services.audit import lock_chain, record_event
from hall.services.errors import Conflict, InvalidInput, ServiceError
from hall.services.ledger import add_entry, entry_by_reference
from hall.services.orders import transition_order

DISPUTABLE = frozenset({"paid", "delivered", "completed"})


class BadSignature(ServiceError):
    """The webhook's signature is missing, wrong, too old or from the future (PAY-01): 400, nothing changes."""

    status = 400
    title = "Bad Request"


def verify_event(payload: bytes, signature: str | None, secret: str | None, tolerance: int) -> dict[str, Any]:
    """Check the Stripe-Signature header over the raw body and return the event; BadSignature otherwise.

    stripe-python refuses old timestamps but accepts ones from the future: a signature more than ``tolerance``
    seconds ahead of our clock is refused here too.
    """
    if not secret:
        raise BadSignature("Webhooks are not configured (no STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=tolerance)
        timestamps = [int(part[2:]) for part in (signature or "").split(",") if part.startswith("t=")]
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise BadSignature(f"Stripe-Signature does not verify: {error}") from error
    if not timestamps or timestamps[0] > time.time() + tolerance:
        raise BadSignature("Stripe-Signature's timestamp is in the future.")
    try:
        event = json.loads(payload)
    except ValueError as error:
        raise BadSignature("The signed body is not JSON.") from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str) \
            or not isinstance((event.get("data") or {}).get("object"), dict):
        raise BadSignature("The signed body is not a Stripe event (id, type, data.object).")
    return event


def _claim_event(event_id: str, event_type: str) -> ProviderEvent | None:
    """Insert the event id; None when it is already there (another delivery got it first)."""
    table = ProviderEvent.__table__
    values = {"provider": "stripe", "event_id": event_id[:100], "event_type": event_type[:64], "outcome": "applied",
              "received_at": utcnow()}
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    result = db.session.execute(insert.values(**values).on_conflict_do_nothing(
        index_elements=["provider", "event_id"]).returning(table.c.id))
    new_id = result.scalar()
    return db.session.get(ProviderEvent, new_id) if new_id is not None else None


def _payment_for_intent(intent_id: Any) -> Payment | None:
    if not isinstance(intent_id, str):
        return None
    return db.session.scalar(select(Payment).where(Payment.provider_reference == intent_id,
                                                   Payment.method.in_(("stripe", "fake"))))


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput.field("data.object.amount", "must be an integer")
    return value


def apply_intent(obj: dict[str, Any], status: str | None = None) -> tuple[str, int | None]:
    """Bring our payment in line with a PaymentIntent's state; (outcome, order id)."""
    payment = _payment_for_intent(obj.get("id"))
    if payment is None:
        return "unknown_payment", None
    status = status or obj.get("status")
    if status == "succeeded":
        charge = obj.get("latest_charge")
        charge_id = charge.get("id") if isinstance(charge, dict) else charge
        outcome = payments.payment_succeeded(
            payment, amount=_int(obj.get("amount_received") or obj.get("amount")),
            currency=str(obj.get("currency", "")), charge_reference=str(charge_id or obj["id"]), rail=payment.method)
    elif status == "requires_payment_method":
        error = obj.get("last_payment_error") or {}
        outcome = payments.payment_failed(payment, error.get("message") if isinstance(error, dict) else None)
    elif status == "canceled":
        outcome = payments.payment_cancelled(payment)
    else:
        outcome = "ignored"
    return outcome, payment.order_id


def _apply_refund_object(refund: dict[str, Any]) -> tuple[str, int | None]:
    payment = _payment_for_intent(refund.get("payment_intent"))
    if payment is None:
        return "unknown_payment", None
    return payments.provider_refund(payment, str(refund["id"]), _int(refund.get("amount")),
                                    str(refund.get("currency", "")), str(refund.get("status", ""))), payment.order_id


def _apply_charge_refunded(charge: dict[str, Any]) -> tuple[str, int | None]:
    refunds = (charge.get("refunds") or {}).get("data") if isinstance(charge.get("refunds"), dict) else None
    if not refunds:
        # Newer API versions leave the list out: read the refunds of the intent from Stripe.
        since = utcnow() - timedelta(days=90)
        refunds = [{"id": r.id, "amount": r.amount, "currency": r.currency, "status": r.status,
                    "payment_intent": r.payment_intent}
                   for r in gateway().list_refunds(created_since=since) if r.payment_intent == charge.get(
                       "payment_intent")]
    outcomes, order_id = [], None
    for refund in refunds:
        refund.setdefault("payment_intent", charge.get("payment_intent"))
        outcome, order_id = _apply_refund_object(refund)
        outcomes.append(outcome)
    return ("applied" if "applied" in outcomes else (outcomes[0] if outcomes else "ignored")), order_id


def _apply_dispute(event_type: str, dispute: dict[str, Any]) -> tuple[str, int | None]:
    payment = _payment_for_intent(dispute.get("payment_intent"))
    if payment is None:
        return "unknown_payment", None
    order = payment.order
    if event_type == "charge.dispute.created":
        if order.status not in DISPUTABLE:
            return "ignored", order.id
        transition_order(order, "dispute", None, reason=f"card dispute {dispute.get('id')}: "
                                                        f"{dispute.get('reason') or 'no reason given'}")
        return "applied", order.id
    kind = "dispute_withdrawal" if event_type == "charge.dispute.funds_withdrawn" else "dispute_reinstatement"
    amount = _int(dispute.get("amount"))
    if amount <= 0:
        return "ignored", order.id
    reference = f"{dispute.get('id')}:{kind}"
    if entry_by_reference(reference) is not None:
        return "already", order.id
    add_entry(order, kind, amount, rail=payment.method, provider_reference=reference)
    payments.rebalance_fee(order, f"fee:{reference}")
    return "applied", order.id


def apply_event(event: dict[str, Any]) -> str:
    """Apply one verified Stripe event exactly once; returns the outcome ('duplicate' for a redelivery)."""
    lock_chain()  # before the event row and any order row (see hall.services.audit.lock_chain)
    claimed = _claim_event(event["id"], event["type"])
    if claimed is None:
        return "duplicate"
    obj, event_type = event["data"]["object"], event["type"]
    if event_type.startswith("payment_intent."):
        status = {"payment_intent.succeeded": "succeeded", "payment_intent.payment_failed": "requires_payment_method",
                  "payment_intent.canceled": "canceled"}.get(event_type)
        outcome, order_id = apply_intent(obj, status) if status else ("ignored", None)
    elif event_type in ("refund.created", "refund.updated", "charge.refund.updated"):
        outcome, order_id = _apply_refund_object(obj)
    elif event_type == "charge.refunded":
        outcome, order_id = _apply_charge_refunded(obj)
    elif event_type in ("charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"):
        outcome, order_id = _apply_dispute(event_type, obj)
    else:
        outcome, order_id = "ignored", None
    claimed.outcome, claimed.order_id = outcome, order_id
    if outcome == "mismatch":
        record_event("webhook.refused", "provider_event", event["id"], details={"type": event_type,
                                                                               "order_id": order_id})
    db.session.flush()
    return outcome


@dataclass
class ReconcileReport:
    """What reconciliation found: effects applied now, and differences it could not settle by itself."""

    checked_intents: int = 0
    checked_refunds: int = 0
    applied: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)


def reconcile(hours: int) -> ReconcileReport:
    """Compare Stripe's recent intents and refunds with our payments and ledger; apply what we missed through
    the same idempotent functions the webhook uses, and list what differs."""
    report = ReconcileReport()
    since = utcnow() - timedelta(hours=hours)
    for intent in gateway().list_intents(created_since=since):
        report.checked_intents += 1
        payment = _payment_for_intent(intent.id)
        if payment is None:
            if intent.metadata.get("order_id"):
                report.differences.append(f"{intent.id}: Stripe knows it for order {intent.metadata['order_id']}, "
                                          "we have no such payment")
            continue
        if intent.status == "succeeded" and payment.status != "succeeded":
            outcome = payments.payment_succeeded(payment, amount=intent.amount, currency=intent.currency,
                                                 charge_reference=intent.latest_charge or intent.id,
                                                 rail=payment.method)
            (report.applied if outcome == "applied" else report.differences).append(
                f"{intent.id}: succeeded at Stripe → {outcome}")
        elif payment.status == "succeeded" and intent.status != "succeeded":
            report.differences.append(f"{intent.id}: we recorded it paid, Stripe says {intent.status}")
    for refund in gateway().list_refunds(created_since=since):
        report.checked_refunds += 1
        payment = _payment_for_intent(refund.payment_intent)
        if payment is None:
            continue
        try:
            with db.session.begin_nested():
                outcome = payments.provider_refund(payment, refund.id, refund.amount, refund.currency, refund.status)
        except Conflict as error:
            outcome = f"refused ({error.message})"
        if outcome == "applied":
            report.applied.append(f"{refund.id}: refund of {refund.amount} for order {payment.order_id}")
        elif outcome not in ("already", "ignored"):
            report.differences.append(f"{refund.id}: {outcome}")
    orders_paid = {p.provider_reference for p in db.session.scalars(
        select(Payment).join(Order).where(Payment.status == "succeeded", Payment.method == "stripe",
                                          Payment.created_at >= since))}
    seen = {i.id for i in gateway().list_intents(created_since=since)} if orders_paid else set()
    for reference in sorted(orders_paid - seen):
        report.differences.append(f"{reference}: paid in our records, not found at Stripe")
    return report
