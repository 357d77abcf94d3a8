"""Every page of supply–demand docking (issue 12) in a real browser, in Chinese and in English, at desktop and phone
width: the public demand hall and a demand, the NDA page; the buyer's demands (list, form, a demand with its
matches), enquiries (list and a thread), NDA requests and notifications; the seller's data room. Each page is
checked by its heading and must not scroll sideways at phone width."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from hall.models import User
from hall.services.docking import data_rooms, demand_review, demands, threads
from schemas.demands import DemandContentIn
from tests.browser.conftest import CHROMIUM
from tests.support.demands import demand_body
from tests.support.docking_browser import open_docking_market
from tests.support.live_server import LiveServer
from tests.support.screens import DESKTOP, EXPECT_TIMEOUT_MS, PHONE, desktop_and_phone_shots
from tests.support.web_browser import choose_english, second_browser, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

HEADINGS = {
    "zh": {"hall": "技术需求", "mine": "我的需求", "new": "发布需求", "messages": "消息", "nda": "保密协议（NDA）",
           "requests": "我方的保密协议申请", "inbox": "通知", "room": "资料室"},
    "en": {"hall": "Technology demands", "mine": "Your demands", "new": "New demand", "messages": "Messages",
           "nda": "Non-disclosure agreement (NDA)", "requests": "Your NDA requests", "inbox": "Notifications",
           "room": "Data room"},
}
DEMAND_TITLE = {"zh": "寻求固态电池电解质制备技术", "en": "Solid-state battery electrolyte wanted"}
SUBJECT = "关于电解质工艺的咨询"


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """The docking market (a licence with a confidential file and an NDA), a published demand of the buyer that
    fits it, an enquiry from the buyer and the buyer's access request."""
    app = live_server.app
    market = open_docking_market(app)
    parties = market.parties
    with app.app_context():
        buyer = db.session.get(User, parties.buyer_id)
        admin = db.session.get(User, parties.admin_id)
        assert buyer is not None and admin is not None
        demand = demands.create_demand(buyer, DemandContentIn().load(demand_body(
            title_zh=DEMAND_TITLE["zh"], title_en=DEMAND_TITLE["en"], keywords=["固态电池", "电解质"],
            field_codes=["energy.storage"],
            description_zh="需要硫化物固态电解质的制备工艺。", trl_min=5, trl_max=7, budget_max=800_000_00)))
        db.session.commit()
        demand_id = demand.id
        demands.submit_demand(buyer, demand_id)
        db.session.commit()
        demand_review.decide(admin, demand_id, "approve")
        view, _created = threads.open_thread(buyer, listing_id=market.licence, subject=SUBJECT,
                                             body="请问可以提供中试数据吗？")
        data_rooms.request_access(buyer, market.licence, 1, True)
        db.session.commit()
        seeded = {"parties": parties, "licence": market.licence, "demand": demand_id, "thread": view.id}
        db.session.remove()
    return seeded


def shoot(page: Any, path: str, heading: str, name: str) -> int:
    """Open ``path``, check its heading, photograph it at desktop and phone width, and check that the phone does
    not scroll sideways."""
    page.goto(path)
    expect(page.locator("h1")).to_contain_text(heading)
    shots = desktop_and_phone_shots(page, name, prefix="docking-page")
    page.set_viewport_size(PHONE)
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size(DESKTOP)
    assert fits, f"{path} scrolls sideways at phone width"
    return len(shots)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_docking_page_fits_a_phone(live_server: LiveServer, page: Any, chromium: Any, locale: str) -> None:
    seeded, heading, english = _seed(live_server), HEADINGS[locale], locale == "en"
    parties, demand, thread = seeded["parties"], seeded["demand"], seeded["thread"]
    shots = 0
    page.goto("/sign-in")
    if english:
        choose_english(page)
    shots += shoot(page, "/demands", heading["hall"], f"hall-{locale}")
    expect(page.locator("main")).to_contain_text(DEMAND_TITLE[locale])
    shots += shoot(page, f"/demands/{demand}", DEMAND_TITLE[locale], f"demand-{locale}")

    page.goto("/sign-in")
    web_sign_in(page, parties.buyer, english=english)
    for path, key, name in (("/workspace/demands", "mine", "demands"), ("/workspace/demands/new", "new", "new"),
                            ("/workspace/threads", "messages", "threads"),
                            (f"/hall/listings/{seeded['licence']}/nda", "nda", "nda"),
                            ("/workspace/data-room/requests", "requests", "requests"),
                            ("/notifications", "inbox", "notifications")):
        shots += shoot(page, path, heading[key], f"{name}-{locale}")
    shots += shoot(page, f"/workspace/demands/{demand}", DEMAND_TITLE[locale], f"demand-matches-{locale}")
    expect(page.locator("main")).to_contain_text("¥500,000.00")  # the licence proposed, priced in yuan
    shots += shoot(page, f"/workspace/threads/{thread}", SUBJECT, f"thread-{locale}")

    with second_browser(chromium, live_server) as seller:
        seller.goto("/sign-in")
        if english:
            choose_english(seller)
        web_sign_in(seller, parties.seller, english=english)
        shots += shoot(seller, f"/workspace/listings/{seeded['licence']}/data-room", heading["room"],
                       f"data-room-{locale}")
    assert shots == 2 * 11
