"""The web front's frame: browsers get HTML error pages (API clients keep JSON problem documents), a visitor's
language choice is remembered in the session, and the switch is a CSRF-checked form that never redirects away."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.console import hidden_value
from tests.support.factories import make_people, sign_in

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def test_a_browser_gets_an_html_error_page_and_an_api_client_json(client: FlaskClient) -> None:
    page = client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert '<html lang="zh-CN">' in page.get_data(as_text=True) and "404" in page.get_data(as_text=True)
    assert client.get("/no-such-page").get_json()["status"] == 404  # no Accept: JSON, as before
    assert client.get("/api/v1/no-such-thing", headers=HTML).mimetype == "application/json"


def test_a_visitor_switches_language_by_link_and_the_choice_stays_in_the_session(client: FlaskClient) -> None:
    page = client.get("/", headers=HTML)
    assert "Set-Cookie" not in page.headers  # a public page carries no form token: nothing to share in a cache
    assert 'href="/language?locale=en&amp;next=/"' in page.get_data(as_text=True)
    switched = client.get("/language?locale=en&next=https://evil.example/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"  # never off the site
    assert '<html lang="en">' in client.get("/no-such-page", headers=HTML).get_data(as_text=True)
    assert client.get("/language?locale=fr&next=/hall").headers["Location"] == "/hall"  # unknown: ignored
    for sneaky in ("/%09/evil.example", "/%5Cevil.example", "/%0A/evil.example"):  # tab, backslash, newline
        assert client.get(f"/language?locale=en&next={sneaky}").headers["Location"] == "/"


def test_a_signed_in_person_switches_with_a_csrf_checked_form_kept_on_the_profile(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    client = app.test_client()
    sign_in(client, people["owner"])
    page = client.get("/no-such-page", headers=HTML).get_data(as_text=True)
    refused = client.post("/language", data={"locale": "en", "next": "/x"})
    assert refused.status_code == 400  # no CSRF token
    token = hidden_value(page, "csrf_token")
    switched = client.post("/language", data={"locale": "en", "next": "//evil.example/", "csrf_token": token})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    assert client.get("/api/v1/me").get_json()["locale"] == "en"


def test_web_pages_may_load_the_sites_own_styles_while_the_api_loads_nothing(client: FlaskClient) -> None:
    page = client.get("/no-such-page", headers=HTML)
    policy = page.headers["Content-Security-Policy"]
    assert "style-src 'self'" in policy and "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert client.get("/api/v1/hall/taxonomy").headers["Content-Security-Policy"].startswith("default-src 'none'")
