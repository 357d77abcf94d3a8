"""Money rules of the payment services, at the service level against a real database: a refund never reaches
money already settled to the seller (a refund Stripe reports is still recorded), checks come before the refund
counter moves, settlements are not dated in the future, and money the provider reports for a cancelled payment
is recorded (the order stays closed and shows as refundable)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import LedgerEntry, Order, Payment, User
from hall.models.types import utcnow
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.trading import orders, payments, refunds, settlements, stripe_events
from hall.services.trading.ledger import order_balance
from tests.support.trading import Parties, fake_gateway, intent_succeeded, make_parties, publish_product

PRICE = 1_000_000  # fen


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _paid_completed_order(app: Flask) -> tuple[Parties, int]:
    """A product order paid by bank transfer, delivered and confirmed (committed)."""
    parties = make_parties()
    listing_id = publish_product(parties, stock=5, price=PRICE)
    buyer, seller = _user(parties.buyer), _user(parties.seller)
    admin = db.session.get(User, parties.admin_id)
    order, _ = orders.create_order(buyer, listing_id, {"deal_mode": "purchase", "end_user_declared": True})
    payments.start_payment(buyer, order.id, "bank_transfer")
    payments.record_bank_transfer(admin, order.id, amount=PRICE, currency="CNY", value_date=utcnow().date(),
                                  bank_reference="ICBC-IN-1")
    orders.deliver_order(seller, order.id, "已发货")
    orders.confirm_delivery(buyer, order.id)
    db.session.commit()
    return parties, order.id


def _count(kind: str, order_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.order_id == order_id, LedgerEntry.kind == kind))


def test_an_admin_refund_never_reaches_money_settled_to_the_seller(app_context: Flask) -> None:
    parties, order_id = _paid_completed_order(app_context)
    admin = db.session.get(User, parties.admin_id)
    due = order_balance(order_id).seller_due
    settlements.record_settlement(admin, order_id, amount=due, bank_reference="ICBC-OUT-1", value_date=utcnow().date())
    db.session.commit()
    with pytest.raises(Conflict, match="settled to the seller"):
        refunds.refund_order(admin, order_id, PRICE - due + 1, "buyer complaint", bank_reference="ICBC-BACK-1")
    db.session.rollback()
    refunds.refund_order(admin, order_id, PRICE - due, "buyer complaint", bank_reference="ICBC-BACK-2")
    db.session.commit()
    balance = order_balance(order_id)
    assert balance.held == 0 and balance.refunded == PRICE - due
    assert db.session.get(Order, order_id).refunded_amount == PRICE - due


def test_a_refund_the_provider_reports_after_settlement_is_still_recorded(app_context: Flask) -> None:
    parties = make_parties()
    listing_id = publish_product(parties, stock=5, price=PRICE)
    buyer, seller = _user(parties.buyer), _user(parties.seller)
    admin = db.session.get(User, parties.admin_id)
    order, _ = orders.create_order(buyer, listing_id, {"deal_mode": "purchase", "end_user_declared": True})
    payment, _extra = payments.start_payment(buyer, order.id, "stripe")
    fake_gateway(app_context).succeed(payment.provider_reference)
    stripe_events.apply_event(intent_succeeded(payment.provider_reference, PRICE))
    orders.deliver_order(seller, order.id, "已发货")
    orders.confirm_delivery(buyer, order.id)
    settlements.record_settlement(admin, order.id, amount=order_balance(order.id).seller_due,
                               bank_reference="ICBC-OUT-9", value_date=utcnow().date())
    db.session.commit()
    outcome = refunds.provider_refund(payment, "re_dashboard_1", PRICE, "cny", "succeeded")
    db.session.commit()
    assert outcome == "applied" and _count("refund", order.id) == 1
    assert db.session.get(Order, order.id).status == "refunded"


def test_a_bank_refund_without_a_reference_moves_no_counter(app_context: Flask) -> None:
    parties, order_id = _paid_completed_order(app_context)
    admin = db.session.get(User, parties.admin_id)
    with pytest.raises(InvalidInput):
        refunds.refund_order(admin, order_id, 100, "partial", bank_reference=" ")
    # no rollback on purpose: the refused call must not have moved the counter even inside the transaction
    db.session.expire_all()
    assert db.session.get(Order, order_id).refunded_amount == 0


def test_a_settlement_dated_in_the_future_is_refused(app_context: Flask) -> None:
    parties, order_id = _paid_completed_order(app_context)
    admin = db.session.get(User, parties.admin_id)
    with pytest.raises(InvalidInput) as refused:
        settlements.record_settlement(admin, order_id, amount=1, bank_reference="ICBC-OUT-2",
                                   value_date=utcnow().date() + timedelta(days=2))
    assert "value_date" in refused.value.errors


def test_money_reported_for_a_cancelled_payment_is_recorded_and_stays_refundable(app_context: Flask) -> None:
    parties = make_parties()
    listing_id = publish_product(parties, stock=5, price=PRICE)
    buyer = _user(parties.buyer)
    order, _ = orders.create_order(buyer, listing_id, {"deal_mode": "purchase", "end_user_declared": True})
    payment, _extra = payments.start_payment(buyer, order.id, "stripe")
    intent_id = payment.provider_reference
    orders.cancel_order(buyer, order.id, "买错了")
    db.session.commit()
    assert db.session.get(Payment, payment.id).status == "cancelled"
    outcome = stripe_events.apply_event(intent_succeeded(intent_id, PRICE))
    db.session.commit()
    order = db.session.get(Order, order.id)
    assert outcome == "applied" and order.status == "cancelled"
    assert order.paid_amount == PRICE and _count("charge", order.id) == 1 and order.refundable_amount == PRICE
