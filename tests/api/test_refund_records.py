"""Refunds as records (issue 9.2 and 9.8): a refund Stripe later reports failed is reversed in the ledger, a
refund event with a negative amount is acknowledged and audited (Stripe would retry a 4xx for days), and a
succeeded event with another amount after the payment succeeded is refused and audited."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import AuditEvent, LedgerEntry, Refund
from hall.services.trading.ledger import order_balance
from tests.support.orders import Market, buy_product, open_market, order_row, pay_by_card, read, refund, webhook
from tests.support.trading import fake_gateway, intent_succeeded, stripe_event


def refund_event(refund_id: str, intent: str, amount: Any, status: str, event_type: str = "refund.updated",
                 **extra: Any) -> dict[str, Any]:
    return stripe_event(event_type, {"id": refund_id, "object": "refund", "amount": amount, "currency": "cny",
                                     "status": status, "payment_intent": intent, **extra})


def ledger(app: Flask, order_id: int) -> list[tuple[str, int]]:
    return read(app, lambda: [(e.kind, e.amount) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.order_id == order_id).order_by(LedgerEntry.id))])


def audited(app: Flask, action: str) -> list[str | None]:
    return read(app, lambda: list(db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == action))))


def paid_order(market: Market) -> tuple[dict[str, Any], str]:
    order = buy_product(market)
    return order, pay_by_card(market, order["id"])


def test_a_full_refund_stripe_later_reports_failed_is_reversed_and_the_order_reopened(market: Market) -> None:
    app = market.app
    order, intent = paid_order(market)
    refund(market, order["id"], order["amount"], "买方撤回")
    assert order_row(app, order["id"])["status"] == "refunded"
    [refund_id] = fake_gateway(app).refunds
    failed = webhook(app, refund_event(refund_id, intent, order["amount"], "failed"))
    assert failed.status_code == 200 and failed.get_json()["outcome"] == "applied"
    row = order_row(app, order["id"])
    assert row["status"] == "paid" and row["refunded_amount"] == 0
    kinds = [kind for kind, _ in ledger(app, order["id"])]
    assert kinds == ["charge", "platform_fee", "refund", "fee_reversal", "refund_reversal", "platform_fee"]
    balance = read(app, lambda: order_balance(order["id"]))
    assert (balance.charged, balance.refunded, balance.fees) == (order["amount"], 0, order["fee_amount"])
    assert read(app, lambda: db.session.scalar(select(Refund.status))) == "failed"
    # The same news again changes nothing.
    again = webhook(app, refund_event(refund_id, intent, order["amount"], "failed"))
    assert again.get_json()["outcome"] == "already" and len(ledger(app, order["id"])) == 6


def test_a_partial_refund_that_failed_gives_the_amount_back_to_what_is_refundable(market: Market) -> None:
    app = market.app
    order, intent = paid_order(market)
    refund(market, order["id"], 500_00, "部分退款")
    [refund_id] = fake_gateway(app).refunds
    assert webhook(app, refund_event(refund_id, intent, 500_00, "failed")).get_json()["outcome"] == "applied"
    row = order_row(app, order["id"])
    assert row["status"] == "paid" and row["refunded_amount"] == 0
    assert ("refund_reversal", 500_00) in ledger(app, order["id"])


def test_a_refund_event_with_a_negative_amount_is_acknowledged_audited_and_changes_nothing(market: Market) -> None:
    app = market.app
    order, intent = paid_order(market)
    before = ledger(app, order["id"])
    for amount in (-500_00, 0, "100", None):
        response = webhook(app, refund_event(f"re_forged_{amount}", intent, amount, "succeeded", "refund.created"))
        assert response.status_code == 200 and response.get_json()["outcome"] == "mismatch", response.get_json()
    assert ledger(app, order["id"]) == before and order_row(app, order["id"])["refunded_amount"] == 0
    assert len(audited(app, "refund.mismatch")) == 4 and len(audited(app, "webhook.refused")) == 4


def test_a_succeeded_event_with_another_amount_after_success_is_refused_and_audited(market: Market) -> None:
    app = market.app
    order, intent = paid_order(market)
    before = ledger(app, order["id"])
    forged = webhook(app, intent_succeeded(intent, order["amount"] * 10, charge="ch_other"))
    assert forged.status_code == 200 and forged.get_json()["outcome"] == "mismatch"
    assert ledger(app, order["id"]) == before
    [details] = audited(app, "payment.mismatch")
    assert str(order["amount"] * 10) in (details or "")
    same = webhook(app, intent_succeeded(intent, order["amount"]))
    assert same.get_json()["outcome"] == "already"


def test_a_refund_made_in_the_dashboard_is_recorded_once_with_its_own_record(app: Flask) -> None:
    market = open_market(app)
    order, intent = paid_order(market)
    made = fake_gateway(app).refund(intent_id=intent, amount=200_00, idempotency_key="dash-1", metadata={})
    for _ in range(2):
        webhook(app, refund_event(made.id, intent, 200_00, "succeeded", "refund.created"))
    rows = read(app, lambda: [(r.status, r.amount, r.provider_reference) for r in db.session.scalars(select(Refund))])
    assert rows == [("succeeded", 200_00, made.id)]
    assert order_row(app, order["id"])["refunded_amount"] == 200_00
