"""The docking journey of issue 12 through the web front in a real browser (Debian's Chromium), in Chinese (the
platform's default), each main step photographed at desktop and phone width (and checked to fit a phone):
demand → match → enquiry → NDA → order.

A buyer institution posts a demand for a solid-state battery electrolyte in its workspace and submits it; the
platform approves it in the admin console; the demand's page proposes the seller's fixed-price licence under
"Listings that fit" with its reasons, and the buyer stars it. From the match the buyer opens the listing and asks
the institution; the seller reads the enquiry among its messages and replies. The buyer reads the listing's NDA and
accepts it for its institution; the seller approves the request in the listing's data room; the buyer downloads the
confidential file. Last, the buyer orders the licence from the enquiry (deal mode transfer) and the order is accepted
at the listed 500,000.00 yuan.

The market is seeded through the services (tests/support/docking_browser.py); everything else happens in three
browsers: the buyer's, the platform's console and the seller's."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM
from tests.support.demands import in_days
from tests.support.docking_browser import open_docking_market
from tests.support.live_server import LiveServer
from tests.support.screens import EXPECT_TIMEOUT_MS, desktop_and_phone_shots
from tests.support.web_browser import admin_console_sign_in, order_id_of, second_browser, web_sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

DEMAND_URL = re.compile(r"/workspace/demands/(\d+)$")
THREAD_URL = re.compile(r"/workspace/threads/(\d+)$")

# The demand the buyer writes: its words, field, TRL window, budget and deal mode fit the seller's licence.
DEMAND = {
    "title_zh": "寻求固态电池电解质制备技术",
    "description_zh": "我单位计划建设固态电池中试线，寻求可量产的硫化物固态电解质制备技术，优先考虑技术转让。",
    "keywords": "固态电池, 电解质",
    "budget_min": "300000",
    "budget_max": "800000",
}
ASK = "请问该电解质制备技术是否已完成中试？转让是否包含工艺培训？"
REPLY = "已完成百公斤级中试；转让包含三个月的工艺培训，详细工艺见保密资料。"

# What the pages say in Chinese (platform/hall/translations/zh/LC_MESSAGES/messages.po); field labels by the
# form field's label.
TEXT: dict[str, Any] = {
    "new_demand": "发布需求", "save_draft": "保存草稿", "draft_saved": "草稿已保存。填写完整后请提交审核。",
    "submit": "提交审核", "sent_for_review": "需求已提交审核，平台会通知您审核结果。", "submitted": "待审核",
    "published": "已发布", "approve_demand": "批准发布", "fit": "匹配的发布项目", "star": re.compile(r"^收藏"),
    "starred_flash": "已收藏：它会排在前面，相似的匹配也会上升。", "starred": "★ 已收藏",
    "ask": "向该机构咨询", "send": "发送", "asked": "消息已发送，并已通知该机构。", "messages": "消息",
    "reply_sent": "消息已发送。", "confidential": "保密", "read_nda": "阅读保密协议并申请访问",
    "nda_h1": "保密协议（NDA）", "accept_nda": "接受并申请访问",
    "nda_sent": "已接受保密协议并提交申请，将由所属机构决定。",
    "waiting": "贵机构的申请正在等待所属机构决定。", "data_room": "资料室",
    "approve_access": re.compile(r"^批准访问"),
    "access_approved": "申请已批准：该机构现在可以下载保密文件。", "approved": "已批准",
    "order_from_thread": "从此咨询下单", "order_summary": "为此项目下单", "place": "提交订单",
    "order_placed": "订单已提交，可在此跟进。", "order_link": "从此咨询下的订单", "accepted": "已接受",
    "transfer": "转让",
    "labels": {"title_zh": "标题（中文）", "description_zh": "需求描述（中文）", "keywords": "关键词（以逗号分隔）",
               "direction": "产业方向", "fields": "领域", "trl_min": "期望的最低技术成熟度",
               "trl_max": "期望的最高技术成熟度", "budget_min": re.compile(r"^预算下限"),
               "budget_max": re.compile(r"^预算上限"), "deadline": "截止日期不早于",
               "deal_modes": "可接受的交易方式", "subject": "主题", "message": "您的消息", "deal_mode": "交易方式",
               "note": "给卖方的留言"},
    # The reasons of the match, as the page words them.
    "reasons": ("共同的关键词：", "同一领域：新型储能", "技术成熟度 6 在期望的 5–7 范围内",
                "价格 ¥500,000.00 在预算 ¥800,000.00 之内", "双方均接受转让"),
}


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _shots(page: Any, name: str) -> list[Path]:
    return desktop_and_phone_shots(page, name, prefix="docking")


def _flash(page: Any, words: str) -> None:
    expect(page.locator("p.flash.success")).to_have_text(words)


def _signed_in(page: Any, email: str) -> None:
    page.goto("/sign-in")
    web_sign_in(page, email)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def write_demand(page: Any) -> tuple[int, list[Path]]:
    """The buyer writes the demand in the workspace form, saves the draft and submits it; returns its id and the
    form's screenshots."""
    labels = TEXT["labels"]
    page.goto("/workspace/demands/new")
    expect(page.locator("h1")).to_have_text(TEXT["new_demand"])
    form = page.locator("main form.ws-form")
    for name in ("title_zh", "description_zh", "keywords", "budget_min", "budget_max"):
        form.get_by_label(labels[name], exact=isinstance(labels[name], str)).fill(DEMAND[name])
    form.get_by_label(labels["direction"], exact=True).select_option("energy")
    form.get_by_label(labels["fields"], exact=True).select_option(["energy.storage"])
    form.get_by_label(labels["trl_min"], exact=True).select_option("5")
    form.get_by_label(labels["trl_max"], exact=True).select_option("7")
    form.get_by_label(labels["deadline"], exact=True).fill(in_days(60))
    form.get_by_role("group", name=labels["deal_modes"]).get_by_label(TEXT["transfer"], exact=True).check()
    shots = _shots(page, "new-demand")
    form.get_by_role("button", name=TEXT["save_draft"]).click()
    expect(page).to_have_url(DEMAND_URL)
    _flash(page, TEXT["draft_saved"])
    expect(page.locator("h1")).to_have_text(DEMAND["title_zh"])
    match = DEMAND_URL.search(page.url)
    assert match
    page.get_by_role("button", name=TEXT["submit"], exact=True).click()
    _flash(page, TEXT["sent_for_review"])
    expect(page.locator(".ws-state")).to_have_text(TEXT["submitted"])
    return int(match.group(1)), shots


def test_a_demand_finds_a_licence_which_is_asked_about_opened_under_nda_and_ordered(
        live_server: LiveServer, page: Any, chromium: Any) -> None:
    market = open_docking_market(live_server.app)
    parties, licence, labels = market.parties, market.licence, TEXT["labels"]
    listing_path = f"/hall/listings/{licence}"

    # 1. The buyer posts the demand in its workspace and submits it.
    _signed_in(page, parties.buyer)
    demand_id, shots = write_demand(page)
    shots += _shots(page, "demand-submitted")

    with second_browser(chromium, live_server) as admin, second_browser(chromium, live_server) as seller:
        # 2. The platform approves it from the console's demand queue.
        admin_console_sign_in(admin, parties.admin)
        admin.goto("/admin/demands")
        admin.locator(f'tr[data-demand="{demand_id}"]').get_by_role("link", name=DEMAND["title_zh"]).click()
        expect(admin).to_have_url(re.compile(rf"/admin/demands/{demand_id}$"))
        admin.get_by_role("button", name=TEXT["approve_demand"], exact=True).click()
        expect(admin.locator("p.flash.success")).to_be_visible()

        # 3. The demand's page proposes the licence with its reasons; the buyer stars it.
        page.reload()
        expect(page.locator(".ws-state")).to_have_text(TEXT["published"])
        matches = page.locator("#matches")
        expect(matches.get_by_role("heading", name=TEXT["fit"])).to_be_visible()
        fit = matches.locator("li.match").filter(has=page.locator(f'h3 a[href="{listing_path}"]'))
        expect(fit).to_have_count(1)
        expect(fit.locator("h3 a")).to_have_text(market.licence_title)
        for reason in TEXT["reasons"]:
            expect(fit.locator("ul.match-reasons li.fits").filter(has_text=reason)).to_have_count(1)
        shots += _shots(page, "demand-matches")
        fit.get_by_role("button", name=TEXT["star"]).click()
        expect(page).to_have_url(re.compile(rf"/workspace/demands/{demand_id}#matches$"))
        _flash(page, TEXT["starred_flash"])
        starred = page.locator("#matches li.match.starred").filter(has=page.locator(f'h3 a[href="{listing_path}"]'))
        expect(starred).to_have_count(1)
        expect(starred.locator("h3 .tag")).to_have_text(TEXT["starred"])
        expect(page.locator("#matches li.match").first).to_have_class(re.compile(r"\bstarred\b"))
        shots += _shots(page, "demand-match-starred")

        # 4. From the match the buyer opens the listing and asks the institution.
        starred.locator(f'h3 a[href="{listing_path}"]').click()
        expect(page).to_have_url(re.compile(rf"{listing_path}$"))
        expect(page.locator("h1")).to_have_text(market.licence_title)
        ask = page.locator("section.thr-ask")
        expect(ask.get_by_role("heading", name=TEXT["ask"])).to_be_visible()
        expect(ask.get_by_label(labels["subject"], exact=True)).to_have_value(market.licence_title)
        ask.get_by_label(labels["message"], exact=True).fill(ASK)
        shots += _shots(page, "listing-ask")
        ask.get_by_role("button", name=TEXT["send"], exact=True).click()
        expect(page).to_have_url(THREAD_URL)
        thread_match = THREAD_URL.search(page.url)
        assert thread_match
        thread_id = int(thread_match.group(1))
        _flash(page, TEXT["asked"])
        expect(page.locator("h1")).to_have_text(market.licence_title)
        expect(page.locator("ol.thr-messages li.thr-ours")).to_have_count(1)
        expect(page.locator("ol.thr-messages li.thr-ours .text")).to_have_text(ASK)
        shots += _shots(page, "thread-asked")

        # 5. The seller finds the enquiry among its messages and replies.
        _signed_in(seller, parties.seller)
        seller.goto("/workspace/threads")
        expect(seller.locator("h1")).to_have_text(TEXT["messages"])
        row = seller.locator("table.thr-table tbody tr").filter(
            has=seller.locator(f'a[href="/workspace/threads/{thread_id}"]'))
        expect(row).to_have_count(1)
        expect(row).to_have_class(re.compile(r"\bthr-unread\b"))
        expect(row).to_contain_text(market.buyer_org_name)
        expect(row.locator("td.thr-count")).to_have_text("1")
        shots += _shots(seller, "seller-threads")
        row.locator(f'a[href="/workspace/threads/{thread_id}"]').click()
        expect(seller).to_have_url(re.compile(rf"/workspace/threads/{thread_id}$"))
        expect(seller.locator("ol.thr-messages li.thr-theirs .text")).to_have_text(ASK)
        reply = seller.locator("form.thr-reply")
        reply.get_by_label(labels["message"], exact=True).fill(REPLY)
        reply.get_by_role("button", name=TEXT["send"], exact=True).click()
        expect(seller).to_have_url(re.compile(rf"/workspace/threads/{thread_id}#latest$"))
        _flash(seller, TEXT["reply_sent"])
        expect(seller.locator("ol.thr-messages li.thr-ours .text")).to_have_text(REPLY)
        shots += _shots(seller, "seller-replied")

        page.reload()
        expect(page.locator("ol.thr-messages li.thr-message")).to_have_count(2)
        expect(page.locator("ol.thr-messages li.thr-theirs .text")).to_have_text(REPLY)

        # 6. The listing's confidential file is closed to the buyer: it reads the NDA and accepts it.
        page.goto(listing_path)
        secret = page.locator("ul.files li.dr-file-confidential")
        expect(secret).to_have_count(1)
        expect(secret.locator(".dr-filename")).to_have_text(market.secret_name)
        expect(secret.locator(".dr-badge")).to_have_text(TEXT["confidential"])
        expect(secret.get_by_role("link", name=market.secret_name)).to_have_count(0)
        shots += _shots(page, "listing-confidential")
        secret.get_by_role("link", name=TEXT["read_nda"]).click()
        expect(page).to_have_url(re.compile(rf"{listing_path}/nda$"))
        expect(page.locator("h1")).to_have_text(TEXT["nda_h1"])
        expect(page.locator(".dr-nda-text")).to_contain_text("不得向任何第三方披露")
        accept = page.locator("form.dr-accept")
        accept.get_by_role("checkbox").check()
        expect(accept.get_by_role("checkbox")).to_be_checked()
        shots += _shots(page, "nda")
        accept.get_by_role("button", name=TEXT["accept_nda"]).click()
        expect(page).to_have_url(re.compile(rf"{listing_path}#files-heading$"))
        _flash(page, TEXT["nda_sent"])
        expect(secret.locator(".dr-what")).to_have_text(TEXT["waiting"])
        expect(secret.get_by_role("link", name=market.secret_name)).to_have_count(0)

        # 7. The seller approves the request in the listing's data room.
        seller.goto(f"/workspace/listings/{licence}/data-room")
        expect(seller.locator("h1")).to_contain_text(TEXT["data_room"])
        request = seller.locator("li.dr-request").filter(has_text=market.buyer_org_name)
        expect(request).to_have_count(1)
        shots += _shots(seller, "data-room-request")
        request.get_by_role("button", name=TEXT["approve_access"]).click()
        expect(seller).to_have_url(re.compile(rf"/workspace/listings/{licence}/data-room"))
        _flash(seller, TEXT["access_approved"])
        expect(request.locator(".tag")).to_have_text(TEXT["approved"])
        shots += _shots(seller, "data-room-approved")

        # 8. The buyer downloads the confidential file.
        page.goto(listing_path)
        link = secret.get_by_role("link", name=market.secret_name)
        expect(link).to_be_visible()
        expect(secret.locator(".dr-what")).to_have_count(0)
        shots += _shots(page, "listing-opened")
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.failure() is None
        assert download.suggested_filename == market.secret_name
        assert Path(download.path()).read_bytes() == market.secret_bytes

        # The seller's log shows the buyer's download.
        seller.reload()
        expect(seller.locator("table.dr-log tbody tr")).to_have_count(1)
        expect(seller.locator("table.dr-log tbody tr")).to_contain_text(market.secret_name)
        expect(seller.locator("table.dr-log tbody tr")).to_contain_text(market.buyer_org_name)

    # 9. The buyer orders the licence from the enquiry, by transfer, at the listed price.
    page.goto(f"/workspace/threads/{thread_id}")
    order = page.locator("details.thr-order")
    expect(page.get_by_role("heading", name=TEXT["order_from_thread"])).to_be_visible()
    order.locator("summary").filter(has_text=TEXT["order_summary"]).click()
    order.get_by_label(labels["deal_mode"], exact=True).select_option("transfer")
    order.get_by_label(labels["note"], exact=True).fill("按挂牌价转让，请尽快安排工艺培训。")
    shots += _shots(page, "thread-order")
    order.get_by_role("button", name=TEXT["place"]).click()
    order_id = order_id_of(page)
    _flash(page, TEXT["order_placed"])
    expect(page.locator(".ord-state")).to_have_text(TEXT["accepted"])
    expect(page.locator(".ord-terms .ord-amount").first).to_have_text("¥500,000.00")
    expect(page.locator(".ord-terms")).to_contain_text(TEXT["transfer"])
    shots += _shots(page, "order-accepted")

    # The enquiry remembers the order.
    page.goto(f"/workspace/threads/{thread_id}")
    expect(page.locator("dl.thr-facts").get_by_role("link", name=TEXT["order_link"])).to_have_attribute(
        "href", f"/workspace/orders/{order_id}")
    assert len(shots) == 30
