"""The order's write path (issue 14: orders per second): a fixed-price order in a small fixed number of statements —
the person and their institution in one read, the listing locked and loaded with its version and institution at
once, the stock taken before the INSERT that writes ``stock_taken``, the new order's first audit event without a
stream lock or a read of the stream's head, the recipients and their mail preferences in one read — and what those
shortcuts must not change: the trail verifies, a created stream that is not empty is refused, a duplicate caught by
the unique index gives its stock back, preferences of other groups do not stop a mail."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.models import AuditEvent, Listing, Order
from hall.services.core.audit import GENESIS_HASH, record_event, verify_chain
from hall.services.trading import orders
from tests.support.orders import Market, read
from tests.support.statements import counted, without_begin

# The statements of one fixed-price product order whose seller has one member, as the request sends them: the
# person with their session and institution; the listing locked with its version and institution; the open
# duplicate check; SAVEPOINT, the stock UPDATE, the order INSERT, RELEASE; the audit INSERT; the recipients with
# their preferences; the notification INSERT; the outbox INSERT; after the commit, the outbox marked sent.
ORDER_STATEMENTS = 12


def _order_statements(market: Market, quantity: int = 2) -> tuple[dict[str, Any], list[str]]:
    with market.app.app_context(), counted() as statements:
        response = market.buyer.order(market.product, "purchase", quantity=quantity, end_user_declared=True)
    assert response.status_code == 201, response.get_json()
    return response.get_json(), [" ".join(s.split()) for s in without_begin(statements)]


def test_a_product_order_runs_a_fixed_small_number_of_statements(market: Market) -> None:
    body, statements = _order_statements(market)
    assert len(statements) <= ORDER_STATEMENTS, "\n".join(statements)
    selects = [s for s in statements if s.startswith("SELECT")]
    assert not [s for s in selects if s.startswith(("SELECT institutions.", "SELECT listing_versions."))]
    assert len([s for s in selects if s.startswith("SELECT listings.")]) == 1  # locked and loaded at once
    assert not [s for s in statements if "pg_advisory_xact_lock" in s or "audit_events.seq" in s.split(" FROM")[0]]
    assert not [s for s in statements if s.startswith("UPDATE orders")]  # stock_taken is in the INSERT
    assert not [s for s in selects if s.startswith("SELECT notification_preferences.")]
    # ... and the answer and the database say what they said before
    assert body["quantity"] == 2 and body["status"] == "accepted"
    row = read(market.app, lambda: db.session.get(Order, body["id"]))
    assert row.stock_taken == 2
    assert read(market.app, lambda: db.session.get(Listing, market.product).stock) == market.stock - 2


def test_the_new_orders_event_opens_its_stream_and_the_trail_verifies(market: Market) -> None:
    body, _ = _order_statements(market, quantity=1)
    second = market.buyer_b.order(market.product, "purchase", quantity=1, end_user_declared=True)
    assert second.status_code == 201
    with market.app.app_context():
        for order_id in (body["id"], second.get_json()["id"]):
            events = db.session.scalars(select(AuditEvent).where(AuditEvent.stream == f"order:{order_id}")
                                        .order_by(AuditEvent.seq)).all()
            assert [(e.action, e.seq) for e in events] == [("order.create", 1)]
            assert events[0].prev_hash == GENESIS_HASH
        verdict = verify_chain()
        assert verdict.intact, verdict.problem
        db.session.remove()
    cancelled = market.buyer.post(f"/api/v1/orders/{body['id']}/cancel", {"reason": "不需要了"})
    assert cancelled.status_code == 200, cancelled.get_json()
    with market.app.app_context():  # the next event of the stream chains onto the first
        seqs = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.stream == f"order:{body['id']}")
                                  .order_by(AuditEvent.seq)).all()
        assert list(seqs) == [1, 2] and verify_chain().intact
        db.session.remove()


def test_an_event_for_a_created_object_whose_stream_has_events_is_refused(app: Flask) -> None:
    with app.app_context():
        record_event("test.first", "widget", 7)
        db.session.commit()
        with pytest.raises(IntegrityError):
            record_event("test.again", "widget", 7, created=True)  # a caller that wrongly says the object is new
        db.session.rollback()
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.stream == "widget:7")
                                 .order_by(AuditEvent.seq.desc()).limit(1)) == "test.first"
        db.session.remove()


def test_a_duplicate_caught_by_the_unique_index_gives_its_stock_back(market: Market,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = market.buyer.order(market.product, "purchase", quantity=1, end_user_declared=True)
    assert first.status_code == 201
    real = orders._open_duplicate
    calls: list[int] = []

    def misses_once(buyer_id: int, listing_id: int, key: str) -> Order | None:
        calls.append(listing_id)
        return None if len(calls) == 1 else real(buyer_id, listing_id, key)

    # As if another tab's order had committed between the check and the INSERT: the index refuses the second
    # order inside the savepoint, whose rollback must undo the stock taken for it.
    monkeypatch.setattr(orders, "_open_duplicate", misses_once)
    again = market.buyer.order(market.product, "purchase", quantity=1, end_user_declared=True)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"] and len(calls) == 2
    assert read(market.app, lambda: db.session.get(Listing, market.product).stock) == market.stock - 1
    assert read(market.app, lambda: db.session.scalar(select(db.func.count()).select_from(Order))) == 1
