"""Every page of the admin console in a real browser (Debian's Chromium), in Chinese and in English, photographed at
desktop and phone width: the sign-in page, the dashboard, the institutions and an institution awaiting
verification, all listings, the review queue and a listing's review page, the orders and a completed order paid by
card (so the refund and settlement forms show), and the audit log with the hash chain's verdict. The pages are
found from the URL map (every GET rule of the ``admin.`` blueprint), so a new page fails the test until it is
photographed here. Each page is checked by its heading, the console's own words are in the page's language, and
at phone width the document is no wider than the screen (wide tables scroll inside their container)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from tests.browser.conftest import CHROMIUM
from tests.support.console import new_listing
from tests.support.console_pages import (
    console_pages,
    console_path,
    feature_pages,
    overflow_at_phone_width,
    words_in_the_wrong_language,
)
from tests.support.demands import Poster, demand_body
from tests.support.factories import PASSWORD, InstitutionFactory, UserFactory
from tests.support.listing_data import achievement
from tests.support.live_server import LiveServer
from tests.support.orders import buy_product, deliver_and_confirm, open_market, order_row, pay_by_card
from tests.support.screens import (
    DESKTOP,
    EXPECT_TIMEOUT_MS,
    PHONE,
    browser_page,
    desktop_and_phone_shots,
    screenshot,
)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

# What the console says, by language (platform/hall/translations/*/LC_MESSAGES/messages.po).
TEXT = {
    "zh": {"browser": "zh-CN", "lang": "zh-CN", "sign_in": "登录", "email": "邮箱", "password": "密码",
           "language": "语言", "switch": "切换", "dashboard": "概览", "institutions": "机构认证",
           "listings": "全部发布", "queue": "待审队列", "orders": "订单", "order": "订单 ", "audit": "审计日志",
           "verify": "通过认证", "approve": "批准发布", "refund": "退款", "settle": "登记结算",
           "check_chain": "校验哈希链", "completed": "已完成", "demands": "需求", "reported": "被举报的咨询"},
    "en": {"browser": "en-US", "lang": "en", "sign_in": "Sign in", "email": "E-mail", "password": "Password",
           "language": "Language", "switch": "Switch", "dashboard": "Dashboard",
           "institutions": "Institutions", "listings": "All listings", "queue": "Review queue", "orders": "Orders",
           "order": "Order ", "audit": "Audit log", "verify": "Verify", "approve": "Approve", "refund": "Refund",
           "settle": "Record the settlement", "check_chain": "Verify the hash chain", "completed": "Completed",
           "demands": "Demands", "reported": "Reported enquiries"},
}
PENDING_ORG = {"name_zh": "深海装备联合实验室", "name_en": "Deep-Sea Equipment Joint Laboratory",
               "website": "https://deep-sea-equipment-joint-laboratory.example.cn/about/verification"}
TITLE = achievement()["title_zh"]
DEMAND_TITLE = demand_body()["title_zh"]
THREAD_SUBJECT = "关于独家许可的咨询"


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """Through the API and the services: a market (tests.support.orders) whose product the buyer ordered, paid by
    card and confirmed after delivery (a completed order: refundable, money due to the seller); a listing waiting
    for review; an institution waiting for verification."""
    app = live_server.app
    market = open_market(app)
    order = buy_product(market)
    pay_by_card(market, order["id"])
    deliver_and_confirm(market, order["id"])
    waiting = new_listing(app)
    poster = Poster(app, market.parties.buyer)
    demand_id = poster.create()
    assert poster.act(demand_id, "submit").status_code == 200  # a demand waiting for review
    opened = market.buyer.post("/api/v1/threads", {"listing_id": market.licence, "subject": THREAD_SUBJECT,
                                                   "body": "请问可以独家许可吗？"})
    assert opened.status_code == 201, opened.get_json()
    thread_id = opened.get_json()["id"]
    assert market.buyer.post(f"/api/v1/threads/{thread_id}/report", {"reason": "要求私下转账"}).status_code == 200
    with app.app_context():
        org = InstitutionFactory(verification_status="pending", **PENDING_ORG)
        UserFactory(institution=org, institution_role="owner", display_name="赵敏")
        db.session.commit()
        org_id = org.id
        db.session.remove()
    return {"admin": market.parties.admin, "reference": order_row(app, order["id"])["reference"],
            "ids": {"org_id": org_id, "listing_id": waiting.id, "order_id": order["id"], "demand_id": demand_id,
                    "thread_id": thread_id}}


def _sign_in(page: Any, email: str, text: dict[str, str]) -> None:
    """The console's sign-in form, in the browser's language; lands on the dashboard."""
    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"]).fill(PASSWORD)
    page.locator("main").get_by_role("button", name=text["sign_in"]).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def _choose(page: Any, locale: str) -> None:
    """The header's language form (the admin's stored language is Chinese, whatever the browser asks for)."""
    text = TEXT[locale]
    if page.locator("html").get_attribute("lang") == text["lang"]:
        return
    current = TEXT["en" if locale == "zh" else "zh"]
    page.get_by_label(current["language"]).select_option("en" if locale == "en" else "zh_CN")
    page.locator("header").get_by_role("button", name=current["switch"]).click()
    expect(page.locator("html")).to_have_attribute("lang", text["lang"])


def _checks(text: dict[str, str], seeded: dict[str, Any]) -> dict[str, tuple[str, Callable[[Any], None]]]:
    """Each page's endpoint → (what its <h1> holds, what else it must show)."""
    def nothing(page: Any) -> None:
        pass

    def institution(page: Any) -> None:
        expect(page.locator("main")).to_contain_text("赵敏")
        expect(page.get_by_role("button", name=text["verify"])).to_be_visible()

    def waiting_lists(page: Any) -> None:
        expect(page.locator("main").get_by_role("link", name=TITLE).first).to_be_visible()

    def review(page: Any) -> None:
        expect(page.get_by_role("button", name=text["approve"])).to_be_visible()

    def orders(page: Any) -> None:
        expect(page.locator("main")).to_contain_text(seeded["reference"])

    def order(page: Any) -> None:
        expect(page.locator("#order-status")).to_have_text(text["completed"])
        expect(page.locator("form#refund").get_by_role("button", name=text["refund"])).to_be_visible()
        expect(page.locator("form#settlement").get_by_role("button", name=text["settle"])).to_be_visible()

    def demand_queue(page: Any) -> None:
        expect(page.locator("main").get_by_role("link", name=DEMAND_TITLE).first).to_be_visible()

    def demand(page: Any) -> None:
        expect(page.get_by_role("button", name=text["approve"])).to_be_visible()

    def reported(page: Any) -> None:
        expect(page.locator("main")).to_contain_text("要求私下转账")

    def audit(page: Any) -> None:
        expect(page.locator("table.audit tbody tr").first).to_be_visible()
        page.get_by_role("link", name=text["check_chain"]).click()
        expect(page.locator("main p.flash.success")).to_be_visible()

    return {
        "admin.dashboard": (text["dashboard"], nothing),
        "admin.institution_list": (text["institutions"], nothing),
        "admin.institution_detail": (PENDING_ORG["name_zh"], institution),
        "admin.listing_list": (text["listings"], waiting_lists),
        "admin.review_queue": (text["queue"], waiting_lists),
        "admin.listing_review_page": (TITLE, review),
        "admin.order_list": (text["orders"], orders),
        "admin.order_page": (text["order"] + seeded["reference"], order),
        "admin.audit_log": (text["audit"], audit),
        "admin.demand_queue": (text["demands"], demand_queue),
        "admin.demand_review_page": (DEMAND_TITLE, demand),
        "admin.reported_threads": (text["reported"], reported),
        "admin.reported_thread_page": (THREAD_SUBJECT, reported),
    }


def _shoot(page: Any, locale: str, name: str, heading: str, problems: list[str]) -> int:
    """Check the heading, note the console's words in the wrong language and a page that does not fit a phone, and
    photograph it at both widths (a page that scrolls sideways too: the pictures show how)."""
    expect(page.locator("html")).to_have_attribute("lang", TEXT[locale]["lang"])
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text(heading)
    problems += [f"{page.url}: {words!r} is not {locale}" for words in words_in_the_wrong_language(page, locale)]
    overflow = overflow_at_phone_width(page)
    name = f"admin-page-{name}-{locale}"
    if overflow is None:
        return len(desktop_and_phone_shots(page, name.removeprefix("admin-page-"), prefix="admin-page"))
    problems.append(overflow)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)
    return 2


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_console_page_in_both_widths(live_server: LiveServer, chromium: Any, locale: str) -> None:
    seeded, text = _seed(live_server), TEXT[locale]
    pages = console_pages(live_server.app) - feature_pages(live_server.app)
    checks = _checks(text, seeded)
    assert pages == set(checks) | {"admin.sign_in"}, (
        f"console pages without a shot: {sorted(pages - set(checks) - {'admin.sign_in'})}; "
        f"shots of pages that are gone: {sorted(set(checks) - pages)}")
    problems: list[str] = []
    shots = 0

    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:
        # Anonymous: the sign-in page speaks the browser's language.
        page.goto(console_path(live_server.app, "admin.sign_in", {}))
        shots += _shoot(page, locale, "sign-in", text["sign_in"], problems)
        _sign_in(page, seeded["admin"], text)
        _choose(page, locale)
        for endpoint in sorted(checks):
            heading, check = checks[endpoint]
            page.goto(console_path(live_server.app, endpoint, seeded["ids"]))
            check(page)
            shots += _shoot(page, locale, endpoint.removeprefix("admin.").replace("_", "-"), heading, problems)

    assert not problems, "\n".join(problems)
    assert shots == 2 * len(pages)
