"""Stripe's webhook events, applied exactly once (PAY-03), never backwards (PAY-04), and reconciliation (PAY-11).

The event id is inserted under a unique key in the same transaction as the event's effects: a redelivery, or
the same event delivered by 20 threads at once, finds the id taken and changes nothing. Effects go through the
same functions the rest of the platform uses (``hall.services.trading.payments``), each idempotent on its own.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import stripe
from flask_babel import gettext as _
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall.extensions import db
from hall.models import Order, Payment, ProviderEvent, Refund
from hall.models.types import utcnow
from hall.payments import GatewayError, gateway
from hall.services.core.audit import lock_job, lock_row, record_event
from hall.services.core.errors import Conflict, InvalidInput, ServiceError
from hall.services.core.transactions import end_transaction
from hall.services.trading import payments, provider_calls, refunds
from hall.services.trading.ledger import add_entry, entry_by_reference
from hall.services.trading.orders import transition_order
from hall.services.trading.payment_states import PROVIDER_METHODS, has_intent

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
        raise BadSignature(_("Webhooks are not configured (no STRIPE_WEBHOOK_SECRET)."))
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=tolerance)
        timestamps = [int(part[2:]) for part in (signature or "").split(",") if part.startswith("t=")]
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise BadSignature(_("Stripe-Signature does not verify: %(error)s", error=str(error))) from error
    if not timestamps or timestamps[0] > time.time() + tolerance:
        raise BadSignature(_("Stripe-Signature's timestamp is in the future."))
    try:
        event = json.loads(payload)
    except ValueError as error:
        raise BadSignature(_("The signed body is not JSON.")) from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str) \
            or not isinstance((event.get("data") or {}).get("object"), dict):
        raise BadSignature(_("The signed body is not a Stripe event (id, type, data.object)."))
    return event


def _claim_event(event_id: str, event_type: str) -> ProviderEvent | None:
    """Insert the event id; None when it is already there (another delivery got it first)."""
    table = cast(Table, ProviderEvent.__table__)  # typed FromClause on the declarative base
    values = {"provider": "stripe", "event_id": event_id[:100], "event_type": event_type[:64], "outcome": "applied",
              "received_at": utcnow()}
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    result = db.session.execute(insert.values(**values).on_conflict_do_nothing(
        index_elements=["provider", "event_id"]).returning(table.c.id))
    new_id = result.scalar()
    return db.session.get(ProviderEvent, new_id) if new_id is not None else None


def _payment_for_intent(intent_id: Any, metadata: Any = None) -> Payment | None:
    """Our payment for an intent: by its id, or — when the intent was created but never attached (a crash
    between Stripe's answer and our commit) — by the order and attempt in its metadata, attaching it now."""
    if not isinstance(intent_id, str):
        return None
    payment = db.session.scalar(select(Payment).where(Payment.provider_reference == intent_id,
                                                      Payment.method.in_(PROVIDER_METHODS)))
    if payment is not None:
        lock_row(Order, payment.order_id)  # its order before the payment (lock order: hall.services.core.audit)
        return payment
    if not isinstance(metadata, dict):
        return None
    order_id, attempt = str(metadata.get("order_id", "")), str(metadata.get("payment_attempt", ""))
    if not (order_id.isdigit() and attempt.isdigit()) or len(order_id) > 12 or len(attempt) > 6:
        return None
    lock_row(Order, int(order_id))
    payment = db.session.scalar(select(Payment).where(Payment.order_id == int(order_id),
                                                      Payment.attempt == int(attempt),
                                                      Payment.method.in_(PROVIDER_METHODS)))
    if payment is None or has_intent(payment):
        return None
    db.session.execute(update(Payment).where(Payment.id == payment.id,
                                             Payment.provider_reference == payment.provider_reference)
                       .values(provider_reference=intent_id).execution_options(synchronize_session=False))
    db.session.refresh(payment)
    record_event("payment.intent_attached", "payment", payment.id, details={"intent": intent_id[:100]})
    return payment


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput.field("data.object.amount", _("must be an integer"))
    return value


def apply_intent(obj: dict[str, Any], status: str | None = None) -> tuple[str, int | None]:
    """Bring our payment in line with a PaymentIntent's state; (outcome, order id)."""
    payment = _payment_for_intent(obj.get("id"), obj.get("metadata"))
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
    metadata = refund.get("metadata") if isinstance(refund.get("metadata"), dict) else None
    return refunds.provider_refund(payment, str(refund["id"])[:100], refund.get("amount"),
                                   str(refund.get("currency", "")), str(refund.get("status", "")),
                                   metadata), payment.order_id


def _listed_refunds(charge: dict[str, Any]) -> list[Any] | None:
    listed = (charge.get("refunds") or {}).get("data") if isinstance(charge.get("refunds"), dict) else None
    return listed if isinstance(listed, list) and listed else None


def fetch_provider_data(event: dict[str, Any]) -> list[dict[str, Any]] | None:
    """What applying ``event`` needs from Stripe, read before the transaction begins (no call under a lock):
    a charge.refunded event of newer API versions leaves its refunds out, so they are listed from Stripe."""
    obj = event["data"]["object"]
    if event["type"] != "charge.refunded" or _listed_refunds(obj) is not None:
        return None
    since = utcnow() - timedelta(days=90)
    return [{"id": r.id, "amount": r.amount, "currency": r.currency, "status": r.status,
             "payment_intent": r.payment_intent, "metadata": r.metadata}
            for r in gateway().list_refunds(created_since=since) if r.payment_intent == obj.get("payment_intent")]


def _apply_charge_refunded(charge: dict[str, Any], fetched: list[dict[str, Any]] | None) -> tuple[str, int | None]:
    listed = _listed_refunds(charge) or fetched or []
    outcomes, order_id = [], None
    for refund in listed:
        if not isinstance(refund, dict):
            continue
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
    refunds.rebalance_fee(order, f"fee:{reference}")
    return "applied", order.id


def apply_event(event: dict[str, Any], fetched: list[dict[str, Any]] | None = None) -> str:
    """Apply one verified Stripe event exactly once; returns the outcome ('duplicate' for a redelivery).
    ``fetched``: what ``fetch_provider_data`` read from Stripe for it beforehand."""
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
        outcome, order_id = _apply_charge_refunded(obj, fetched)
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


def _finish_requested_refunds(report: ReconcileReport, older_than: datetime) -> None:
    """Refunds recorded but never answered (Stripe unreachable, or a crash between the steps): ask again with
    the same idempotency key, so Stripe returns the refund it made, if it made one, instead of a second."""
    waiting = db.session.scalars(select(Refund).join(Payment, Payment.id == Refund.payment_id).where(
        Refund.status == "requested", Refund.created_at < older_than, Payment.method.in_(PROVIDER_METHODS))
        .order_by(Refund.id))
    calls = [refunds.call_for(refund) for refund in waiting]
    end_transaction()
    for call in calls:
        try:
            refund = refunds.call_provider(call, None)
            report.applied.append(f"refund {call.refund_id}: asked again → {refund.status}")
            end_transaction()
        except Conflict as error:
            report.differences.append(f"refund {call.refund_id}: {error.message}")
        except GatewayError as error:
            db.session.rollback()
            report.differences.append(f"refund {call.refund_id}: still requested ({error})")


def reconcile(hours: int) -> ReconcileReport:
    """Compare Stripe's recent intents and refunds with our payments and ledger; apply what we missed through
    the same idempotent functions the webhook uses, and list what differs.

    Stripe is read with no transaction open and the results applied in short transactions (it commits): refunds
    left requested are asked again with their keys, intents created but never attached are attached, and
    intents still open at Stripe for payments we cancelled are cancelled there."""
    report = ReconcileReport()
    now = utcnow()
    since = now - timedelta(hours=hours)
    end_transaction()
    _finish_requested_refunds(report, now - timedelta(minutes=2))
    intents = gateway().list_intents(created_since=since)
    listed_refunds = gateway().list_refunds(created_since=since)
    to_cancel: list[provider_calls.IntentRef] = []
    lock_job("reconcile")  # one reconciler at a time
    for intent in intents:
        report.checked_intents += 1
        payment = _payment_for_intent(intent.id, intent.metadata)
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
        elif payment.status == "cancelled" and intent.status not in ("succeeded", "canceled"):
            to_cancel.append(provider_calls.IntentRef(payment.id, payment.order_id, payment.attempt, intent.id))
    for refund in listed_refunds:
        report.checked_refunds += 1
        payment = _payment_for_intent(refund.payment_intent)
        if payment is None:
            continue
        try:
            with db.session.begin_nested():
                outcome = refunds.provider_refund(payment, refund.id, refund.amount, refund.currency, refund.status,
                                                  refund.metadata)
        except Conflict as error:
            outcome = f"refused ({error.message})"
        if outcome == "applied":
            report.applied.append(f"{refund.id}: refund of {refund.amount} for order {payment.order_id}")
        elif outcome not in ("already", "ignored"):
            report.differences.append(f"{refund.id}: {outcome}")
    orders_paid = {p.provider_reference for p in db.session.scalars(
        select(Payment).join(Order).where(Payment.status == "succeeded", Payment.method == "stripe",
                                          Payment.created_at >= since))}
    seen = {i.id for i in intents}
    for reference in sorted(orders_paid - seen):
        report.differences.append(f"{reference}: paid in our records, not found at Stripe")
    end_transaction()
    for ref in to_cancel:
        try:
            provider_calls.cancel_at_provider([ref])
            report.applied.append(f"{ref.intent_id}: cancelled at Stripe (cancelled here before)")
        except (Conflict, GatewayError) as error:
            report.differences.append(f"{ref.intent_id}: cancelled here, still open at Stripe ({error})")
    return report
