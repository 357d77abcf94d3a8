"""The console's trading pages: the order list and its filters, the order page (ledger, balance, history), the
forms that record a bank transfer, a refund and a settlement or resolve a dispute (CSRF on, errors beside the
fields, nothing kept when refused), the dashboard's order counts, the guard, and the two languages."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from hall.extensions import db
from hall.models import Institution, Order, Payment
from hall.money import AmountError, parse_major
from hall.services.trading import order_rules, payments
from tests.support.console import (
    admin_client_for,
    field_errors,
    flashes,
    input_values,
    make_admin,
    page_csrf,
    signed_in_member,
    text,
)
from tests.support.listings import Owner
from tests.support.order_desk import PATHS, PREFIXES, Desk, balance, local_today, row
from tests.support.trading import fake_gateway, make_parties, publish_achievement, publish_product

PRICE = 12_000_000_00  # the product's price in fen: ¥12,000,000.00
FEE = 36_000_000  # 3 % of it


@pytest.fixture
def desk(app: Flask) -> Desk:
    with app.app_context():
        parties = make_parties()
        product, licence = publish_product(parties, stock=3), publish_achievement(parties)
    return Desk(app, parties, product, licence, admin_client_for(app, parties.admin), Owner(app, parties.buyer),
                Owner(app, parties.buyer_b), Owner(app, parties.seller))


def listed(client: FlaskClient, query: str = "") -> list[int]:
    """The order ids on the list page, in their order."""
    html = text(client.get("/admin/orders" + query))
    return [int(n) for n in re.findall(r'href="/admin/orders/(\d+)"', html.split("<tbody>", 1)[1])]


def ledger_kinds(html: str) -> list[str]:
    """The kinds of the transaction records shown on the order page."""
    return re.findall(r'<tr data-kind="(\w+)">', html)


def test_yuan_are_converted_to_fen_exactly() -> None:
    assert parse_major("12000000.00", "CNY") == PRICE and parse_major("12,000,000.5", "CNY") == PRICE + 50
    assert parse_major("1.15", "CNY") == 115 and parse_major("0.29", "CNY") == 29  # a float: 114 and 28
    assert parse_major(" １２０００ ", "CNY") == 1_200_000  # full-width digits from a Chinese input method
    for bad in ("12000000.001", "abc", "1e7", "-5", "12,00,000", "0", "0.00", "NaN", "Infinity", "1.", ".5", "",
                "10000000000000.01"):
        with pytest.raises(AmountError):
            parse_major(bad, "CNY")


def test_a_matching_bank_transfer_pays_the_order(desk: Desk) -> None:
    order = desk.order()
    response = desk.transfer(order["id"])
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/orders/{order['id']}"
    stored = row(desk.app, order["id"])
    assert stored["status"] == "paid" and stored["paid"] == PRICE
    assert stored["ledger"] == [("charge", PRICE, "bank:ICBC-2026-0001"),
                                ("platform_fee", FEE, "fee:bank:ICBC-2026-0001")]
    assert stored["payments"] == [("bank_transfer", "succeeded")]
    html = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert flashes(html, "success") == ["已登记银行转账 ¥12,000,000.00，订单已付款。"]
    assert balance(html) == {"charged": "¥12,000,000.00", "refunded": "¥0.00", "disputed": "¥0.00",
                             "fees": "¥360,000.00", "settled": "¥0.00", "held": "¥12,000,000.00",
                             "seller_due": "¥11,640,000.00"}
    assert ledger_kinds(html) == ["charge", "platform_fee"]
    assert 'id="bank-transfer"' not in html and 'id="refund"' in html  # paid: refundable, no more transfers


def test_the_order_page_shows_parties_listing_terms_history_payments_and_ledger(desk: Desk) -> None:
    order = desk.order()
    desk.pay_by_card(order)
    html = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert f'href="/admin/listings/{desk.product}"' in html and "兆瓦级氢燃料电池发电系统" in html
    assert f'href="/admin/institutions/{desk.parties.buyer_org}"' in html
    assert f'href="/admin/institutions/{desk.parties.seller_org}"' in html
    assert order["reference"] in html and "采购" in html and '<dd id="amount-order">¥12,000,000.00</dd>' in html
    assert ledger_kinds(html) == ["charge", "platform_fee"] and "ch_fake_" in html
    assert balance(html)["seller_due"] == "¥11,640,000.00" and balance(html)["held"] == "¥12,000,000.00"
    payments_table = html.split('id="payments"', 1)[1].split("</table>", 1)[0]
    assert "支付成功" in payments_table and "银行卡（Stripe）" in payments_table  # the rail, not the gateway
    history = html.split('id="history"', 1)[1]
    assert "order.create" in history and "order.pay" in history and "已付款" in history
    created = history.split('data-action="order.create">', 1)[1].split("</tr>", 1)[0]
    assert desk.parties.buyer in created  # who acted: the buyer's person, by e-mail (the console sees people)
    # A card payment is refunded through the gateway: no bank reference is asked for.
    assert "refund-amount" in input_values(html) and "refund-bank_reference" not in input_values(html)
    assert desk.admin.get("/admin/orders/987654").status_code == 404


def test_a_transfer_of_another_amount_is_refused_beside_the_field(desk: Desk) -> None:
    order = desk.order()
    before = row(desk.app, order["id"])
    response = desk.transfer(order["id"], amount="11999999.99")
    assert response.status_code == 422
    errors = field_errors(text(response), "transfer-amount")
    assert len(errors) == 1 and "恰为 ¥12,000,000.00" in errors[0]  # yuan, in the page's language
    assert row(desk.app, order["id"]) == before
    assert before["status"] == "accepted" and before["ledger"] == [] and before["payments"] == []


@pytest.mark.parametrize("typed", ["12000000.001", "twelve million", "1.2e7", "-12000000", ""])
def test_an_amount_that_is_not_yuan_is_refused_beside_the_field(desk: Desk, typed: str) -> None:
    order = desk.order()
    before = row(desk.app, order["id"])
    response = desk.transfer(order["id"], amount=typed)
    assert response.status_code == 422
    errors = field_errors(text(response), "transfer-amount")
    assert errors == (["请输入以元为单位、最多两位小数的金额，例如 12000000.00。"] if typed else ["该字段是必填字段。"])
    assert row(desk.app, order["id"]) == before


def test_a_bank_reference_already_recorded_is_refused(desk: Desk) -> None:
    first, second = desk.order(), desk.order(desk.buyer_b)
    assert desk.transfer(first["id"]).status_code == 302
    before = row(desk.app, second["id"])
    response = desk.transfer(second["id"])  # the same bank reference again
    assert response.status_code == 409
    assert flashes(text(response), "error") == [
        "银行流水号为 ICBC-2026-0001 的转账已登记过。"]
    assert row(desk.app, second["id"]) == before and before["status"] == "accepted"


def test_a_transfer_valued_today_in_beijing_is_accepted_before_8_am(desk: Desk,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """At 01:00 in Beijing UTC is still on the day before; the bank's value date is today, not the future."""
    now = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=17)
    monkeypatch.setattr(payments, "utcnow", lambda: now)
    monkeypatch.setattr(order_rules, "utcnow", lambda: now)  # the banks' calendar (bank_today)
    order = desk.order()
    response = desk.post(order["id"], "bank_transfer", amount="12000000.00", currency="CNY",
                         value_date=(now.date() + timedelta(days=1)).isoformat(), bank_reference="BOC-1")
    assert response.status_code == 302, field_errors(text(response), "transfer-value_date")
    response = desk.post(desk.order(desk.buyer_b)["id"], "bank_transfer", amount="12000000.00", currency="CNY",
                         value_date=(now.date() + timedelta(days=2)).isoformat(), bank_reference="BOC-2")
    assert response.status_code == 422 and field_errors(text(response), "transfer-value_date")


def test_a_partial_refund_then_one_beyond_what_remains(desk: Desk) -> None:
    order = desk.order()
    assert desk.transfer(order["id"]).status_code == 302
    assert 'name="refund-bank_reference"' in text(desk.admin.get(f"/admin/orders/{order['id']}"))
    paid = row(desk.app, order["id"])
    missing = desk.post(order["id"], "refund", amount="1000000.00", reason="部分退款")
    assert missing.status_code == 422 and field_errors(text(missing), "refund-bank_reference")
    assert row(desk.app, order["id"]) == paid  # its counter was reserved, then rolled back

    done = desk.post(order["id"], "refund", amount="1000000.00", reason="部分退款", bank_reference="ICBC-RET-1")
    assert done.status_code == 302
    refunded = row(desk.app, order["id"])
    assert refunded["status"] == "paid" and refunded["refunded"] == 100_000_000
    assert refunded["ledger"][2:] == [("refund", 100_000_000, "bank-refund:ICBC-RET-1"),
                                      ("fee_reversal", 3_000_000, "fee:bank-refund:ICBC-RET-1")]
    html = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert flashes(html, "success") == ["已登记退款 ¥1,000,000.00。"]
    assert balance(html)["seller_due"] == "¥10,670,000.00" and "尚可退款 ¥11,000,000.00。" in html

    beyond = desk.post(order["id"], "refund", amount="11000000.01", reason="全部退款", bank_reference="ICBC-RET-2")
    assert beyond.status_code == 409
    assert flashes(text(beyond), "error") == ["仅剩 ¥11,000,000.00 可退款。"]  # what the page offers, in yuan
    assert row(desk.app, order["id"]) == refunded


def test_a_card_payment_is_refunded_through_the_gateway(desk: Desk) -> None:
    order = desk.order()
    intent_id = desk.pay_by_card(order)
    paid = row(desk.app, order["id"])
    fake_gateway(desk.app).fail_with()  # Stripe unreachable: the refund stays requested, nothing booked (ERR-02)
    down = desk.post(order["id"], "refund", amount=f"{PRICE / 100:.2f}", reason="买方撤回")
    assert down.status_code == 502 and "Stripe could not be reached" in flashes(text(down), "error")[0]
    assert row(desk.app, order["id"]) == {**paid, "refunded": PRICE}  # counted: no second refund can overtake it
    other = desk.post(order["id"], "refund", amount="1.00", reason="买方撤回")
    assert other.status_code == 409 and "仍在等待 Stripe 的答复" in flashes(text(other), "error")[0]
    response = desk.post(order["id"], "refund", amount=f"{PRICE / 100:.2f}", reason="买方撤回")
    assert response.status_code == 302
    calls = [call for call in fake_gateway(desk.app).calls if call[0] == "refund"]
    assert calls == 2 * [("refund", f"hall-order-{order['id']}-refund-1",  # the retry reuses the key (PAY-07)
                          {"intent": intent_id, "amount": PRICE, "metadata": {
                              "order_id": str(order["id"]), "order_reference": order["reference"],
                              "refund_id": "1"}})]
    stored = row(desk.app, order["id"])
    assert stored["status"] == "refunded" and stored["refunded"] == PRICE
    assert [kind for kind, _, _ in stored["ledger"]] == ["charge", "platform_fee", "refund", "fee_reversal"]
    assert balance(text(desk.admin.get(f"/admin/orders/{order['id']}")))["held"] == "¥0.00"


def test_settlement_only_after_completion_and_never_beyond_what_is_due(desk: Desk) -> None:
    order = desk.order()
    assert desk.transfer(order["id"]).status_code == 302
    settle = {"bank_reference": "ICBC-SET-1", "value_date": local_today().isoformat()}
    early = desk.post(order["id"], "settlement", amount="11640000.00", **settle)
    assert early.status_code == 409
    assert flashes(text(early), "error") == ["只有已完成的订单才能结算；此订单当前为“已付款”。"]
    paid = row(desk.app, order["id"])
    assert paid["settled"] == 0 and len(paid["ledger"]) == 2

    desk.complete(order)
    page = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert input_values(page)["settlement-amount"] == "11640000.00"  # what is due, offered as the default
    too_much = desk.post(order["id"], "settlement", amount="11640000.01", **settle)
    assert too_much.status_code == 422
    assert field_errors(text(too_much), "settlement-amount") == [
        "应付卖方的金额在 ¥0.01 至 ¥11,640,000.00 之间"]
    completed = row(desk.app, order["id"])
    assert completed["settled"] == 0 and completed["ledger"] == paid["ledger"]

    assert desk.post(order["id"], "settlement", amount="11640000.00", **settle).status_code == 302
    stored = row(desk.app, order["id"])
    assert stored["settled"] == PRICE - FEE and stored["ledger"][-1] == ("settlement", PRICE - FEE,
                                                                         "settlement:ICBC-SET-1")
    html = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert flashes(html, "success") == ["已登记向卖方结算 ¥11,640,000.00。"]
    assert balance(html)["seller_due"] == "¥0.00" and 'id="settlement"' not in html
    again = desk.post(order["id"], "settlement", amount="0.01", **{**settle, "bank_reference": "ICBC-SET-2"})
    assert again.status_code == 422  # nothing is due: refused, the form shown again with the message
    assert field_errors(text(again), "settlement-amount") == ["此订单已没有应付卖方的款项"]


def test_resolving_a_dispute_completes_the_order(desk: Desk) -> None:
    order = desk.order()
    desk.pay_by_card(order)
    assert desk.buyer.post(f"/api/v1/orders/{order['id']}/dispute", {"reason": "设备未到货"}).status_code == 200
    assert 'id="resolve-dispute"' in text(desk.admin.get(f"/admin/orders/{order['id']}"))
    disputed = row(desk.app, order["id"])
    blank = desk.post(order["id"], "resolve_dispute", reason="  ")
    assert blank.status_code == 422 and field_errors(text(blank), "dispute-reason")
    assert row(desk.app, order["id"]) == disputed

    assert desk.post(order["id"], "resolve_dispute", reason="物流记录显示已签收").status_code == 302
    assert row(desk.app, order["id"])["status"] == "completed"
    html = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert flashes(html, "success") == ["争议已处理，订单已完成。"]
    assert "物流记录显示已签收" in html.split('id="history"', 1)[1] and 'id="resolve-dispute"' not in html
    assert 'id="settlement"' in html  # completed with money due to the seller


@pytest.mark.parametrize("action", sorted(PATHS))
def test_a_form_without_the_csrf_token_is_400_and_changes_nothing(desk: Desk, action: str) -> None:
    order = desk.order()
    if action != "bank_transfer":
        desk.pay_by_card(order)
    if action == "settlement":
        desk.complete(order)
    if action == "resolve_dispute":
        assert desk.buyer.post(f"/api/v1/orders/{order['id']}/dispute", {"reason": "x"}).status_code == 200
    before = row(desk.app, order["id"])
    fields = {"amount": "1.00", "currency": "CNY", "value_date": local_today().isoformat(), "reason": "理由",
              "bank_reference": "ICBC-X"}
    response = desk.post(order["id"], action, csrf=False, **fields)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert row(desk.app, order["id"]) == before


def test_the_pages_and_forms_are_for_admins_only(desk: Desk) -> None:
    order = desk.order()
    paths = ["/admin/orders", f"/admin/orders/{order['id']}"]
    member = signed_in_member(desk.app)
    for client, csrf in ((member.client, member.csrf), (desk.buyer.client, desk.buyer.csrf)):
        for path in paths:
            assert client.get(path).status_code == 403, path
        for action, path in PATHS.items():
            data = {"csrf_token": csrf, f"{PREFIXES[action]}-amount": "12000000.00"}
            assert client.post(f"/admin/orders/{order['id']}/{path}", data=data).status_code == 403
    anonymous = desk.app.test_client()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/sign-in?next=")
    assert row(desk.app, order["id"])["ledger"] == []


def test_the_list_filters_by_status_queue_institution_reference_and_date(desk: Desk) -> None:
    first = desk.order()
    paid = desk.order(desk.buyer_b)
    licence = desk.order(listing="licence")
    assert desk.transfer(paid["id"]).status_code == 302
    with desk.app.app_context():
        db.session.execute(update(Institution).where(Institution.id == desk.parties.buyer_b_org)
                           .values(name_zh="青岛海洋装备有限公司", name_en="Qingdao Marine Equipment"))
        db.session.execute(update(Order).where(Order.id == first["id"])
                           .values(created_at=datetime.now(UTC) - timedelta(days=10)))
        db.session.commit()
    ids = first["id"], paid["id"], licence["id"]
    client, orgs = desk.admin, desk.parties
    assert listed(client) == [ids[2], ids[1], ids[0]]  # newest first
    assert listed(client, "?status=paid") == [ids[1]] and listed(client, "?status=accepted") == [ids[2], ids[0]]
    assert listed(client, "?queue=payment") == [ids[2], ids[0]] and listed(client, "?queue=delivery") == [ids[1]]
    assert listed(client, f"?institution={orgs.buyer_org}") == [ids[2], ids[0]]
    assert listed(client, f"?institution={orgs.seller_org}") == [ids[2], ids[1], ids[0]]
    assert listed(client, f"?institution={orgs.seller_org}&side=buyer") == []
    assert listed(client, f"?institution={orgs.buyer_org}&side=buyer&status=accepted") == [ids[2], ids[0]]
    assert listed(client, "?institution=海洋装备") == [ids[1]] == listed(client, "?institution=marine&side=buyer")
    assert listed(client, "?institution=海洋装备&side=seller") == []
    assert listed(client, f"?reference={paid['reference'].lower()}") == [ids[1]]
    assert listed(client, f"?reference={licence['reference'][2:8]}") == [ids[2]]
    today = local_today()
    assert listed(client, f"?created_from={today - timedelta(days=3)}") == [ids[2], ids[1]]
    assert listed(client, f"?created_to={today - timedelta(days=5)}") == [ids[0]]
    assert listed(client, f"?created_from={today}&created_to={today}") == [ids[2], ids[1]]
    assert listed(client, f"?created_from={today + timedelta(days=1)}") == []
    html = text(client.get("/admin/orders?status=paid"))
    assert "¥12,000,000.00" in html and "青岛海洋装备有限公司" in html and "1 笔订单" in html
    for odd in ("?institution=99999999999999999999", "?institution=%25_", "?created_from=garbage&created_to=2024-13-45",
                "?status=nope&queue=nope&side=x&page=abc", "?reference=" + "x" * 5000):
        assert client.get("/admin/orders" + odd).status_code == 200, odd


def test_a_day_filter_keeps_the_last_minutes_of_a_beijing_day(desk: Desk) -> None:
    """Days are whole Beijing days (+08:00): an order at 23:57 belongs to its day, one at 00:01 to the next. (A pytz
    zone used as tzinfo gave local mean time, +08:06, and the last six minutes of a day went to the next one.)"""
    late, early = desk.order(), desk.order(desk.buyer_b)
    day = local_today() - timedelta(days=2)
    beijing = ZoneInfo("Asia/Shanghai")
    with desk.app.app_context():
        for order, moment in ((late, time(23, 57)), (early, time(0, 1))):
            at = datetime.combine(day if order is late else day + timedelta(days=1), moment, tzinfo=beijing)
            db.session.execute(update(Order).where(Order.id == order["id"]).values(created_at=at.astimezone(UTC)))
        db.session.commit()
    assert listed(desk.admin, f"?created_from={day}&created_to={day}") == [late["id"]]
    following = day + timedelta(days=1)
    assert listed(desk.admin, f"?created_from={following}&created_to={following}") == [early["id"]]


def test_the_dashboard_counts_orders_that_wait(desk: Desk) -> None:
    def counts() -> dict[str, int]:
        html = text(desk.admin.get("/admin/"))
        return {queue: int(n) for queue, n in re.findall(r'data-queue="(\w+)">([\d,]+)</span>', html)}

    assert counts() == {"payment": 0, "delivery": 0, "dispute": 0, "settlement": 0, "refund": 0}
    desk.order(listing="licence")
    delivery, completed, disputed = desk.order(), desk.order(desk.buyer_b), desk.order(desk.buyer_b, "licence")
    assert desk.transfer(delivery["id"], reference="R-1").status_code == 302
    assert desk.transfer(completed["id"], reference="R-2").status_code == 302
    desk.complete(completed, desk.buyer_b)
    desk.pay_by_card(disputed, desk.buyer_b)
    assert desk.buyer_b.post(f"/api/v1/orders/{disputed['id']}/dispute", {"reason": "x"}).status_code == 200
    closed = desk.order()
    with desk.app.app_context():  # paid after it closed (the services make this only in a race with Stripe)
        db.session.execute(update(Order).where(Order.id == closed["id"]).values(status="cancelled",
                                                                                paid_amount=PRICE))
        db.session.commit()
    assert counts() == {"payment": 1, "delivery": 1, "dispute": 1, "settlement": 1, "refund": 1}
    assert listed(desk.admin, "?queue=settlement") == [completed["id"]]
    assert listed(desk.admin, "?queue=refund") == [closed["id"]]
    assert 'href="/admin/orders?queue=settlement"' in text(desk.admin.get("/admin/"))


def test_chinese_by_default_and_english_after_the_switch(desk: Desk) -> None:
    order = desk.order()
    assert desk.transfer(order["id"]).status_code == 302
    paths = ("/admin/orders", f"/admin/orders/{order['id']}")
    listing_page, order_page = (text(desk.admin.get(path)) for path in paths)
    assert "<h1>订单</h1>" in listing_page and ">订单</a>" in listing_page and "已付款" in listing_page
    assert f"订单 {order['reference']}" in order_page and "交易记录" in order_page and "应付卖方" in order_page
    assert "收款" in order_page and "平台服务费" in order_page and "¥12,000,000.00" in order_page
    switched = desk.admin.post("/admin/language", data={"locale": "en", "next": "/admin/orders",
                                                        "csrf_token": page_csrf(desk.admin)})
    assert switched.status_code == 302
    listing_page, order_page = (text(desk.admin.get(path)) for path in paths)
    assert "<h1>Orders</h1>" in listing_page and "Paid" in listing_page and "订单" not in listing_page
    assert f"Order {order['reference']}" in order_page and "Transaction records" in order_page
    assert "Due to the seller" in order_page and "CN¥12,000,000.00" in order_page and "Platform fee" in order_page


def test_every_order_page_renders_with_demo_data(app: Flask, tmp_path: Any) -> None:
    seeded = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        ids = list(db.session.scalars(select(Order.id).order_by(Order.id)))
        assert db.session.scalar(select(func.count()).select_from(Payment)) >= 2
    assert len(ids) >= 3
    client = admin_client_for(app, make_admin(app)["email"])
    for path in ["/admin/", "/admin/orders", *(f"/admin/orders/{order_id}" for order_id in ids)]:
        response = client.get(path)
        assert response.status_code == 200 and "</html>" in text(response), path
    assert len(listed(client)) == len(ids) and len(listed(client, "?queue=settlement")) == 1


def test_the_refundable_amount_shown_is_what_the_server_accepts_after_a_settlement(desk: Desk) -> None:
    order = desk.order()
    assert desk.transfer(order["id"]).status_code == 302
    desk.complete(order)
    settled = desk.post(order["id"], "settlement", amount="4000000.00", bank_reference="STL-1",
                        value_date=local_today().isoformat())
    assert settled.status_code == 302, text(settled)
    html = text(desk.admin.get(f"/admin/orders/{order['id']}"))
    assert "尚可退款 ¥8,000,000.00。" in html  # paid 12,000,000 less the 4,000,000 settled to the seller
    beyond = desk.post(order["id"], "refund", amount="8000000.01", reason="退款", bank_reference="RET-1")
    assert beyond.status_code == 409
    exactly = desk.post(order["id"], "refund", amount="8000000.00", reason="退款", bank_reference="RET-2")
    assert exactly.status_code == 302, text(exactly)
