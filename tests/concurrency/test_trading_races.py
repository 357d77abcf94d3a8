"""Races on the trading paths (TXN-01, TXN-02, PAY-03, PAY-08) and one business operation per transaction (TXN-04).

Every racer is a thread with its own application context, session and database connection (the pool is sized so
that all of them hold one at once), released together by a barrier. A "database is locked" error, a lock timeout
(503 through the API) or any other error counts as a failure of the test, never as a lost race. The same tests
run on SQLite and, with TEST_DATABASE_URL, on PostgreSQL; each gets a fresh database from tests/conftest.py.

On SQLite every writer is queued by BEGIN IMMEDIATE; on PostgreSQL the writers of one order or listing queue on its
row lock, taken in the written lock order (hall.services.core.audit), and writers of different objects run side by
side. The tests assert outcomes (who won, what the database holds), not a particular interleaving, so they hold
whichever guard does the queueing.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from hall.extensions import db
from hall.models import (
    AuditEvent,
    ExclusiveClaim,
    IdempotencyRecord,
    LedgerEntry,
    Listing,
    Order,
    OutboxMail,
    Payment,
    ProviderEvent,
    User,
)
from hall.models.types import utcnow
from hall.services.core.errors import Conflict
from hall.services.trading import disputes, order_notices, orders, payments, refunds, stripe_events
from tests.support.factories import UserFactory, sign_in
from tests.support.orders import ORDERS
from tests.support.races import THREADS, api_post, make_buyers, run_together, signed_in_clients
from tests.support.trading import (
    Parties,
    deliver,
    fake_gateway,
    intent_succeeded,
    make_parties,
    publish_achievement,
    publish_product,
)

# ----------------------------------------------------------------------------------------------------- helpers
# (racing threads behind a barrier: tests/support/races.py; the race_app fixture: tests/concurrency/conftest.py)


def service_racer(app: Flask, actor_id: int, act: Callable[[User], Any]) -> Callable[[threading.Barrier], str]:
    """A racer calling one service in its own app context: 'won', 'conflict', or the error it met (a failure)."""
    def work(barrier: threading.Barrier) -> str:
        with app.app_context():
            try:
                actor = db.session.get(User, actor_id)
                assert actor is not None
                db.session.commit()  # end the read: every racer starts its write together
                barrier.wait(timeout=30)
                act(actor)
                db.session.commit()
                return "won"
            except Conflict:
                db.session.rollback()
                return "conflict"
            except OperationalError as error:  # locked database or lock timeout: a bug here, not a loss
                db.session.rollback()
                return f"OperationalError: {error.orig}"
            except Exception as error:  # reported through the caller's assertion
                db.session.rollback()
                return f"{type(error).__name__}: {error}"
    return work


def count(model: Any, *conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def audit_actions(object_type: str, object_id: Any, action: str | None = None) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.object_type == object_type,
                                            AuditEvent.object_id == str(object_id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def ledger_kinds(order_id: int) -> Counter[str]:
    return Counter(db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.order_id == order_id)))


def purchase(listing_id: int, quantity: int = 1) -> dict[str, Any]:
    return {"listing_id": listing_id, "deal_mode": "purchase", "quantity": quantity, "end_user_declared": True}


def exclusive_licence(listing_id: int) -> dict[str, Any]:
    return {"listing_id": listing_id, "deal_mode": "exclusive_license"}


def statuses(results: list[tuple[int, Any, dict[str, str]]]) -> Counter[int]:
    return Counter(status for status, _, _ in results)


# ----------------------------------------------------------------------------------------------------- TXN-01

def test_stock_check_constraint_refuses_a_negative_stock(app: Flask) -> None:
    """The database itself refuses stock below zero (the second line of defence behind the conditional UPDATE)."""
    with app.app_context():
        listing_id = publish_product(make_parties(), stock=1)
        with pytest.raises(IntegrityError):
            db.session.execute(update(Listing).where(Listing.id == listing_id).values(stock=Listing.stock - 2))
            db.session.flush()
        db.session.rollback()
        assert db.session.get(Listing, listing_id).stock == 1


@pytest.mark.parametrize(("stock", "quantity"), [(1, 1), (5, 2)], ids=["last-unit", "two-units-each"])
def test_buyers_race_for_the_last_units(race_app: Flask, backend: str, stock: int, quantity: int) -> None:
    """20 buyer institutions order at once what only ``stock // quantity`` of them can have: no oversell."""
    with race_app.app_context():
        listing_id = publish_product(make_parties(), stock=stock)
        buyers = make_buyers(THREADS)
    clients = signed_in_clients(race_app, buyers)
    results = run_together([api_post(client, ORDERS, purchase(listing_id, quantity), headers)
                            for client, headers in clients])
    winners = stock // quantity
    assert statuses(results) == {201: winners, 409: THREADS - winners}, (backend, results)
    for status, body, _ in results:
        if status == 409:  # the service's clean refusal, not a constraint violation caught on the way out
            assert body["status"] == 409 and body["message"].startswith("Not enough stock"), body
    won = sorted(body["id"] for status, body, _ in results if status == 201)
    with race_app.app_context():
        left = db.session.get(Listing, listing_id).stock
        assert left == stock - winners * quantity and left >= 0
        placed = db.session.scalars(select(Order).where(Order.listing_id == listing_id)).all()
        assert sorted(order.id for order in placed) == won  # the losers left no order behind
        assert all(order.status == "accepted" and order.stock_taken == quantity for order in placed)
        assert len({order.buyer_institution_id for order in placed}) == winners
        assert count(AuditEvent, AuditEvent.action == "order.create") == winners


def test_buyers_race_for_one_exclusive_licence(race_app: Flask, backend: str) -> None:
    """20 buyer institutions order the same exclusive licence (fixed price) at once: one order, one claim."""
    with race_app.app_context():
        listing_id = publish_achievement(make_parties(), deal_modes=["exclusive_license", "non_exclusive_license"])
        buyers = make_buyers(THREADS)
    clients = signed_in_clients(race_app, buyers)
    results = run_together([api_post(client, ORDERS, exclusive_licence(listing_id), headers)
                            for client, headers in clients])
    assert statuses(results) == {201: 1, 409: THREADS - 1}, (backend, results)
    for status, body, _ in results:
        if status == 409:
            assert body["message"].startswith("This listing is already reserved or sold exclusively"), body
    (winner,) = [body["id"] for status, body, _ in results if status == 201]
    with race_app.app_context():
        assert list(db.session.scalars(select(Order.id).where(Order.listing_id == listing_id))) == [winner]
        claims = db.session.scalars(select(ExclusiveClaim).where(ExclusiveClaim.listing_id == listing_id,
                                                                 ExclusiveClaim.released_at.is_(None))).all()
        assert [claim.order_id for claim in claims] == [winner]
        assert db.session.get(Order, winner).status == "accepted"


def test_buyers_race_to_accept_quotes_for_one_exclusive_licence(race_app: Flask, backend: str) -> None:
    """20 buyers each hold a quote for the same negotiated exclusive licence and accept at once (service level):
    exactly one reserves it, the other orders stay quoted."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties, deal_modes=["exclusive_license"], price_mode="negotiable",
                                         price_amount=None)
        buyers = make_buyers(THREADS)
        seller = db.session.get(User, parties.seller_id)
        order_ids, buyer_ids = [], []
        for email in buyers:
            buyer = db.session.scalar(select(User).where(User.email == email))
            order, created = orders.create_order(buyer, listing_id, {"deal_mode": "exclusive_license"})
            assert created and order.status == "requested"
            orders.quote_order(seller, order.id, 450_000_00, "含三年技术支持")
            order_ids.append(order.id)
            buyer_ids.append(buyer.id)
        db.session.commit()

    def accept(order_id: int) -> Callable[[User], Any]:
        return lambda buyer: orders.accept_quote(buyer, order_id, 1)

    outcomes = run_together([service_racer(race_app, buyer_id, accept(order_id))
                             for buyer_id, order_id in zip(buyer_ids, order_ids)])
    assert Counter(outcomes) == {"won": 1, "conflict": THREADS - 1}, (backend, outcomes)
    winner = order_ids[outcomes.index("won")]
    with race_app.app_context():
        states = dict(db.session.execute(select(Order.id, Order.status).where(Order.id.in_(order_ids))).all())
        assert states == {order_id: "accepted" if order_id == winner else "quoted" for order_id in order_ids}
        claims = db.session.scalars(select(ExclusiveClaim.order_id).where(ExclusiveClaim.listing_id == listing_id,
                                                                          ExclusiveClaim.released_at.is_(None)))
        assert list(claims) == [winner]
        assert count(AuditEvent, AuditEvent.action == "order.accept") == 1


# ----------------------------------------------------------------------------------------------------- TXN-02

def test_concurrent_requests_with_one_idempotency_key_make_one_order(race_app: Flask, backend: str) -> None:
    """20 identical POSTs with the same Idempotency-Key (one buyer, 20 sessions): one order, one answer."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_product(parties, stock=5)
    clients = signed_in_clients(race_app, [parties.buyer] * THREADS)
    key = str(uuid.uuid4())
    body = purchase(listing_id)
    results = run_together([api_post(client, ORDERS, body, {**headers, "Idempotency-Key": key})
                            for client, headers in clients])
    assert statuses(results) == {201: THREADS}, (backend, results)
    assert len({answer["id"] for _, answer, _ in results}) == 1
    assert len({repr(sorted(answer.items())) for _, answer, _ in results}) == 1  # the very same answer
    replayed = [headers.get("Idempotent-Replayed") for _, _, headers in results]
    assert replayed.count("true") == THREADS - 1 and replayed.count(None) == 1, replayed

    client, headers = clients[0]
    before = snapshot(race_app, listing_id)
    other = client.post(ORDERS, json=purchase(listing_id, 2), headers={**headers, "Idempotency-Key": key})
    assert other.status_code == 422, other.get_json()
    assert "Idempotency-Key" in other.get_json()["errors"]
    assert snapshot(race_app, listing_id) == before

    with race_app.app_context():
        placed = db.session.scalars(select(Order).where(Order.listing_id == listing_id)).all()
        assert [order.id for order in placed] == [results[0][1]["id"]]
        assert db.session.get(Listing, listing_id).stock == 4
        assert count(IdempotencyRecord) == 1


def test_double_click_without_a_key_finds_the_open_order(race_app: Flask, backend: str) -> None:
    """20 identical POSTs without a key (a double click): one order is made (201), the others get it back (200)."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_product(parties, stock=5)
    clients = signed_in_clients(race_app, [parties.buyer] * THREADS)
    results = run_together([api_post(client, ORDERS, purchase(listing_id), headers) for client, headers in clients])
    assert statuses(results) == {201: 1, 200: THREADS - 1}, (backend, results)
    assert len({answer["id"] for _, answer, _ in results}) == 1
    with race_app.app_context():
        placed = db.session.scalars(select(Order).where(Order.listing_id == listing_id)).all()
        assert len(placed) == 1 and placed[0].status == "accepted"
        assert db.session.get(Listing, listing_id).stock == 4
        assert count(AuditEvent, AuditEvent.action == "order.create") == 1


# ----------------------------------------------------------------------------------------------------- PAY-03

def card_payment_confirmed(app: Flask, parties: Parties, listing_id: int) -> tuple[int, int, Any]:
    """An order for the non-exclusive licence with a fake card payment the provider has confirmed:
    (order id, payment id, the confirmed intent)."""
    with app.app_context():
        buyer = db.session.get(User, parties.buyer_id)
        order, _ = orders.create_order(buyer, listing_id, {"deal_mode": "non_exclusive_license"})
        payment, _ = payments.start_payment(buyer, order.id, "stripe")
        db.session.commit()
        return order.id, payment.id, fake_gateway(app).succeed(payment.provider_reference)


def test_twenty_deliveries_of_one_event_pay_once(race_app: Flask, backend: str) -> None:
    """The same signed payment_intent.succeeded delivered by 20 threads at once: one event row, one charge, one
    fee, one payment of the order; every delivery answers 200."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
    order_id, payment_id, intent = card_payment_confirmed(race_app, parties, listing_id)
    event = intent_succeeded(intent.id, intent.amount, charge=intent.latest_charge)

    def webhook(barrier: threading.Barrier) -> tuple[int, Any]:
        client = race_app.test_client()
        barrier.wait(timeout=30)
        response = deliver(client, event)
        return response.status_code, response.get_json()

    results = run_together([webhook] * THREADS)
    assert Counter(status for status, _ in results) == {200: THREADS}, (backend, results)
    assert Counter(answer["outcome"] for _, answer in results) == {"applied": 1, "duplicate": THREADS - 1}
    with race_app.app_context():
        assert count(ProviderEvent, ProviderEvent.event_id == event["id"]) == 1
        assert ledger_kinds(order_id) == {"charge": 1, "platform_fee": 1}
        order = db.session.get(Order, order_id)
        assert order.status == "paid" and order.paid_amount == order.amount == intent.amount
        assert audit_actions("order", order_id, "order.pay") == ["order.pay"]
        assert db.session.get(Payment, payment_id).status == "succeeded"
        assert audit_actions("payment", payment_id, "payment.succeed") == ["payment.succeed"]


def test_twenty_different_events_for_one_payment_count_the_money_once(race_app: Flask, backend: str) -> None:
    """20 distinct events (a retry storm with new ids, or reconciliation) report the same succeeded intent at
    once: each event is recorded once, the charge only once."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
    order_id, _, intent = card_payment_confirmed(race_app, parties, listing_id)
    events = [intent_succeeded(intent.id, intent.amount, charge=intent.latest_charge) for _ in range(THREADS)]

    def webhook(event: dict[str, Any]) -> Callable[[threading.Barrier], tuple[int, Any]]:
        def work(barrier: threading.Barrier) -> tuple[int, Any]:
            client = race_app.test_client()
            barrier.wait(timeout=30)
            response = deliver(client, event)
            return response.status_code, response.get_json()
        return work

    results = run_together([webhook(event) for event in events])
    assert Counter(status for status, _ in results) == {200: THREADS}, (backend, results)
    assert Counter(answer["outcome"] for _, answer in results) == {"applied": 1, "already": THREADS - 1}
    with race_app.app_context():
        assert count(ProviderEvent, ProviderEvent.event_id.in_([event["id"] for event in events])) == THREADS
        assert ledger_kinds(order_id) == {"charge": 1, "platform_fee": 1}
        assert db.session.get(Order, order_id).paid_amount == intent.amount
        assert audit_actions("order", order_id, "order.pay") == ["order.pay"]


# ----------------------------------------------------------------------------------------------------- PAY-08

REFUND_ROUNDS = 4


def paid_order(app: Flask, parties: Parties, listing_id: int, method: str) -> int:
    """A non-exclusive licence order paid by card (through the webhook's service) or by a recorded bank transfer."""
    with app.app_context():
        buyer = db.session.get(User, parties.buyer_id)
        order, _ = orders.create_order(buyer, listing_id, {"deal_mode": "non_exclusive_license"})
        if method == "card":
            payment, _ = payments.start_payment(buyer, order.id, "stripe")
            intent = fake_gateway(app).succeed(payment.provider_reference)
            outcome = stripe_events.apply_event(intent_succeeded(intent.id, intent.amount,
                                                                 charge=intent.latest_charge))
            assert outcome == "applied"
        else:
            payments.record_bank_transfer(db.session.get(User, parties.admin_id), order.id, amount=order.amount,
                                          currency=order.currency, value_date=utcnow().date(),
                                          bank_reference=f"IN-{uuid.uuid4().hex[:12]}")
        db.session.commit()
        assert order.status == "paid"
        return order.id


def refund_of(order_id: int, amount: int) -> Callable[[User], Any]:
    """An admin's refund of ``amount``; a bank transfer's return carries that admin's own bank reference."""
    def refund(admin: User) -> Any:
        return refunds.refund_order(admin, order_id, amount, "买方撤回部分需求 / partial withdrawal",
                                     bank_reference=f"OUT-{order_id}-{admin.id}")
    return refund


def test_two_admins_refunding_sixty_percent_at_once(race_app: Flask, backend: str) -> None:
    """Two admins each refund 60 % of the same paid order at the same moment: one refund, one Conflict; the
    order's refunded amount equals the ledger's refunds. Alternates card and bank-transfer payments."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
        second_admin = UserFactory(is_admin=True)
        db.session.commit()
        admins = [parties.admin_id, second_admin.id]
    for round_number in range(REFUND_ROUNDS):
        method = "card" if round_number % 2 == 0 else "bank_transfer"
        order_id = paid_order(race_app, parties, listing_id, method)
        with race_app.app_context():
            paid = db.session.get(Order, order_id).paid_amount
        share = paid * 60 // 100
        outcomes = run_together([service_racer(race_app, admin_id, refund_of(order_id, share))
                                 for admin_id in admins])
        assert sorted(outcomes) == ["conflict", "won"], (backend, method, outcomes)
        with race_app.app_context():
            order = db.session.get(Order, order_id)
            refunds = list(db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.order_id == order_id,
                                                                                 LedgerEntry.kind == "refund")))
            assert refunds == [share]
            assert order.refunded_amount == sum(refunds) <= order.paid_amount == paid
            assert order.status == "paid"  # a partial refund leaves the order as it was
            assert ledger_kinds(order_id)["fee_reversal"] == 1
            if method == "card":
                intent_id = db.session.scalar(select(Payment.provider_reference).where(
                    Payment.order_id == order_id, Payment.status == "succeeded"))
                gateway_refunds = [r.amount for r in fake_gateway(race_app).refunds.values()
                                   if r.payment_intent == intent_id]
                assert gateway_refunds == [share]  # the loser never reached the provider


STEP_ROUNDS = 8


def party_step(step: str, order_id: int) -> Callable[[User], Any]:
    """The seller delivering, or the buyer disputing, the paid order."""
    if step == "deliver":
        return lambda seller: orders.deliver_order(seller, order_id, "已交付全部技术资料")
    return lambda buyer: disputes.open_dispute(buyer, order_id, "资料不完整")


@pytest.mark.parametrize("step", ["deliver", "dispute"])
def test_a_party_step_and_a_partial_refund_at_once(race_app: Flask, backend: str, step: str) -> None:
    """The seller delivers (or the buyer disputes) while an admin refunds a third of the same paid order: the two
    are compatible, so both must go through. On PostgreSQL this needs every writer to lock rows in the written
    order (hall.services.core.audit) and an object's audit stream only under its row lock; otherwise the two
    deadlock and one of them fails."""
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
    actor = parties.seller_id if step == "deliver" else parties.buyer_id
    for _ in range(STEP_ROUNDS):
        order_id = paid_order(race_app, parties, listing_id, "bank_transfer")
        with race_app.app_context():
            share = db.session.get(Order, order_id).paid_amount // 3
        outcomes = run_together([service_racer(race_app, actor, party_step(step, order_id)),
                                 service_racer(race_app, parties.admin_id, refund_of(order_id, share))])
        assert outcomes == ["won", "won"], (backend, step, outcomes)
        with race_app.app_context():
            order = db.session.get(Order, order_id)
            assert order.status == {"deliver": "delivered", "dispute": "disputed"}[step]
            assert order.refunded_amount == share == ledger_amounts(order_id, "refund")


def ledger_amounts(order_id: int, kind: str) -> int:
    return sum(db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.order_id == order_id,
                                                                   LedgerEntry.kind == kind)))


# ----------------------------------------------------------------------------------------------------- TXN-04

def snapshot(app: Flask, listing_id: int) -> dict[str, Any]:
    """What a failed order request must leave untouched."""
    with app.app_context():
        return {
            "stock": db.session.get(Listing, listing_id).stock,
            "orders": count(Order),
            "claims": count(ExclusiveClaim),
            "active claims": count(ExclusiveClaim, ExclusiveClaim.released_at.is_(None)),
            "payments": count(Payment),
            "ledger": count(LedgerEntry),
            "idempotency": count(IdempotencyRecord),
            "audit": count(AuditEvent),
            "mail": count(OutboxMail),
        }


class PlantedFailure(RuntimeError):
    """Raised on purpose after the order took what it reserves."""


@pytest.mark.parametrize("kind", ["product", "exclusive_licence"])
@pytest.mark.parametrize("failing", ["record_event", "notifications"])
def test_a_failure_after_the_stock_was_taken_leaves_nothing_behind(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                                   kind: str, failing: str) -> None:
    """An exception raised after ``inventory.reserve`` inside a real request: the API answers a 500 problem
    document and stock, orders, claims, ledger, idempotency records, audit and outbox are as before; the same
    Idempotency-Key then runs afresh."""
    with app.app_context():
        parties = make_parties()
        if kind == "product":
            listing_id = publish_product(parties, stock=2)
            body = purchase(listing_id)
        else:
            listing_id = publish_achievement(parties, deal_modes=["exclusive_license"])
            body = exclusive_licence(listing_id)
    client = app.test_client()
    headers = {"X-CSRFToken": sign_in(client, parties.buyer), "Idempotency-Key": str(uuid.uuid4())}
    before = snapshot(app, listing_id)
    seen: list[str] = []

    def boom(*args: Any, **kwargs: Any) -> None:
        # Prove the failure comes after the reservation: the request's own transaction holds it at this point.
        if kind == "product":
            held = db.session.scalar(select(Listing.stock).where(Listing.id == listing_id)) == before["stock"] - 1
        else:
            held = count(ExclusiveClaim, ExclusiveClaim.listing_id == listing_id) == 1
        seen.append("reserved" if held else "not reserved")
        raise PlantedFailure("planted failure after the reservation")

    if failing == "record_event":
        monkeypatch.setattr(orders, "record_event", boom)
    else:
        monkeypatch.setattr(order_notices, "tell", boom)
    response = client.post(ORDERS, json=body, headers=headers)
    assert seen == ["reserved"]
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    problem = response.get_json()
    assert problem["status"] == 500 and problem["request_id"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert "PlantedFailure" not in response.get_data(as_text=True)
    assert snapshot(app, listing_id) == before

    monkeypatch.undo()
    retry = client.post(ORDERS, json=body, headers=headers)
    assert retry.status_code == 201, retry.get_json()
    assert retry.headers.get("Idempotent-Replayed") is None
    after = snapshot(app, listing_id)
    assert after["orders"] == before["orders"] + 1 and after["idempotency"] == 1
    if kind == "product":
        assert after["stock"] == before["stock"] - 1
    else:
        assert after["active claims"] == before["active claims"] + 1
