"""The console's amount fields are read, labelled and prefilled in the order's currency (hall.money): a USD
order's "12.34" is 1234 cents and its messages speak of US dollars, not yuan; an order in a currency without
decimals (JPY) takes whole amounts only, each one minor unit."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import update

from hall.extensions import db
from hall.models import Order
from tests.support.console import admin_client_for, field_errors, flashes, input_values, text
from tests.support.listings import Owner
from tests.support.order_desk import Desk, balance, local_today, row
from tests.support.trading import (
    deliver,
    fake_gateway,
    intent_succeeded,
    make_parties,
    publish_achievement,
    publish_product,
)

LICENCE_PRICE = 500_000_00  # the achievement's fixed price in minor units


@pytest.fixture
def usd_desk(app: Flask) -> Desk:
    """The console's desk, with the achievement (``licence``) priced in US dollars."""
    with app.app_context():
        parties = make_parties()
        product, licence = publish_product(parties, stock=3), publish_achievement(parties, currency="USD")
    return Desk(app, parties, product, licence, admin_client_for(app, parties.admin), Owner(app, parties.buyer),
                Owner(app, parties.buyer_b), Owner(app, parties.seller))


def _label(html: str, field_id: str) -> str:
    return html.split(f'<label for="{field_id}"', 1)[1].split(">", 1)[1].split("</label>", 1)[0].strip()


def test_a_usd_order_is_paid_refunded_and_settled_in_dollars(usd_desk: Desk) -> None:
    desk = usd_desk
    order = desk.order(listing="licence")
    assert order["currency"] == "USD" and order["amount"] == LICENCE_PRICE
    page = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert _label(page, "transfer-amount") == "到账金额（美元）"
    transfer = {"currency": "USD", "value_date": local_today().isoformat(), "bank_reference": "BOC-USD-1"}
    refused = desk.post(order["id"], "bank_transfer", amount="500000.001", **transfer)
    assert refused.status_code == 422
    assert field_errors(text(refused), "transfer-amount") == [
        "请输入以美元为单位、最多两位小数的金额，例如 12000000.00。"]
    assert desk.post(order["id"], "bank_transfer", amount="500,000.00", **transfer).status_code == 302
    assert row(desk.app, order["id"])["paid"] == LICENCE_PRICE

    page = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert _label(page, "refund-amount") == "退款金额（美元）"
    done = desk.post(order["id"], "refund", amount="12.34", reason="部分退款", bank_reference="BOC-RET-1")
    assert done.status_code == 302
    assert row(desk.app, order["id"])["refunded"] == 1234
    assert flashes(text(desk.admin.get(f"/admin/orders/{order['id']}")), "success") == ["已登记退款 US$12.34。"]

    desk.complete(order)
    page = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert _label(page, "settlement-amount") == "支付给卖方的金额（美元）"
    due = input_values(page)["settlement-amount"]  # what is due, offered in dollars and cents
    assert re.fullmatch(r"48[0-9]{4}\.[0-9]{2}", due)
    settle = {"bank_reference": "BOC-SET-1", "value_date": local_today().isoformat()}
    assert desk.post(order["id"], "settlement", amount=due, **settle).status_code == 302
    assert row(desk.app, order["id"])["settled"] == int(due.replace(".", ""))
    assert balance(text(desk.admin.get(f"/admin/orders/{order['id']}")))["seller_due"] == "US$0.00"


def test_an_order_in_a_currency_without_decimals_takes_whole_amounts(usd_desk: Desk) -> None:
    """Listings accept CNY, USD, EUR and HKD, all with two decimals; the stored order is put in JPY (no decimals)
    to show that the fields follow the currency's exponent, not a fixed 100."""
    desk = usd_desk
    order = desk.order(listing="licence")
    with desk.app.app_context():
        db.session.execute(update(Order).where(Order.id == order["id"]).values(currency="JPY"))
        db.session.commit()
    started = desk.buyer.post(f"/api/v1/orders/{order['id']}/payments", {"method": "stripe"})
    assert started.status_code == 201, started.get_json()
    intent_id = started.get_json()["client_secret"].split("_secret_")[0]
    intent = fake_gateway(desk.app).succeed(intent_id)
    delivered = deliver(desk.app.test_client(), intent_succeeded(intent_id, LICENCE_PRICE, currency="jpy",
                                                                 charge=intent.latest_charge))
    assert delivered.status_code == 200 and row(desk.app, order["id"])["status"] == "paid"

    page = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert 'placeholder="12000000"' in page and 'inputmode="numeric"' in page
    refused = desk.post(order["id"], "refund", amount="1000.5", reason="部分退款")
    assert refused.status_code == 422
    assert field_errors(text(refused), "refund-amount") == ["请输入以JPY为单位的整数金额，不带小数，例如 12000000。"]
    assert desk.post(order["id"], "refund", amount="1,000", reason="部分退款").status_code == 302
    assert row(desk.app, order["id"])["refunded"] == 1000  # ¥1,000 is 1000 minor units, not 100000
    refunds = [call[2]["amount"] for call in fake_gateway(desk.app).calls if call[0] == "refund"]
    assert refunds == [1000]
