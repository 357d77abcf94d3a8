"""Every workspace page the journeys do not photograph, in a real browser (Debian's Chromium), in Chinese and in
English: the workspace overview, the listings list, a listing's edit form and the new-listing choice; the
institution's details, its members and open invitations; the API tokens (with a new token's secret shown once);
the orders as seller and as buyer, an order page from each side, and the transaction records of each side; and the
public institution profile and notices. Each page is checked by its heading and photographed at desktop and phone
width, where it must not scroll sideways (the responsive check)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from hall.models import Order, User
from hall.services.accounts import institutions, sessions
from hall.services.trading import orders, payments
from tests.browser.conftest import CHROMIUM
from tests.support.factories import UserFactory
from tests.support.listing_data import first_of_kind
from tests.support.live_server import LiveServer
from tests.support.screens import DESKTOP, EXPECT_TIMEOUT_MS, PHONE, desktop_and_phone_shots
from tests.support.trading import make_parties, publish_achievement, publish_product
from tests.support.web_browser import choose_english, second_browser, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

# Each page's heading, by language (platform/hall/translations/*/LC_MESSAGES/messages.po).
HEADINGS = {
    "zh": {"workspace": "工作台", "listings": "我的发布项目", "edit": "编辑发布项目", "new": "新建发布项目",
           "institution": "机构", "members": "成员", "tokens": "API 令牌", "orders": "订单", "order": "订单 ",
           "transactions": "交易记录", "notices": "公示"},
    "en": {"workspace": "Workspace", "listings": "Your listings", "edit": "Edit the listing", "new": "New listing",
           "institution": "Institution", "members": "Members", "tokens": "API tokens", "orders": "Orders",
           "order": "Order ", "transactions": "Transaction records", "notices": "Public notices"},
}
TOKEN_FORM = {"zh": ("名称", "创建令牌"), "en": ("Name", "Create the token")}
INVITED = "wang.fang@invited.example.cn"
PRODUCT_TITLE = first_of_kind()["title_zh"]
BANK_REFERENCE = "ICBC-2026-0042"


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """A seller institution with a second member, an open invitation, an API token, a published product and an
    achievement; a buyer institution whose order of the product is paid by bank transfer (ledger entries)."""
    with live_server.app.app_context():
        parties = make_parties()
        product_id = publish_product(parties, stock=3)
        publish_achievement(parties)
        seller = db.session.get(User, parties.seller_id)
        buyer = db.session.get(User, parties.buyer_id)
        admin = db.session.get(User, parties.admin_id)
        assert seller is not None and buyer is not None and admin is not None
        UserFactory(email="li.lei@seller.example.cn", display_name="李雷", institution=seller.institution,
                    institution_role="member")
        institutions.invite_member(seller, parties.seller_org, INVITED, "member")
        sessions.create_api_token(seller, "实验室库存同步")
        order, _created = orders.create_order(buyer, product_id,
                                              {"deal_mode": "purchase", "quantity": 1, "end_user_declared": True})
        db.session.commit()
        paid = db.session.get(Order, order.id)
        assert paid is not None and paid.amount is not None
        payments.record_bank_transfer(admin, paid.id, amount=paid.amount, currency=paid.currency,
                                      value_date=date.today(), bank_reference=BANK_REFERENCE)
        db.session.commit()
        seeded = {"parties": parties, "order": order.id, "reference": order.reference, "product": product_id,
                  "seller_org": parties.seller_org}
        db.session.remove()
    return seeded


def shoot(page: Any, path: str, heading: str, name: str) -> int:
    """Open ``path``, check its heading, photograph it at desktop and phone width and check that at phone width
    nothing makes the page scroll sideways. Returns the number of screenshots."""
    page.goto(path)
    expect(page.locator("h1")).to_contain_text(heading)
    shots = desktop_and_phone_shots(page, name)  # checks the width at each size too
    page.set_viewport_size(PHONE)
    wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size(DESKTOP)
    assert wide, f"{path} scrolls sideways at phone width"
    return len(shots)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_workspace_page_fits_a_phone(live_server: LiveServer, page: Any, chromium: Any, locale: str) -> None:
    seeded, heading, english = _seed(live_server), HEADINGS[locale], locale == "en"
    parties = seeded["parties"]
    shots = 0

    # Anonymous pages no journey photographs: the public institution profile and the notices.
    page.goto("/sign-in")
    if english:
        choose_english(page)
    org_page = f"/institutions/{seeded['seller_org']}"
    page.goto(org_page)
    expect(page.locator("h1")).not_to_be_empty()
    shots += len(desktop_and_phone_shots(page, f"page-public-institution-{locale}"))
    shots += shoot(page, "/notices", heading["notices"], f"page-notices-{locale}")

    # The seller's side.
    page.goto("/sign-in")
    web_sign_in(page, parties.seller, english=english)
    for path, key in (("/workspace", "workspace"), ("/workspace/listings", "listings"),
                      ("/workspace/listings/new", "new"), ("/workspace/institution", "institution"),
                      ("/workspace/members", "members")):
        shots += shoot(page, path, heading[key], f"page-{key}-{locale}")
        if key == "listings":
            expect(page.locator("main")).to_contain_text(PRODUCT_TITLE)
        if key == "members":
            expect(page.locator("main")).to_contain_text(INVITED)
            expect(page.locator("main")).to_contain_text("李雷")
    shots += shoot(page, f"/workspace/listings/{seeded['product']}/edit", heading["edit"],
                   f"page-edit-product-{locale}")

    # A new API token: its secret is shown once (a long word that must not widen the page).
    shots += shoot(page, "/account/tokens", heading["tokens"], f"page-tokens-{locale}")
    expect(page.locator("main")).to_contain_text("Authorization: Bearer <token>")  # shown, not read as a tag
    label, button = TOKEN_FORM[locale]
    page.locator("main form").get_by_label(label, exact=True).fill("ERP sync")
    page.get_by_role("button", name=button).click()
    expect(page.locator("#new-token")).not_to_be_empty()
    shots += len(desktop_and_phone_shots(page, f"page-token-secret-{locale}"))

    shots += shoot(page, "/workspace/orders?role=seller", heading["orders"], f"page-orders-seller-{locale}")
    expect(page.locator("main")).to_contain_text(seeded["reference"])
    shots += shoot(page, f"/workspace/orders/{seeded['order']}", heading["order"] + seeded["reference"],
                   f"page-order-seller-{locale}")
    shots += shoot(page, "/workspace/transactions", heading["transactions"], f"page-transactions-seller-{locale}")

    # The buyer's side, in another browser.
    with second_browser(chromium, live_server) as buyer:
        buyer.goto("/sign-in")
        if english:
            choose_english(buyer)
        web_sign_in(buyer, parties.buyer, english=english)
        shots += shoot(buyer, "/workspace/orders", heading["orders"], f"page-orders-buyer-{locale}")
        expect(buyer.locator("main")).to_contain_text(seeded["reference"])
        shots += shoot(buyer, f"/workspace/orders/{seeded['order']}", heading["order"] + seeded["reference"],
                       f"page-order-buyer-{locale}")
        shots += shoot(buyer, "/workspace/transactions", heading["transactions"],
                       f"page-transactions-buyer-{locale}")
        expect(buyer.locator("main")).to_contain_text(BANK_REFERENCE)
    assert shots == 2 * 16
