"""Registering and publishing through the web front in a real browser (Debian's Chromium), in Chinese and in English,
each page photographed at desktop and phone width (and checked to fit a phone): a new institute registers,
confirms its address and signs in; the platform verifies it in the admin console; a member writes an achievement
and a first-of-kind product in the workspace, uploads a document and a cover image to each and submits both; the
platform approves both in the console; a visitor finds both in the hall, the product with its first-of-kind page
(recognition, insurance, unit price and stock)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from hall.extensions import db
from tests.browser.conftest import CHROMIUM
from tests.support.factories import UserFactory, token_from_mail, valid_credit_code
from tests.support.listing_data import achievement, first_of_kind
from tests.support.listings import PDF
from tests.support.live_server import LiveServer
from tests.support.screens import EXPECT_TIMEOUT_MS
from tests.support.screens import desktop_and_phone_shots as _shots
from tests.support.web_browser import (
    admin_console_sign_in,
    choose_english,
    picture_png,
    second_browser,
    web_sign_in,
)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"browser tests need Debian's Chromium at {CHROMIUM} (CI installs it)"),
]

REVIEWER = "reviewer@hall.example.cn"

# Who registers in each language (distinct addresses, credit codes and names) and the files they upload.
PEOPLE: dict[str, dict[str, Any]] = {
    "zh": {"name": "陈静", "email": "chen.jing@qlab.example.cn", "password": "量子 sensing lab 2026",
           "org_zh": "量子精密测量研究所", "org_en": "Institute of Quantum Precision Measurement", "code": 8101,
           "files": ("检测报告.pdf", "成果封面.png", "首台套认定证书.pdf", "设备照片.png")},
    "en": {"name": "Chen Jing", "email": "chen.jing@h2power.example.cn", "password": "hydrogen power lab 2026",
           "org_zh": "氢能动力装备研究院", "org_en": "Institute of Hydrogen Power Equipment", "code": 8102,
           "files": ("test-report.pdf", "achievement-cover.png", "first-of-kind-certificate.pdf",
                     "equipment-photo.png")},
}

# What the pages say, by language (platform/hall/translations/*/LC_MESSAGES/messages.po); field labels by the
# form field's name.
TEXT: dict[str, dict[str, Any]] = {
    "zh": {"register": "注册", "check_mail": "请查收邮件", "confirm_h1": "确认您的邮箱地址",
           "confirm": "确认我的邮箱地址", "new_achievement": "新建科技成果",
           "new_product": "新建首台套/首批次/首版次产品", "save": "保存草稿", "upload": "上传",
           "submit": "提交审核", "submitted": "待审核", "transfer": "转让", "purchase": "采购",
           "recognition": "首台套认定信息", "insurance": "保险补偿", "unit_price": "单价",
           "amount": re.compile(r"^金额"),
           "insured_amount": re.compile(r"^保险金额"),
           "labels": {
               "display_name": "您的姓名", "email": "邮箱", "password": "密码", "password_again": "再次输入密码",
               "locale": "邮件和页面语言", "kind": "机构类型", "name_zh": "中文名称", "name_en": "英文名称",
               "credit_code": "统一社会信用代码", "region_code": "行政区划代码",
               "title_zh": "标题（中文）", "summary_zh": "非涉密简介（中文）", "description_zh": "详细介绍（中文）",
               "benefit_zh": "解决的问题及相比现有方案的优势（中文）", "scenarios_zh": "应用场景（中文）",
               "direction_code": "产业方向", "field_code": "领域", "region": "地区", "trl": "技术成熟度（TRL）",
               "price_mode": "价格", "file": "文件（PDF、PNG、JPEG 或 WebP）", "role": "用途",
               "product_kind": "产品类别", "recognition_level": "认定级别", "catalogue": "所属目录",
               "catalogue_edition": "目录版次", "catalogue_item": "目录条目", "authority": "认定机关",
               "announcement_number": "公告文号", "announcement_date": "公告日期", "valid_from": "认定有效期起",
               "valid_until": "认定有效期至", "certificate_number": "证书编号", "model": "型号",
               "specifications": "规格与主要技术指标", "stock": "库存（共提供的台套数或批次数）",
               "stock_unit": "库存单位", "lead_time_days": "交货周期（天）", "insurer": "保险机构",
               "policy_number": "保单号", "period_start": "保险起期", "period_end": "保险止期",
               "compensation_status": "补偿状态"}},
    "en": {"register": "Register", "check_mail": "Check your mail", "confirm_h1": "Confirm your e-mail address",
           "confirm": "Confirm my e-mail address", "new_achievement": "New achievement",
           "new_product": "New first-of-kind product", "save": "Save draft", "upload": "Upload",
           "submit": "Submit for review", "submitted": "Submitted", "transfer": "Transfer",
           "purchase": "Purchase",
           "recognition": "First-of-kind recognition", "insurance": "Insurance compensation",
           "unit_price": "Unit price", "amount": re.compile(r"^Amount"),
           "insured_amount": re.compile(r"^Insured amount"),
           "labels": {
               "display_name": "Your name", "email": "E-mail", "password": "Password",
               "password_again": "Repeat the password", "locale": "Language of mails and pages",
               "kind": "Kind of institution", "name_zh": "Name in Chinese", "name_en": "Name in English",
               "credit_code": "Unified social credit code", "region_code": "Region code",
               "title_zh": "Title (Chinese)", "summary_zh": "Non-confidential summary (Chinese)",
               "description_zh": "Description (Chinese)",
               "benefit_zh": "Problem solved and benefit over what exists (Chinese)",
               "scenarios_zh": "Application scenarios (Chinese)", "title_en": "Title (English)",
               "summary_en": "Non-confidential summary (English)", "description_en": "Description (English)",
               "benefit_en": "Problem solved and benefit over what exists (English)",
               "scenarios_en": "Application scenarios (English)", "direction_code": "Direction",
               "field_code": "Field", "region": "Region", "trl": "Technology readiness level (TRL)",
               "price_mode": "Price", "file": "File (PDF, PNG, JPEG or WebP)", "role": "Use",
               "product_kind": "Product kind", "recognition_level": "Recognition level", "catalogue": "Catalogue",
               "catalogue_edition": "Catalogue edition", "catalogue_item": "Catalogue item",
               "authority": "Recognising authority", "announcement_number": "Announcement number",
               "announcement_date": "Announcement date", "valid_from": "Recognition valid from",
               "valid_until": "Recognition valid until", "certificate_number": "Certificate number",
               "model": "Model", "specifications": "Specifications and key indicators",
               "stock": "Stock (units or batches offered in all)", "stock_unit": "Unit of stock",
               "lead_time_days": "Lead time (days)", "insurer": "Insurer", "policy_number": "Policy number",
               "period_start": "Period start", "period_end": "Period end",
               "compensation_status": "Compensation status"}},
}
TEXT_FIELDS = ("title", "summary", "description", "benefit", "scenarios")
RECOGNITION_TEXTS = ("catalogue", "catalogue_edition", "catalogue_item", "authority", "announcement_number",
                     "certificate_number", "model", "specifications")
RECOGNITION_DATES = ("announcement_date", "valid_from", "valid_until")


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


class Form:
    """The page's form fields by their labels in the page's language."""

    def __init__(self, page: Any, text: dict[str, Any]) -> None:
        self.page, self.labels = page, text["labels"]

    def field(self, name: str) -> Any:
        return self.page.get_by_label(self.labels[name], exact=True)

    def fill(self, **values: str) -> None:
        for name, value in values.items():
            self.field(name).fill(value)

    def select(self, **values: str) -> None:
        for name, value in values.items():
            self.field(name).select_option(value)


def register(page: Any, locale: str, person: dict[str, Any]) -> list[Path]:
    """Register the person with a new institution, confirm the address from the mail and sign in."""
    text, english = TEXT[locale], locale == "en"
    page.goto("/register")
    if english:
        choose_english(page)
    expect(page.locator("h1")).to_have_text(text["register"])
    shots = _shots(page, f"journey-register-{locale}")
    form = Form(page, text)
    form.fill(display_name=person["name"], email=person["email"], password=person["password"],
              password_again=person["password"], name_zh=person["org_zh"], name_en=person["org_en"],
              credit_code=valid_credit_code(person["code"]), region_code="110108")
    form.select(locale="en" if english else "zh_CN", kind="research_institute")
    page.locator("main").get_by_role("button", name=text["register"]).click()
    expect(page.locator("h1")).to_have_text(text["check_mail"])
    shots += _shots(page, f"journey-check-mail-{locale}")
    return shots


def write_achievement(page: Any, locale: str, listing: dict[str, Any]) -> None:
    """Fill the new-achievement form in the page's language and save the draft."""
    text, lang = TEXT[locale], "en" if locale == "en" else "zh"
    form = Form(page, text)
    form.fill(**{f"{name}_{lang}": listing[f"{name}_{lang}"] for name in TEXT_FIELDS})
    form.select(direction_code=listing["direction_code"], field_code=listing["field_code"], region="110000",
                trl="6", price_mode="fixed")  # the region: province-level choices only
    page.get_by_role("checkbox", name=text["transfer"], exact=True).check()
    page.get_by_label(text["amount"]).fill("500000.00")
    page.locator("main").get_by_role("button", name=text["save"]).click()


def write_product(page: Any, locale: str, product: dict[str, Any]) -> None:
    """Fill the new first-of-kind product form (its texts in Chinese, whatever the page's language) and save."""
    text, details = TEXT[locale], product["first_of_kind"]
    insurance = details["insurance"]
    form = Form(page, text)
    form.fill(**{f"{name}_zh": product[f"{name}_zh"] for name in TEXT_FIELDS})
    form.select(direction_code=product["direction_code"], field_code=product["field_code"], region="440000",
                price_mode="fixed")
    expect(page.get_by_role("checkbox", name=text["purchase"], exact=True)).to_be_checked()  # the default
    page.get_by_label(text["amount"]).fill("12000000.00")
    form.select(product_kind=details["product_kind"], recognition_level=details["recognition_level"],
                stock_unit=details["stock_unit"], compensation_status=insurance["compensation_status"])
    form.fill(**{name: details[name] for name in RECOGNITION_TEXTS + RECOGNITION_DATES},
              stock=str(details["stock"]), lead_time_days=str(details["lead_time_days"]),
              insurer=insurance["insurer"], policy_number=insurance["policy_number"],
              period_start="2026-01-01", period_end="2026-12-31")
    page.get_by_label(text["insured_amount"]).fill("12000000.00")
    page.locator("main").get_by_role("button", name=text["save"]).click()


def attach(page: Any, locale: str, folder: Path, document: str, cover: str) -> None:
    """Upload a PDF as a document and a picture as the cover on the listing's workspace page."""
    form = Form(page, TEXT[locale])
    for name, content, role in ((document, PDF, "attachment"), (cover, picture_png(), "cover")):
        path = folder / name
        path.write_bytes(content)
        form.field("file").set_input_files(str(path))
        form.select(role=role)
        page.get_by_role("button", name=TEXT[locale]["upload"], exact=True).click()
        expect(page.locator("#files .ws-files")).to_contain_text(name)
    expect(page.locator("img.ws-cover")).to_be_visible()


def listing_id_of(page: Any, title: str) -> int:
    """The id of the listing whose workspace page the browser shows, checked by its title."""
    expect(page).to_have_url(re.compile(r"/workspace/listings/\d+$"))
    expect(page.locator("h1")).to_have_text(title)
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_an_institute_registers_and_publishes_an_achievement_and_a_product(
        live_server: LiveServer, page: Any, chromium: Any, tmp_path: Path, locale: str) -> None:
    text, person, english = TEXT[locale], PEOPLE[locale], locale == "en"
    listing, product = achievement(state_funded=False), first_of_kind()
    title = listing["title_en"] if english else listing["title_zh"]
    document, cover, certificate, photo = person["files"]
    with live_server.app.app_context():
        UserFactory(email=REVIEWER, is_admin=True)
        db.session.commit()
        db.session.remove()

    shots = register(page, locale, person)
    with live_server.app.app_context():
        token = token_from_mail(person["email"], "confirm")
        db.session.remove()
    page.goto(f"/confirm-email?token={token}")
    expect(page.locator("h1")).to_have_text(text["confirm_h1"])
    shots += _shots(page, f"journey-confirm-email-{locale}")
    page.get_by_role("button", name=text["confirm"]).click()
    expect(page.locator("p.flash.success")).to_be_visible()
    page.goto("/sign-in")
    shots += _shots(page, f"journey-sign-in-{locale}")
    web_sign_in(page, person["email"], person["password"], english=english)
    expect(page.locator("html")).to_have_attribute("lang", "en" if english else "zh-CN")

    # The platform verifies the institution in the console (another browser).
    with second_browser(chromium, live_server) as admin:
        admin_console_sign_in(admin, REVIEWER)
        admin.goto("/admin/institutions")
        admin.get_by_role("link", name=person["org_zh"]).click()
        admin.get_by_role("button", name="通过认证").click()
        expect(admin.locator("p.flash.success")).to_be_visible()

        # The member writes the achievement, with a report and a cover, and submits it.
        page.goto("/workspace/listings/new?kind=achievement")
        expect(page.locator("h1")).to_have_text(text["new_achievement"])
        shots += _shots(page, f"journey-new-achievement-{locale}")
        write_achievement(page, locale, listing)
        achievement_id = listing_id_of(page, title)
        attach(page, locale, tmp_path, document, cover)
        shots += _shots(page, f"journey-achievement-draft-{locale}")
        page.get_by_role("button", name=text["submit"]).click()
        expect(page.locator(".ws-state")).to_have_text(text["submitted"])
        shots += _shots(page, f"journey-achievement-submitted-{locale}")

        # And the first-of-kind product, with its certificate and a photo as cover.
        page.goto("/workspace/listings/new?kind=first_of_kind")
        expect(page.locator("h1")).to_have_text(text["new_product"])
        shots += _shots(page, f"journey-new-product-{locale}")
        write_product(page, locale, product)
        product_id = listing_id_of(page, product["title_zh"])
        attach(page, locale, tmp_path, certificate, photo)
        shots += _shots(page, f"journey-product-draft-{locale}")
        page.get_by_role("button", name=text["submit"]).click()
        expect(page.locator(".ws-state")).to_have_text(text["submitted"])
        shots += _shots(page, f"journey-product-submitted-{locale}")

        # The platform approves both from the review queue.
        for listing_id in (achievement_id, product_id):
            admin.goto(f"/admin/listings/{listing_id}")
            admin.get_by_role("button", name="批准发布").click()
            expect(admin.locator("p.flash.success")).to_be_visible()

    # Anyone finds both in the hall and reads them; the product has its first-of-kind page.
    with second_browser(chromium, live_server) as visitor:
        visitor.goto("/hall")
        if english:
            choose_english(visitor)
        results = visitor.locator("main")
        expect(results).to_contain_text(title)
        expect(results).to_contain_text(product["title_zh"])
        shots += _shots(visitor, f"journey-hall-{locale}")

        results.get_by_role("link", name=title).first.click()
        expect(visitor).to_have_url(re.compile(rf"/hall/listings/{achievement_id}$"))
        expect(visitor.locator("h1")).to_have_text(title)
        expect(visitor.locator("main")).to_contain_text(person["org_en"] if english else person["org_zh"])
        expect(visitor.locator("img.cover")).to_be_visible()
        expect(visitor.locator("ul.files")).to_contain_text(document)
        shots += _shots(visitor, f"journey-public-achievement-{locale}")

        visitor.goto("/hall")
        visitor.locator("main").get_by_role("link", name=product["title_zh"]).first.click()
        expect(visitor).to_have_url(re.compile(rf"/hall/listings/{product_id}$"))
        detail = visitor.locator("article.listing-first_of_kind")
        expect(detail.locator("h1")).to_have_text(product["title_zh"])
        expect(detail.locator("img.cover")).to_be_visible()
        expect(detail.get_by_role("heading", name=text["recognition"])).to_be_visible()
        expect(detail.get_by_role("heading", name=text["insurance"])).to_be_visible()
        expect(detail).to_contain_text(product["first_of_kind"]["certificate_number"])
        expect(detail.locator(".detail-side dt").first).to_have_text(text["unit_price"])
        expect(detail.locator("ul.files")).to_contain_text(certificate)
        shots += _shots(visitor, f"journey-public-product-{locale}")
    assert len(shots) == 26
