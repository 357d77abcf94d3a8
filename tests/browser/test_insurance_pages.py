"""Every page of insurance compensation (issue 13) in a real browser, in Chinese and in English, at desktop and
phone width: the workspace's policies, the policy form (new and edit) and an application's page; the console's
queue and an application's page (every console page of blueprints.admin.insurance, checked with
``module_pages``). Each page is checked by its heading and its words, and must not scroll sideways at phone width."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM
from tests.support.console_pages import (
    console_path,
    module_pages,
    shoot_checked,
)
from tests.support.factories import PASSWORD
from tests.support.insurance import filed_application, make_application
from tests.support.live_server import LiveServer
from tests.support.orders import open_market
from tests.support.screens import EXPECT_TIMEOUT_MS, browser_page
from tests.support.web_browser import choose_english, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

# The console's GET rules of this module that are files, not pages (checked in tests/site/test_insurance_pages.py).
DOWNLOADS = {"admin.insurance_document"}
TEXT = {
    "zh": {"browser": "zh-CN", "lang": "zh-CN", "home": "保险补偿", "new": "新增保单", "edit": "编辑保单",
           "application": "保费补偿申请（第 1 年）", "draft": "保费补偿申请（第 2 年）", "rule": "补偿保费的 80%",
           "email": "邮箱", "password": "密码", "sign_in": "登录", "language": "语言", "switch": "切换"},
    "en": {"browser": "en-US", "lang": "en", "home": "Insurance compensation", "new": "New policy",
           "edit": "Edit the policy", "application": "Compensation application, year 1",
           "draft": "Compensation application, year 2", "rule": "80 % of the premium", "email": "E-mail",
           "password": "Password", "sign_in": "Sign in", "language": "Language", "switch": "Switch"},
}


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer, uploads: Path) -> dict[str, Any]:
    """The market's product insured, its first policy year's application filed, the second one a draft."""
    app = live_server.app
    app.config["UPLOAD_DIR"] = str(uploads)
    market = open_market(app)
    policy_id, filed = filed_application(market)
    draft, _document = make_application(market.seller, policy_id, 2)
    return {"seller": market.parties.seller, "admin": market.parties.admin, "policy_id": policy_id,
            "application_id": filed, "draft": draft}


def _shoot(page: Any, path: str, heading: str, name: str, locale: str, problems: list[str]) -> int:
    return shoot_checked(page, path, heading, name, locale, problems, prefix="insurance-page")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_insurance_page_in_both_languages_and_widths(live_server: LiveServer, chromium: Any, locale: str,
                                                           tmp_path: Path) -> None:
    seeded, text = _seed(live_server, tmp_path / "uploads"), TEXT[locale]
    app = live_server.app
    console = module_pages(app, "blueprints.admin.insurance")
    ids = {"application_id": seeded["application_id"]}
    console_shots = {"admin.insurance_queue": text["home"], "admin.insurance_application": text["application"]}
    assert DOWNLOADS <= console  # a file download, not a page: fetched in tests/site/test_insurance_pages.py
    assert console - DOWNLOADS == set(console_shots), \
        f"console pages without a shot: {sorted(console - DOWNLOADS - set(console_shots))}"
    problems: list[str] = []
    shots = 0
    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:
        page.goto("/sign-in")
        if locale == "en":
            choose_english(page)
        web_sign_in(page, seeded["seller"], english=locale == "en")
        policy, filed, draft = seeded["policy_id"], seeded["application_id"], seeded["draft"]
        for path, heading, name in (
                ("/workspace/insurance", text["home"], "home"),
                ("/workspace/insurance/policies/new", text["new"], "new-policy"),
                (f"/workspace/insurance/policies/{policy}/edit", text["edit"], "edit-policy"),
                (f"/workspace/insurance/applications/{filed}", text["application"], "application-filed"),
                (f"/workspace/insurance/applications/{draft}", text["draft"], "application-draft")):
            shots += _shoot(page, path, heading, name, locale, problems)
        expect(page.locator("main")).to_contain_text(text["rule"])
        expect(page.locator("main")).to_contain_text("¥288,000.00")

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
            path = console_path(app, endpoint, ids)
            shots += _shoot(page, path, console_shots[endpoint], endpoint.removeprefix("admin."), locale, problems)
        page.goto(console_path(app, "admin.insurance_application", ids))
        expect(page.locator("main")).to_contain_text("PICC-FK-2025-001")  # the console sees the policy number
    assert not problems, "\n".join(problems)
    assert shots == 2 * (5 + len(console_shots))
