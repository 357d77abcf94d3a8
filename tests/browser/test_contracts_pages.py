"""Every page of contract registration and the annual transformation report (issue 13) in a real browser, in Chinese
and in English, at desktop and phone width: the workspace's contract list, a contract's page with the seller's edit
form, the annual report; the console's list of every record and the annual figures per institution (every console
page of blueprints.admin.contracts, checked with ``module_pages``). Each page is checked by its heading and its
words, and must not scroll sideways at phone width."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM
from tests.support.console_pages import (
    NOT_PAGES,
    console_path,
    module_pages,
    shoot_checked,
)
from tests.support.contracts import complete_licence, record_of
from tests.support.factories import PASSWORD
from tests.support.live_server import LiveServer
from tests.support.orders import open_market, refund
from tests.support.screens import EXPECT_TIMEOUT_MS, browser_page
from tests.support.web_browser import choose_english, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

TEXT = {
    "zh": {"browser": "zh-CN", "lang": "zh-CN", "list": "技术合同登记", "contract": "合同 ",
           "annual": "年度科技成果转化报告", "console": "合同登记", "figures": "年度成果转化数据",
           "edit": "编辑合同记录", "total": "合计",
           "email": "邮箱", "password": "密码", "sign_in": "登录", "language": "语言", "switch": "切换"},
    "en": {"browser": "en-US", "lang": "en", "list": "Contract registration", "contract": "Contract ",
           "annual": "Annual transformation report", "console": "Contracts", "figures": "Annual transformation figures",
           "edit": "Edit the record", "total": "Total", "email": "E-mail", "password": "Password",
           "sign_in": "Sign in", "language": "Language", "switch": "Switch"},
}


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """A completed licence refunded in part after completion, and its contract record."""
    market = open_market(live_server.app)
    order_id = complete_licence(market)
    refund(market, order_id, 100_000_00)
    record = record_of(market, order_id)
    assert record is not None
    return {"seller": market.parties.seller, "admin": market.parties.admin, "record": record}


def _shoot(page: Any, path: str, heading: str, name: str, locale: str, problems: list[str]) -> int:
    return shoot_checked(page, path, heading, name, locale, problems, prefix="contracts-page")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_contract_page_in_both_languages_and_widths(live_server: LiveServer, chromium: Any,
                                                          locale: str) -> None:
    seeded, text = _seed(live_server), TEXT[locale]
    app = live_server.app
    record = seeded["record"]
    console = module_pages(app, "blueprints.admin.contracts")
    console_shots = {"admin.contract_list": text["console"], "admin.contract_annual": text["figures"]}
    assert "admin.contract_export" in NOT_PAGES  # a download: fetched in tests/site/test_contracts_pages.py
    assert console == set(console_shots), f"console pages without a shot: {sorted(console - set(console_shots))}"
    problems: list[str] = []
    shots = 0
    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:
        page.goto("/sign-in")
        if locale == "en":
            choose_english(page)
        web_sign_in(page, seeded["seller"], english=locale == "en")
        for path, heading, name in (
                ("/workspace/contracts", text["list"], "list"),
                (f"/workspace/contracts/{record['id']}", text["contract"] + record["contract_number"], "contract"),
                (f"/workspace/reports/annual?year={record['completed_on'].year}", text["annual"], "annual")):
            shots += _shoot(page, path, heading, name, locale, problems)
            if name == "contract":
                expect(page.locator("main")).to_contain_text(text["edit"])
        expect(page.locator("main")).to_contain_text(text["total"])
        expect(page.locator("main")).to_contain_text("400,000.00")  # the technology amount net of the refund

    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:
        page.goto("/admin/sign-in")
        page.get_by_label(text["email"]).fill(seeded["admin"])
        page.get_by_label(text["password"]).fill(PASSWORD)
        page.locator("main").get_by_role("button", name=text["sign_in"]).click()
        expect(page).to_have_url(re.compile(r"/admin/$"))
        if page.locator("html").get_attribute("lang") != text["lang"]:
            other = TEXT["en" if locale == "zh" else "zh"]
            page.get_by_label(other["language"]).select_option("en" if locale == "en" else "zh_CN")
            page.locator("header").get_by_role("button", name=other["switch"]).click()
            expect(page.locator("html")).to_have_attribute("lang", text["lang"])
        for endpoint in sorted(console_shots):
            shots += _shoot(page, console_path(app, endpoint, {}), console_shots[endpoint],
                            endpoint.removeprefix("admin."), locale, problems)
        page.goto(console_path(app, "admin.contract_list", {}))
        expect(page.locator("main")).to_contain_text(record["contract_number"])
    assert not problems, "\n".join(problems)
    assert shots == 2 * (3 + len(console_shots))
