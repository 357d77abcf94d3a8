"""The account pages of the web front (AUTHN-01, AUTHN-02, SESS-01): register with an institution, confirm the address
from the mailed link (a button, not the GET), sign in (the throttle the API and the console share, no open
redirect) and out (the session row ends), reset the password without telling whether an address is known, accept
an invitation signed in or as a newcomer. Every form needs its CSRF token; refused input changes nothing."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import AuthSession, Institution, OutboxMail, User
from hall.services.accounts import institutions
from tests.support.console import field_errors, flashes, hidden_value, input_values, text
from tests.support.factories import PASSWORD, UserFactory, make_people, valid_credit_code

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
NEW_PASSWORD = "a much better passphrase 42"
ATTACKER = "203.0.113.66"


def post_form(client: FlaskClient, page: str, data: dict[str, str], action: str | None = None) -> TestResponse:
    """Open ``page`` as a browser, then post ``data`` with the page's CSRF token (and its hidden fields)."""
    opened = client.get(page, headers=HTML)
    assert opened.status_code == 200, f"GET {page} -> {opened.status_code}"
    values = input_values(main(text(opened)))
    form = {name: values[name] for name in ("next", "token") if name in values}
    form["csrf_token"] = hidden_value(text(opened), "csrf_token")  # one token per session, in every form
    return client.post(action or page.split("?")[0], data={**form, **data}, headers=HTML)


def main(html: str) -> str:
    """The page's content, without the header's forms (the language switch has a ``next`` of its own)."""
    return html.split('<main id="content">', 1)[1]


def registration_form(email: str = "Li.Na@Example.CN", **changes: str) -> dict[str, str]:
    """A complete registration form: a person and a new university."""
    return {"display_name": "李娜", "email": email, "password": PASSWORD, "password_again": PASSWORD,
            "locale": "zh_CN", "kind": "university", "name_zh": "未来科技大学", "name_en": "Future Tech University",
            "credit_code": valid_credit_code(900), "region_code": "310104", "address": "",
            "website": "https://ftu.example.cn", "description": "", **changes}


def web_sign_in(client: FlaskClient, email: str, password: str = PASSWORD,
                next_path: str | None = None) -> TestResponse:
    """Sign in through the site's form."""
    page = "/sign-in" + (f"?next={next_path}" if next_path is not None else "")
    return post_form(client, page, {"email": email, "password": password}, action="/sign-in")


def mailed_path(app: Flask, recipient: str, purpose: str, path: str) -> str:
    """The path (with its token) of the link on PUBLIC_BASE_URL in the newest mail of ``purpose``."""
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    with app.app_context():
        body = db.session.scalars(select(OutboxMail.body).where(
            OutboxMail.recipient == recipient, OutboxMail.purpose == purpose).order_by(OutboxMail.id.desc())).first()
    assert body is not None, f"no {purpose} mail to {recipient}"
    match = re.search(re.escape(base + path) + r"\?token=(\S+)", body)
    assert match, f"no {base}{path} link in the mail"
    return f"{path}?token={match.group(1)}"


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def person(app: Flask, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        db.session.expunge(user)
        return user


def signed_in(client: FlaskClient) -> bool:
    return client.get("/api/v1/me").status_code == 200


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return make_people()


def test_register_confirm_sign_in_and_sign_out_through_the_pages(app: Flask, client: FlaskClient) -> None:
    registered = post_form(client, "/register", registration_form())
    assert registered.status_code == 302, text(registered)[:800]
    assert registered.headers["Location"] == "/check-your-mail?sent=registration"
    sent = client.get(registered.headers["Location"], headers=HTML)
    assert sent.status_code == 200 and any("li.na@example.cn" in m for m in flashes(text(sent), "success"))
    assert person(app, "li.na@example.cn").institution_id is not None

    link = mailed_path(app, "li.na@example.cn", "confirm", "/confirm-email")
    page = client.get(link, headers=HTML)  # a mail scanner fetching the link confirms nothing
    assert page.status_code == 200 and hidden_value(main(text(page)), "token")
    assert person(app, "li.na@example.cn").email_confirmed_at is None
    unconfirmed = web_sign_in(client, "li.na@example.cn")
    assert unconfirmed.status_code == 403 and 'href="/confirm-email/resend"' in main(text(unconfirmed))
    confirmed = post_form(client, link, {})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/sign-in"
    assert person(app, "li.na@example.cn").email_confirmed_at is not None

    entered = web_sign_in(client, "LI.NA@example.cn", next_path="/workspace")
    assert entered.status_code == 302 and entered.headers["Location"] == "/workspace"
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.get_json()["institution"]["name_zh"] == "未来科技大学"
    home = client.get("/sign-in", headers=HTML)  # a signed-in person is sent on
    assert home.status_code == 302

    left = post_form(client, "/check-your-mail", {}, action="/sign-out")
    assert left.status_code == 302 and left.headers["Location"] == "/sign-in"
    assert not signed_in(client)
    with app.app_context():
        reasons = list(db.session.scalars(select(AuthSession.ended_reason)))
    assert reasons == ["signed_out"]


def test_refused_registration_shows_messages_beside_fields_and_stores_nothing(app: Flask, client: FlaskClient,
                                                                             people: dict[str, Any]) -> None:
    before = (count(app, User), count(app, Institution), count(app, OutboxMail))
    bad_code = post_form(client, "/register", registration_form(credit_code=valid_credit_code(900)[:-1] + "0"))
    assert bad_code.status_code == 422
    assert any("校验码" in m for m in field_errors(text(bad_code), "credit_code"))  # said in the page's language
    weak = post_form(client, "/register", registration_form(password="password", password_again="password"))
    assert weak.status_code == 422 and field_errors(text(weak), "password")
    differ = post_form(client, "/register", registration_form(password_again="something else"))
    assert differ.status_code == 422 and field_errors(text(differ), "password_again")
    bad_site = post_form(client, "/register", registration_form(website="ftp://ftu.example.cn", region_code="990000"))
    assert bad_site.status_code == 422
    assert field_errors(text(bad_site), "website") and field_errors(text(bad_site), "region_code")
    missing = post_form(client, "/register", registration_form(name_zh="", email=""))
    assert missing.status_code == 422
    assert field_errors(text(missing), "name_zh") and field_errors(text(missing), "email")
    taken = post_form(client, "/register", registration_form(email=people["owner"]))
    assert taken.status_code == 409 and field_errors(text(taken), "email") and flashes(text(taken), "error")
    assert (count(app, User), count(app, Institution), count(app, OutboxMail)) == before


def test_an_unusable_confirmation_link_says_why_and_offers_a_new_one(app: Flask, client: FlaskClient) -> None:
    assert post_form(client, "/register", registration_form()).status_code == 302
    broken = client.get("/confirm-email?token=not-a-token", headers=HTML)
    assert broken.status_code == 422 and "链接无效" in text(broken)
    assert "email" in input_values(main(text(broken)))  # the form asking for a new link
    assert client.get("/confirm-email", headers=HTML).status_code == 400

    link = mailed_path(app, "li.na@example.cn", "confirm", "/confirm-email")
    assert post_form(client, link, {}).status_code == 302
    used = client.get(link, headers=HTML)
    assert used.status_code == 422 and "此链接已被使用" in text(used)
    replay = post_form(client, "/confirm-email/resend", {"token": link.split("=", 1)[1]}, action="/confirm-email")
    assert replay.status_code == 422

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "li.na@example.cn"))
        assert user is not None
        user.email_confirmed_at = None  # as if the first link had expired unused
        db.session.commit()
    mails = count(app, OutboxMail, OutboxMail.purpose == "confirm")
    known = post_form(client, "/confirm-email/resend", {"email": "li.na@example.cn"})
    unknown = post_form(client, "/confirm-email/resend", {"email": "nobody@example.cn"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/check-your-mail?sent=confirmation"
    assert count(app, OutboxMail, OutboxMail.purpose == "confirm") == mails + 1
    fresh = mailed_path(app, "li.na@example.cn", "confirm", "/confirm-email")
    assert fresh != link and post_form(client, fresh, {}).status_code == 302


def test_a_wrong_password_is_refused_beside_the_field(client: FlaskClient, people: dict[str, Any]) -> None:
    for email in (people["owner"], "nobody@example.cn"):
        refused = web_sign_in(client, email, "not the password")
        assert refused.status_code == 401
        assert field_errors(text(refused), "password") == ["邮箱或密码错误。"]
        assert not signed_in(client)
    empty = post_form(client, "/sign-in", {"email": "", "password": ""})
    assert empty.status_code == 422 and field_errors(text(empty), "email")


def test_failed_sign_ins_are_throttled_on_the_counter_the_api_shares(app: Flask, client: FlaskClient,
                                                                     people: dict[str, Any]) -> None:
    client.environ_base["REMOTE_ADDR"] = ATTACKER
    for _ in range(5):
        assert web_sign_in(client, people["owner"], "guess").status_code == 401
    throttled = web_sign_in(client, people["owner"], PASSWORD)  # even the right password, from there
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 3600
    assert field_errors(text(throttled), "password")
    assert not signed_in(client)
    api = app.test_client().post("/api/v1/auth/sign-in", json={"email": people["owner"], "password": PASSWORD},
                                 environ_base={"REMOTE_ADDR": ATTACKER})
    assert api.status_code == 429
    elsewhere = app.test_client()
    assert web_sign_in(elsewhere, people["owner"]).status_code == 302 and signed_in(elsewhere)


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_off_the_site(client: FlaskClient, people: dict[str, Any], target: str) -> None:
    response = web_sign_in(client, people["owner"], next_path=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_reset_password_end_to_end_without_telling_which_addresses_exist(app: Flask, client: FlaskClient,
                                                                        people: dict[str, Any]) -> None:
    owner = people["owner"]
    other = app.test_client()
    assert web_sign_in(other, owner).status_code == 302  # a session elsewhere, ended by the reset
    known = post_form(client, "/reset-password/request", {"email": owner})
    unknown = post_form(client, "/reset-password/request", {"email": "nobody@example.cn"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/check-your-mail?sent=reset"
    assert count(app, OutboxMail, OutboxMail.recipient == "nobody@example.cn") == 0
    bad = post_form(client, "/reset-password/request", {"email": "not an address"})
    assert bad.status_code == 422 and field_errors(text(bad), "email")

    link = mailed_path(app, owner, "reset", "/reset-password")
    assert client.get(link, headers=HTML).status_code == 200
    weak = post_form(client, link, {"new_password": "12345678", "new_password_again": "12345678"})
    assert weak.status_code == 422 and field_errors(text(weak), "new_password")
    differ = post_form(client, link, {"new_password": NEW_PASSWORD, "new_password_again": "other"})
    assert differ.status_code == 422 and field_errors(text(differ), "new_password_again")
    assert web_sign_in(app.test_client(), owner).status_code == 302  # nothing changed yet

    done = post_form(client, link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/sign-in"
    assert not signed_in(other)
    assert web_sign_in(app.test_client(), owner, PASSWORD).status_code == 401
    assert web_sign_in(app.test_client(), owner, NEW_PASSWORD).status_code == 302
    used = client.get(link, headers=HTML)
    assert used.status_code == 422 and 'href="/reset-password/request"' in text(used)
    assert client.get("/reset-password?token=forged", headers=HTML).status_code == 422


def invite(app: Flask, people: dict[str, Any], email: str) -> str:
    """The owner invites ``email``; returns the path of the mailed link."""
    with app.app_context():
        owner = db.session.get(User, people["owner_id"])
        assert owner is not None
        institutions.invite_member(owner, people["org"], email, "member")
        db.session.commit()
    return mailed_path(app, email, "invite", "/accept-invitation")


def test_a_signed_in_person_accepts_an_invitation(app: Flask, client: FlaskClient, people: dict[str, Any]) -> None:
    with app.app_context():
        loner = UserFactory().email
        db.session.commit()
    link = invite(app, people, loner)
    outsider = app.test_client()
    wrong_person = web_sign_in(outsider, people["other_owner"])
    assert wrong_person.status_code == 302
    assert "您当前以" in text(outsider.get(link, headers=HTML))
    token = link.split("=", 1)[1]
    assert post_form(outsider, link, {"token": token}, action="/accept-invitation").status_code == 409

    not_yet = client.get(link, headers=HTML)
    assert not_yet.status_code == 200 and "/sign-in?next=/accept-invitation" in text(not_yet).replace("%3F", "?")
    assert web_sign_in(client, loner, next_path=link.replace("?", "%3F").replace("=", "%3D", 1)).status_code == 302
    joined = post_form(client, link, {}, action="/accept-invitation")
    assert joined.status_code == 302, text(joined)[:800]
    user = person(app, loner)
    assert user.institution_id == people["org"] and user.institution_role == "member"
    again = post_form(client, "/check-your-mail", {"token": token}, action="/accept-invitation")
    assert again.status_code == 422


def test_a_newcomer_creates_an_account_with_the_invited_address(app: Flask, client: FlaskClient,
                                                               people: dict[str, Any]) -> None:
    link = invite(app, people, "newcomer@example.cn")
    page = client.get(link, headers=HTML)
    assert page.status_code == 200 and "display_name" in input_values(main(text(page)))
    weak = post_form(client, link, {"display_name": "新成员", "password": "newcomer@example.cn",
                                    "password_again": "newcomer@example.cn", "locale": "en"}, "/accept-invitation")
    assert weak.status_code == 422 and field_errors(text(weak), "password")
    unnamed = post_form(client, link, {"display_name": "", "password": PASSWORD, "password_again": PASSWORD,
                                       "locale": "en"}, "/accept-invitation")
    assert unnamed.status_code == 422 and field_errors(text(unnamed), "display_name")
    assert count(app, User, User.email == "newcomer@example.cn") == 0

    joined = post_form(client, link, {"display_name": "新成员", "password": PASSWORD, "password_again": PASSWORD,
                                      "locale": "en"}, "/accept-invitation")
    assert joined.status_code == 302, text(joined)[:800]
    me = client.get("/api/v1/me").get_json()
    assert me["institution"]["id"] == people["org"] and me["email_confirmed"] is True and me["locale"] == "en"
    closed = app.test_client().get(link, headers=HTML)
    assert closed.status_code == 422 and "此邀请无法使用" in text(closed)
    assert client.get("/accept-invitation", headers=HTML).status_code == 400


def test_every_form_refuses_a_post_without_its_csrf_token(app: Flask, client: FlaskClient,
                                                          people: dict[str, Any]) -> None:
    before = (count(app, User), count(app, Institution), count(app, OutboxMail))
    for path, data in (("/register", registration_form()), ("/sign-in", {"email": people["owner"],
                                                                         "password": PASSWORD}),
                       ("/confirm-email/resend", {"email": people["owner"]}),
                       ("/reset-password/request", {"email": people["owner"]}),
                       ("/reset-password", {"token": "x", "new_password": NEW_PASSWORD,
                                            "new_password_again": NEW_PASSWORD}),
                       ("/confirm-email", {"token": "x"}), ("/accept-invitation", {"token": "x"})):
        assert client.post(path, data=data, headers=HTML).status_code == 400, path
    assert not signed_in(client)
    assert (count(app, User), count(app, Institution), count(app, OutboxMail)) == before
    assert web_sign_in(client, people["owner"]).status_code == 302
    assert client.post("/sign-out", headers=HTML).status_code == 400
    assert signed_in(client)


def test_pages_speak_chinese_by_default_and_english_when_asked(client: FlaskClient) -> None:
    zh = text(client.get("/register", headers=HTML))
    assert '<html lang="zh-CN">' in zh and "高校" in zh and "<title>登录" in text(client.get("/sign-in"))
    english = {**HTML, "Accept-Language": "en"}
    en = text(client.get("/register", headers=english))
    assert '<html lang="en">' in en and ">University<" in en
    assert '<option selected value="en">' in en and '<option selected value="zh_CN">' in zh  # the mails' language
    assert "<title>Sign in ·" in text(client.get("/sign-in", headers=english))


def test_every_account_page_has_a_title_and_visitors_see_the_links(client: FlaskClient,
                                                                   people: dict[str, Any]) -> None:
    for path in ("/register", "/sign-in", "/confirm-email/resend", "/reset-password/request", "/check-your-mail"):
        page = client.get(path, headers={**HTML, "Accept-Language": "en"})
        assert page.status_code == 200, path
        assert re.search(r"<title>\S.* · ", text(page)) and 'name="viewport"' in text(page), path
    nav = text(client.get("/sign-in", headers=HTML))
    assert 'href="/sign-in"' in nav and 'href="/register"' in nav
    assert web_sign_in(client, people["owner"]).status_code == 302
    page = text(client.get("/check-your-mail", headers=HTML))
    assert 'action="/sign-out"' in page and '<a href="/register"' not in page


def test_mail_requests_and_registrations_are_rate_limited_like_the_api(app: Flask, client: FlaskClient) -> None:
    app.config.update(MAIL_REQUEST_LIMIT="2 per hour", REGISTRATION_LIMIT="1 per hour")
    for _ in range(2):
        assert post_form(client, "/reset-password/request", {"email": "nobody@example.cn"}).status_code == 302
    assert post_form(client, "/reset-password/request", {"email": "nobody@example.cn"}).status_code == 429
    assert client.get("/reset-password/request", headers=HTML).status_code == 200  # reading the page is free
    assert post_form(client, "/register", registration_form(password_again="typo")).status_code == 422
    limited = post_form(client, "/register", registration_form())
    assert limited.status_code == 429 and count(app, User) == 0


def test_a_language_chosen_before_signing_in_is_kept_and_remembered(app: Flask, client: FlaskClient,
                                                                    people: dict[str, Any]) -> None:
    assert client.get("/language?locale=en&next=/sign-in").status_code == 302
    assert web_sign_in(client, people["owner"]).status_code == 302
    assert '<html lang="en">' in text(client.get("/", headers=HTML))
    assert person(app, people["owner"]).locale == "en"  # remembered on the person, for every browser
