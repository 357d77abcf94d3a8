"""Orders through the API: the platform's price and fee, refused client-set fields, request → quote → accept,
the ordering rules (verified buyer, not your own listing, offered deal mode, quantity, end-user declaration, term,
contract type), cancel, expiry (PAY-14), delivery and completion, disputes, lists and the order detail.

The helpers shared with the other trading tests (``Party``, ``open_market``, ``pay_by_card`` …) are in
tests/support/orders.py; the ``market`` fixture is in tests/api/conftest.py.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from hall.extensions import db
from hall.models import Institution, LedgerEntry, Order, Payment
from hall.models.types import utcnow
from tests.support.orders import (
    MISSING,
    ORDERS,
    Market,
    active_claims,
    app_with,
    buy_product,
    count,
    listing_stock,
    open_market,
    order_row,
    pay_by_card,
    read,
    start_card_payment,
)
from tests.support.trading import (
    fake_gateway,
)


def execute(app: Flask, statement: Any) -> None:
    """Run one write statement and commit (to move a deadline into the past, or unverify an institution)."""
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()
        db.session.remove()


def run_cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["hall", *args])
    assert result.exit_code == 0, result.output
    return result.output


def pagination(response: Any) -> dict[str, int]:
    return json.loads(response.headers["X-Pagination"])


# --- the price, the fee and what the client may not set -------------------------------------------------------------

def test_a_product_order_is_priced_by_the_platform_with_the_fee_rounded_half_up(database_url: str) -> None:
    # 3 × 10,000.60 = 30,001.80 CNY; 2.5 % of it is 750.045 CNY = 75,004.5 fen: half up gives 75,005, whereas
    # truncation and round-half-even (Python's round, Decimal's default) give 75,004.
    with app_with(database_url, PLATFORM_FEE_BP=250) as app:
        market = open_market(app, stock=5, price=1_000_060)
        order = buy_product(market, quantity=3)
        assert order["status"] == "accepted" and order["price_mode"] == "fixed"
        assert order["unit_price"] == 1_000_060 and order["amount"] == 3_000_180
        assert order["fee_rate_bp"] == 250 and order["fee_amount"] == 75_005
        assert order["currency"] == "CNY" and order["quantity"] == 3 and order["contract_type"] is None
        assert order["buyer"]["id"] == market.parties.buyer_org and order["seller"]["id"] == market.parties.seller_org
        assert order["reserved_until"] is not None and order["accepted_at"] is not None
        assert listing_stock(app, market.product) == 2
        row = order_row(app, order["id"])
        assert row["stock_taken"] == 3 and row["amount"] == 3_000_180 and row["fee_amount"] == 75_005


def test_the_currency_comes_from_the_listing(app: Flask) -> None:
    market = open_market(app, currency="USD", price_amount=123_45)
    response = market.buyer.order(market.licence, "non_exclusive_license")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["currency"] == "USD" and body["amount"] == 123_45
    assert order_row(app, body["id"])["fee_amount"] == 370  # 3 % of 123.45 is 3.7035 → 3.70


def test_the_seller_sees_the_platform_fee_and_the_buyer_does_not(market: Market) -> None:
    order = buy_product(market)
    path = f"{ORDERS}/{order['id']}"
    assert market.seller.get(path).get_json()["fee_amount"] == order["fee_amount"] > 0
    as_buyer = market.buyer.get(path).get_json()
    assert "fee_amount" not in as_buyer and "fee_rate_bp" not in as_buyer and "fees" not in as_buyer["balance"]
    listed = market.buyer.get(ORDERS).get_json()
    assert listed and all("fee_amount" not in item for item in listed)
    assert all("fee_amount" in item for item in market.seller.get(f"{ORDERS}?role=seller").get_json())


@pytest.mark.parametrize("field, value", [("price", 1), ("amount", 1), ("unit_price", 1), ("fee_amount", 0),
                                          ("fee_rate_bp", 0), ("status", "paid"), ("currency", "USD"),
                                          ("buyer_institution_id", 4), ("paid_amount", 12_000_000_00)])
def test_client_set_price_amount_status_or_fee_is_refused(market: Market, field: str, value: Any) -> None:
    response = market.buyer.order(market.product, "purchase", end_user_declared=True, **{field: value})
    assert response.status_code == 422
    body = response.get_json()
    assert field in body["errors"] and "Unknown field" in " ".join(body["errors"][field])
    assert count(market.app, Order) == 0 and listing_stock(market.app, market.product) == market.stock


# --- request → quote → accept ----------------------------------------------------------------------------------------

def test_negotiated_order_quote_requote_and_accept_the_current_quote(market: Market) -> None:
    requested = market.buyer.order(market.negotiable, "transfer")
    assert requested.status_code == 201, requested.get_json()
    order = requested.get_json()
    oid = order["id"]
    assert order["status"] == "requested" and order["amount"] is None and order["price_mode"] == "negotiated"
    assert order["quote_number"] == 0 and order["reserved_until"] is None
    assert market.buyer.post(f"{ORDERS}/{oid}/accept", {"quote_number": 0}).status_code == 422  # min 1

    # Only the seller quotes; only the buyer accepts.
    assert market.buyer.post(f"{ORDERS}/{oid}/quote", {"amount": 1}).status_code == 403
    first = market.seller.post(f"{ORDERS}/{oid}/quote", {"amount": 800_000_00, "note": "含技术培训"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "quoted" and first.get_json()["quote_number"] == 1
    assert first.get_json()["amount"] == 800_000_00 and first.get_json()["fee_amount"] == 24_000_00
    assert market.seller.post(f"{ORDERS}/{oid}/accept", {"quote_number": 1}).status_code == 403

    second = market.seller.post(f"{ORDERS}/{oid}/quote", {"amount": 900_000_15})
    assert second.get_json()["quote_number"] == 2 and second.get_json()["amount"] == 900_000_15
    assert second.get_json()["fee_amount"] == 27_000_00  # 2,700,000.45 fen rounds down

    stale = market.buyer.post(f"{ORDERS}/{oid}/accept", {"quote_number": 1})
    assert stale.status_code == 409 and "number 2" in stale.get_json()["message"]
    assert order_row(market.app, oid)["status"] == "quoted" and active_claims(market.app, market.negotiable) == []

    accepted = market.buyer.post(f"{ORDERS}/{oid}/accept", {"quote_number": 2})
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["status"] == "accepted" and body["amount"] == 900_000_15 and body["reserved_until"] is not None
    assert active_claims(market.app, market.negotiable) == [oid]  # a transfer is exclusive: reserved on acceptance
    assert market.seller.post(f"{ORDERS}/{oid}/quote", {"amount": 1}).status_code == 409  # no re-quote now


# --- the ordering rules ----------------------------------------------------------------------------------------------

def test_an_unverified_buyer_institution_cannot_order(market: Market) -> None:
    execute(market.app, update(Institution).where(Institution.id == market.parties.buyer_org)
            .values(verification_status="pending"))
    response = market.buyer.order(market.product, "purchase", end_user_declared=True)
    assert response.status_code == 403 and "verified" in response.get_json()["message"]
    assert count(market.app, Order) == 0 and listing_stock(market.app, market.product) == market.stock


def test_an_institution_cannot_buy_its_own_listing(market: Market) -> None:
    response = market.seller.order(market.product, "purchase", end_user_declared=True)
    assert response.status_code == 422 and "listing_id" in response.get_json()["errors"]
    assert count(market.app, Order) == 0


@pytest.mark.parametrize("listing, body, field", [
    ("product", {"deal_mode": "transfer"}, "deal_mode"),  # not offered by the product
    ("licence", {"deal_mode": "technical_service"}, "deal_mode"),  # not offered by this achievement
    ("licence", {"deal_mode": "gift"}, "deal_mode"),  # no such deal mode
    ("licence", {"deal_mode": "non_exclusive_license", "quantity": 2}, "quantity"),  # a licence has no quantity
    ("product", {"deal_mode": "purchase", "quantity": 0}, "quantity"),
    ("product", {"deal_mode": "purchase"}, "end_user_declared"),  # first-of-kind: end users only
    ("product", {"deal_mode": "purchase", "end_user_declared": False}, "end_user_declared"),
    ("licence", {"deal_mode": "exclusive_license", "term_start": "2027-01-01", "term_end": "2026-12-31"}, "term_end"),
    ("licence", {"deal_mode": "transfer", "contract_type": "development"}, "contract_type"),
    ("licence", {"deal_mode": "non_exclusive_license", "contract_type": "service"}, "contract_type"),
    ("product", {"deal_mode": "purchase", "end_user_declared": True, "contract_type": "license"}, "contract_type"),
    ("licence", {"deal_mode": "transfer", "contract_type": "lease"}, "contract_type"),  # not a contract type
    ("negotiable", {"deal_mode": "technical_service", "territory": "440000"}, "deal_mode"),  # scope on a service
])
def test_order_rules_answer_422_naming_the_field(market: Market, listing: str, body: dict[str, Any],
                                                 field: str) -> None:
    response = market.buyer.post(ORDERS, {"listing_id": getattr(market, listing), **body})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()
    assert count(market.app, Order) == 0 and listing_stock(market.app, market.product) == market.stock


def test_contract_types_default_from_the_deal_mode(market: Market) -> None:
    expected = [(market.negotiable, "transfer", {}, "transfer"),
                (market.licence, "exclusive_license", {"territory": "440000"}, "license"),
                (market.licence, "non_exclusive_license", {"territory": "110000"}, "license"),
                (market.negotiable, "technical_service", {}, "service"),
                (market.product, "purchase", {"end_user_declared": True}, None)]
    for listing_id, mode, extra, contract_type in expected:
        response = market.buyer.order(listing_id, mode, **extra)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["contract_type"] == contract_type, mode
    consulting = market.buyer_b.order(market.negotiable, "technical_service", contract_type="consulting")
    assert consulting.status_code == 201 and consulting.get_json()["contract_type"] == "consulting"


def test_a_missing_or_unpublished_listing_is_404(market: Market) -> None:
    response = market.buyer.order(MISSING, "purchase", end_user_declared=True)
    assert response.status_code == 404
    assert count(market.app, Order) == 0


# --- cancel and expiry (PAY-14) --------------------------------------------------------------------------------------

def test_cancel_needs_a_reason_and_releases_the_stock(market: Market) -> None:
    order = buy_product(market, quantity=2)
    assert listing_stock(market.app, market.product) == market.stock - 2
    for body in (None, {}, {"reason": "   "}):
        refused = market.buyer.post(f"{ORDERS}/{order['id']}/cancel", body)
        assert refused.status_code == 422, body
    assert order_row(market.app, order["id"])["status"] == "accepted"
    cancelled = market.buyer.post(f"{ORDERS}/{order['id']}/cancel", {"reason": "预算调整"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["status_reason"] == "预算调整"
    assert listing_stock(market.app, market.product) == market.stock
    assert order_row(market.app, order["id"])["stock_taken"] == 0
    again = market.buyer.post(f"{ORDERS}/{order['id']}/cancel", {"reason": "again"})
    assert again.status_code == 409 and listing_stock(market.app, market.product) == market.stock


def test_cancel_by_the_seller_releases_the_exclusive_claim(market: Market) -> None:
    first = market.buyer.order(market.licence, "exclusive_license", territory="440000")
    assert first.status_code == 201 and first.get_json()["status"] == "accepted"
    oid = first.get_json()["id"]
    assert active_claims(market.app, market.licence) == [oid]
    blocked = market.buyer_b.order(market.licence, "exclusive_license", territory="440300")  # Shenzhen, in it
    assert blocked.status_code == 409 and count(market.app, Order) == 1
    assert market.seller.post(f"{ORDERS}/{oid}/cancel", {"reason": "买方资质不符"}).status_code == 200
    assert active_claims(market.app, market.licence) == []
    second = market.buyer_b.order(market.licence, "exclusive_license", territory="440000")
    assert second.status_code == 201 and second.get_json()["status"] == "accepted"


def test_expire_orders_releases_what_unpaid_orders_held_and_leaves_paid_ones(market: Market) -> None:
    app = market.app
    product = buy_product(market, quantity=2)
    exclusive = market.buyer_b.order(market.licence, "transfer").get_json()
    transfer_pending = market.buyer_b.post(f"{ORDERS}/{exclusive['id']}/payments", {"method": "bank_transfer"})
    assert transfer_pending.status_code == 201
    paid = buy_product(market, quantity=1, party=market.outsider)
    pay_by_card(market, paid["id"], party=market.outsider)
    fresh = buy_product(market, quantity=1, party=market.buyer_b)  # reserved until later: stays
    assert listing_stock(app, market.product) == market.stock - 4
    assert run_cli(app, "expire-orders") == "0 order(s) expired.\n"

    past = utcnow() - timedelta(minutes=1)
    execute(app, update(Order).where(Order.id.in_([product["id"], exclusive["id"], paid["id"]]))
            .values(reserved_until=past))
    output = run_cli(app, "expire-orders")
    assert output == f"2 order(s) expired: {product['id']}, {exclusive['id']}\n"
    assert order_row(app, product["id"])["status"] == "expired"
    assert order_row(app, exclusive["id"])["status"] == "expired"
    assert order_row(app, exclusive["id"])["status_reason"] == "not paid in time"
    assert read(app, lambda: db.session.get(Payment, transfer_pending.get_json()["id"]).status) == "cancelled"
    assert order_row(app, paid["id"])["status"] == "paid" and order_row(app, fresh["id"])["status"] == "accepted"
    assert listing_stock(app, market.product) == market.stock - 2  # the paid and the fresh order keep theirs
    assert active_claims(app, market.licence) == []
    assert run_cli(app, "expire-orders") == "0 order(s) expired.\n"
    late = market.buyer.post(f"{ORDERS}/{product['id']}/payments", {"method": "stripe"})
    assert late.status_code == 409


def test_expire_orders_skips_an_order_stripe_cannot_cancel_now_and_expires_it_later(market: Market) -> None:
    app = market.app
    card = buy_product(market, quantity=1)
    start_card_payment(market, card["id"])
    plain = buy_product(market, quantity=2)
    execute(app, update(Order).where(Order.id.in_([card["id"], plain["id"]]))
            .values(reserved_until=utcnow() - timedelta(minutes=1)))
    fake_gateway(app).fail_with()  # cancelling the card order's intent fails: Stripe is unreachable
    assert run_cli(app, "expire-orders") == f"1 order(s) expired: {plain['id']}\n"
    row = order_row(app, card["id"])
    assert row["status"] == "awaiting_payment" and row["stock_taken"] == 1
    assert listing_stock(app, market.product) == market.stock - 1
    assert run_cli(app, "expire-orders") == f"1 order(s) expired: {card['id']}\n"
    assert listing_stock(app, market.product) == market.stock
    assert count(app, Payment, Payment.status == "cancelled") == 1


def test_a_short_reservation_can_no_longer_be_paid_and_expires(database_url: str) -> None:
    with app_with(database_url, ORDER_RESERVATION_HOURS=0) as app:
        market = open_market(app)
        order = buy_product(market, quantity=1)
        refused = market.buyer.post(f"{ORDERS}/{order['id']}/payments", {"method": "bank_transfer"})
        assert refused.status_code == 409 and count(app, Payment) == 0
        assert run_cli(app, "expire-orders") == f"1 order(s) expired: {order['id']}\n"
        assert listing_stock(app, market.product) == market.stock


# --- delivery, completion, dispute ------------------------------------------------------------------------------------

def test_delivery_before_payment_is_refused_then_deliver_and_confirm(market: Market) -> None:
    order = buy_product(market)
    oid = order["id"]
    early = market.seller.post(f"{ORDERS}/{oid}/deliver", {"note": "已发货"})
    assert early.status_code == 409 and order_row(market.app, oid)["status"] == "accepted"
    assert market.buyer.post(f"{ORDERS}/{oid}/confirm").status_code == 409
    pay_by_card(market, oid)
    assert market.seller.post(f"{ORDERS}/{oid}/deliver", {"note": "  "}).status_code == 422
    assert market.seller.post(f"{ORDERS}/{oid}/deliver", {}).status_code == 422
    assert market.buyer.post(f"{ORDERS}/{oid}/deliver", {"note": "x"}).status_code == 403  # seller only
    delivered = market.seller.post(f"{ORDERS}/{oid}/deliver", {"note": "设备已交付并完成安装调试"})
    assert delivered.status_code == 200, delivered.get_json()
    body = delivered.get_json()
    assert body["status"] == "delivered" and body["delivery_note"] == "设备已交付并完成安装调试"
    assert body["delivered_at"] is not None and body["complete_after"] is not None
    assert market.seller.post(f"{ORDERS}/{oid}/confirm").status_code == 403  # buyer only
    confirmed = market.buyer.post(f"{ORDERS}/{oid}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "completed"
    assert confirmed.get_json()["completed_at"] is not None
    assert market.buyer.post(f"{ORDERS}/{oid}/confirm").status_code == 409


def test_complete_orders_completes_delivered_orders_past_complete_after(market: Market) -> None:
    due, waiting = buy_product(market, quantity=1), buy_product(market, quantity=2)
    for order in (due, waiting):
        pay_by_card(market, order["id"])
    for order in (due, waiting):
        assert market.seller.post(f"{ORDERS}/{order['id']}/deliver", {"note": "已交付"}).status_code == 200
    assert run_cli(market.app, "complete-orders") == "0 order(s) completed.\n"
    execute(market.app, update(Order).where(Order.id == due["id"])
            .values(complete_after=utcnow() - timedelta(minutes=1)))
    assert run_cli(market.app, "complete-orders") == f"1 order(s) completed: {due['id']}\n"
    assert order_row(market.app, due["id"])["status"] == "completed"
    assert order_row(market.app, due["id"])["status_reason"] == "completed automatically after delivery"
    assert order_row(market.app, waiting["id"])["status"] == "delivered"


def test_the_buyer_disputes_a_paid_order(market: Market) -> None:
    order = buy_product(market)
    oid = order["id"]
    assert market.buyer.post(f"{ORDERS}/{oid}/dispute", {"reason": "未付款也想争议"}).status_code == 409
    pay_by_card(market, oid)
    assert market.buyer.post(f"{ORDERS}/{oid}/dispute", {"reason": ""}).status_code == 422
    assert market.seller.post(f"{ORDERS}/{oid}/dispute", {"reason": "卖方不能发起"}).status_code == 403
    disputed = market.buyer.post(f"{ORDERS}/{oid}/dispute", {"reason": "设备型号与合同不符"})
    assert disputed.status_code == 200, disputed.get_json()
    assert disputed.get_json()["status"] == "disputed" and disputed.get_json()["status_reason"] == "设备型号与合同不符"
    assert market.seller.post(f"{ORDERS}/{oid}/deliver", {"note": "x"}).status_code == 409
    assert market.buyer.post(f"{ORDERS}/{oid}/cancel", {"reason": "x"}).status_code == 409  # paid: not cancellable


# --- reading orders ---------------------------------------------------------------------------------------------------

def test_order_lists_for_buyer_and_seller_with_filters_and_pagination(market: Market) -> None:
    product = buy_product(market)
    licence = market.buyer.order(market.licence, "non_exclusive_license").get_json()
    request = market.buyer.order(market.negotiable, "technical_service").get_json()
    other = buy_product(market, party=market.buyer_b)

    mine = market.buyer.get(ORDERS)
    assert mine.status_code == 200
    assert [o["id"] for o in mine.get_json()] == [request["id"], licence["id"], product["id"]]  # newest first
    assert pagination(mine) == {"total": 3, "total_pages": 1, "page": 1, "page_size": 20}
    assert market.buyer.get(f"{ORDERS}?role=seller").get_json() == []
    sold = market.seller.get(f"{ORDERS}?role=seller")
    assert {o["id"] for o in sold.get_json()} == {product["id"], licence["id"], request["id"], other["id"]}
    assert market.seller.get(ORDERS).get_json() == []  # buyer is the default role
    assert [o["id"] for o in market.buyer_b.get(ORDERS).get_json()] == [other["id"]]

    assert [o["id"] for o in market.buyer.get(f"{ORDERS}?status=requested").get_json()] == [request["id"]]
    by_listing = market.seller.get(f"{ORDERS}?role=seller&listing_id={market.product}").get_json()
    assert {o["id"] for o in by_listing} == {product["id"], other["id"]}
    first = market.buyer.get(f"{ORDERS}?page_size=2")
    assert len(first.get_json()) == 2 and pagination(first) == {"total": 3, "total_pages": 2, "page": 1,
                                                                 "page_size": 2}
    second = market.buyer.get(f"{ORDERS}?page_size=2&page=2")
    assert [o["id"] for o in second.get_json()] == [product["id"]]
    days = sorted(date.fromisoformat(o["created_at"][:10]) for o in (product, licence, request))
    assert len(market.buyer.get(f"{ORDERS}?created_from={days[0]}&created_to={days[-1]}").get_json()) == 3
    assert market.buyer.get(f"{ORDERS}?created_from={days[-1] + timedelta(days=1)}").get_json() == []
    assert market.buyer.get(f"{ORDERS}?created_to={days[0] - timedelta(days=1)}").get_json() == []
    for bad in ("role=admin", "status=lost", "page=0", "created_from=yesterday", "sort=amount"):
        assert market.buyer.get(f"{ORDERS}?{bad}").status_code == 422, bad


def test_page_size_above_the_cap_is_refused(market: Market) -> None:
    assert market.buyer.get(f"{ORDERS}?page_size=50").status_code == 200
    response = market.buyer.get(f"{ORDERS}?page_size=51")
    assert response.status_code == 422 and "page_size" in response.get_json()["errors"]


def test_the_order_detail_shows_history_ledger_and_balance(market: Market) -> None:
    order = buy_product(market)
    oid = order["id"]
    before = market.buyer.get(f"{ORDERS}/{oid}").get_json()
    assert before["ledger"] == [] and before["balance"]["charged"] == 0
    pay_by_card(market, oid)
    seller_view = market.seller.get(f"{ORDERS}/{oid}").get_json()
    buyer_view = market.buyer.get(f"{ORDERS}/{oid}").get_json()
    for body in (seller_view, buyer_view):
        assert body["status"] == "paid" and body["paid_amount"] == order["amount"] and body["paid_at"] is not None
        assert body["history"][0]["by_platform"] is False and body["history"][-1]["by_platform"] is True
    assert [(h["action"], h["from_state"], h["to_state"]) for h in seller_view["history"]] == [
        ("order.create", None, "accepted"), ("order.start_payment", "accepted", "awaiting_payment"),
        ("ledger.charge", None, None), ("ledger.platform_fee", None, None),
        ("order.pay", "awaiting_payment", "paid")]
    assert [(e["kind"], e["amount"]) for e in seller_view["ledger"]] == [("charge", order["amount"]),
                                                                        ("platform_fee", order["fee_amount"])]
    assert seller_view["balance"] == {"charged": order["amount"], "refunded": 0, "disputed": 0,
                                      "fees": order["fee_amount"], "settled": 0, "held": order["amount"],
                                      "seller_due": order["amount"] - order["fee_amount"]}
    # The fee and the seller's settlement are between the platform and the seller: the buyer sees its own money.
    assert [h["action"] for h in buyer_view["history"]] == ["order.create", "order.start_payment", "ledger.charge",
                                                            "order.pay"]
    assert [(e["kind"], e["amount"]) for e in buyer_view["ledger"]] == [("charge", order["amount"])]
    assert buyer_view["balance"] == {"charged": order["amount"], "refunded": 0, "disputed": 0}
    assert count(market.app, LedgerEntry) == 2


def test_the_double_clicked_order_is_the_same_order(market: Market) -> None:
    first = market.buyer.order(market.licence, "non_exclusive_license", territory="110000")
    second = market.buyer.order(market.licence, "non_exclusive_license", territory=" １１００００ ")  # full width
    assert first.status_code == 201 and second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"] and count(market.app, Order) == 1
    different = market.buyer.order(market.licence, "non_exclusive_license", territory="310000")
    assert different.status_code == 201 and count(market.app, Order) == 2
