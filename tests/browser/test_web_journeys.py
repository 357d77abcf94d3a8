"""Trading journeys through the web front in a real browser (Debian's Chromium), each page photographed at desktop
and phone width (and checked to fit a phone): a buyer orders a fixed-price product and pays by bank transfer and by
card (the fake gateway's local page), in Chinese and in English; a negotiated order is quoted by the seller and
accepted by the buyer, in Chinese and in English. (Registering and publishing are in test_web_publishing.py.)"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from hall.models import Order, User
from hall.services.trading import payments
from tests.browser.conftest import CHROMIUM
from tests.support.listing_data import achievement
from tests.support.live_server import LiveServer
from tests.support.screens import EXPECT_TIMEOUT_MS
from tests.support.screens import desktop_and_phone_shots as _shots
from tests.support.trading import make_parties, publish, publish_product
from tests.support.web_browser import choose_english, order_id_of, second_browser, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


# --- 1. a fixed-price product: bank transfer, then card ---------------------------------------------------------

TEXT = {
    "zh": {"sign_in_to_order": "登录后下单或询价", "order": "下单", "place": "提交订单", "bank": "银行转账支付",
           "card": "银行卡支付", "confirm_card": "确认测试银行卡付款", "accepted": "已接受", "paid": "已付款",
           "reference": "汇款识别码"},
    "en": {"sign_in_to_order": "Sign in to order or ask", "order": "Place an order", "place": "Place the order",
           "bank": "Pay by bank transfer", "card": "Pay by card", "confirm_card": "Confirm the test card payment",
           "accepted": "Accepted", "paid": "Paid", "reference": "Remittance reference"},
}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_buyer_orders_a_product_and_pays_by_transfer_and_by_card(live_server: LiveServer, page: Any,
                                                                    locale: str) -> None:
    text, english = TEXT[locale], locale == "en"
    with live_server.app.app_context():
        parties = make_parties()
        product_id = publish_product(parties, stock=3)
        db.session.remove()
    shots: list[Path] = []

    page.goto(f"/hall/listings/{product_id}")
    if english:
        choose_english(page)
    page.get_by_role("link", name=text["sign_in_to_order"]).click()
    web_sign_in(page, parties.buyer, english=english)
    # The visitor's choice survives signing in (it used to fall back to the person's saved Chinese).
    expect(page.locator("html")).to_have_attribute("lang", "en" if english else "zh-CN")
    expect(page).to_have_url(re.compile(rf"/hall/listings/{product_id}$"))
    shots += _shots(page, f"journey-product-{locale}")

    order_ids = []
    for method in ("bank", "card"):
        page.goto(f"/hall/listings/{product_id}")
        page.get_by_role("link", name=text["order"], exact=True).click()
        expect(page).to_have_url(re.compile(rf"/hall/listings/{product_id}/order$"))  # loaded before the shots
        shots += _shots(page, f"journey-order-form-{method}-{locale}")
        page.locator("main").get_by_role("checkbox").check()  # we are the end user
        page.get_by_role("button", name=text["place"]).click()
        order_id = order_id_of(page)
        order_ids.append(order_id)
        expect(page.locator(".ord-state")).to_have_text(text["accepted"])
        shots += _shots(page, f"journey-order-{method}-{locale}")
        page.get_by_role("button", name=text[method], exact=True).click()

        if method == "bank":
            expect(page.locator(".ord-transfer")).to_contain_text(text["reference"])
            expect(page.locator("code.ord-reference")).not_to_be_empty()
            shots += _shots(page, f"journey-bank-transfer-{locale}")
            with live_server.app.app_context():  # the platform's accountant books the incoming transfer
                admin = db.session.get(User, parties.admin_id)
                order = db.session.get(Order, order_id)
                assert admin is not None and order is not None and order.amount is not None
                payments.record_bank_transfer(admin, order_id, amount=order.amount, currency=order.currency,
                                              value_date=date.today(), bank_reference="ICBC-2026-0001")
                db.session.commit()
                db.session.remove()
            page.reload()
        else:
            expect(page).to_have_url(re.compile(rf"/workspace/orders/{order_id}/pay/card$"))
            shots += _shots(page, f"journey-card-{locale}")
            page.get_by_role("button", name=text["confirm_card"]).click()
            expect(page).to_have_url(re.compile(rf"/workspace/orders/{order_id}$"))
        expect(page.locator(".ord-state")).to_have_text(text["paid"])
        shots += _shots(page, f"journey-paid-{method}-{locale}")

    assert len(set(order_ids)) == 2
    assert len(shots) == 18


# --- 2. a negotiated order --------------------------------------------------------------------------------------

NEGOTIATED = {
    "zh": {"negotiable": "面议", "order": "下单", "deal_mode": "交易方式", "note": "给卖方的留言",
           "ask": "询价", "requested": "已询价", "total": "总价", "terms": "条款与说明", "send": "发送报价",
           "quoted": "已报价", "accept": "接受此报价", "accepted": "已接受",
           "buyer_note": "请报含技术培训的转让价格。", "seller_note": "含三个月技术培训。"},
    "en": {"negotiable": "Negotiable", "order": "Place an order", "deal_mode": "Deal mode",
           "note": "Note to the seller", "ask": "Ask for a quote", "requested": "Requested", "total": "Total price",
           "terms": "Terms and notes", "send": "Send the quote", "quoted": "Quoted", "accept": "Accept this quote",
           "accepted": "Accepted", "buyer_note": "Please quote a transfer price including technical training.",
           "seller_note": "Includes three months of technical training."},
}


def _signed_in(page: Any, email: str, english: bool) -> None:
    """Open the sign-in page, switch to English if asked (the header's language link), sign in."""
    page.goto("/sign-in")
    if english:
        choose_english(page)
    web_sign_in(page, email, english=english)
    expect(page.locator("html")).to_have_attribute("lang", "en" if english else "zh-CN")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_negotiated_order_is_quoted_and_accepted(live_server: LiveServer, page: Any, chromium: Any,
                                                   locale: str) -> None:
    text, english = NEGOTIATED[locale], locale == "en"
    with live_server.app.app_context():
        parties = make_parties()
        listing_id = publish(parties.seller_id, parties.admin_id,
                             achievement(price_mode="negotiable", price_amount=None, state_funded=False,
                                         deal_modes=["transfer"]))
        db.session.remove()
    shots: list[Path] = []

    _signed_in(page, parties.buyer, english)
    page.goto(f"/hall/listings/{listing_id}")
    expect(page.locator("main")).to_contain_text(text["negotiable"])
    shots += _shots(page, f"journey-negotiable-listing-{locale}")
    page.get_by_role("link", name=text["order"], exact=True).click()
    page.get_by_label(text["deal_mode"]).select_option("transfer")
    page.get_by_label(text["note"]).fill(text["buyer_note"])
    shots += _shots(page, f"journey-ask-for-quote-{locale}")
    page.get_by_role("button", name=text["ask"]).click()
    order_id = order_id_of(page)
    expect(page.locator(".ord-state")).to_have_text(text["requested"])
    shots += _shots(page, f"journey-requested-{locale}")

    with second_browser(chromium, live_server) as seller:
        _signed_in(seller, parties.seller, english)
        seller.goto(f"/workspace/orders/{order_id}")
        expect(seller.locator(".ord-state")).to_have_text(text["requested"])
        shots += _shots(seller, f"journey-seller-quotes-{locale}")
        seller.get_by_label(re.compile(text["total"])).fill("480000.00")
        seller.get_by_label(text["terms"]).fill(text["seller_note"])
        seller.get_by_role("button", name=text["send"]).click()
        expect(seller.locator(".ord-state")).to_have_text(text["quoted"])
        shots += _shots(seller, f"journey-quoted-seller-{locale}")

    page.reload()
    expect(page.locator(".ord-state")).to_have_text(text["quoted"])
    expect(page.locator(".ord-terms")).to_contain_text("480,000.00")
    expect(page.locator(".ord-terms")).to_contain_text(text["seller_note"])
    shots += _shots(page, f"journey-quoted-buyer-{locale}")
    page.get_by_role("button", name=text["accept"]).click()
    expect(page.locator(".ord-state")).to_have_text(text["accepted"])
    shots += _shots(page, f"journey-accepted-{locale}")
    assert len(shots) == 14
