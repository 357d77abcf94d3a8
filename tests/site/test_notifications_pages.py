"""The notifications page of the site (/notifications): every signed-in person has one (with or without an
institution), anonymous visitors are sent to sign in; the unread badge in the navigation; mark one read (another
person's → 404), open a notification's link, mark all read, the mail preferences form; every form needs its CSRF
token and a refused one changes nothing."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from hall.extensions import db
from hall.services.core import inbox
from tests.support.console import flashes, hidden_value, text
from tests.support.factories import UserFactory, make_people, sign_in
from tests.support.inbox import inbox_of

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
PAGE = "/notifications"


def _notify(app: Flask, user_id: int, title: str, link: str | None = "/workspace/orders/1") -> None:
    with app.app_context():
        inbox.notify("test.page", group="orders", title=title, body="Body of %(title)s", user_ids=[user_id],
                     params={"title": title}, link=link)
        db.session.commit()


def _browser(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    sign_in(client, email)
    page = client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    return client, hidden_value(text(page), "csrf_token")


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(PAGE, headers=HTML)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    response = client.post(f"{PAGE}/read-all", headers=HTML)
    assert response.status_code in (302, 400)


def test_the_page_lists_the_inbox_with_a_badge_and_marks_read(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["owner_id"], "First news")
    _notify(app, people["owner_id"], "Second news", link=None)
    client, csrf = _browser(app, people["owner"])
    html = text(client.get(PAGE, headers=HTML))
    assert "First news" in html and "Second news" in html
    assert 'class="nav-badge"' in html and ">2</span>" in html
    first, second = inbox_of(app, people["owner"])
    response = client.post(f"{PAGE}/{second['id']}/read", data={"csrf_token": csrf}, headers=HTML)
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    opened = client.post(f"{PAGE}/{first['id']}/read", data={"csrf_token": csrf, "open": "1"}, headers=HTML)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/workspace/orders/1")
    assert all(row["read_at"] is not None for row in inbox_of(app, people["owner"]))
    html = text(client.get(PAGE, headers=HTML))
    assert 'class="nav-badge"' not in html
    unread_only = text(client.get(f"{PAGE}?unread=1", headers=HTML))
    assert "First news" not in unread_only and 'class="inbox"' not in unread_only


def test_mark_all_read_and_another_persons_notification(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["owner_id"], "Mine")
    _notify(app, people["member_id"], "Theirs")
    client, csrf = _browser(app, people["owner"])
    [theirs] = inbox_of(app, people["member"])
    assert client.post(f"{PAGE}/{theirs['id']}/read", data={"csrf_token": csrf}, headers=HTML).status_code == 404
    assert "Theirs" not in text(client.get(PAGE, headers=HTML))
    response = client.post(f"{PAGE}/read-all", data={"csrf_token": csrf}, headers=HTML)
    assert response.status_code == 302
    assert flashes(text(client.get(PAGE, headers=HTML)), "success")
    assert inbox_of(app, people["owner"])[0]["read_at"] is not None
    assert inbox_of(app, people["member"])[0]["read_at"] is None


def test_forms_without_the_csrf_token_change_nothing(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["owner_id"], "Mine")
    client, _csrf = _browser(app, people["owner"])
    [mine] = inbox_of(app, people["owner"])
    assert client.post(f"{PAGE}/{mine['id']}/read", data={}, headers=HTML).status_code == 400
    assert client.post(f"{PAGE}/read-all", data={}, headers=HTML).status_code == 400
    assert client.post(f"{PAGE}/preferences", data={"orders": "y"}, headers=HTML).status_code == 400
    assert inbox_of(app, people["owner"])[0]["read_at"] is None


def test_the_preferences_form_saves_mail_choices(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    client, csrf = _browser(app, people["owner"])
    html = text(client.get(PAGE, headers=HTML))
    assert all(f'name="{group}"' in html for group in inbox.GROUPS)
    ticked = {group: "y" for group in inbox.GROUPS if group not in ("orders", "matches")}
    response = client.post(f"{PAGE}/preferences", data={"csrf_token": csrf, **ticked}, headers=HTML)
    assert response.status_code == 302
    prefs = client.get("/api/v1/notifications/preferences").get_json()
    assert prefs == {**dict.fromkeys(inbox.GROUPS, True), "orders": False, "matches": False}
    html = text(client.get(PAGE, headers=HTML))
    assert 'id="orders" name="orders" type="checkbox" value="y">' in html  # shown unticked now


def test_a_person_without_an_institution_has_the_page_too(app: Flask) -> None:
    with app.app_context():
        loner = UserFactory()
        db.session.commit()
        loner_id, email = loner.id, loner.email
    _notify(app, loner_id, "For you")
    client, _csrf = _browser(app, email)
    assert "For you" in text(client.get(PAGE, headers=HTML))
