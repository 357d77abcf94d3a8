"""Every page of evaluation by professional institutions (issue 13) in a real browser, in Chinese and in English, at
desktop and phone width: the client's workspace list, the request form and an engagement with its issued report;
the evaluator's engagement with the report form; the public listing showing "evaluated by …" and the evaluator's
public page; the console's list and an engagement (every console page of blueprints.admin.evaluations, checked with
``module_pages``). Each page is checked by its heading and must not scroll sideways at phone width; the console's
own words must be in the page's language."""
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
    overflow_at_phone_width,
    shoot_checked,
)
from tests.support.evaluations import engaged, new_evaluator, reported
from tests.support.factories import PASSWORD
from tests.support.live_server import LiveServer
from tests.support.orders import open_market
from tests.support.screens import DESKTOP, EXPECT_TIMEOUT_MS, browser_page, desktop_and_phone_shots
from tests.support.web_browser import choose_english, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

EVALUATOR = {"zh": "国科科技成果评价中心", "en": "Guoke S&T Achievement Evaluation Centre"}
TEXT = {
    "zh": {"browser": "zh-CN", "lang": "zh-CN", "list": "成果评价", "request": "委托评价", "engagement": "的评价",
           "issue": "出具报告", "evaluated_by": "评价机构：", "console_list": "成果评价", "console_one": "评价 #",
           "count": "公开发布页面上展示的评价报告：1 份", "email": "邮箱", "password": "密码", "sign_in": "登录",
           "language": "语言", "switch": "切换"},
    "en": {"browser": "en-US", "lang": "en", "list": "Evaluations", "request": "Ask for an evaluation",
           "engagement": "Evaluation of", "issue": "Issue the report", "evaluated_by": "Evaluated by",
           "console_list": "Evaluations", "console_one": "Evaluation #",
           "count": "1 evaluation reports shown on public listings", "email": "E-mail", "password": "Password",
           "sign_in": "Sign in", "language": "Language", "switch": "Switch"},
}


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer, uploads: Path) -> dict[str, Any]:
    """A market, an evaluator whose report on the licence is attached, and an accepted engagement on the
    negotiable achievement (its report form open)."""
    app = live_server.app
    app.config["UPLOAD_DIR"] = str(uploads)
    market = open_market(app)
    evaluator = new_evaluator(app, name_zh=EVALUATOR["zh"], name_en=EVALUATOR["en"])
    shown = reported(market, evaluator, attach=True)
    pending = engaged(market, evaluator, market.negotiable)
    assert evaluator.party.post(f"/api/v1/evaluations/{pending}/accept").status_code == 200
    return {"seller": market.parties.seller, "admin": market.parties.admin, "evaluator": evaluator.party.email,
            "evaluator_org": evaluator.org_id, "licence": market.licence, "shown": shown, "pending": pending}


def _shoot(page: Any, path: str, heading: str, name: str, locale: str, problems: list[str]) -> int:
    return shoot_checked(page, path, heading, name, locale, problems, prefix="evaluations-page")


def _web_session(page: Any, email: str, locale: str) -> None:
    page.goto("/sign-in")
    if locale == "en":
        choose_english(page)
    web_sign_in(page, email, english=locale == "en")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_evaluation_page_in_both_languages_and_widths(live_server: LiveServer, chromium: Any, locale: str,
                                                            tmp_path: Path) -> None:
    seeded, text = _seed(live_server, tmp_path / "uploads"), TEXT[locale]
    app = live_server.app
    console = module_pages(app, "blueprints.admin.evaluations")
    console_shots = {"admin.evaluation_list": text["console_list"], "admin.evaluation_detail": text["console_one"]}
    assert console == set(console_shots), f"console pages without a shot: {sorted(console - set(console_shots))}"
    problems: list[str] = []
    shots = 0
    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:  # the client
        _web_session(page, seeded["seller"], locale)
        shots += _shoot(page, "/workspace/evaluations", text["list"], "list", locale, problems)
        shots += _shoot(page, f"/workspace/listings/{seeded['licence']}/evaluations/new", text["request"], "request",
                        locale, problems)
        shots += _shoot(page, f"/workspace/evaluations/{seeded['shown']}", text["engagement"], "client-report",
                        locale, problems)
        expect(page.locator("main")).to_contain_text(EVALUATOR[locale])

    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:  # the evaluator
        _web_session(page, seeded["evaluator"], locale)
        shots += _shoot(page, f"/workspace/evaluations/{seeded['pending']}", text["engagement"], "report-form",
                        locale, problems)
        expect(page.locator("main").get_by_role("button", name=text["issue"])).to_be_visible()

    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:  # the public
        page.goto("/")
        if locale == "en":
            choose_english(page)
        page.goto(f"/hall/listings/{seeded['licence']}")
        badge = page.locator("section.evaluated-by")
        expect(badge).to_contain_text(text["evaluated_by"])
        expect(badge.get_by_role("link", name=EVALUATOR[locale])).to_be_visible()
        shots += len(desktop_and_phone_shots(page, f"public-listing-{locale}", prefix="evaluations-page"))
        overflow = overflow_at_phone_width(page)
        if overflow is not None:
            problems.append(overflow)
        page.set_viewport_size(DESKTOP)
        shots += _shoot(page, f"/institutions/{seeded['evaluator_org']}", EVALUATOR[locale], "evaluator", locale,
                        problems)
        expect(page.locator("main")).to_contain_text(text["count"])

    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:  # the console
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
        ids = {"engagement_id": seeded["shown"]}
        for endpoint in sorted(console_shots):
            shots += _shoot(page, console_path(app, endpoint, ids), console_shots[endpoint],
                            endpoint.removeprefix("admin."), locale, problems)
        expect(page.locator("main")).to_contain_text("GKPJ-2026-001")
    assert not problems, "\n".join(problems)
    assert shots == 2 * (6 + len(console_shots))
