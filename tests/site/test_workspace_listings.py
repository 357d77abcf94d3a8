"""The institution workspace on the web front (AUTHZ-01, FILE-01): members create achievements and first-of-kind
products through forms (amounts typed in yuan, kept in fen), see refusals beside the fields with nothing saved,
edit under the lock version (a change made meanwhile is never overwritten), upload files, submit, watch the review
and revisions, and withdraw. Another institution's listing is 404, a visitor is sent to sign in, every form needs
its CSRF token, and the pages speak English when asked."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import Institution, Listing, ListingAttachment, User
from hall.money import to_major_text
from hall.services.publishing import listings
from tests.support.console import field_errors, flashes, hidden_value, text
from tests.support.factories import UserFactory, make_people, sign_in
from tests.support.listing_data import achievement, first_of_kind
from tests.support.listings import PDF, Owner, admin_decides, png_1x1

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
TEXTS = [f"{name}_{lang}" for name in ("title", "summary", "description", "benefit", "scenarios")
         for lang in ("zh", "en")]
STALE = "Someone else changed this listing since you opened it"


# --- helpers ---------------------------------------------------------------------------------------------------


def as_form(body: dict[str, Any]) -> dict[str, Any]:
    """An API listing body as the workspace form posts it (amounts typed in the currency's main unit)."""
    currency = body.get("currency", "CNY")
    form: dict[str, Any] = {name: body.get(name) or "" for name in TEXTS}
    form.update(keywords=", ".join(body.get("keywords", [])), direction_code=body.get("direction_code") or "",
                field_code=body.get("field_code") or "", region_code=body.get("region_code") or "",
                trl=str(body["trl"]) if body.get("trl") else "", inventors="\n".join(body.get("inventors", [])),
                deal_modes=list(body.get("deal_modes", [])), price_mode=body.get("price_mode") or "",
                currency=currency, funding_source=body.get("funding_source") or "",
                price_amount=to_major_text(body["price_amount"], currency) if body.get("price_amount") else "")
    if body.get("state_funded"):
        form["state_funded"] = "y"
    for index, row in enumerate(body.get("ip_assets") or [{}]):
        for key in ("ip_type", "number", "title", "legal_status", "expiry_date"):
            form[f"ip_assets-{index}-{key}"] = row.get(key) or ""
        form[f"ip_assets-{index}-co_owners"] = ", ".join(row.get("co_owners", []))
    for key, value in (body.get("first_of_kind") or {}).items():
        if key != "insurance":
            form[f"first_of_kind-{key}"] = str(value)
            continue
        for name, item in value.items():
            money = name in ("insured_amount", "premium")
            form[f"first_of_kind-insurance-{name}"] = to_major_text(item, currency) if money else str(item)
    return form


def member_client(app: Flask, email: str) -> FlaskClient:
    """A browser of ``email`` (signed in through the API: the session cookie serves the web pages too), with its
    pages in English."""
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.email == email).values(locale="en"))
        db.session.commit()
    client = app.test_client()
    sign_in(client, email)
    return client


def token(client: FlaskClient, path: str = "/workspace") -> str:
    """The CSRF token the page at ``path`` embeds in its forms."""
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, f"GET {path} -> {page.status_code}"
    return hidden_value(text(page), "csrf_token")


def post(client: FlaskClient, path: str, data: dict[str, Any], *, csrf: bool = True, **options: Any) -> TestResponse:
    """POST a form as a browser does (with the page's CSRF token unless ``csrf`` is False)."""
    fields = {**data, **({"csrf_token": token(client)} if csrf else {})}
    return client.post(path, data=fields, headers=HTML, **options)


def listing_ids(app: Flask, org: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Listing.id).where(Listing.institution_id == org).order_by(Listing.id)))


def stored(app: Flask, listing_id: int) -> dict[str, Any]:
    """The listing row and its working version's content, as stored."""
    with app.app_context():
        listing = db.session.get(Listing, listing_id)
        assert listing is not None and listing.working_version is not None
        version = listing.working_version
        state = {key: getattr(listing, key) for key in ("kind", "status", "lock_version", "published_version_id",
                                                         "working_version_id", "has_pending_revision")}
        state.update({c.key: getattr(version, c.key) for c in version.__table__.columns})
        state["files"] = [(a.role, a.filename, a.content_type) for a in version.attachments]
        return state


def created_id(response: TestResponse) -> int:
    assert response.status_code == 302, text(response)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/workspace/listings/")
    return int(location.rstrip("/").split("/")[-1])


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return make_people()


@pytest.fixture(autouse=True)
def uploads(app: Flask, tmp_path: Path) -> Path:
    """Uploaded files go to this test's own folder."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def browser(app: Flask, people: dict[str, Any]) -> FlaskClient:
    """The owner of the institution, signed in, pages in English."""
    return member_client(app, people["owner"])


# --- creating --------------------------------------------------------------------------------------------------


def test_a_member_creates_an_achievement_through_the_form_with_the_price_in_yuan(
        app: Flask, browser: FlaskClient, people: dict[str, Any]) -> None:
    page = browser.get("/workspace/listings/new?kind=achievement", headers=HTML)
    assert page.status_code == 200
    html = text(page)
    for name in ("title_zh", "title_en", "direction_code", "field_code", "region_code", "trl", "ip_assets-0-number",
                 "deal_modes", "price_mode", "price_amount", "state_funded", "evaluation-evaluator"):
        assert f'name="{name}"' in html, name
    assert "first_of_kind-stock" not in html and 'value="purchase"' not in html  # products only
    assert "New-type energy storage" in html and "Future energy" in html  # by name, not code

    body = achievement(region_code="110000", ip_assets=[
        {"ip_type": "invention_patent", "number": "CN201710601862.3", "legal_status": "granted",
         "title": "一种硫化物固态电解质", "expiry_date": "2037-07-10", "co_owners": ["清华大学"]}])
    form = {**as_form(body), "price_amount": "500,000.50"}
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement", form))

    row = stored(app, listing_id)
    assert row["kind"] == "achievement" and row["status"] == "draft"
    assert row["price_amount"] == 50_000_050 and row["currency"] == "CNY"  # ¥500,000.50 kept in fen
    assert row["price_mode"] == "fixed" and row["trl"] == 6 and row["state_funded"] is True
    assert row["title_zh"] == body["title_zh"] and row["summary_en"] == body["summary_en"]
    assert (row["direction_code"], row["field_code"], row["region_code"]) == ("energy", "energy.storage", "110000")
    assert row["keywords"] == ["固态电池", "solid-state battery"] and row["inventors"] == ["王伟", "李娜"]
    assert row["deal_modes"] == ["transfer", "non_exclusive_license"]
    assert row["ip_assets"] == body["ip_assets"] and row["evaluation"] is None and row["first_of_kind"] is None
    shown = browser.get(f"/workspace/listings/{listing_id}", headers=HTML)
    assert "The draft is saved" in " ".join(flashes(text(shown), "success"))
    assert "Draft" in text(shown) and body["title_en"] in text(shown)


def test_a_member_creates_a_first_of_kind_product_with_recognition_stock_and_insurance(
        app: Flask, browser: FlaskClient) -> None:
    html = text(browser.get("/workspace/listings/new?kind=first_of_kind", headers=HTML))
    assert 'name="first_of_kind-stock"' in html and 'name="first_of_kind-insurance-insured_amount"' in html
    assert 'value="purchase"' in html and 'value="exclusive_license"' not in html  # products are bought
    assert "evaluation-evaluator" not in html

    body = first_of_kind(region_code="440000")
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=first_of_kind", as_form(body)))

    row = stored(app, listing_id)
    assert row["kind"] == "first_of_kind" and row["price_amount"] == 12_000_000_00
    assert row["first_of_kind"] == body["first_of_kind"]  # dates as ISO text, stock 3, insurance amounts in fen
    assert (row["product_kind"], row["recognition_level"]) == ("equipment", "national")
    assert row["deal_modes"] == ["purchase"] and row["ip_assets"] == []
    shown = text(browser.get(f"/workspace/listings/{listing_id}", headers=HTML))
    # the product's recognition and its policy (private: the public page leaves the policy number out)
    assert "HFC-1000" in shown and "中国人民财产保险" in shown and "PICC-2024-88" in shown


def test_without_a_kind_the_member_chooses_one(browser: FlaskClient) -> None:
    page = text(browser.get("/workspace/listings/new", headers=HTML))
    assert "/workspace/listings/new?kind=achievement" in page and "/workspace/listings/new?kind=first_of_kind" in page


@pytest.mark.parametrize(("changes", "field_id", "words"), [
    ({"price_amount": "12.345"}, "price_amount", "at most two decimals"),
    ({"price_amount": "-5"}, "price_amount", "Enter an amount in yuan"),
    ({"price_mode": "negotiable"}, "price_amount", "negotiable price has no amount"),
    ({"ip_assets-0-number": "CN123"}, "ip_assets-0-number", "must look like CN202310123456.7"),
    ({"field_code": "information.quantum", "direction_code": "energy"}, "field_code", "belongs to direction"),
    ({"first_of_kind-valid_from": "2030-01-01", "first_of_kind-valid_until": "2029-01-01"},
     "first_of_kind-valid_until", "must be after valid_from"),
    ({"first_of_kind-announcement_date": "yesterday"}, "first_of_kind-announcement_date", "Not a valid date"),
    ({"first_of_kind-stock": "-1"}, "first_of_kind-stock", "greater than or equal to 0"),
    ({"first_of_kind-insurance-period_end": "2024-01-01"}, "first_of_kind-insurance-period_end", "after period_start"),
    ({"trl": "10"}, "trl", "Not a valid choice"),
])
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(
        app: Flask, browser: FlaskClient, people: dict[str, Any], changes: dict[str, str], field_id: str,
        words: str) -> None:
    product = any(key.startswith("first_of_kind") for key in changes)
    kind = "first_of_kind" if product else "achievement"
    body = first_of_kind(region_code="440000") if product else achievement(region_code="110000")
    response = post(browser, f"/workspace/listings/new?kind={kind}", {**as_form(body), **changes})
    assert response.status_code == 422, text(response)[:1000]
    errors = field_errors(text(response), field_id)
    assert errors and words in " ".join(errors), (errors, text(response)[:3000])
    assert "Nothing was saved" in " ".join(flashes(text(response), "error"))
    assert listing_ids(app, people["org"]) == []
    assert body["title_zh"] in text(response)  # what was typed stays in the form


def test_add_another_right_adds_a_row_and_saves_nothing(app: Flask, browser: FlaskClient,
                                                        people: dict[str, Any]) -> None:
    form = {**as_form(achievement(region_code="110000")), "add_ip_asset": "1"}
    response = post(browser, "/workspace/listings/new?kind=achievement", form)
    assert response.status_code == 200
    html = text(response)
    assert 'name="ip_assets-1-number"' in html and 'value="CN201710601862.3"' in html
    assert listing_ids(app, people["org"]) == []
    rows = {**as_form(achievement(region_code="110000")), "ip_assets-1-ip_type": "software_copyright",
            "ip_assets-1-number": "2023SR0123456", "ip_assets-1-legal_status": "granted"}
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement", rows))
    assert [row["ip_type"] for row in stored(app, listing_id)["ip_assets"]] == ["invention_patent",
                                                                                "software_copyright"]


# --- editing ---------------------------------------------------------------------------------------------------


def test_the_edit_form_is_prefilled_and_saves_the_change(app: Flask, browser: FlaskClient,
                                                         people: dict[str, Any]) -> None:
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement(region_code="110108")).get_json()["id"]
    page = browser.get(f"/workspace/listings/{listing_id}/edit", headers=HTML)
    html = text(page)
    assert page.status_code == 200
    assert 'value="500000.00"' in html and 'value="CN201710601862.3"' in html
    assert '<option selected value="110108">Beijing 110108<' in html  # a finer region the listing holds stays offered
    assert hidden_value(html, "lock_version") == str(stored(app, listing_id)["lock_version"])

    form = {**as_form(achievement(region_code="110108")), "title_en": "Sulfide solid electrolyte",
            "price_amount": "450000", "lock_version": hidden_value(html, "lock_version")}
    response = post(browser, f"/workspace/listings/{listing_id}/edit", form)
    assert response.status_code == 302
    row = stored(app, listing_id)
    assert row["title_en"] == "Sulfide solid electrolyte" and row["price_amount"] == 45_000_000
    assert row["title_zh"] == achievement()["title_zh"]

    again = text(browser.get(f"/workspace/listings/{listing_id}/edit", headers=HTML))
    unchanged = {**form, "lock_version": hidden_value(again, "lock_version")}
    response = post(browser, f"/workspace/listings/{listing_id}/edit", unchanged, follow_redirects=True)
    assert "Nothing changed" in " ".join(flashes(text(response)))


def test_a_stale_edit_is_refused_and_the_current_values_are_shown(app: Flask, browser: FlaskClient,
                                                                  people: dict[str, Any]) -> None:
    owner = Owner(app, people["owner"])
    listing_id = owner.post("/api/v1/listings", achievement(region_code="110000")).get_json()["id"]
    opened = hidden_value(text(browser.get(f"/workspace/listings/{listing_id}/edit", headers=HTML)), "lock_version")
    assert owner.patch(listing_id, {"title_en": "Changed by a colleague"}).status_code == 200  # meanwhile
    before = stored(app, listing_id)

    form = {**as_form(achievement(region_code="110000")), "title_en": "My edit", "lock_version": opened}
    response = post(browser, f"/workspace/listings/{listing_id}/edit", form)
    assert response.status_code == 409
    html = text(response)
    assert STALE in " ".join(flashes(html, "error"))
    assert 'value="Changed by a colleague"' in html and "My edit" not in html  # the current values, reloaded
    assert hidden_value(html, "lock_version") == str(before["lock_version"])
    assert stored(app, listing_id) == before  # nothing overwritten

    garbled = post(browser, f"/workspace/listings/{listing_id}/edit", {**form, "lock_version": "x"})
    assert garbled.status_code == 409 and stored(app, listing_id) == before


# --- files, submission, review, revision, withdrawal ---------------------------------------------------------------


def upload(client: FlaskClient, listing_id: int, content: bytes, name: str, role: str = "attachment",
           **options: Any) -> TestResponse:
    return post(client, f"/workspace/listings/{listing_id}/attachments",
                {"file": (io.BytesIO(content), name), "role": role}, content_type="multipart/form-data", **options)


def test_files_submission_approval_revision_and_withdrawal_from_the_listing_page(
        app: Flask, browser: FlaskClient, people: dict[str, Any]) -> None:
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement",
                                 as_form(achievement(region_code="110000"))))
    assert upload(browser, listing_id, PDF, "检测报告.pdf").status_code == 302
    assert upload(browser, listing_id, png_1x1(), "cover.png", role="cover").status_code == 302
    refused = upload(browser, listing_id, PDF, "report.pdf", role="cover")
    assert refused.status_code == 422 and "the cover must be an image" in " ".join(field_errors(text(refused), "role"))
    wrong = upload(browser, listing_id, b"MZ\x90\x00 not a document", "tool.pdf")
    assert wrong.status_code == 422 and field_errors(text(wrong), "file")
    assert stored(app, listing_id)["files"] == [("attachment", "检测报告.pdf", "application/pdf"),
                                                ("cover", "cover.png", "image/png")]
    page = text(browser.get(f"/workspace/listings/{listing_id}", headers=HTML))
    assert "检测报告.pdf" in page and "Cover image" in page
    with app.app_context():
        pdf_id = db.session.scalar(select(ListingAttachment.id).where(ListingAttachment.filename == "检测报告.pdf"))
    with browser.get(f"/workspace/listings/{listing_id}/attachments/{pdf_id}") as download:
        assert download.status_code == 200 and download.get_data() == PDF

    submitted = post(browser, f"/workspace/listings/{listing_id}/submit", {}, follow_redirects=True)
    assert "sent for review" in " ".join(flashes(text(submitted), "success"))
    assert stored(app, listing_id)["status"] == "submitted"
    assert f"/workspace/listings/{listing_id}/edit" not in text(submitted)  # under review: no editing

    admin_decides(app, listing_id, "approve")
    page = text(browser.get(f"/workspace/listings/{listing_id}", headers=HTML))
    assert "Published" in page and "Withdraw from the hall" in page
    assert "Approved" in page or "approved" in page  # the history

    html = text(browser.get(f"/workspace/listings/{listing_id}/edit", headers=HTML))
    form = {**as_form(achievement(region_code="110000")), "title_en": "Revised title",
            "lock_version": hidden_value(html, "lock_version")}
    saved = post(browser, f"/workspace/listings/{listing_id}/edit", form, follow_redirects=True)
    assert "Saved as a revision" in " ".join(flashes(text(saved), "success"))
    row = stored(app, listing_id)
    assert row["status"] == "published" and row["has_pending_revision"] and row["title_en"] == "Revised title"
    assert "Public version 1 / your pending revision 2" in text(saved)
    listed = text(browser.get("/workspace/listings", headers=HTML))
    assert "Public version 1 / your pending revision 2" in listed and "Revised title" in listed
    with app.app_context():
        public = db.session.get(Listing, listing_id).published_version
        assert public.title_en == achievement()["title_en"]  # the public keeps the approved version

    revision = post(browser, f"/workspace/listings/{listing_id}/submit", {}, follow_redirects=True)
    assert "The revision is sent for review" in " ".join(flashes(text(revision), "success"))
    admin_decides(app, listing_id, "request_changes", "请补充检测报告编号")
    page = text(browser.get(f"/workspace/listings/{listing_id}", headers=HTML))
    assert "请补充检测报告编号" in page and "Changes requested" in page

    withdrawn = post(browser, f"/workspace/listings/{listing_id}/withdraw", {}, follow_redirects=True)
    assert "withdrawn from the hall" in " ".join(flashes(text(withdrawn), "success"))
    assert stored(app, listing_id)["status"] == "withdrawn"
    assert "Submit again to renew" in text(withdrawn)


def test_removing_a_file_takes_it_off_the_draft(app: Flask, browser: FlaskClient) -> None:
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement",
                                 as_form(achievement(region_code="110000"))))
    upload(browser, listing_id, PDF, "a.pdf")
    with app.app_context():
        attachment_id = db.session.scalar(select(ListingAttachment.id))
    response = post(browser, f"/workspace/listings/{listing_id}/attachments/{attachment_id}/delete", {})
    assert response.status_code == 302 and stored(app, listing_id)["files"] == []


def test_an_incomplete_listing_is_refused_with_what_it_lacks(app: Flask, browser: FlaskClient) -> None:
    form = {**as_form(achievement(region_code="")), "title_en": "", "summary_en": "", "trl": ""}
    form.update({name: "" for name in TEXTS if name.endswith("_zh")})
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement", form))
    response = post(browser, f"/workspace/listings/{listing_id}/submit", {})
    assert response.status_code == 422
    html = text(response)
    assert "not complete yet" in " ".join(flashes(html, "error"))
    assert "Region" in html and "Technology readiness level (TRL)" in html and "Title (English)" in html
    assert stored(app, listing_id)["status"] == "draft"


def test_an_unverified_institution_prepares_drafts_but_cannot_submit(app: Flask, people: dict[str, Any]) -> None:
    with app.app_context():
        org = db.session.get(Institution, people["org"])
        org.verification_status = "pending"
        db.session.commit()
    client = member_client(app, people["member"])
    page = text(client.get("/workspace/listings/new?kind=achievement", headers=HTML))
    assert "not verified yet" in page
    listing_id = created_id(post(client, "/workspace/listings/new?kind=achievement",
                                 as_form(achievement(region_code="110000"))))
    response = post(client, f"/workspace/listings/{listing_id}/submit", {})
    assert response.status_code == 403
    assert "Only verified institutions may submit listings" in " ".join(flashes(text(response), "error"))
    assert stored(app, listing_id)["status"] == "draft"


# --- who may see what --------------------------------------------------------------------------------------------


def test_another_institutions_listing_is_not_found(app: Flask, browser: FlaskClient,
                                                   people: dict[str, Any]) -> None:
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement",
                                 as_form(achievement(region_code="110000"))))
    upload(browser, listing_id, PDF, "a.pdf")
    with app.app_context():
        attachment_id = db.session.scalar(select(ListingAttachment.id))
    before = stored(app, listing_id)
    outsider = member_client(app, people["other_owner"])
    base = f"/workspace/listings/{listing_id}"
    for path in (base, base + "/edit", f"{base}/attachments/{attachment_id}"):
        assert outsider.get(path, headers=HTML).status_code == 404, path
    form = {**as_form(achievement(region_code="110000")), "lock_version": str(before["lock_version"])}
    for path, data in ((base + "/edit", form), (base + "/submit", {}), (base + "/withdraw", {}),
                       (f"{base}/attachments/{attachment_id}/delete", {})):
        assert post(outsider, path, data).status_code == 404, path
    assert upload(outsider, listing_id, PDF, "b.pdf").status_code == 404
    assert stored(app, listing_id) == before
    assert base not in text(outsider.get("/workspace/listings", headers=HTML))


def test_a_visitor_is_sent_to_sign_in_and_a_person_without_institution_told_how_to_join(
        app: Flask, client: FlaskClient) -> None:
    for path in ("/workspace", "/workspace/listings", "/workspace/listings/new?kind=achievement",
                 "/workspace/listings/1", "/workspace/listings/1/edit"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 302, path
        location = unquote(response.headers["Location"])
        assert location.startswith("/sign-in?next=") and location.endswith(path), location
    with app.app_context():
        loner = UserFactory()
        db.session.commit()
        email = loner.email
    lonely = member_client(app, email)
    response = lonely.get("/workspace", headers=HTML)
    assert response.status_code == 403 and "invitation e-mail" in text(response)
    assert lonely.get("/workspace/listings/new?kind=achievement", headers=HTML).status_code == 403
    assert 'href="/workspace"' not in text(lonely.get("/no-such-page", headers=HTML))  # no link for them


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(app: Flask, browser: FlaskClient,
                                                                      people: dict[str, Any]) -> None:
    form = as_form(achievement(region_code="110000"))
    assert post(browser, "/workspace/listings/new?kind=achievement", form, csrf=False).status_code == 400
    assert listing_ids(app, people["org"]) == []
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement", form))
    before = stored(app, listing_id)
    base = f"/workspace/listings/{listing_id}"
    edit = {**form, "title_en": "Forged", "lock_version": str(before["lock_version"])}
    for path, data in ((base + "/edit", edit), (base + "/submit", {}), (base + "/withdraw", {})):
        assert post(browser, path, data, csrf=False).status_code == 400, path
    assert upload(browser, listing_id, PDF, "a.pdf", csrf=False).status_code == 400
    assert stored(app, listing_id) == before


# --- lists, navigation, language --------------------------------------------------------------------------------


def test_the_list_filters_by_state_and_kind_and_pages(app: Flask, browser: FlaskClient,
                                                      people: dict[str, Any]) -> None:
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == people["owner"]))
        for n in range(22):
            listings.create_draft(person, "achievement", {"title_en": f"Draft number {n:02d}"})
        listings.create_draft(person, "first_of_kind", {"title_en": "The product"})
        db.session.commit()
    first = text(browser.get("/workspace/listings", headers=HTML))
    assert "23 listings" in first and "The product" in first and "Draft number 21" in first
    assert "Draft number 02" not in first and 'rel="next"' in first
    second = text(browser.get("/workspace/listings?page=2", headers=HTML))
    assert "Draft number 02" in second and "Draft number 00" in second and 'rel="prev"' in second
    products = text(browser.get("/workspace/listings?kind=first_of_kind", headers=HTML))
    assert "1 listing" in products and "The product" in products and "Draft number" not in products
    assert "No listings match" in text(browser.get("/workspace/listings?status=published", headers=HTML))
    assert "23 listings" in text(browser.get("/workspace/listings?status=bogus&kind=", headers=HTML))
    overview = text(browser.get("/workspace", headers=HTML))
    assert "All 23 listings" in overview and "/workspace/listings?status=draft" in overview


def test_workspace_pages_render_in_english_with_the_navigation_link(app: Flask, browser: FlaskClient) -> None:
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=first_of_kind",
                                 as_form(first_of_kind(region_code="440000"))))
    for path in ("/workspace", "/workspace/listings", "/workspace/listings/new?kind=achievement",
                 "/workspace/listings/new?kind=first_of_kind", f"/workspace/listings/{listing_id}",
                 f"/workspace/listings/{listing_id}/edit"):
        response = browser.get(path, headers=HTML)
        html = text(response)
        assert response.status_code == 200 and '<html lang="en">' in html, path
        assert '<a href="/workspace"' in html, path  # the members' navigation link
    edit = text(browser.get(f"/workspace/listings/{listing_id}/edit", headers=HTML))
    assert "Title (Chinese)" in edit and "Recognition level" in edit and "National" in edit
    assert "Hydrogen" in edit and "Guangdong" in edit
    assert "First-of-kind product" in text(browser.get(f"/workspace/listings/{listing_id}", headers=HTML))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Listing)) == 1


def test_a_file_larger_than_a_form_body_uploads_within_the_file_limit(app: Flask, browser: FlaskClient) -> None:
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement",
                                 as_form(achievement(region_code="110000"))))
    app.config["MAX_JSON_BODY_BYTES"] = 4096  # the cap of every other body (1 MiB in production), made small
    big = PDF + b"%" + b"0" * 8192 + b"\n"  # over that cap, under the file limit
    assert upload(browser, listing_id, big, "full-report.pdf").status_code == 302
    assert stored(app, listing_id)["files"] == [("attachment", "full-report.pdf", "application/pdf")]


def test_what_a_listing_lacks_is_said_in_chinese_on_a_chinese_page(app: Flask, browser: FlaskClient) -> None:
    form = {**as_form(achievement(region_code="110000")), "trl": ""}
    listing_id = created_id(post(browser, "/workspace/listings/new?kind=achievement", form))
    with app.app_context():
        db.session.execute(User.__table__.update().values(locale="zh_CN"))
        db.session.commit()
    html = text(post(browser, f"/workspace/listings/{listing_id}/submit", {}))
    assert "提交前必须填写" in html and "required before submission" not in html
