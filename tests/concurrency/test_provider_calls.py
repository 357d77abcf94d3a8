"""No call to the payment provider while a database lock or transaction is held (issue 9.2).

A fake gateway call is held open (as a stalled Stripe would be) while other people keep trading: their orders and
payments must go through at once. Were the stalled request holding its transaction, SQLite's write lock or the
PostgreSQL row locks would make them wait for the (shortened) lock timeout and answer 503. The held call waits
on an event the test sets afterwards, never on a clock. Both databases.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from hall.extensions import db
from hall.models import LedgerEntry, Order, Payment, Refund, User
from hall.models.types import utcnow
from hall.payments import GatewayError, ProviderCallInTransaction, gateway
from hall.services.trading import closing, refunds, stripe_events
from tests.support.orders import ORDERS, Market, app_with, buy_product, open_market, order_row, pay_by_card, read
from tests.support.trading import fake_gateway

SAFETY = 60  # seconds: only against a hung test, never a measured property
LOCK_WAIT_MS = 1_500  # other writers give up this soon when something holds the lock


class HeldCall:
    """Wraps one gateway method: the first call signals that it started and waits until released."""

    def __init__(self, app: Flask, method: str) -> None:
        self.entered, self.released = threading.Event(), threading.Event()
        fake = fake_gateway(app)
        original: Callable[..., Any] = getattr(fake, method)
        self.calls = 0

        def held(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                self.entered.set()
                assert self.released.wait(SAFETY), "the test never released the held call"
            return original(*args, **kwargs)
        setattr(fake, method, held)


@pytest.fixture
def impatient_app(database_url: str) -> Iterator[Flask]:
    """Writers that meet a held lock give up after LOCK_WAIT_MS (503) instead of 10 s."""
    with app_with(database_url, SQLITE_BUSY_TIMEOUT_MS=LOCK_WAIT_MS, PG_LOCK_TIMEOUT_MS=LOCK_WAIT_MS) as app:
        yield app


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        except Exception as error:  # noqa: BLE001 - handed to the test thread
            result.append(error)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def while_held(held: HeldCall, work: Callable[[], Any], meanwhile: Callable[[], None]) -> list[Any]:
    """Run ``work`` in a thread until its provider call is held, do ``meanwhile``, release; what ``work`` gave."""
    thread, result = in_thread(work)
    assert held.entered.wait(SAFETY)
    try:
        meanwhile()
    finally:
        held.released.set()
        thread.join(SAFETY)
    return result


def others_keep_trading(market: Market) -> None:
    """While a provider call is held: another buyer orders, chooses bank transfer, and cancels an order."""
    other = market.buyer_b.order(market.product, "purchase", quantity=1, end_user_declared=True)
    assert other.status_code == 201, other.get_json()
    transfer = market.buyer_b.post(f"{ORDERS}/{other.get_json()['id']}/payments", {"method": "bank_transfer"})
    assert transfer.status_code == 201, transfer.get_json()
    cancelled = market.buyer_b.post(f"{ORDERS}/{other.get_json()['id']}/cancel", {"reason": "重复下单"})
    assert cancelled.status_code == 200, cancelled.get_json()


def test_others_keep_ordering_while_creating_a_payment_intent_stalls(impatient_app: Flask) -> None:
    market = open_market(impatient_app)
    order = buy_product(market)
    held = HeldCall(impatient_app, "create_intent")
    [response] = while_held(held, lambda: market.buyer.post(f"{ORDERS}/{order['id']}/payments",
                                                            {"method": "stripe"}), lambda: others_keep_trading(market))
    assert response.status_code == 201 and response.get_json()["client_secret"], response.get_json()
    assert order_row(impatient_app, order["id"])["status"] == "awaiting_payment"


def test_others_keep_ordering_while_a_card_refund_stalls(impatient_app: Flask) -> None:
    market = open_market(impatient_app)
    order = buy_product(market)
    pay_by_card(market, order["id"])
    held = HeldCall(impatient_app, "refund")

    def refund() -> int:
        with impatient_app.app_context():
            admin = db.session.get(User, market.parties.admin_id)
            refunds.refund_order(admin, order["id"], order["amount"], "买方撤回")
            db.session.commit()
            db.session.remove()
            return order["id"]
    assert while_held(held, refund, lambda: others_keep_trading(market)) == [order["id"]]
    row = order_row(impatient_app, order["id"])
    assert row["status"] == "refunded" and row["refunded_amount"] == order["amount"]


def test_others_keep_ordering_while_expire_orders_waits_for_stripe(impatient_app: Flask) -> None:
    market = open_market(impatient_app)
    first, second = buy_product(market), buy_product(market, party=market.buyer_b)
    # Both buyers start a card payment, then walk away.
    assert market.buyer.post(f"{ORDERS}/{first['id']}/payments", {"method": "stripe"}).status_code == 201
    assert market.buyer_b.post(f"{ORDERS}/{second['id']}/payments", {"method": "stripe"}).status_code == 201
    with impatient_app.app_context():
        db.session.execute(update(Order).values(reserved_until=utcnow()))
        db.session.commit()
        db.session.remove()
    held = HeldCall(impatient_app, "cancel_intent")

    def expire() -> list[int]:
        with impatient_app.app_context():
            expired = closing.expire_due_orders()
            db.session.remove()
            return expired
    thread, result = in_thread(expire)
    assert held.entered.wait(SAFETY)
    try:
        # Expiry waits for Stripe on the first order; a new order goes through at once.
        again = market.buyer.order(market.product, "purchase", quantity=2, end_user_declared=True)
        assert again.status_code == 201, again.get_json()
    finally:
        held.released.set()
        thread.join(SAFETY)
    assert result == [[first["id"], second["id"]]]
    assert {order_row(impatient_app, oid)["status"] for oid in (first["id"], second["id"])} == {"expired"}


def test_expire_orders_commits_order_by_order(app: Flask) -> None:
    """A later failure does not undo an earlier expiry: the first order's expiry is committed on its own."""
    market = open_market(app)
    first, second = buy_product(market), buy_product(market, party=market.buyer_b)
    assert market.buyer_b.post(f"{ORDERS}/{second['id']}/payments", {"method": "stripe"}).status_code == 201
    with app.app_context():
        db.session.execute(update(Order).values(reserved_until=utcnow()))
        db.session.commit()
        fake_gateway(app).fail_with()  # the second order's intent cannot be cancelled now
        assert closing.expire_due_orders() == [first["id"]]
        db.session.rollback()  # whatever the caller does afterwards, the first expiry stands
        db.session.remove()
    assert order_row(app, first["id"])["status"] == "expired"
    assert order_row(app, second["id"])["status"] == "awaiting_payment"


def test_the_gateway_refuses_a_call_inside_a_transaction(app: Flask) -> None:
    with app.app_context():
        db.session.scalar(select(User.id).limit(1))  # a transaction is now open
        with pytest.raises(ProviderCallInTransaction):
            gateway().list_intents(created_since=utcnow())
        db.session.rollback()
        assert gateway().list_intents(created_since=utcnow()) == []


def test_an_intent_whose_answer_was_lost_is_attached_by_reconcile(app: Flask) -> None:
    """Stripe made the intent, the answer never came back (502); reconcile finds it by its metadata and attaches
    it, so the card payment the buyer then makes is applied to the right order, once."""
    market = open_market(app)
    order = buy_product(market)
    fake = fake_gateway(app)
    fake.lose_answer()
    lost = market.buyer.post(f"{ORDERS}/{order['id']}/payments", {"method": "stripe"})
    assert lost.status_code == 502
    [intent_id] = fake.intents
    assert read(app, lambda: db.session.scalar(select(Payment.provider_reference))) != intent_id
    with app.app_context():
        report = stripe_events.reconcile(24)
        db.session.commit()
        db.session.remove()
    assert read(app, lambda: db.session.scalar(select(Payment.provider_reference))) == intent_id
    assert not report.differences, report.differences
    retry = market.buyer.post(f"{ORDERS}/{order['id']}/payments", {"method": "stripe"})
    assert retry.status_code == 201 and len(fake.intents) == 1


def test_a_refund_whose_answer_was_lost_is_finished_by_reconcile_once(app: Flask) -> None:
    market = open_market(app)
    order = buy_product(market)
    pay_by_card(market, order["id"])
    fake = fake_gateway(app)
    fake.lose_answer()
    with app.app_context():
        admin = db.session.get(User, market.parties.admin_id)
        with pytest.raises(GatewayError):
            refunds.refund_order(admin, order["id"], 1_000_00, "部分退款")
        db.session.rollback()
        db.session.execute(update(Refund).values(created_at=utcnow().replace(year=2025)))  # an old leftover
        db.session.commit()
        stripe_events.reconcile(24)
        stripe_events.reconcile(24)  # again: nothing new
        db.session.commit()
        booked = db.session.scalars(select(LedgerEntry.provider_reference).where(LedgerEntry.kind == "refund")).all()
        assert booked == list(fake.refunds) and len(booked) == 1
        assert db.session.scalar(select(Refund.status)) == "succeeded"
        db.session.remove()
    assert order_row(app, order["id"])["refunded_amount"] == 1_000_00
