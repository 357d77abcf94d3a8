"""Whole journeys through the web front in a real browser (Debian's Chromium), each page photographed at desktop and
phone width (and checked to fit a phone): an institute registers, confirms its address, is verified in the console
and publishes an achievement with a PDF; a buyer orders a fixed-price product and pays by bank transfer and by card
(the fake gateway's local page), in Chinese and in English; a negotiated order is quoted by the seller and accepted
by the buyer."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from hall.models import Order, User
from hall.services.trading import payments
from tests.browser.conftest import CHROMIUM
from tests.support.factories import PASSWORD, UserFactory, token_from_mail, valid_credit_code
from tests.support.listing_data import achievement
from tests.support.listings import PDF
from tests.support.live_server import LiveServer
from tests.support.screens import EXPECT_TIMEOUT_MS, browser_page
from tests.support.screens import desktop_and_phone_shots as _shots
from tests.support.trading import make_parties, publish, publish_product

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

ORDER_URL = re.compile(r"/workspace/orders/(\d+)$")


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@contextmanager
def second_browser(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """Another person's browser: a fresh context (no cookies), Chinese, desktop size."""
    with browser_page(chromium, live_server.url) as page:
        yield page


def web_sign_in(page: Any, email: str, password: str = PASSWORD, *, english: bool = False) -> None:
    """Fill the web front's sign-in form (the page is already open) and land signed in."""
    expect(page.locator("h1")).to_have_text("Sign in" if english else "登录")
    page.get_by_label("E-mail" if english else "邮箱", exact=True).fill(email)
    page.get_by_label("Password" if english else "密码", exact=True).fill(password)
    page.locator("main").get_by_role("button", name="Sign in" if english else "登录").click()
    # A language the visitor chose before signing in is kept (and saved on the person).
    expect(page.locator("p.flash.success")).to_have_text("Signed in." if english else "已登录。")
    expect(page.locator("header .who")).to_be_visible()


def admin_console_sign_in(page: Any, email: str) -> None:
    page.goto("/admin/sign-in")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def order_id_of(page: Any) -> int:
    expect(page).to_have_url(ORDER_URL)
    match = ORDER_URL.search(page.url)
    assert match
    return int(match.group(1))


# --- 1. registration to a published achievement -------------------------------------------------------------------


def test_an_institute_registers_and_publishes_an_achievement(live_server: LiveServer, page: Any, chromium: Any,
                                                             tmp_path: Path) -> None:
    email, password, org_name = "chen.jing@qlab.example.cn", "量子 sensing lab 2026", "量子精密测量研究所"
    listing = achievement(state_funded=False)
    with live_server.app.app_context():
        UserFactory(email="reviewer@hall.example.cn", is_admin=True)
        db.session.commit()
        db.session.remove()
    shots: list[Path] = []

    page.goto("/register")
    expect(page.locator("h1")).to_have_text("注册")
    shots += _shots(page, "journey-register")
    page.get_by_label("您的姓名").fill("陈静")
    page.get_by_label("邮箱", exact=True).fill(email)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("再次输入密码").fill(password)
    page.get_by_label("机构类型").select_option("research_institute")
    page.get_by_label("中文名称").fill(org_name)
    page.get_by_label("英文名称").fill("Institute of Quantum Precision Measurement")
    page.get_by_label("统一社会信用代码").fill(valid_credit_code(8101))
    page.get_by_label("行政区划代码").fill("110108")
    page.locator("main").get_by_role("button", name="注册").click()
    expect(page.locator("h1")).not_to_have_text("注册")
    shots += _shots(page, "journey-check-mail")

    with live_server.app.app_context():
        token = token_from_mail(email, "confirm")
        db.session.remove()
    page.goto(f"/confirm-email?token={token}")
    expect(page.locator("h1")).to_have_text("确认您的邮箱地址")
    shots += _shots(page, "journey-confirm-email")
    page.get_by_role("button", name="确认我的邮箱地址").click()
    expect(page.locator("p.flash.success")).to_be_visible()

    page.goto("/sign-in")
    shots += _shots(page, "journey-sign-in")
    web_sign_in(page, email, password)

    # The platform verifies the institution in the console (another browser).
    with second_browser(chromium, live_server) as admin:
        admin_console_sign_in(admin, "reviewer@hall.example.cn")
        admin.goto("/admin/institutions")
        admin.get_by_role("link", name=org_name).click()
        admin.get_by_role("button", name="通过认证").click()
        expect(admin.locator("p.flash.success")).to_be_visible()

        # The member writes the achievement in the workspace.
        page.goto("/workspace/listings/new?kind=achievement")
        expect(page.locator("h1")).to_have_text("新建科技成果")
        shots += _shots(page, "journey-new-achievement")
        page.get_by_label("标题（中文）").fill(listing["title_zh"])
        page.get_by_label("非涉密简介（中文）").fill(listing["summary_zh"])
        page.get_by_label("详细介绍（中文）").fill(listing["description_zh"])
        page.get_by_label("解决的问题及相比现有方案的优势（中文）").fill(listing["benefit_zh"])
        page.get_by_label("应用场景（中文）").fill(listing["scenarios_zh"])
        page.get_by_label("产业方向").select_option(listing["direction_code"])
        page.get_by_label("领域", exact=True).select_option(listing["field_code"])
        page.get_by_label("地区", exact=True).select_option("110000")  # province-level choices only
        page.get_by_label("技术成熟度（TRL）").select_option("6")
        page.get_by_role("checkbox", name="转让", exact=True).check()
        page.get_by_label("价格", exact=True).select_option("fixed")
        page.get_by_label(re.compile(r"^金额")).fill("500000.00")
        page.locator("main").get_by_role("button", name="保存草稿").click()
        expect(page).to_have_url(re.compile(r"/workspace/listings/\d+$"))
        expect(page.locator("h1")).to_have_text(listing["title_zh"])
        listing_id = int(page.url.rsplit("/", 1)[1])

        pdf = tmp_path / "检测报告.pdf"
        pdf.write_bytes(PDF)
        page.get_by_label("文件（PDF、PNG、JPEG 或 WebP）").set_input_files(str(pdf))
        page.get_by_role("button", name="上传", exact=True).click()
        expect(page.locator(".ws-files")).to_contain_text("检测报告.pdf")
        shots += _shots(page, "journey-draft")
        page.get_by_role("button", name="提交审核").click()
        expect(page.locator("main")).to_contain_text("待审核")
        shots += _shots(page, "journey-submitted")

        # The platform approves it from the review queue.
        admin.goto(f"/admin/listings/{listing_id}")
        admin.get_by_role("button", name="批准发布").click()
        expect(admin.locator("p.flash.success")).to_be_visible()

    # Anyone sees it in the hall.
    with second_browser(chromium, live_server) as visitor:
        visitor.goto(f"/hall/listings/{listing_id}")
        expect(visitor.locator("h1")).to_contain_text(listing["title_zh"])
        expect(visitor.locator("main")).to_contain_text(org_name)
        shots += _shots(visitor, "journey-public-listing")
    assert len(shots) == 16


# --- 2. a fixed-price product: bank transfer, then card ---------------------------------------------------------

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
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
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


# --- 3. a negotiated order --------------------------------------------------------------------------------------


def test_a_negotiated_order_is_quoted_and_accepted(live_server: LiveServer, page: Any, chromium: Any) -> None:
    with live_server.app.app_context():
        parties = make_parties()
        listing_id = publish(parties.seller_id, parties.admin_id,
                             achievement(price_mode="negotiable", price_amount=None, state_funded=False,
                                         deal_modes=["transfer"]))
        db.session.remove()
    shots: list[Path] = []

    page.goto("/sign-in")
    web_sign_in(page, parties.buyer)
    page.goto(f"/hall/listings/{listing_id}")
    expect(page.locator("main")).to_contain_text("面议")
    shots += _shots(page, "journey-negotiable-listing")
    page.get_by_role("link", name="下单", exact=True).click()
    page.get_by_label("交易方式").select_option("transfer")
    page.get_by_label("给卖方的留言").fill("请报含技术培训的转让价格。")
    shots += _shots(page, "journey-ask-for-quote")
    page.get_by_role("button", name="询价").click()
    order_id = order_id_of(page)
    expect(page.locator(".ord-state")).to_have_text("已询价")
    shots += _shots(page, "journey-requested")

    with second_browser(chromium, live_server) as seller:
        seller.goto("/sign-in")
        web_sign_in(seller, parties.seller)
        seller.goto(f"/workspace/orders/{order_id}")
        expect(seller.locator(".ord-state")).to_have_text("已询价")
        shots += _shots(seller, "journey-seller-quotes")
        seller.get_by_label(re.compile("总价")).fill("480000.00")
        seller.get_by_label("条款与说明").fill("含三个月技术培训。")
        seller.get_by_role("button", name="发送报价").click()
        expect(seller.locator(".ord-state")).to_have_text("已报价")
        shots += _shots(seller, "journey-quoted-seller")

    page.reload()
    expect(page.locator(".ord-state")).to_have_text("已报价")
    expect(page.locator(".ord-terms")).to_contain_text("480,000.00")
    shots += _shots(page, "journey-quoted-buyer")
    page.get_by_role("button", name="接受此报价").click()
    expect(page.locator(".ord-state")).to_have_text("已接受")
    shots += _shots(page, "journey-accepted")
    assert len(shots) == 14
