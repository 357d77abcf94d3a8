"""Card payments end to end against localstripe: a buyer orders and pays through the API, localstripe's signed
webhook marks the order paid (PAY-03, PAY-06), an admin refunds part of it (PAY-08), and ``flask hall
reconcile-stripe`` finds what the webhook missed and, run again, changes nothing (PAY-11)."""
from __future__ import annotations

import json
import time
from typing import Any

import stripe
from flask import Flask
from sqlalchemy import select

from hall.db import read_only_transactions
from hall.extensions import db
from hall.models import AuditEvent, LedgerEntry, Order, Payment, ProviderEvent, User
from hall.services.trading import refunds
from hall.services.trading.order_rules import platform_fee
from tests.integration.conftest import (
    WEBHOOK_DELAY_S,
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
    LocalStripe,
    StripeServer,
    wait_for,
)
from tests.support.factories import PASSWORD
from tests.support.http_session import ApiSession
from tests.support.trading import Parties, make_parties, publish_product

PRICE = 1_234_567  # fen: 12,345.67 yuan, so the 3 % fee (37,037.01) is rounded
FEE = platform_fee(PRICE, 300)
TABLES = (LedgerEntry, ProviderEvent, AuditEvent, Payment, Order)


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the money-related tables, to show that something changed nothing at all."""
    with app.app_context(), read_only_transactions():
        return {model.__tablename__: [tuple(row) for row in db.session.execute(
            select(model.__table__).order_by(model.__table__.c.id))] for model in TABLES}


def ledger(app: Flask, order_id: int) -> list[tuple[str, int, str, str]]:
    """The order's ledger entries as (kind, amount, rail, provider_reference), oldest first."""
    with app.app_context(), read_only_transactions():
        return [(e.kind, e.amount, e.rail, e.provider_reference) for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order_id).order_by(LedgerEntry.id))]


def provider_events(app: Flask) -> list[tuple[str, str, str, int | None]]:
    """Every stored provider event as (event_id, event_type, outcome, order_id)."""
    with app.app_context(), read_only_transactions():
        return [(e.event_id, e.event_type, e.outcome, e.order_id) for e in db.session.scalars(
            select(ProviderEvent).order_by(ProviderEvent.id))]


def order_status(app: Flask, order_id: int) -> str:
    with app.app_context(), read_only_transactions():
        order = db.session.get(Order, order_id)
        assert order is not None
        return order.status


def reconcile(app: Flask) -> str:
    """Run ``flask hall reconcile-stripe`` and return what it printed."""
    result = app.test_cli_runner().invoke(args=["hall", "reconcile-stripe"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def setup_listing(app: Flask) -> tuple[Parties, int]:
    """The parties of a deal and a first-of-kind product at PRICE (committed)."""
    with app.app_context():
        parties = make_parties()
        return parties, publish_product(parties, stock=3, price=PRICE)


def order_and_start_card_payment(api: ApiSession, parties: Parties,
                                 listing_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The buyer orders one unit through the API and asks to pay by card; (the order, the payment's answer)."""
    api.sign_in(parties.buyer, PASSWORD)
    response = api.request("POST", "/api/v1/orders", json={"listing_id": listing_id, "deal_mode": "purchase",
                                                           "quantity": 1, "end_user_declared": True})
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["amount"], order["currency"]) == ("accepted", PRICE, "CNY")
    response = api.request("POST", f"/api/v1/orders/{order['id']}/payments", json={"method": "stripe"})
    assert response.status_code == 201, response.text
    return order, response.json()


def intent_of(app: Flask, order_id: int) -> str:
    """The PaymentIntent id our payment row holds."""
    with app.app_context(), read_only_transactions():
        payment = db.session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert payment.method == "stripe"
        return payment.provider_reference


def pay_with_test_card(localstripe: LocalStripe, intent_id: str) -> str:
    """Confirm the intent with Stripe's test Visa (4242…) as Stripe.js would; returns the charge id."""
    localstripe.client.v1.payment_intents.update(intent_id, {"payment_method": "pm_card_visa"})
    intent = localstripe.client.v1.payment_intents.confirm(intent_id)
    assert intent.status == "succeeded"
    charge = intent.latest_charge  # localstripe answers it expanded; Stripe gives its id
    return charge if isinstance(charge, str) else charge.id


def deliver_signed(api: ApiSession, event: dict[str, Any]) -> dict[str, Any]:
    """POST an event to our webhook signed as localstripe signs it (the same secret); returns the answer."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    response = api.session.post(api.base_url + WEBHOOK_PATH, data=payload, timeout=15,
                                headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def test_card_payment_webhook_refund_and_reconcile(stripe_server: StripeServer, api: ApiSession) -> None:
    app, localstripe = stripe_server.app, stripe_server.localstripe
    parties, listing_id = setup_listing(app)
    order, started = order_and_start_card_payment(api, parties, listing_id)
    order_id = order["id"]
    assert (started["method"], started["amount"], started["currency"]) == ("stripe", PRICE, "CNY")

    # PAY-06: the intent at "Stripe" is for the order's amount and currency, as our database has them.
    intent_id = intent_of(app, order_id)
    intent = localstripe.client.v1.payment_intents.retrieve(intent_id)
    assert (intent.amount, intent.currency, intent.status) == (PRICE, "cny", "requires_payment_method")
    assert intent.client_secret == started["client_secret"]
    assert intent.metadata.to_dict() == {"order_id": str(order_id), "order_reference": order["reference"],
                                         "payment_attempt": "1"}
    assert order_status(app, order_id) == "awaiting_payment"

    charge_id = pay_with_test_card(localstripe, intent_id)

    # localstripe signs payment_intent.succeeded and posts it to our server about a second later.
    wait_for(lambda: order_status(app, order_id) == "paid", "the webhook to mark the order paid")
    assert ledger(app, order_id) == [("charge", PRICE, "stripe", charge_id),
                                     ("platform_fee", FEE, "platform", f"fee:{charge_id}")]
    [(event_id, event_type, outcome, event_order)] = provider_events(app)
    assert (event_type, outcome, event_order) == ("payment_intent.succeeded", "applied", order_id)
    response = api.request("GET", f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "paid"

    # The very event localstripe sent, delivered again: stored once, applied once (PAY-03).
    [sent] = [event for event in localstripe.events() if event["id"] == event_id]
    before = snapshot(app)
    assert deliver_signed(api, sent) == {"received": True, "outcome": "duplicate"}
    assert snapshot(app) == before

    # An admin refunds part of it through Stripe (PAY-08).
    refund_amount = 400_000
    with app.app_context():
        admin = db.session.get(User, parties.admin_id)
        refunds.refund_order(admin, order_id, refund_amount, "部分退款 / partial refund")
        db.session.commit()
    refunded_at = time.time()
    [refund] = localstripe.client.v1.refunds.list({"payment_intent": intent_id}).data
    assert (refund.amount, refund.currency, refund.status) == (refund_amount, "cny", "succeeded")
    assert refund.metadata.to_dict()["order_id"] == str(order_id)
    reversal = FEE - platform_fee(PRICE - refund_amount, 300)
    assert reversal > 0
    expected_ledger = [("charge", PRICE, "stripe", charge_id), ("platform_fee", FEE, "platform", f"fee:{charge_id}"),
                       ("refund", refund_amount, "stripe", refund.id),
                       ("fee_reversal", reversal, "platform", f"fee:{refund.id}")]
    assert ledger(app, order_id) == expected_ledger
    assert order_status(app, order_id) == "paid"  # partly refunded: still paid

    # Whatever localstripe sends about the refund (1.15.10 sends no refund event at all) adds nothing…
    after_refund = snapshot(app)
    time.sleep(max(0.0, refunded_at + WEBHOOK_DELAY_S + 1.5 - time.time()))
    localstripe.settle()
    later = snapshot(app)
    assert {t: rows for t, rows in later.items() if t != "provider_events"} == \
        {t: rows for t, rows in after_refund.items() if t != "provider_events"}
    assert all(outcome in ("already", "duplicate", "ignored") for _, _, outcome, _ in provider_events(app)[1:])
    # … and neither do refund events built from localstripe's own refund and charge, however they arrive.
    refund_json = localstripe.get(f"/v1/refunds/{refund.id}")
    charge_json = localstripe.get(f"/v1/charges/{charge_id}")
    assert [r["id"] for r in charge_json["refunds"]["data"]] == [refund.id]
    for event_type, obj in (("refund.updated", refund_json), ("charge.refunded", charge_json)):
        event = {"id": f"evt_hall_{event_type}", "object": "event", "type": event_type, "created": int(time.time()),
                 "livemode": False, "data": {"object": obj}}
        assert deliver_signed(api, event) == {"received": True, "outcome": "already"}
    assert ledger(app, order_id) == expected_ledger

    # PAY-11: reconciliation finds everything in order; run twice, it applies nothing and changes no row.
    for _ in range(2):
        before = snapshot(app)
        output = reconcile(app)
        assert "checked 1 payment intent(s) and 1 refund(s); applied 0; differences 0" in output, output
        assert snapshot(app) == before
    assert ledger(app, order_id) == expected_ledger


def test_reconcile_applies_a_payment_whose_webhook_never_arrived(stripe_server: StripeServer,
                                                                  api: ApiSession) -> None:
    app, localstripe = stripe_server.app, stripe_server.localstripe
    localstripe.point_webhook(localstripe.sink)  # localstripe's events reach nobody
    parties, listing_id = setup_listing(app)
    order_id = order_and_start_card_payment(api, parties, listing_id)[0]["id"]
    intent_id = intent_of(app, order_id)
    charge_id = pay_with_test_card(localstripe, intent_id)
    localstripe.settle()  # the payment_intent.succeeded event has gone out, elsewhere
    assert [event["type"] for event in localstripe.events()] == ["payment_intent.succeeded"]
    assert provider_events(app) == []
    assert order_status(app, order_id) == "awaiting_payment"

    output = reconcile(app)
    assert "checked 1 payment intent(s) and 0 refund(s); applied 1; differences 0" in output, output
    assert f"applied: {intent_id}: succeeded at Stripe → applied" in output
    assert order_status(app, order_id) == "paid"
    assert ledger(app, order_id) == [("charge", PRICE, "stripe", charge_id),
                                     ("platform_fee", FEE, "platform", f"fee:{charge_id}")]

    before = snapshot(app)
    output = reconcile(app)
    assert "checked 1 payment intent(s) and 0 refund(s); applied 0; differences 0" in output, output
    assert snapshot(app) == before

    # A refund made at Stripe itself (the dashboard), which no webhook reported either.
    refund = localstripe.client.v1.refunds.create({"payment_intent": intent_id, "amount": 100_000})
    output = reconcile(app)
    assert "checked 1 payment intent(s) and 1 refund(s); applied 1; differences 0" in output, output
    assert f"applied: {refund.id}: refund of 100000 for order {order_id}" in output
    reversal = FEE - platform_fee(PRICE - 100_000, 300)
    expected_ledger = [("charge", PRICE, "stripe", charge_id), ("platform_fee", FEE, "platform", f"fee:{charge_id}"),
                       ("refund", 100_000, "stripe", refund.id),
                       ("fee_reversal", reversal, "platform", f"fee:{refund.id}")]
    assert ledger(app, order_id) == expected_ledger

    before = snapshot(app)
    output = reconcile(app)
    assert "checked 1 payment intent(s) and 1 refund(s); applied 0; differences 0" in output, output
    assert snapshot(app) == before
    assert provider_events(app) == []
