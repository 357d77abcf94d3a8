"""Every page of docking exhibitions in a real browser, in Chinese and in English, at desktop and phone width: the
public list and an exhibition with its roadshow, the institution's workspace page, and every console page of
``blueprints.admin.exhibitions`` (the list, a new exhibition, one exhibition with its entries, registrations and
leads). Each page is checked by its heading; the console's own words are in the page's language and no page
scrolls sideways at phone width."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from hall.models import User
from hall.services.docking import threads
from hall.services.policy import exhibitions_registrations
from tests.browser.conftest import CHROMIUM
from tests.support.console_pages import (
    console_path,
    module_pages,
    overflow_at_phone_width,
    words_in_the_wrong_language,
)
from tests.support.exhibitions import invite, make_exhibition, on_roadshow
from tests.support.factories import PASSWORD
from tests.support.live_server import LiveServer
from tests.support.orders import open_market
from tests.support.screens import EXPECT_TIMEOUT_MS, browser_page, desktop_and_phone_shots
from tests.support.web_browser import choose_english, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

TITLE = {"zh": "新能源成果对接会", "en": "New energy docking exhibition"}
TEXT = {
    "zh": {"browser": "zh-CN", "lang": "zh-CN", "list": "成果对接会与路演", "mine": "我的对接会", "console": "对接会",
           "new": "新建对接会", "email": "邮箱", "password": "密码", "sign_in": "登录", "language": "语言",
           "switch": "切换"},
    "en": {"browser": "en-US", "lang": "en", "list": "Docking exhibitions and roadshows", "mine": "Your exhibitions",
           "console": "Exhibitions", "new": "New exhibition", "email": "E-mail", "password": "Password",
           "sign_in": "Sign in", "language": "Language", "switch": "Switch"},
}


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """An exhibition with one listing on its roadshow, an invitation waiting, a registration and an enquiry."""
    app = live_server.app
    market = open_market(app)
    exhibition_id = make_exhibition(app, market.parties.admin_id)
    on_roadshow(market, exhibition_id, market.licence)
    invite(app, market.parties.admin_id, exhibition_id, listing_id=market.negotiable)
    with app.app_context():
        buyer = db.session.get(User, market.parties.buyer_id)
        assert buyer is not None
        exhibitions_registrations.register(buyer, exhibition_id, 3)
        threads.open_thread(buyer, listing_id=market.licence, body="路演上看到了。", exhibition_id=exhibition_id)
        db.session.commit()
        db.session.remove()
    return {"market": market, "exhibition_id": exhibition_id}


def _shoot(page: Any, path: str, heading: str, name: str, locale: str, console: bool = False) -> int:
    page.goto(path)
    expect(page.locator("h1")).to_contain_text(heading)
    if console:
        wrong = words_in_the_wrong_language(page, locale)
        assert not wrong, f"{path}: {wrong} not {locale}"
    assert overflow_at_phone_width(page) is None, f"{path} does not fit a phone: {overflow_at_phone_width(page)}"
    return len(desktop_and_phone_shots(page, f"{name}-{locale}", prefix="exhibitions-page"))


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_exhibition_page_in_both_widths(live_server: LiveServer, chromium: Any, locale: str) -> None:
    seeded, text = _seed(live_server), TEXT[locale]
    market, exhibition_id = seeded["market"], seeded["exhibition_id"]
    english = locale == "en"
    shots = 0
    with browser_page(chromium, live_server.url) as page:
        page.goto("/sign-in")
        if english:
            choose_english(page)
        shots += _shoot(page, "/exhibitions", text["list"], "list", locale)
        expect(page.locator("main")).to_contain_text(TITLE[locale])
        page.goto("/sign-in")
        web_sign_in(page, market.parties.seller, english=english)
        shots += _shoot(page, f"/exhibitions/{exhibition_id}", TITLE[locale], "exhibition", locale)
        expect(page.locator("main ol.exh-roadshow li")).to_have_count(1)
        shots += _shoot(page, "/workspace/exhibitions", text["mine"], "workspace", locale)

    pages = module_pages(live_server.app, "blueprints.admin.exhibitions")
    headings = {"admin.exhibition_list": text["console"], "admin.exhibition_new": text["new"],
                "admin.exhibition_detail": TITLE["zh"]}
    assert pages == set(headings), f"console pages without a shot: {sorted(pages - set(headings))}"
    with browser_page(chromium, live_server.url, locale=text["browser"]) as page:
        page.goto("/admin/sign-in")
        page.get_by_label(text["email"]).fill(market.parties.admin)
        page.get_by_label(text["password"]).fill(PASSWORD)
        page.locator("main").get_by_role("button", name=text["sign_in"]).click()
        expect(page).to_have_url(re.compile(r"/admin/$"))
        if page.locator("html").get_attribute("lang") != text["lang"]:
            other = TEXT["zh" if english else "en"]
            page.get_by_label(other["language"]).select_option("en" if english else "zh_CN")
            page.locator("header").get_by_role("button", name=other["switch"]).click()
            expect(page.locator("html")).to_have_attribute("lang", text["lang"])
        for endpoint in sorted(pages):
            path = console_path(live_server.app, endpoint, {"exhibition_id": exhibition_id})
            shots += _shoot(page, path, headings[endpoint], endpoint.removeprefix("admin."), locale, console=True)
        page.goto(console_path(live_server.app, "admin.exhibition_detail", {"exhibition_id": exhibition_id}))
        expect(page.locator('[data-lead="enquiries"]')).to_have_text("1")
    assert shots == 2 * (3 + len(pages))
