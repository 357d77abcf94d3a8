"""The web front in a real browser (Debian's Chromium): an anonymous visitor finds a listing by search and by a
facet, reads it, in Chinese and in English; every page fits a phone's width; screenshots of each page at desktop
and phone width are kept under test-artifacts/screenshots/."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from hall.models import IndustryField
from tests.support.listing_data import first_of_kind
from tests.support.live_server import LiveServer
from tests.support.screens import desktop_and_phone_shots
from tests.support.trading import make_parties, publish, publish_achievement


def _seed(live_server: LiveServer) -> dict[str, Any]:
    with live_server.app.app_context():
        parties = make_parties()
        achievement_id = publish_achievement(parties)
        product_id = publish(parties.seller_id, parties.admin_id, first_of_kind())
        hydrogen = db.session.get(IndustryField, "energy.hydrogen")
        assert hydrogen is not None
        return {"achievement": achievement_id, "product": product_id, "hydrogen_zh": hydrogen.name_zh,
                "hydrogen_en": hydrogen.name_en}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_visitor_finds_a_listing_by_search_and_by_facet(live_server: LiveServer, page: Any, locale: str) -> None:
    seeded = _seed(live_server)
    page.goto("/")
    if locale == "en":
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    shots = desktop_and_phone_shots(page, f"home-{locale}")

    search = page.get_by_role("searchbox").first
    search.fill("固态电池")
    search.press("Enter")
    expect(page.locator("main")).to_contain_text("固态电池")
    shots += desktop_and_phone_shots(page, f"search-{locale}")

    page.goto("/hall")
    closed = page.locator(".facets details:not([open]) > summary")
    while closed.count():  # open the folded facet groups as a visitor would, by their headings
        closed.first.click()
    facet = seeded["hydrogen_en"] if locale == "en" else seeded["hydrogen_zh"]
    page.locator(".facets").get_by_role("link", name=facet).first.click()
    expect(page.locator("main")).to_contain_text("兆瓦级氢燃料电池发电系统")
    expect(page.locator("main")).not_to_contain_text("energy.hydrogen")  # names, never codes
    shots += desktop_and_phone_shots(page, f"facet-{locale}")

    page.get_by_role("link", name="兆瓦级氢燃料电池发电系统").first.click()
    expect(page.locator("h1")).to_contain_text("兆瓦级氢燃料电池发电系统")
    expect(page.locator("main")).to_contain_text("¥")
    shots += desktop_and_phone_shots(page, f"listing-{locale}")
    assert len(shots) == 8
