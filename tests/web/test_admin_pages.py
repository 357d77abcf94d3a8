"""The console's pages: every page renders with demo data, counts, filters, pagination, the credit-code check and
the audit chain's verdict; languages (zh by default, en remembered on the person) and locale formatting; escaping of
user text (INPUT-02); security headers on pages and errors (HDR-01); signing in and out."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy import text as sql_text

from hall.extensions import db
from hall.models import AuditEvent, AuthSession, Institution, Listing, ListingAttachment, User
from tests.support.audit import lift_append_only
from tests.support.console import (
    Member,
    admin_client_for,
    console_sign_in,
    decide_through_console,
    field_errors,
    make_admin,
    new_listing,
    page_csrf,
    table_rows,
    text,
    user_locale,
)
from tests.support.factories import InstitutionFactory, UserFactory, valid_credit_code
from tests.support.listing_data import achievement, first_of_kind

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _ids(app: Flask, model: Any) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(model.id).order_by(model.id)))


def test_every_page_renders_for_an_admin_with_demo_data(app: Flask, admin_client: FlaskClient,
                                                        tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    seeded = app.test_cli_runner().invoke(args=["hall", "seed-demo", "--credentials", str(tmp_path / "c.txt")])
    assert seeded.exit_code == 0, seeded.output
    draft = new_listing(app, submit=False)
    upload = draft.owner.client.post(f"/api/v1/listings/{draft.id}/attachments", data={
        "file": (io.BytesIO(PDF), "report.pdf"), "role": "attachment"}, headers={"X-CSRFToken": draft.owner.csrf},
        content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    assert draft.owner.post(f"/api/v1/listings/{draft.id}/submit").status_code == 200
    new_listing(app, first_of_kind())
    with app.app_context():
        InstitutionFactory(verification_status="pending")
        db.session.commit()
    listings, institutions = _ids(app, Listing), _ids(app, Institution)
    assert len(listings) > 10 and len(institutions) > 5
    paths = ["/admin/", "/admin/listings/queue", "/admin/listings", "/admin/institutions",
             "/admin/institutions?status=all", "/admin/institutions?status=verified&q=demo",
             "/admin/listings?status=published&q=电池", "/admin/listings/queue?kind=first_of_kind&direction=energy"]
    paths += [f"/admin/institutions/{org_id}" for org_id in institutions]
    paths += [f"/admin/listings/{listing_id}" for listing_id in listings]
    paths += ["/admin/audit", "/admin/audit?object_type=listing&actor=admin@hall.demo&date_from=2000-01-01"]
    attachment_id = _ids(app, ListingAttachment)[0]
    assert f'href="/admin/attachments/{attachment_id}"' in text(admin_client.get(f"/admin/listings/{draft.id}"))
    with admin_client.get(f"/admin/attachments/{attachment_id}") as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Disposition"].startswith("attachment")
    for missing in ("/admin/listings/999999", "/admin/institutions/999999", "/admin/attachments/999999",
                    "/admin/no-such-page"):
        response = admin_client.get(missing)
        assert response.status_code == 404 and response.mimetype == "text/html", missing
    for path in paths:
        response = admin_client.get(path)
        assert response.status_code == 200, f"GET {path} -> {response.status_code}"
        assert response.mimetype == "text/html" and "</html>" in text(response), path


@pytest.mark.parametrize("path", [
    "/admin/institutions?page=abc", "/admin/institutions?page=-1", "/admin/institutions?page=99999999999999999999",
    "/admin/institutions?q=%00", "/admin/listings?q=%00&status=nope", "/admin/listings/queue?institution=abc&kind=x",
    "/admin/audit?object_type=none&date_from=garbage&date_to=2024-13-45", "/admin/audit?object_id=%00",
    "/admin/audit?actor=%00"])
def test_odd_query_strings_never_cause_a_500(admin_client: FlaskClient, path: str) -> None:
    """INPUT-01/ERR-01 on the console: a hand-edited address is the admin's mistake, never a server error."""
    response = admin_client.get(path)
    assert response.status_code < 500, f"GET {path} -> {response.status_code}"


def _cards(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<strong>([\d,]+)</strong>", html.split('<ul class="cards">')[1])]


def test_the_dashboard_counts_what_waits(app: Flask, admin_client: FlaskClient) -> None:
    assert _cards(text(admin_client.get("/admin/"))) == [0, 0, 0]
    with app.app_context():
        for _ in range(3):
            InstitutionFactory(verification_status="pending")
        db.session.commit()
    new_listing(app)
    new_listing(app, first_of_kind())
    revised = new_listing(app)
    assert decide_through_console(admin_client, revised.id, "approve").status_code == 302
    assert revised.owner.patch(revised.id, {"trl": 8}).status_code == 200
    assert revised.owner.post(f"/api/v1/listings/{revised.id}/submit").status_code == 200
    html = text(admin_client.get("/admin/"))
    assert _cards(html) == [3, 2, 1]
    assert "概览" in html


def _queue(client: FlaskClient, query: str = "") -> set[int]:
    html = text(client.get("/admin/listings/queue" + query))
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {int(n) for n in re.findall(r'href="/admin/listings/(\d+)"', body)}


def test_the_review_queue_filters_by_kind_direction_and_institution(app: Flask, admin_client: FlaskClient) -> None:
    energy = new_listing(app)
    product = new_listing(app, first_of_kind())
    quantum = new_listing(app, achievement(direction_code="information", field_code="information.quantum"),
                          people={"owner": energy.owner_email, "org": energy.org})
    draft = new_listing(app, submit=False, people={"owner": energy.owner_email, "org": energy.org})
    assert _queue(admin_client) == {energy.id, product.id, quantum.id}
    assert draft.id not in _queue(admin_client)
    assert _queue(admin_client, "?kind=first_of_kind") == {product.id}
    assert _queue(admin_client, "?direction=information") == {quantum.id}
    assert _queue(admin_client, f"?institution={energy.org}") == {energy.id, quantum.id}
    assert _queue(admin_client, f"?kind=achievement&direction=energy&institution={energy.org}") == {energy.id}
    assert _queue(admin_client, "?institution=999999") == set()
    assert _queue(admin_client, "?kind=&direction=&institution=") == {energy.id, product.id, quantum.id}


def test_the_institution_page_shows_the_credit_code_check(app: Flask, admin_client: FlaskClient) -> None:
    good = valid_credit_code(777)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with app.app_context():
        valid, invalid = InstitutionFactory(credit_code=good), InstitutionFactory(credit_code=bad)
        db.session.commit()
        ids = valid.id, invalid.id
    html = text(admin_client.get(f"/admin/institutions/{ids[0]}"))
    assert "校验码正确（GB 32100）" in html and "校验失败" not in html and good in html
    html = text(admin_client.get(f"/admin/institutions/{ids[1]}"))
    assert '<span class="bad">校验失败' in html and "校验码正确" not in html


def data_actions(html: str) -> list[str]:
    """The audit codes behind the actions shown in words, in table order."""
    return re.findall(r'data-action="([^"]+)"', html)


def _no_events(html: str) -> bool:
    return table_rows(html) == [["暂无内容。"]]


def test_the_audit_log_filters_and_shows_the_chain_verdict(app: Flask, admin: dict[str, Any],
                                                          admin_client: FlaskClient, backend: str) -> None:
    listed = new_listing(app)
    assert decide_through_console(admin_client, listed.id, "request_changes", "补充材料").status_code == 302
    other = new_listing(app)
    html = text(admin_client.get(f"/admin/audit?object_type=listing&object_id={listed.id}"))
    rows = table_rows(html)
    assert data_actions(html) == ["listing.request_changes", "listing.submit", "listing.created"]
    assert [row[3] for row in rows] == ["发布项目 · 已要求修改", "发布项目 · 已提交审核", "发布项目 · 已创建"]
    assert all(row[4] == f"listing {listed.id}" for row in rows) and rows[0][7] == "补充材料"
    assert rows[0][2] == admin["email"] and rows[1][2] == listed.owner_email
    assert {row[4] for row in table_rows(text(admin_client.get("/admin/audit?object_type=listing")))} == {
        f"listing {listed.id}", f"listing {other.id}"}
    by_admin_html = text(admin_client.get(f"/admin/audit?actor={admin['email'].upper()}"))
    assert {row[2] for row in table_rows(by_admin_html)} == {admin["email"]}
    assert set(data_actions(by_admin_html)) == {"user.signed_in", "listing.request_changes",
                                                "listing_version.request_changes"}
    assert _no_events(text(admin_client.get("/admin/audit?actor=nobody@example.cn")))

    today = datetime.now(UTC).date()
    day = timedelta(days=1)
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        ids = list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    assert len(table_rows(text(admin_client.get(
        f"/admin/audit?date_from={today - day}&date_to={today + day}")))) == total
    assert len(table_rows(text(admin_client.get(f"/admin/audit?date_from={today}&date_to={today}")))) == total
    assert _no_events(text(admin_client.get(f"/admin/audit?date_from={today + day}")))
    assert _no_events(text(admin_client.get(f"/admin/audit?date_to={today - day}")))
    assert "哈希链完整" not in text(admin_client.get("/admin/audit"))  # the chain is walked only when asked
    html = text(admin_client.get("/admin/audit?verify=1"))
    assert f"哈希链完整：已校验 {total} 条事件。" in html and "断裂" not in html
    english = admin_client_for(app, make_admin(app, locale="en")["email"])
    assert "Hash chain intact" in text(english.get("/admin/audit?verify=1"))

    with app.app_context():  # someone with DDL rights rewrites a reason
        lift_append_only(backend, "update")
        db.session.execute(sql_text("UPDATE audit_events SET reason = 'nothing' WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
    html = text(admin_client.get("/admin/audit?verify=1"))
    assert f"哈希链在第 {ids[1]} 条事件处断裂" in html and "哈希链完整" not in html


def test_institutions_are_paginated_by_25(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        for n in range(30):
            InstitutionFactory(verification_status="pending", name_zh=f"分页研究所{n:02d}")
        db.session.commit()
    first, second = (text(admin_client.get(f"/admin/institutions?page={n}")) for n in (1, 2))
    names = [set(re.findall(r"分页研究所\d\d", html)) for html in (first, second)]
    assert len(names[0]) == 25 and len(names[1]) == 5 and not names[0] & names[1]
    assert 'rel="next"' in first and 'href="/admin/institutions?page=2"' in first and 'rel="prev"' in second
    assert "第 2 页，共 2 页" in second
    assert "分页研究所" not in text(admin_client.get("/admin/institutions?page=3"))


def test_the_language_defaults_to_chinese_and_english_is_remembered(app: Flask, admin: dict[str, Any],
                                                                    admin_client: FlaskClient) -> None:
    html = text(admin_client.get("/admin/"))
    assert '<html lang="zh-CN">' in html and "概览" in html
    assert '<html lang="zh-CN">' in text(app.test_client().get("/admin/sign-in"))
    refused = admin_client.post("/admin/language", data={"locale": "en", "next": "/admin/"})
    assert refused.status_code == 400 and user_locale(app, admin["email"]) == "zh_CN"

    switched = admin_client.post("/admin/language", data={"locale": "en", "next": "/admin/audit",
                                                          "csrf_token": page_csrf(admin_client)})
    assert switched.status_code == 302 and switched.headers["Location"] == "/admin/audit"
    html = text(admin_client.get("/admin/"))
    assert '<html lang="en">' in html and "<h1>Dashboard</h1>" in html and "概览" not in html
    assert user_locale(app, admin["email"]) == "en"
    later = admin_client_for(app, admin["email"])  # a new browser, a new sign-in
    assert "<h1>Dashboard</h1>" in text(later.get("/admin/"))
    back = later.post("/admin/language", data={"locale": "zh_CN", "next": "https://evil.example/",
                                               "csrf_token": page_csrf(later)})
    assert back.status_code == 302 and back.headers["Location"] == "/admin/"
    assert user_locale(app, admin["email"]) == "zh_CN"


def test_money_and_dates_follow_the_locale(app: Flask, admin_client: FlaskClient) -> None:
    listed = new_listing(app, achievement(price_amount=800_000_000))
    html = text(admin_client.get(f"/admin/listings/{listed.id}"))
    assert "¥8,000,000.00" in html
    stamp = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert stamp, "no submission time on the review page"
    local = datetime.fromisoformat(stamp.group(1)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{local.year}年{local.month}月{local.day}日" in stamp.group(2)
    assert local.strftime("%H:%M:%S") in stamp.group(2)
    english = admin_client_for(app, make_admin(app, locale="en")["email"])
    html = text(english.get(f"/admin/listings/{listed.id}"))
    assert "CN¥8,000,000.00" in html
    assert re.search(rf'<time datetime="[^"]+">{local.strftime("%b")} {local.day}, {local.year}', html)


def _assert_escaped(html: str, where: str) -> None:
    assert SCRIPT not in html and "<img src=x" not in html, f"raw markup on {where}"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, f"probe missing from {where}"


def test_user_text_is_escaped_everywhere_it_is_shown(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        org = InstitutionFactory(name_zh=f"{SCRIPT}{IMG}研究所", name_en=IMG, description=SCRIPT + IMG)
        owner = UserFactory(institution=org, institution_role="owner", display_name=SCRIPT)
        db.session.commit()
        people = {"owner": owner.email, "org": org.id}
    body = achievement(title_zh=f"标题{SCRIPT}{IMG}", title_en=f"Title {IMG}", summary_zh=f"摘要{SCRIPT}{IMG}",
                       keywords=[SCRIPT, IMG], inventors=[SCRIPT])
    listed = new_listing(app, body, people=people)
    for path in (f"/admin/listings/{listed.id}", "/admin/listings/queue", "/admin/listings",
                 "/admin/institutions?status=all", f"/admin/institutions/{org.id}"):
        html = text(admin_client.get(path))
        _assert_escaped(html, path)
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path
    review = text(admin_client.get(f"/admin/listings/{listed.id}"))
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in review  # the quote cannot close an attribute
    assert decide_through_console(admin_client, listed.id, "request_changes", SCRIPT + IMG).status_code == 302
    search = text(admin_client.get("/admin/listings", query_string={"q": SCRIPT}))
    _assert_escaped(search, "the search box")
    assert str(listed.id) in " ".join(row[0] for row in table_rows(search))  # bound, not interpolated
    for path in (f"/admin/listings/{listed.id}", "/admin/audit", f"/admin/audit?object_id={listed.id}"):
        _assert_escaped(text(admin_client.get(path)), path)


def _check_headers(response: Any, what: str) -> None:
    headers = response.headers
    policy = {part.strip().split(" ", 1)[0]: part.strip() for part in
              headers.get("Content-Security-Policy", "").split(";") if part.strip()}
    assert policy.get("frame-ancestors") == "frame-ancestors 'none'", what
    scripts = policy.get("script-src") or policy.get("default-src")
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin",
                                              "strict-origin-when-cross-origin"), what
    assert "no-store" in headers.get("Cache-Control", ""), what


def test_security_headers_on_pages_and_errors(app: Flask, admin_client: FlaskClient, member: Member) -> None:
    anonymous = app.test_client()
    listed = new_listing(app)
    cases = {
        "dashboard": (admin_client.get("/admin/"), 200),
        "review page": (admin_client.get(f"/admin/listings/{listed.id}"), 200),
        "sign-in page": (anonymous.get("/admin/sign-in"), 200),
        "redirect to sign-in": (anonymous.get("/admin/"), 302),
        "404 page": (admin_client.get("/admin/no-such-page"), 404),
        "404 object": (admin_client.get("/admin/listings/999999"), 404),
        "403 page": (member.client.get("/admin/"), 403),
        "405 page": (admin_client.get("/admin/sign-out"), 405),
        "400 csrf": (admin_client.post(f"/admin/listings/{listed.id}/decision", data={"action": "approve"}), 400),
        "422 form": (anonymous.post("/admin/sign-in", data={"csrf_token": page_csrf(anonymous, "/admin/sign-in")}),
                     422),
        "audit": (admin_client.get("/admin/audit"), 200),
    }
    for what, (response, status) in cases.items():
        assert response.status_code == status, f"{what}: {response.status_code}"
        _check_headers(response, what)


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(app: Flask, admin: dict[str, Any]) -> None:
    client = app.test_client()
    wrong = console_sign_in(client, admin["email"], "not the password")
    unknown = console_sign_in(client, "nobody@example.cn", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    messages = [field_errors(text(response), "password") for response in (wrong, unknown)]
    assert messages[0] == messages[1] == ["邮箱或密码错误。"]
    assert 'aria-describedby="password-errors"' in text(wrong)
    assert client.get("/admin/").status_code == 302


def test_a_non_admin_cannot_sign_in_to_the_console(app: Flask) -> None:
    with app.app_context():
        person = UserFactory()
        db.session.commit()
        email, person_id = person.email, person.id
    client = app.test_client()
    response = console_sign_in(client, email)
    assert response.status_code == 403
    assert field_errors(text(response), "email") == ["本后台仅供平台管理员使用。"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
            AuthSession.user_id == person_id)) == 0
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/admin", "/\\evil.example",
                                    "javascript:alert(1)", "/api/v1/me", "http://localhost/admin/audit"])
def test_sign_in_never_redirects_outside_the_console(app: Flask, admin: dict[str, Any], target: str) -> None:
    response = console_sign_in(app.test_client(), admin["email"], next_path=target)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert not location.scheme and not location.netloc and location.path == "/admin/"


def test_sign_in_follows_a_next_inside_the_console(app: Flask, admin: dict[str, Any]) -> None:
    client = app.test_client()
    redirected = client.get("/admin/audit?object_type=listing")
    assert redirected.status_code == 302
    query = urlsplit(redirected.headers["Location"]).query
    page = client.get("/admin/sign-in?" + query)
    assert 'value="/admin/audit?object_type=listing"' in text(page)
    response = console_sign_in(client, admin["email"], next_path="/admin/audit?object_type=listing")
    assert response.headers["Location"] == "/admin/audit?object_type=listing"


def test_sign_out_ends_the_session_server_side(app: Flask, admin: dict[str, Any],
                                               admin_client: FlaskClient) -> None:
    cookie = admin_client.get_cookie("hall_session")
    assert cookie is not None
    replay = app.test_client()
    replay.set_cookie("hall_session", cookie.value)
    assert replay.get("/admin/").status_code == 200  # the captured cookie works while signed in
    response = admin_client.post("/admin/sign-out", data={"csrf_token": page_csrf(admin_client)})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/admin/sign-in"
    assert admin_client.get("/admin/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("hall_session", cookie.value)
    after = replay.get("/admin/")
    assert after.status_code == 302 and urlsplit(after.headers["Location"]).path == "/admin/sign-in"
    with app.app_context():
        user = db.session.get(User, admin["id"])
        assert user is not None
        assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))) == 0
