"""Payments through the API and Stripe's webhook: Idempotency-Key on order and payment creation (TXN-02), card and
bank-transfer payments priced from the order (PAY-06), the webhook's signature check (PAY-01), each event applied
once (PAY-03) and never backwards (PAY-04), amount and currency checked (PAY-06), refunds and disputes reported by
events, and a failing gateway answered 502/503 with nothing changed (ERR-02)."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import stripe
from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent, IdempotencyRecord, LedgerEntry, Order, Payment, ProviderEvent
from hall.payments import GatewayRefused
from tests.support.orders import (
    ORDERS,
    Market,
    Party,
    app_with,
    buy_product,
    count,
    intent_of,
    listing_stock,
    open_market,
    order_row,
    pay_by_card,
    read,
    start_card_payment,
    webhook,
)
from tests.support.trading import WEBHOOK_SECRET, fake_gateway, intent_failed, intent_succeeded, signed, stripe_event

WEBHOOK = "/api/v1/payments/stripe/webhook"


def key_header(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def kinds(app: Flask, order_id: int) -> list[tuple[str, int]]:
    """The order's ledger entries as (kind, amount), oldest first."""
    return read(app, lambda: [(e.kind, e.amount) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.order_id == order_id).order_by(LedgerEntry.id))])


def audit_actions(app: Flask, action: str) -> list[AuditEvent]:
    return read(app, lambda: list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))))


def payment_row(app: Flask, payment_id: int) -> dict[str, Any]:
    return read(app, lambda: {c.key: getattr(db.session.get(Payment, payment_id), c.key)
                              for c in Payment.__table__.columns})


# --- TXN-02: Idempotency-Key ------------------------------------------------------------------------------------------

def test_order_creation_replays_the_first_answer_for_the_same_key(market: Market) -> None:
    key = str(uuid.uuid4())
    first = market.buyer.order(market.product, "purchase", end_user_declared=True, headers=key_header(key))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = market.buyer.order(market.product, "purchase", end_user_declared=True, headers=key_header(key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(market.app, Order) == 1 and listing_stock(market.app, market.product) == market.stock - 1

    other_body = market.buyer.order(market.product, "purchase", quantity=2, end_user_declared=True,
                                    headers=key_header(key))
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.get_json()["errors"]
    assert count(market.app, Order) == 1 and listing_stock(market.app, market.product) == market.stock - 1

    # The key belongs to the person who sent it: someone else's identical request is their own.
    theirs = market.buyer_b.order(market.product, "purchase", end_user_declared=True, headers=key_header(key))
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != first.get_json()["id"] and count(market.app, Order) == 2


@pytest.mark.parametrize("key", ["k" * 300, "k" * 256, "键" * 10, "has space", ""])
def test_an_unusable_idempotency_key_is_refused(market: Market, key: str) -> None:
    response = market.buyer.order(market.product, "purchase", end_user_declared=True, headers=key_header(key))
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["errors"]
    assert count(market.app, Order) == 0 and count(market.app, IdempotencyRecord) == 0


def test_a_key_of_255_characters_is_accepted(market: Market) -> None:
    response = market.buyer.order(market.product, "purchase", end_user_declared=True, headers=key_header("k" * 255))
    assert response.status_code == 201 and count(market.app, IdempotencyRecord) == 1


def test_a_refused_request_does_not_use_up_its_key(market: Market) -> None:
    key = str(uuid.uuid4())
    refused = market.buyer.order(market.product, "transfer", headers=key_header(key))
    assert refused.status_code == 422 and count(market.app, IdempotencyRecord) == 0
    corrected = market.buyer.order(market.product, "purchase", end_user_declared=True, headers=key_header(key))
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers


def test_a_double_click_without_a_key_returns_the_open_order(market: Market) -> None:
    first = market.buyer.order(market.product, "purchase", quantity=2, end_user_declared=True)
    second = market.buyer.order(market.product, "purchase", quantity=2, end_user_declared=True)
    assert first.status_code == 201 and second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"] and second.get_json()["status"] == "accepted"
    assert count(market.app, Order) == 1 and listing_stock(market.app, market.product) == market.stock - 2


def test_payment_creation_replays_the_first_answer_for_the_same_key(market: Market) -> None:
    oid = buy_product(market)["id"]
    path, key = f"{ORDERS}/{oid}/payments", str(uuid.uuid4())
    first = market.buyer.post(path, {"method": "stripe"}, headers=key_header(key))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = market.buyer.post(path, {"method": "stripe"}, headers=key_header(key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(market.app, Payment) == 1
    assert [c[0] for c in fake_gateway(market.app).calls] == ["create_intent"]

    switched = market.buyer.post(path, {"method": "bank_transfer"}, headers=key_header(key))
    assert switched.status_code == 422 and "Idempotency-Key" in switched.get_json()["errors"]
    assert count(market.app, Payment) == 1 and payment_row(market.app, first.get_json()["id"])["status"] == "pending"
    too_long = market.buyer.post(path, {"method": "bank_transfer"}, headers=key_header("p" * 300))
    assert too_long.status_code == 422 and count(market.app, Payment) == 1
    assert [c[0] for c in fake_gateway(market.app).calls] == ["create_intent"]


def test_asking_again_without_a_key_returns_the_open_payment(market: Market) -> None:
    oid = buy_product(market)["id"]
    first, second = start_card_payment(market, oid), start_card_payment(market, oid)
    assert second["id"] == first["id"] and second["client_secret"] == first["client_secret"]
    assert count(market.app, Payment) == 1
    assert [c[0] for c in fake_gateway(market.app).calls] == ["create_intent"]


# --- starting a payment -----------------------------------------------------------------------------------------------

def test_a_card_payment_is_an_intent_for_the_orders_amount(market: Market) -> None:
    order = buy_product(market, quantity=2)
    payment = start_card_payment(market, order["id"])
    assert payment["method"] == "stripe" and payment["status"] == "pending"
    with market.app.app_context():  # stored as the rail the buyer chose, not the gateway standing in ("fake")
        assert db.session.get(Payment, payment["id"]).method == "stripe"
    assert payment["amount"] == order["amount"] == 2 * market.unit_price and payment["currency"] == "CNY"
    assert payment["publishable_key"] == "pk_test_fake"
    gateway = fake_gateway(market.app)
    intent = gateway.intents[intent_of(market.app, payment["id"])]
    assert payment["client_secret"] == intent.client_secret
    assert intent.amount == order["amount"] and intent.currency == "CNY"
    assert intent.metadata["order_id"] == str(order["id"]) and intent.metadata["order_reference"] == order["reference"]
    assert gateway.calls[0][1] == f"hall-order-{order['id']}-pay-1"  # our key, the same on every retry (PAY-07)
    assert order_row(market.app, order["id"])["status"] == "awaiting_payment"


def test_a_bank_transfer_gives_the_account_and_the_remittance_reference(market: Market) -> None:
    order = buy_product(market)
    response = market.buyer.post(f"{ORDERS}/{order['id']}/payments", {"method": "bank_transfer"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["method"] == "bank_transfer" and body.get("client_secret") is None
    transfer = body["bank_transfer"]
    config = market.app.config
    assert transfer["remittance_reference"] == order["reference"] and order["reference"] in transfer["note_zh"]
    assert transfer["amount"] == order["amount"] and transfer["currency"] == "CNY"
    assert transfer["account_number"] == config["BANK_ACCOUNT_NUMBER"] and transfer["bank_name"] == config["BANK_NAME"]
    assert transfer["account_name"] == config["BANK_ACCOUNT_NAME"]
    assert transfer["pay_before"] == order["reserved_until"]
    assert fake_gateway(market.app).calls == []  # no card provider involved


def test_switching_method_cancels_the_open_payment(market: Market) -> None:
    oid = buy_product(market)["id"]
    card = start_card_payment(market, oid)
    intent = intent_of(market.app, card["id"])
    transfer = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "bank_transfer"}).get_json()
    assert transfer["id"] != card["id"] and transfer["method"] == "bank_transfer"
    assert payment_row(market.app, card["id"])["status"] == "cancelled"
    assert fake_gateway(market.app).intents[intent].status == "canceled"
    card_again = start_card_payment(market, oid)
    assert payment_row(market.app, transfer["id"])["status"] == "cancelled"
    assert payment_row(market.app, card_again["id"])["attempt"] == 3
    assert count(market.app, Payment, Payment.status == "pending") == 1


def test_payment_method_and_order_state_are_checked(market: Market) -> None:
    oid = buy_product(market)["id"]
    assert market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "cash"}).status_code == 422
    assert market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "stripe", "amount": 1}).status_code == 422
    requested = market.buyer.order(market.negotiable, "technical_service").get_json()
    assert market.buyer.post(f"{ORDERS}/{requested['id']}/payments", {"method": "stripe"}).status_code == 409
    assert count(market.app, Payment) == 0


# --- PAY-01: the webhook's signature ----------------------------------------------------------------------------------

def raw_delivery(app: Flask, payload: str | bytes, headers: dict[str, str]) -> Any:
    return app.test_client().post(WEBHOOK, data=payload, headers=headers)


def signature_for(payload: str, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def bad_deliveries(event: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    payload, headers = signed(event)
    now = int(time.time())
    amount = event["data"]["object"]["amount_received"]
    tampered = payload.replace(f'"amount_received": {amount}', f'"amount_received": {amount - 1}')
    assert tampered != payload
    return {
        "missing header": (payload, {"Content-Type": "application/json"}),
        "empty header": (payload, {"Stripe-Signature": "", "Content-Type": "application/json"}),
        "garbage header": (payload, {"Stripe-Signature": "not a signature", "Content-Type": "application/json"}),
        "bad signature": (payload, {"Stripe-Signature": f"t={now},v1={'0' * 64}", "Content-Type": "application/json"}),
        "tampered body": (tampered, headers),
        "wrong secret": signed(event, secret="whsec_someone_else"),
        "stale": signed(event, timestamp=now - 301),
        "future": signed(event, timestamp=now + 360),  # more than 300 s ahead (with margin for a slow test run)
    }


def test_bad_signatures_are_400_and_change_nothing(market: Market) -> None:
    order = buy_product(market)
    payment = start_card_payment(market, order["id"])
    event = intent_succeeded(intent_of(market.app, payment["id"]), order["amount"])
    for case, (payload, headers) in bad_deliveries(event).items():
        response = raw_delivery(market.app, payload, headers)
        assert response.status_code == 400, (case, response.get_json())
        assert response.get_json()["status"] == 400 and response.get_json()["message"], case
        assert count(market.app, ProviderEvent) == 0, case
        assert order_row(market.app, order["id"])["status"] == "awaiting_payment", case
        assert payment_row(market.app, payment["id"])["status"] == "pending", case
        assert kinds(market.app, order["id"]) == [], case
    # The same event, properly signed, is applied: the refusals were about the signature alone.
    assert webhook(market.app, event).get_json() == {"received": True, "outcome": "applied"}
    assert order_row(market.app, order["id"])["status"] == "paid"


def test_signatures_within_the_tolerance_are_accepted(market: Market) -> None:
    now = int(time.time())
    for offset in (-240, 240):
        response = webhook(market.app, stripe_event("customer.created", {"id": "cus_1"}), timestamp=now + offset)
        assert response.status_code == 200 and response.get_json()["outcome"] == "ignored", offset
    assert count(market.app, ProviderEvent) == 2


@pytest.mark.parametrize("payload", ["not json at all", "[1, 2]", '{"id": "evt_1"}', '"evt"',
                                     '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": 1}}',
                                     '{"id": 5, "type": "x", "data": {"object": {}}}'])
def test_a_signed_body_that_is_not_an_event_is_400(market: Market, payload: str) -> None:
    response = raw_delivery(market.app, payload, signature_for(payload))
    assert response.status_code == 400 and response.get_json()["message"]
    assert count(market.app, ProviderEvent) == 0


# --- PAY-03, PAY-04, PAY-06: events applied once, forwards only, for the right money ----------------------------------

def paying(market: Market) -> tuple[dict[str, Any], dict[str, Any], str]:
    """An order awaiting a card payment: (order, payment, intent id)."""
    order = buy_product(market)
    payment = start_card_payment(market, order["id"])
    return order, payment, intent_of(market.app, payment["id"])


def test_the_same_event_twice_is_applied_once(market: Market) -> None:
    order, _payment, intent = paying(market)
    event = intent_succeeded(intent, order["amount"])
    assert webhook(market.app, event).get_json()["outcome"] == "applied"
    assert webhook(market.app, event).get_json() == {"received": True, "outcome": "duplicate"}
    assert kinds(market.app, order["id"]) == [("charge", order["amount"]), ("platform_fee", order["fee_amount"])]
    assert count(market.app, ProviderEvent) == 1
    row = order_row(market.app, order["id"])
    assert row["status"] == "paid" and row["paid_amount"] == order["amount"]
    # Stripe may also send another event about the same intent: the money is still counted once.
    other = intent_succeeded(intent, order["amount"])
    assert webhook(market.app, other).get_json()["outcome"] == "already"
    assert len(kinds(market.app, order["id"])) == 2 and order_row(market.app, order["id"])["paid_amount"] == order[
        "amount"]


def test_a_failure_after_success_leaves_the_order_paid(market: Market) -> None:
    order, payment, intent = paying(market)
    assert webhook(market.app, intent_succeeded(intent, order["amount"])).get_json()["outcome"] == "applied"
    late = webhook(market.app, intent_failed(intent, order["amount"]))
    assert late.status_code == 200 and late.get_json()["outcome"] == "ignored"
    cancelled = webhook(market.app, stripe_event("payment_intent.canceled", {"id": intent, "status": "canceled"}))
    assert cancelled.get_json()["outcome"] == "ignored"
    assert payment_row(market.app, payment["id"])["status"] == "succeeded"
    assert order_row(market.app, order["id"])["status"] == "paid"


def test_a_success_after_a_failure_pays(market: Market) -> None:
    order, payment, intent = paying(market)
    assert webhook(market.app, intent_failed(intent, order["amount"])).get_json()["outcome"] == "applied"
    failed = payment_row(market.app, payment["id"])
    assert failed["status"] == "failed" and failed["failure_message"] == "Your card was declined."
    assert order_row(market.app, order["id"])["status"] == "awaiting_payment"
    assert webhook(market.app, intent_succeeded(intent, order["amount"])).get_json()["outcome"] == "applied"
    assert payment_row(market.app, payment["id"])["status"] == "succeeded"
    assert order_row(market.app, order["id"])["status"] == "paid"


@pytest.mark.parametrize("amount_delta, currency", [(1, "cny"), (-1, "cny"), (0, "usd")])
def test_an_event_for_other_money_is_refused_and_audited(market: Market, amount_delta: int, currency: str) -> None:
    order, payment, intent = paying(market)
    event = intent_succeeded(intent, order["amount"] + amount_delta, currency=currency)
    response = webhook(market.app, event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "mismatch"
    assert order_row(market.app, order["id"])["status"] == "awaiting_payment"
    assert order_row(market.app, order["id"])["paid_amount"] == 0 and kinds(market.app, order["id"]) == []
    assert payment_row(market.app, payment["id"])["status"] == "pending"
    mismatches = audit_actions(market.app, "payment.mismatch")
    assert len(mismatches) == 1 and mismatches[0].object_id == str(payment["id"])
    details = json.loads(mismatches[0].details)
    assert details["expected"] == [order["amount"], "CNY"]
    assert details["reported"] == [order["amount"] + amount_delta, currency.upper()]
    assert [e.object_id for e in audit_actions(market.app, "webhook.refused")] == [event["id"]]
    # The right money, reported afterwards, pays the order.
    assert webhook(market.app, intent_succeeded(intent, order["amount"])).get_json()["outcome"] == "applied"
    assert order_row(market.app, order["id"])["status"] == "paid"


def test_events_for_unknown_intents_or_of_other_types_change_nothing(market: Market) -> None:
    order, _payment, _intent = paying(market)
    assert webhook(market.app, intent_succeeded("pi_unknown", order["amount"])).get_json()["outcome"] == \
        "unknown_payment"
    assert webhook(market.app, stripe_event("invoice.paid", {"id": "in_1"})).get_json()["outcome"] == "ignored"
    assert order_row(market.app, order["id"])["status"] == "awaiting_payment" and kinds(market.app, order["id"]) == []


# --- refunds and disputes reported by events --------------------------------------------------------------------------

def refund_object(refund_id: str, intent: str, amount: int, status: str = "succeeded") -> dict[str, Any]:
    return {"id": refund_id, "object": "refund", "amount": amount, "currency": "cny", "status": status,
            "payment_intent": intent}


def test_refund_events_add_one_refund_entry_each(market: Market) -> None:
    order = buy_product(market)
    intent = pay_by_card(market, order["id"])
    event = stripe_event("refund.created", refund_object("re_evt_1", intent, 1_000_00))
    assert webhook(market.app, event).get_json()["outcome"] == "applied"
    assert webhook(market.app, event).get_json()["outcome"] == "duplicate"
    updated = stripe_event("refund.updated", refund_object("re_evt_1", intent, 1_000_00))
    assert webhook(market.app, updated).get_json()["outcome"] == "already"
    refunds = [amount for kind, amount in kinds(market.app, order["id"]) if kind == "refund"]
    assert refunds == [1_000_00] and order_row(market.app, order["id"])["refunded_amount"] == 1_000_00

    charge_refunded = stripe_event("charge.refunded", {
        "id": "ch_1", "object": "charge", "payment_intent": intent,
        "refunds": {"object": "list", "data": [refund_object("re_evt_2", intent, 2_000_00)]}})
    assert webhook(market.app, charge_refunded).get_json()["outcome"] == "applied"
    assert webhook(market.app, charge_refunded).get_json()["outcome"] == "duplicate"
    refunds = [amount for kind, amount in kinds(market.app, order["id"]) if kind == "refund"]
    assert refunds == [1_000_00, 2_000_00] and order_row(market.app, order["id"])["refunded_amount"] == 3_000_00
    assert order_row(market.app, order["id"])["status"] == "paid"  # a partial refund keeps the order

    failed = stripe_event("refund.created", refund_object("re_evt_3", intent, 5_00, status="failed"))
    assert webhook(market.app, failed).get_json()["outcome"] == "ignored"
    too_much = stripe_event("refund.created", refund_object("re_evt_4", intent, order["amount"]))
    assert webhook(market.app, too_much).get_json()["outcome"] == "mismatch"
    assert len(audit_actions(market.app, "refund.mismatch")) == 1
    assert order_row(market.app, order["id"])["refunded_amount"] == 3_000_00


def test_a_full_refund_event_closes_the_order(market: Market) -> None:
    order = buy_product(market)
    intent = pay_by_card(market, order["id"])
    event = stripe_event("refund.created", refund_object("re_full", intent, order["amount"]))
    assert webhook(market.app, event).get_json()["outcome"] == "applied"
    row = order_row(market.app, order["id"])
    assert row["status"] == "refunded" and row["refunded_amount"] == row["paid_amount"] == order["amount"]


def dispute_event(event_type: str, intent: str, amount: int, dispute_id: str = "dp_1") -> dict[str, Any]:
    return stripe_event(event_type, {"id": dispute_id, "object": "dispute", "payment_intent": intent,
                                     "amount": amount, "currency": "cny", "reason": "fraudulent",
                                     "status": "needs_response"})


def test_dispute_events_dispute_the_order_and_withdraw_the_funds_once(market: Market) -> None:
    order = buy_product(market)
    intent = pay_by_card(market, order["id"])
    created = dispute_event("charge.dispute.created", intent, order["amount"])
    assert webhook(market.app, created).get_json()["outcome"] == "applied"
    row = order_row(market.app, order["id"])
    assert row["status"] == "disputed" and "dp_1" in row["status_reason"] and "fraudulent" in row["status_reason"]

    withdrawn = dispute_event("charge.dispute.funds_withdrawn", intent, order["amount"])
    assert webhook(market.app, withdrawn).get_json()["outcome"] == "applied"
    assert webhook(market.app, withdrawn).get_json()["outcome"] == "duplicate"
    again = dispute_event("charge.dispute.funds_withdrawn", intent, order["amount"])  # another event id, same dispute
    assert webhook(market.app, again).status_code == 200
    withdrawals = [amount for kind, amount in kinds(market.app, order["id"]) if kind == "dispute_withdrawal"]
    assert withdrawals == [order["amount"]]
    balance = market.seller.get(f"{ORDERS}/{order['id']}").get_json()["balance"]
    assert balance["disputed"] == order["amount"] and balance["held"] == 0
    # A lost chargeback takes the platform's fee back too: nothing is left due to (or owed by) the seller.
    assert balance["fees"] == 0 and balance["seller_due"] == 0
    reinstated = dispute_event("charge.dispute.funds_reinstated", intent, order["amount"])
    assert webhook(market.app, reinstated).get_json()["outcome"] == "applied"
    balance = market.seller.get(f"{ORDERS}/{order['id']}").get_json()["balance"]
    assert balance["disputed"] == 0 and balance["fees"] == order["fee_amount"]
    assert balance["seller_due"] == order["amount"] - order["fee_amount"]


def test_a_dispute_event_on_an_unpaid_order_is_ignored(market: Market) -> None:
    order, _payment, intent = paying(market)
    created = dispute_event("charge.dispute.created", intent, order["amount"])
    assert webhook(market.app, created).get_json()["outcome"] == "ignored"
    assert order_row(market.app, order["id"])["status"] == "awaiting_payment"


# --- ERR-02: the payment provider failing ----------------------------------------------------------------------------

@pytest.mark.parametrize("error", [None, GatewayRefused("Stripe refused the request: invalid currency")])
def test_a_failing_gateway_is_a_502_and_the_retry_reuses_the_recorded_payment(market: Market,
                                                                              error: Exception | None) -> None:
    """The payment is recorded (with its key) and committed before Stripe is called; the call fails; the same
    Idempotency-Key runs again and finishes the same payment with the same Stripe key: nothing twice."""
    oid = buy_product(market)["id"]
    key = str(uuid.uuid4())
    fake_gateway(market.app).fail_with(error)
    response = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "stripe"}, headers=key_header(key))
    assert response.status_code == 502, response.get_json()
    body = response.get_json()
    assert body["status"] == 502 and body["title"] == "Bad Gateway" and body["message"] and body["request_id"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert count(market.app, Payment) == 1 and count(market.app, IdempotencyRecord) == 0
    assert read(market.app, lambda: db.session.scalar(select(Payment.provider_reference))).startswith("HT")
    assert order_row(market.app, oid)["status"] == "awaiting_payment"
    # The key was released with the failure: the retry runs afresh, on the payment already recorded.
    retry = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "stripe"}, headers=key_header(key))
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert count(market.app, Payment) == 1 and retry.get_json()["client_secret"]
    assert read(market.app, lambda: db.session.scalar(select(Payment.provider_reference))).startswith("pi_")
    keys = [k for op, k, _ in fake_gateway(market.app).calls if op == "create_intent"]
    assert len(keys) == 2 and keys[0] == keys[1] == f"hall-order-{oid}-pay-1"


def test_an_outage_names_a_retry_time(market: Market) -> None:
    oid = buy_product(market)["id"]
    fake_gateway(market.app).fail_with()
    response = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "stripe"})
    assert response.status_code == 502 and int(response.headers["Retry-After"]) > 0


def test_card_payments_switched_off_are_a_503_and_bank_transfer_still_works(database_url: str) -> None:
    with app_with(database_url, PAYMENT_GATEWAY="none") as app:
        market = open_market(app)
        oid = buy_product(market)["id"]
        response = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "stripe"})
        assert response.status_code == 503 and "bank transfer" in response.get_json()["message"]
        assert count(app, Payment) == 0 and order_row(app, oid)["status"] == "accepted"
        transfer = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "bank_transfer"})
        assert transfer.status_code == 201 and transfer.get_json()["bank_transfer"]["amount"] == market.unit_price


def test_a_webhook_that_cannot_reach_stripe_answers_5xx_and_is_applied_on_redelivery(market: Market) -> None:
    order = buy_product(market)
    intent = pay_by_card(market, order["id"])
    gateway = fake_gateway(market.app)
    gateway.refund(intent_id=intent, amount=500_00, idempotency_key="dashboard-refund", metadata={})
    # Newer API versions leave the refund list out of charge.refunded: the handler asks Stripe, which is down.
    event = stripe_event("charge.refunded", {"id": "ch_x", "object": "charge", "payment_intent": intent})
    gateway.fail_with()
    failed = webhook(market.app, event)
    assert failed.status_code >= 500 and failed.is_json
    assert count(market.app, ProviderEvent, ProviderEvent.event_id == event["id"]) == 0
    assert order_row(market.app, order["id"])["refunded_amount"] == 0
    assert webhook(market.app, event).get_json()["outcome"] == "applied"  # Stripe retries: now it goes through
    assert order_row(market.app, order["id"])["refunded_amount"] == 500_00


def test_the_webhook_needs_no_session_and_answers_json(market: Market) -> None:
    """Stripe posts without cookies or CSRF token; the answer says what happened to the event."""
    payload = json.dumps(stripe_event("customer.created", {"id": "cus_2"}))
    response = raw_delivery(market.app, payload, signature_for(payload))
    assert response.status_code == 200 and response.get_json() == {"received": True, "outcome": "ignored"}


def test_payments_belong_to_the_buyer(market: Market) -> None:
    oid = buy_product(market)["id"]
    seller: Party = market.seller
    assert seller.post(f"{ORDERS}/{oid}/payments", {"method": "stripe"}).status_code == 403
    assert count(market.app, Payment) == 0
