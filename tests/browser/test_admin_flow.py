"""The admin console in a real browser (headless Chromium) against the app served over HTTP: an institution's
whole way from registration to a published listing, the console in Chinese and English, screenshots, and an
accessibility smoke test of the forms."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hall.extensions import db
from hall.models import User
from tests.browser.conftest import CHROMIUM
from tests.support.factories import PASSWORD, InstitutionFactory, UserFactory, token_from_mail, valid_credit_code
from tests.support.http_session import ApiSession as Api
from tests.support.listing_data import achievement
from tests.support.live_server import LiveServer
from tests.support.screens import EXPECT_TIMEOUT_MS, screenshot

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]


LISTING = achievement()
TITLE_ZH, TITLE_EN = LISTING["title_zh"], LISTING["title_en"]
OWNER_EMAIL = "zhang.wei@ssb-lab.example.cn"
OWNER_PASSWORD = "固态电池 research 2026"
ORG_NAME = "先进固态电池研究院"
REGISTRATION = {
    "email": OWNER_EMAIL, "password": OWNER_PASSWORD, "display_name": "张伟", "locale": "zh_CN",
    "institution": {"kind": "research_institute", "name_zh": ORG_NAME, "name_en": "Advanced Solid-State Battery "
                    "Institute", "credit_code": valid_credit_code(7001), "region_code": "110108",
                    "website": "https://ssb-lab.example.cn"},
}

# What the console says, by language (from platform/hall/translations/*/LC_MESSAGES/messages.po).
TEXT = {
    "zh_CN": {"dashboard": "概览", "queue": "待审队列", "institutions": "机构认证", "sign_in": "登录",
              "signed_in": "已登录。", "switch": "切换", "verify": "通过认证", "approve": "批准发布", "reject": "驳回",
              "decision": "决定已记录，已通过邮件通知该机构。", "verified": "已认证", "published": "已发布",
              "submitted": "待审核", "email": "邮箱", "password": "密码", "lang": "zh-CN"},
    "en": {"dashboard": "Dashboard", "queue": "Review queue", "institutions": "Institutions", "sign_in": "Sign in",
           "signed_in": "Signed in.", "switch": "Switch", "verify": "Verify", "approve": "Approve", "reject": "Reject",
           "decision": "Decision recorded; the institution has been told by e-mail.", "verified": "Verified",
           "published": "Published", "submitted": "Submitted", "email": "E-mail", "password": "Password",
           "lang": "en"},
}
ZH, EN = TEXT["zh_CN"], TEXT["en"]


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


# --- helpers ------------------------------------------------------------------------------------------------------


def create_admin(server: LiveServer, email: str = "reviewer@hall.example.cn") -> str:
    """A platform admin (password tests.support.factories.PASSWORD), committed to the served database."""
    with server.app.app_context():
        UserFactory(email=email, display_name="审核员王芳", is_admin=True)
        db.session.commit()
        db.session.remove()
    return email


def create_verified_owner(server: LiveServer, email: str = "owner@verified.example.cn") -> str:
    """The owner of an already verified institution (so their listings can go straight to review)."""
    with server.app.app_context():
        org = InstitutionFactory(name_zh="未来能源实验室", name_en="Future Energy Lab", verification_status="verified")
        UserFactory(email=email, display_name="李娜", institution=org, institution_role="owner")
        db.session.commit()
        db.session.remove()
    return email


def submit_listing_for_review(api: Api, owner_email: str) -> int:
    """Through the API: sign in as the owner, create a complete achievement draft and submit it."""
    api.sign_in(owner_email, PASSWORD)
    created = api.post("/api/v1/listings", json=achievement())
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    submitted = api.post(f"/api/v1/listings/{listing_id}/submit")
    assert submitted.status_code == 200, submitted.text
    return listing_id


def admin_sign_in(page: Any, email: str, text: dict[str, str] = ZH) -> None:
    """Sign in on /admin/sign-in with the form; lands on the dashboard with a flash message."""
    page.goto("/admin/sign-in")
    expect(page.locator("h1")).to_have_text(text["sign_in"])
    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"]).fill(PASSWORD)
    page.locator("main").get_by_role("button", name=text["sign_in"]).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("p.flash.success")).to_have_text(text["signed_in"])
    expect(page.locator("h1")).to_have_text(text["dashboard"])


def switch_language(page: Any, locale: str, current: dict[str, str]) -> None:
    """Use the header's language form (label, select, button) as a person would."""
    page.get_by_label("语言" if current is ZH else "Language").select_option(locale)
    page.locator("header").get_by_role("button", name=current["switch"]).click()
    expect(page.locator("html")).to_have_attribute("lang", TEXT[locale]["lang"])


def assert_headings(page: Any, text: dict[str, str], h1: str) -> None:
    """The page's one <h1> and the navigation are in the expected language."""
    expect(page.locator("html")).to_have_attribute("lang", text["lang"])
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text(text[h1])
    nav = page.get_by_role("navigation")
    for key in ("dashboard", "institutions", "queue"):
        expect(nav.get_by_role("link", name=text[key], exact=True)).to_be_visible()


def rendering_fonts(page: Any, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium actually used to draw the text of ``selector`` (DevTools CSS domain)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no {selector} on the page"
        return list(cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"])
    finally:
        cdp.detach()


def assert_chinese_is_drawn_with_a_cjk_font(page: Any, selector: str) -> None:
    """Every glyph of the element comes from a font that has it: no tofu boxes from a Latin-only fallback."""
    text = page.locator(selector).first.inner_text()
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    assert han, f"{selector} holds no Chinese: {text!r}"
    fonts = rendering_fonts(page, selector)
    assert fonts, f"Chromium reports no font for {selector}"
    names = " ".join(f["familyName"] for f in fonts)
    assert re.search(r"WenQuanYi|Noto Sans (CJK|SC)|Source Han|Droid Sans Fallback|AR PL|PingFang|Microsoft YaHei",
                     names), f"Chinese drawn with {names!r}, not a CJK font"


def assert_inputs_are_labelled(page: Any) -> int:
    """Every visible form control has an id and exactly one <label for=id>; returns how many were checked."""
    controls = page.locator("input:not([type=hidden]), select, textarea")
    count = controls.count()
    assert count, "no form controls on the page"
    for i in range(count):
        control = controls.nth(i)
        control_id = control.get_attribute("id")
        name = control.get_attribute("name")
        assert control_id, f"form control name={name!r} has no id, so no <label for> can point at it"
        labels = page.locator(f'label[for="{control_id}"]')
        expect(labels).to_have_count(1)
        assert labels.inner_text().strip(), f"the label of #{control_id} is empty"
        described_by = control.get_attribute("aria-describedby")
        if described_by:
            expect(page.locator(f"#{described_by}")).to_be_visible()
    expect(page.locator("h1")).to_have_count(1)
    return count


# --- tests --------------------------------------------------------------------------------------------------------


def test_registration_to_published_listing_through_api_and_console(live_server: LiveServer, page: Any,
                                                                   api: Api) -> None:
    admin_email = create_admin(live_server)

    # The institution registers, confirms its address with the mailed token and signs in (real HTTP).
    registered = api.post("/api/v1/auth/register", json=REGISTRATION)
    assert registered.status_code == 201, registered.text
    with live_server.app.app_context():
        token = token_from_mail(OWNER_EMAIL, "confirm")
        db.session.remove()
    confirmed = api.post("/api/v1/auth/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    api.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
    csrf = api.get("/api/v1/auth/csrf")
    assert csrf.status_code == 200 and csrf.json()["csrf_token"]
    me = api.get("/api/v1/me").json()
    assert me["institution"]["verification_status"] == "pending"

    # A complete draft, but the institution is not verified yet: submitting is refused.
    created = api.post("/api/v1/listings", json=achievement())
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    refused = api.post(f"/api/v1/listings/{listing_id}/submit")
    assert refused.status_code == 403, refused.text
    assert "通过认证" in refused.json()["message"]  # no Accept-Language: the person's language, Chinese

    # The admin signs in with the browser and verifies the institution from the verification queue.
    admin_sign_in(page, admin_email)
    page.get_by_role("navigation").get_by_role("link", name=ZH["institutions"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/institutions$"))
    page.get_by_role("link", name=ORG_NAME).click()
    expect(page).to_have_url(re.compile(r"/admin/institutions/\d+$"))
    expect(page.locator("h1")).to_contain_text(ORG_NAME)
    page.get_by_role("button", name=ZH["verify"]).click()
    expect(page.locator("p.flash.success")).to_have_text(ZH["decision"])
    expect(page.locator("dl.facts dd").first).to_contain_text(ZH["verified"])
    expect(page.get_by_role("button", name=ZH["verify"])).to_have_count(0)
    assert api.get("/api/v1/me").json()["institution"]["verification_status"] == "verified"

    # Now the institution may submit.
    submitted = api.post(f"/api/v1/listings/{listing_id}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert api.get(f"/api/v1/hall/listings/{listing_id}").status_code == 404  # not public before approval

    # The admin approves it from the review queue.
    page.goto("/admin/listings/queue")
    expect(page.locator("h1")).to_have_text(ZH["queue"])
    row = page.locator("tbody tr", has=page.get_by_role("link", name=TITLE_ZH))
    expect(row).to_contain_text(ORG_NAME)
    row.get_by_role("link", name=TITLE_ZH).click()
    expect(page).to_have_url(re.compile(rf"/admin/listings/{listing_id}$"))
    expect(page.locator("h1")).to_contain_text(TITLE_ZH)
    expect(page.locator("dl.facts dd").first).to_contain_text(ZH["submitted"])
    page.get_by_role("button", name=ZH["approve"]).click()
    expect(page.locator("p.flash.success")).to_have_text(ZH["decision"])
    expect(page.locator("dl.facts dd").first).to_contain_text(ZH["published"])
    expect(page.get_by_role("button", name=ZH["approve"])).to_have_count(0)
    page.goto("/admin/listings/queue")
    expect(page.get_by_role("link", name=TITLE_ZH)).to_have_count(0)

    # The public hall, over HTTP, shows and finds it.
    public = api.get(f"/api/v1/hall/listings/{listing_id}")
    assert public.status_code == 200, public.text
    assert public.json()["title"] == TITLE_ZH
    assert api.get(f"/api/v1/hall/listings/{listing_id}", params={"lang": "en"}).json()["title"] == TITLE_EN
    found = api.get("/api/v1/hall/listings", params={"q": "固态电池"})
    assert found.status_code == 200, found.text
    assert listing_id in [item["id"] for item in found.json()["items"]]


def test_console_speaks_chinese_by_default_and_english_after_switching(live_server: LiveServer, page: Any) -> None:
    admin_email = create_admin(live_server)
    admin_sign_in(page, admin_email)
    assert_headings(page, ZH, "dashboard")
    page.get_by_role("navigation").get_by_role("link", name=ZH["queue"], exact=True).click()
    assert_headings(page, ZH, "queue")

    switch_language(page, "en", ZH)
    expect(page).to_have_url(re.compile(r"/admin/listings/queue\??$"))  # back where the switch was made
    assert_headings(page, EN, "queue")
    page.reload()
    assert_headings(page, EN, "queue")
    page.get_by_role("navigation").get_by_role("link", name=EN["dashboard"], exact=True).click()
    assert_headings(page, EN, "dashboard")
    expect(page.get_by_label("Language")).to_have_value("en")

    with live_server.app.app_context():  # remembered on the person, not only in this browser's session
        assert db.session.scalar(select(User.locale).where(User.email == admin_email)) == "en"
        db.session.remove()

    switch_language(page, "zh_CN", EN)
    assert_headings(page, ZH, "dashboard")
    page.reload()
    assert_headings(page, ZH, "dashboard")


def test_screenshots_of_queue_and_review_pages_in_both_languages(live_server: LiveServer, page: Any,
                                                                 api: Api) -> None:
    listing_id = submit_listing_for_review(api, create_verified_owner(live_server))
    admin_sign_in(page, create_admin(live_server))

    shots = []
    for locale in ("zh_CN", "en"):
        text = TEXT[locale]
        page.goto("/admin/listings/queue")
        assert_headings(page, text, "queue")
        expect(page.get_by_role("link", name=TITLE_ZH)).to_be_visible()
        shots.append(screenshot(page, f"queue-{locale}"))

        page.get_by_role("link", name=TITLE_ZH).click()
        expect(page).to_have_url(re.compile(rf"/admin/listings/{listing_id}$"))
        expect(page.locator("h1")).to_contain_text(TITLE_ZH)
        expect(page.get_by_role("button", name=text["approve"])).to_be_visible()
        shots.append(screenshot(page, f"review-{locale}"))

        # The Chinese content is on the page and drawn with a CJK font in either language.
        content = page.content()
        for chinese in (TITLE_ZH, LISTING["summary_zh"], "未来能源实验室"):
            assert chinese in content
        assert_chinese_is_drawn_with_a_cjk_font(page, "h1")
        if locale == "zh_CN":
            assert_chinese_is_drawn_with_a_cjk_font(page, "nav")
            switch_language(page, "en", ZH)

    assert [p.name for p in shots] == ["queue-zh_CN.png", "review-zh_CN.png", "queue-en.png", "review-en.png"]
    assert all(p.stat().st_size > 5 * 1024 for p in shots)


def test_forms_have_labels_and_pages_one_heading(live_server: LiveServer, page: Any, api: Api) -> None:
    listing_id = submit_listing_for_review(api, create_verified_owner(live_server))
    admin_email = create_admin(live_server)

    page.goto("/admin/sign-in")
    assert assert_inputs_are_labelled(page) == 2  # e-mail and password; the rest is hidden
    page.locator("main").get_by_role("button", name=ZH["sign_in"]).click()  # empty: errors next to the fields
    expect(page.locator(".field.has-error")).to_have_count(2)
    assert_inputs_are_labelled(page)

    admin_sign_in(page, admin_email)
    page.goto(f"/admin/listings/{listing_id}")
    assert assert_inputs_are_labelled(page) == 2  # the language select and the reason
    page.get_by_role("button", name=ZH["reject"]).click()  # rejecting needs a reason
    expect(page.locator("#reason")).to_have_attribute("aria-describedby", "reason-errors")
    assert_inputs_are_labelled(page)


def test_language_choice_follows_the_person_into_a_new_sign_in(live_server: LiveServer, page: Any) -> None:
    """An admin who chose English signs in from a browser that asks for Chinese: the console, including the
    "Signed in." message, is in English (the language is remembered on the person)."""
    admin_email = create_admin(live_server)
    with live_server.app.app_context():
        db.session.execute(db.update(User).where(User.email == admin_email).values(locale="en"))
        db.session.commit()
        db.session.remove()

    page.goto("/admin/sign-in")  # anonymous: the browser's language (zh-CN)
    expect(page.locator("h1")).to_have_text(ZH["sign_in"])
    page.get_by_label(ZH["email"]).fill(admin_email)
    page.get_by_label(ZH["password"]).fill(PASSWORD)
    page.locator("main").get_by_role("button", name=ZH["sign_in"]).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    assert_headings(page, EN, "dashboard")
    expect(page.get_by_label("Language")).to_have_value("en")
    # Known application bug (see the report): the flash is taken in the sign-in request, whose locale Flask-Babel
    # cached before login_user() (from the anonymous visitor's Accept-Language), so it comes out in Chinese.
    expect(page.locator("p.flash.success")).to_have_text(EN["signed_in"])
