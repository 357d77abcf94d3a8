"""AUTHZ-01 for trading: a matrix over every route under /api/v1/orders and /api/v1/transactions (taken from
``app.url_map``: a new route there that this module does not cover fails it) × every identity around a deal.

Identities: buyer A (its institution placed the order), buyer B (another buyer institution), the seller, an
outsider institution, anonymous, and a platform admin who belongs to no institution.

- Anonymous: 401 everywhere.
- Someone else's order and a missing id: 404 with the same body (status, title, message) for buyer B, the outsider
  and the admin — nobody can tell an existing order of another institution from one that does not exist.
- Buyer-only actions (the seller gets 403): accept a quote, start a payment, confirm delivery, dispute.
- Seller-only actions (the buyer gets 403): quote, deliver.
- Either party: read the order, cancel it.
- Transaction lists, balances and exports show only the caller's institution's entries; a buyer sees its own
  money's moves (charges, refunds, dispute withdrawals) but never the seller's platform fee or settlement.

RATE-01: order and payment creation are throttled per person; list endpoints cap their page size and exports their
rows.
"""
from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask

from hall.extensions import db
from hall.models import Institution, Order, Payment, User
from tests.support.factories import UserFactory
from tests.support.orders import (
    MISSING,
    ORDERS,
    Market,
    Party,
    app_with,
    buy_product,
    count,
    deliver_and_confirm,
    open_market,
    pay_by_card,
    settle,
)

PREFIXES = ("/api/v1/orders", "/api/v1/transactions")
ORDER = "/api/v1/orders/<int:order_id>"
# (method, rule) of each route on one order → (who may call it, a valid body). The body is valid so that a refusal
# can only come from authentication or authorization, never from validation.
OBJECT_ROUTES: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
    ("GET", ORDER): ("either", None),
    ("POST", ORDER + "/cancel"): ("either", {"reason": "授权测试"}),
    ("POST", ORDER + "/accept"): ("buyer", {"quote_number": 1}),
    ("POST", ORDER + "/payments"): ("buyer", {"method": "bank_transfer"}),
    ("POST", ORDER + "/confirm"): ("buyer", None),
    ("POST", ORDER + "/dispute"): ("buyer", {"reason": "授权测试"}),
    ("POST", ORDER + "/quote"): ("seller", {"amount": 100}),
    ("POST", ORDER + "/deliver"): ("seller", {"note": "授权测试"}),
}
# Routes without an order id: scoped to the caller's institution (tested below by what they return).
COLLECTION_ROUTES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/v1/orders"): None,
    ("POST", "/api/v1/orders"): {"listing_id": 1, "deal_mode": "purchase", "end_user_declared": True},
    ("GET", "/api/v1/transactions"): None,
    ("GET", "/api/v1/transactions/balances"): None,
    ("GET", "/api/v1/transactions/export"): None,
}
IDENTITIES = ("buyer", "buyer_b", "seller", "outsider", "admin", "anonymous")
STRANGERS = ("buyer_b", "outsider", "admin")


def trading_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route under the trading prefixes; HEAD is checked with its GET."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIXES):
            found.update((method, rule.rule) for method in (rule.methods or set()) - {"OPTIONS"})
    return sorted(found)


def call(market: Market, identity: str, method: str, path: str, body: Any = None) -> Any:
    if identity == "anonymous":
        return market.app.test_client().open(path, method=method, json=body if method == "POST" else None)
    party: Party = getattr(market, identity)
    headers = {"X-CSRFToken": party.csrf}
    return party.client.open(path, method=method, json=body if method == "POST" else None, headers=headers)


def shape(response: Any) -> dict[str, Any]:
    """The problem document without its per-request id."""
    body = dict(response.get_json())
    body.pop("request_id")
    return body


def test_every_trading_route_is_in_the_matrix(app: Flask) -> None:
    routes = trading_routes(app)
    assert routes, "no trading routes found under /api/v1"
    known = set(OBJECT_ROUTES) | set(COLLECTION_ROUTES)
    uncovered = [(m, r) for m, r in routes if ("GET" if m == "HEAD" else m, r) not in known]
    assert uncovered == [], f"add these routes to the AUTHZ-01 matrix: {uncovered}"
    stale = sorted(known - set(routes))
    assert stale == [], f"the matrix names routes that no longer exist: {stale}"


def test_object_routes_by_identity(market: Market) -> None:
    order = buy_product(market)
    oid = order["id"]
    routes = [(m, r) for m, r in trading_routes(market.app) if "<int:order_id>" in r]
    assert len(routes) >= len(OBJECT_ROUTES)
    not_found: dict[str, Any] | None = None
    failures: list[str] = []
    allowed: list[tuple[str, str, str, Any]] = []
    for method, rule in routes:
        side, body = OBJECT_ROUTES["GET" if method == "HEAD" else method, rule]
        for identity in IDENTITIES:
            mine, missing = rule.replace("<int:order_id>", str(oid)), rule.replace("<int:order_id>", str(MISSING))
            if identity == "anonymous":
                expected = {mine: 401, missing: 401}
            elif identity in STRANGERS:
                expected = {mine: 404, missing: 404}
            elif side not in ("either", identity):
                expected = {mine: 403, missing: 404}
            else:
                expected = {missing: 404}
                allowed.append((identity, method, mine, body))
            for path, status in expected.items():
                response = call(market, identity, method, path, body)
                if response.status_code != status:
                    failures.append(f"{identity} {method} {path}: {response.status_code}, expected {status}")
                elif status == 404 and method != "HEAD":
                    not_found = not_found or shape(response)
                    if shape(response) != not_found:
                        failures.append(f"{identity} {method} {path}: 404 body {shape(response)} != {not_found}")
                elif method != "HEAD" and status in (401, 403):
                    problem = response.get_json()
                    if problem.get("status") != status or not problem.get("message"):
                        failures.append(f"{identity} {method} {path}: not a problem document: {problem}")
    assert failures == [], "\n".join(failures)
    assert not_found == {"status": 404, "title": "Not Found", "message": "No such order."}
    # Nothing the refused callers sent changed the order.
    assert count(market.app, Payment) == 0
    assert market.buyer.get(f"{ORDERS}/{oid}").get_json()["status"] == "accepted"

    # The parties themselves are let through (the order's state may still say no, but never 401, 403 or 404).
    for identity, method, path, body in allowed:
        response = call(market, identity, method, path, body)
        assert response.status_code not in (401, 403, 404) and response.status_code < 500, \
            f"{identity} {method} {path}: {response.status_code} {response.get_json()}"


def test_collection_routes_need_a_session(market: Market) -> None:
    for method, rule in COLLECTION_ROUTES:
        response = call(market, "anonymous", method, rule, COLLECTION_ROUTES[method, rule])
        assert response.status_code == 401 and response.get_json()["status"] == 401, (method, rule)


def test_an_admin_without_an_institution_has_no_orders_and_cannot_order(market: Market) -> None:
    buy_product(market)
    assert market.admin.get(ORDERS).get_json() == []
    assert market.admin.get(f"{ORDERS}?role=seller").get_json() == []
    refused = market.admin.order(market.product, "purchase", end_user_declared=True)
    assert refused.status_code == 403 and count(market.app, Order) == 1
    assert market.outsider.get(ORDERS).get_json() == []
    assert market.outsider.get(f"{ORDERS}?role=seller").get_json() == []


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.data[:200]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_transaction_records_are_scoped_to_the_callers_institution(market: Market) -> None:
    mine = buy_product(market, quantity=2)
    pay_by_card(market, mine["id"])
    deliver_and_confirm(market, mine["id"])
    due = mine["amount"] - mine["fee_amount"]
    settle(market, mine["id"], due, "SETTLE-A")
    theirs = buy_product(market, party=market.buyer_b)
    pay_by_card(market, theirs["id"], party=market.buyer_b)

    def kinds(party: Party, query: str = "") -> list[tuple[int, str]]:
        response = party.get(f"/api/v1/transactions{query}")
        assert response.status_code == 200, response.get_json()
        return sorted((e["order_id"], e["kind"]) for e in response.get_json())

    a, b = mine["id"], theirs["id"]
    assert kinds(market.buyer) == [(a, "charge")]  # no platform_fee, no settlement
    assert kinds(market.buyer_b) == [(b, "charge")]
    assert kinds(market.seller) == sorted([(a, "charge"), (a, "platform_fee"), (a, "settlement"), (b, "charge"),
                                           (b, "platform_fee")])
    assert kinds(market.outsider) == [] and kinds(market.admin) == []
    for query in ("?side=seller", "?kind=platform_fee", "?kind=settlement", f"?order_id={b}"):
        assert kinds(market.buyer, query) == [], query
    assert kinds(market.buyer_b, f"?order_id={a}") == []
    assert kinds(market.seller, "?side=buyer") == []

    exported = {name: csv_rows(getattr(market, name).get("/api/v1/transactions/export"))
                for name in ("buyer", "buyer_b", "seller", "outsider", "admin")}
    assert [(int(r["订单 Order"]), r["类型 Kind"], r["我方 Side"]) for r in exported["buyer"]] == [
        (a, "charge", "buyer")]
    assert [(int(r["订单 Order"]), r["类型 Kind"]) for r in exported["buyer_b"]] == [(b, "charge")]
    assert len(exported["seller"]) == 5 and {r["我方 Side"] for r in exported["seller"]} == {"seller"}
    assert "SETTLE-A" not in market.buyer.get("/api/v1/transactions/export").data.decode("utf-8-sig")
    assert exported["outsider"] == [] and exported["admin"] == []

    balances = {name: getattr(market, name).get("/api/v1/transactions/balances").get_json()
                for name in ("buyer", "buyer_b", "seller", "outsider", "admin")}
    assert balances["buyer"] == [{"currency": "CNY", "paid_as_buyer": mine["amount"], "received_as_seller": 0,
                                  "fees": 0, "settled": 0, "due_to_seller": 0}]
    assert balances["buyer_b"][0]["paid_as_buyer"] == theirs["amount"] and balances["buyer_b"][0]["fees"] == 0
    assert balances["seller"][0]["received_as_seller"] == mine["amount"] + theirs["amount"]
    assert balances["seller"][0]["settled"] == due and balances["seller"][0]["paid_as_buyer"] == 0
    assert balances["outsider"] == [] and balances["admin"] == []


# --- RATE-01 ----------------------------------------------------------------------------------------------------------

def test_order_creation_is_throttled_per_person(database_url: str) -> None:
    with app_with(database_url, ORDER_CREATE_LIMIT="3 per hour") as app:
        market = open_market(app, stock=20)
        for quantity in (1, 2, 3):
            buy_product(market, quantity=quantity)
        throttled = market.buyer.order(market.product, "purchase", quantity=4, end_user_declared=True)
        assert throttled.status_code == 429 and throttled.is_json and throttled.get_json()["status"] == 429
        assert int(throttled.headers["Retry-After"]) > 0
        assert count(app, Order) == 3 and market.buyer.get(ORDERS).get_json()[0]["quantity"] == 3
        # Per person: a colleague in the same institution and another buyer (same address) are not throttled.
        with app.app_context():
            org = db.session.get(Institution, market.parties.buyer_org)
            colleague = UserFactory(institution=org, institution_role="member").email
            db.session.commit()
            db.session.remove()
        assert buy_product(market, quantity=4, party=Party(app, colleague))["quantity"] == 4
        assert buy_product(market, quantity=1, party=market.buyer_b)["quantity"] == 1


def test_payment_creation_is_throttled_per_person(database_url: str) -> None:
    with app_with(database_url, PAYMENT_CREATE_LIMIT="3 per hour") as app:
        market = open_market(app)
        oid = buy_product(market)["id"]
        for method in ("stripe", "bank_transfer", "stripe"):
            assert market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": method}).status_code == 201
        throttled = market.buyer.post(f"{ORDERS}/{oid}/payments", {"method": "bank_transfer"})
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
        assert count(app, Payment) == 3 and count(app, Payment, Payment.status == "pending") == 1
        other = buy_product(market, party=market.buyer_b)["id"]
        assert market.buyer_b.post(f"{ORDERS}/{other}/payments", {"method": "stripe"}).status_code == 201


@pytest.mark.parametrize("path, cap", [("/api/v1/orders", 50), ("/api/v1/transactions", 200)])
def test_list_endpoints_cap_the_page_size(market: Market, path: str, cap: int) -> None:
    assert market.buyer.get(f"{path}?page_size={cap}").status_code == 200
    for size in (cap + 1, 0, 10_000):
        response = market.buyer.get(f"{path}?page_size={size}")
        assert response.status_code == 422 and "page_size" in response.get_json()["errors"], size


def test_exports_are_capped_at_export_max_rows(database_url: str) -> None:
    with app_with(database_url, EXPORT_MAX_ROWS=2) as app:
        market = open_market(app)
        oid = buy_product(market)["id"]
        pay_by_card(market, oid)
        deliver_and_confirm(market, oid)
        due = market.seller.get(f"{ORDERS}/{oid}").get_json()["balance"]["seller_due"]
        settle(market, oid, due, "SETTLE-CAP")
        assert len(market.seller.get("/api/v1/transactions").get_json()) == 3
        rows = csv_rows(market.seller.get("/api/v1/transactions/export"))
        assert len(rows) == 2 and [r["类型 Kind"] for r in rows] == ["settlement", "platform_fee"]  # newest first


def test_the_matrix_admin_is_a_platform_admin_without_an_institution(market: Market) -> None:
    """The admin of the matrix really is a platform admin without an institution (else the matrix tests less)."""
    with market.app.app_context():
        admin = db.session.get(User, market.parties.admin_id)
        assert admin.is_admin and admin.institution_id is None
        db.session.remove()
