"""Notifications through the API: the inbox (paginated, unread filter, the request's language), unread count, mark
read (another person's → 404, anonymous → 401), mark all read, mail preferences (unknown group → 422); and the
events that fill it: listing review decisions, institution decisions, quote, acceptance, payment, cancellation by
either side, delivery, notice ending."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from hall.extensions import db
from hall.models import Institution, Order, User
from hall.models.types import utcnow
from hall.services.accounts import institutions
from hall.services.core import inbox
from hall.services.trading.closing import announce_ended_notices
from tests.support.factories import InstitutionFactory, UserFactory, make_people, sign_in
from tests.support.inbox import events_of, inbox_of, mails_of
from tests.support.orders import ORDERS, Market, buy_product, pay_by_card, read

API = "/api/v1/notifications"


def _notify(app: Flask, user_id: int, count: int = 1, title: str = "Hello %(state)s") -> None:
    with app.app_context():
        for number in range(count):
            inbox.notify("test.hello", group="notices", title=title, body=f"body {number}",
                         user_ids=[user_id], params={"state": "甲"}, link=f"/workspace/x/{number}")
        db.session.commit()


def _signed_in(app: Flask, email: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    return client, {"X-CSRFToken": sign_in(client, email)}


def test_anonymous_callers_get_401_everywhere(client: FlaskClient) -> None:
    for method, path in (("GET", API), ("GET", f"{API}/unread-count"), ("POST", f"{API}/1/read"),
                         ("POST", f"{API}/read-all"), ("GET", f"{API}/preferences"),
                         ("PUT", f"{API}/preferences")):
        response = client.open(path, method=method, json={} if method != "GET" else None)
        assert response.status_code == 401, (method, path)


def test_the_inbox_pages_filters_counts_and_marks_read(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["owner_id"], 3)
    client, headers = _signed_in(app, people["owner"])
    response = client.get(f"{API}?page=1&page_size=2")
    assert response.status_code == 200
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
    items = response.get_json()
    assert [item["body"] for item in items] == ["body 2", "body 1"]
    assert items[0]["title"] == "Hello 甲" and items[0]["read"] is False and items[0]["link"] == "/workspace/x/2"
    assert items[0]["group"] == "notices" and items[0]["event"] == "test.hello"
    assert client.get(f"{API}/unread-count").get_json() == {"unread": 3}
    marked = client.post(f"{API}/{items[0]['id']}/read", headers=headers)
    assert marked.status_code == 200 and marked.get_json()["read"] is True
    assert client.get(f"{API}/unread-count").get_json() == {"unread": 2}
    unread = client.get(f"{API}?unread=true")
    assert json.loads(unread.headers["X-Pagination"])["total"] == 2
    assert all(not item["read"] for item in unread.get_json())
    assert client.post(f"{API}/read-all", headers=headers).get_json() == {"marked": 2}
    assert client.get(f"{API}/unread-count").get_json() == {"unread": 0}
    assert client.get(f"{API}?unread=sometimes").status_code == 422
    assert client.get(f"{API}?colour=red").status_code == 422


def test_title_and_body_come_in_the_requests_language(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["owner_id"], title="The order is “%(state)s”; this cannot be done now.")
    client, _headers = _signed_in(app, people["owner"])
    english = client.get(API).get_json()[0]["title"]
    chinese = client.get(API, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json()[0]["title"]
    assert english == "The order is “甲”; this cannot be done now."
    assert chinese == "订单当前为“甲”，现在不能执行此操作。"


def test_another_persons_notification_is_404_and_stays_unread(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["member_id"])
    [theirs] = inbox_of(app, people["member"])
    for email in (people["owner"], people["other_owner"]):  # same institution or not: it is the person's own
        client, headers = _signed_in(app, email)
        assert client.post(f"{API}/{theirs['id']}/read", headers=headers).status_code == 404
        assert client.post(f"{API}/987654/read", headers=headers).status_code == 404
        assert client.get(API).get_json() == []
        assert client.post(f"{API}/read-all", headers=headers).get_json() == {"marked": 0}
    assert inbox_of(app, people["member"])[0]["read_at"] is None


def test_a_write_without_the_csrf_token_is_refused(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    _notify(app, people["owner_id"])
    client, _headers = _signed_in(app, people["owner"])
    assert client.post(f"{API}/read-all").status_code in (400, 403)
    assert client.put(f"{API}/preferences", json={"orders": False}).status_code in (400, 403)
    assert inbox_of(app, people["owner"])[0]["read_at"] is None


def test_preferences_read_change_and_refuse_unknown_groups(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    client, headers = _signed_in(app, people["owner"])
    everything = {group: True for group in inbox.GROUPS}
    assert client.get(f"{API}/preferences").get_json() == everything
    changed = client.put(f"{API}/preferences", json={"orders": False, "matches": False}, headers=headers)
    assert changed.status_code == 200
    assert changed.get_json() == {**everything, "orders": False, "matches": False}
    unknown = client.put(f"{API}/preferences", json={"gossip": True}, headers=headers)
    assert unknown.status_code == 422 and "gossip" in unknown.get_json()["errors"]
    wrong = client.put(f"{API}/preferences", json={"orders": "perhaps"}, headers=headers)
    assert wrong.status_code == 422 and "orders" in wrong.get_json()["errors"]
    assert client.get(f"{API}/preferences").get_json() == {**everything, "orders": False, "matches": False}
    other, _ = _signed_in(app, people["other_owner"])
    assert other.get(f"{API}/preferences").get_json() == everything


def test_mail_follows_the_preference_of_each_person(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    client, headers = _signed_in(app, people["owner"])
    assert client.put(f"{API}/preferences", json={"notices": False}, headers=headers).status_code == 200
    with app.app_context():
        inbox.notify("test.pref", group="notices", title="t", body="b", institution_id=people["org"])
        db.session.commit()
    assert mails_of(app, people["owner"], "test.pref") == []
    assert len(mails_of(app, people["member"], "test.pref")) == 1
    assert len(inbox_of(app, people["owner"], "test.pref")) == 1


def test_a_preference_of_another_group_neither_stops_the_mail_nor_repeats_the_notice(app: Flask) -> None:
    with app.app_context():
        people = make_people()
    client, headers = _signed_in(app, people["owner"])
    changed = client.put(f"{API}/preferences", json={"matches": False, "orders": True}, headers=headers)
    assert changed.status_code == 200
    with app.app_context():
        assert inbox.notify("test.other", group="notices", title="t", body="b", institution_id=people["org"]) == 2
        db.session.commit()
    assert len(mails_of(app, people["owner"], "test.other")) == 1
    assert len(inbox_of(app, people["owner"], "test.other")) == 1


# --- The events ---------------------------------------------------------------------------------------------------


def test_a_listing_review_decision_reaches_the_institution(market: Market) -> None:
    app, parties = market.app, market.parties
    [approved] = inbox_of(app, parties.seller, "listing.approved")[:1]  # the market's listings were approved
    assert approved["group"] == "reviews" and approved["link"].startswith("/workspace/listings/")
    products = [row for row in inbox_of(app, parties.seller, "listing.approved") if "product" in row["title_en"]]
    achievements = [row for row in inbox_of(app, parties.seller, "listing.approved")
                    if "achievement" in row["title_en"]]
    assert len(products) == 1 and len(achievements) == 2
    assert products[0]["link"] == f"/workspace/listings/{market.product}"
    assert "Approved" in products[0]["title_en"] and "已批准" in products[0]["title_zh"]
    assert mails_of(app, parties.seller, "listing.approved")
    assert inbox_of(app, parties.buyer, "listing.approved") == []


def test_an_institution_decision_reaches_its_members(app: Flask) -> None:
    with app.app_context():
        org = InstitutionFactory(verification_status="pending")
        owner = UserFactory(institution=org, institution_role="owner")
        member = UserFactory(institution=org, institution_role="member")
        outsider = UserFactory(institution=InstitutionFactory(), institution_role="owner")
        admin = UserFactory(is_admin=True)
        db.session.commit()
        emails = owner.email, member.email, outsider.email
        institutions.review_institution(admin, db.session.get(Institution, org.id), "reject", "资料不全")
        db.session.commit()
    for email in emails[:2]:
        [row] = inbox_of(app, email, "institution.rejected")
        assert row["link"] == "/workspace/institution" and "资料不全" in row["body_en"]
        assert "Rejected" in row["title_en"]
    assert events_of(app, emails[2]) == []


def _request_quote(market: Market) -> int:
    response = market.buyer.order(market.negotiable, "transfer", note="请报价")
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_quote_acceptance_and_cancellation_reach_the_other_side(market: Market) -> None:
    app, parties = market.app, market.parties
    order_id = _request_quote(market)
    assert events_of(app, parties.seller)[-1] == "order.requested"
    assert market.seller.post(f"{ORDERS}/{order_id}/quote", {"amount": 300_000_00, "note": "含培训"}).status_code \
        == 200
    [quoted] = inbox_of(app, parties.buyer, "order.quoted")
    assert quoted["link"] == f"/workspace/orders/{order_id}" and quoted["group"] == "orders"
    assert "¥300,000.00" in quoted["title_zh"] and "CN¥300,000.00" in quoted["title_en"]
    assert "含培训" in quoted["body_en"]
    assert inbox_of(app, parties.seller, "order.quoted") == []
    [(subject, body)] = mails_of(app, parties.buyer, "order.quoted")
    assert "¥300,000.00" in subject and body.rstrip().endswith(f"/workspace/orders/{order_id}")
    assert market.buyer.post(f"{ORDERS}/{order_id}/accept", {"quote_number": 1}).status_code == 200
    assert len(inbox_of(app, parties.seller, "order.accepted")) == 1
    assert market.buyer.post(f"{ORDERS}/{order_id}/cancel", {"reason": "预算取消"}).status_code == 200
    [cancelled] = inbox_of(app, parties.seller, "order.cancelled")
    assert "预算取消" in cancelled["body_zh"]
    assert inbox_of(app, parties.buyer, "order.cancelled") == []
    assert events_of(app, parties.outsider) == []


def test_a_seller_cancelling_tells_the_buyer(market: Market) -> None:
    app, parties = market.app, market.parties
    order_id = _request_quote(market)
    assert market.seller.post(f"{ORDERS}/{order_id}/cancel", {"reason": "无法交付"}).status_code == 200
    [cancelled] = inbox_of(app, parties.buyer, "order.cancelled")
    assert "无法交付" in cancelled["body_en"]
    assert inbox_of(app, parties.seller, "order.cancelled") == []


def test_a_payment_reaches_both_sides_and_delivery_the_buyer(market: Market) -> None:
    app, parties = market.app, market.parties
    order = buy_product(market)
    assert events_of(app, parties.seller)[-1] == "order.created"
    pay_by_card(market, order["id"])
    for email in (parties.buyer, parties.seller):
        [paid] = inbox_of(app, email, "order.paid")
        assert "CN¥12,000,000.00" in paid["body_en"] and "Paid" in paid["body_en"] and "已付款" in paid["body_zh"]
    assert events_of(app, parties.buyer_b) == []
    assert market.seller.post(f"{ORDERS}/{order['id']}/deliver", {"note": "已发货"}).status_code == 200
    assert len(inbox_of(app, parties.buyer, "order.delivered")) == 1
    assert market.buyer.post(f"{ORDERS}/{order['id']}/confirm").status_code == 200
    assert len(inbox_of(app, parties.seller, "order.completed")) == 1


def test_the_end_of_a_public_notice_is_announced_once_to_both_sides(market: Market) -> None:
    app, parties = market.app, market.parties
    order_id = _request_quote(market)
    assert market.seller.post(f"{ORDERS}/{order_id}/quote", {"amount": 200_000_00}).status_code == 200
    assert market.buyer.post(f"{ORDERS}/{order_id}/accept", {"quote_number": 1}).status_code == 200
    with app.app_context():
        ends = utcnow() + timedelta(days=1)
        db.session.execute(update(Order).where(Order.id == order_id).values(notice_until=ends))
        db.session.commit()
        assert announce_ended_notices() == []
        assert announce_ended_notices(ends + timedelta(minutes=1)) == [order_id]
        db.session.commit()
        assert announce_ended_notices(ends + timedelta(minutes=2)) == []
        db.session.commit()
    for email in (parties.buyer, parties.seller):
        [row] = inbox_of(app, email, "order.notice_ended")
        assert row["link"] == f"/workspace/orders/{order_id}" and "CN¥200,000.00" in row["body_en"]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_order_mail_is_in_the_recipients_language(market: Market, locale: str) -> None:
    app, parties = market.app, market.parties

    def set_locale() -> Any:
        db.session.execute(update(User).where(User.email == parties.buyer).values(locale=locale))
        db.session.commit()

    read(app, set_locale)
    order_id = _request_quote(market)
    assert market.seller.post(f"{ORDERS}/{order_id}/quote", {"amount": 300_000_00}).status_code == 200
    [(subject, _body)] = mails_of(app, parties.buyer, "order.quoted")
    [row] = inbox_of(app, parties.buyer, "order.quoted")
    assert subject == (row["title_en"] if locale == "en" else row["title_zh"])
