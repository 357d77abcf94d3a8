"""Docking exhibitions through the API: visibility, the entry machine (who answers what), registrations, and the
leads (enquiries and orders started from an exhibition) with their counts."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import Institution, Order, Thread, User
from hall.models.exhibitions import Exhibition
from hall.services.core.errors import Conflict, Forbidden, InvalidInput
from hall.services.policy import exhibitions, exhibitions_entries, exhibitions_leads
from tests.support.demands import Poster, publish
from tests.support.exhibitions import as_admin, hours, invite, make_exhibition, on_roadshow
from tests.support.factories import UserFactory
from tests.support.orders import Market, pay_by_card, read, refund

API = "/api/v1/exhibitions"


def test_drafts_are_404_to_the_public_and_the_list_puts_upcoming_first(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    draft = make_exhibition(app, admin, publish=False)
    soon = make_exhibition(app, admin, starts_at=hours(2), ends_at=hours(5), registration_deadline=None)
    later = make_exhibition(app, admin, title_zh="材料对接会", directions=["materials"])
    past = make_exhibition(app, admin, starts_at=hours(1), ends_at=hours(2), registration_deadline=None)
    with app.app_context():  # the past one happened: move it back in time
        row = db.session.get(Exhibition, past)
        assert row is not None
        row.starts_at, row.ends_at = hours(-30), hours(-28)
        db.session.commit()
    client = app.test_client()
    assert client.get(f"{API}/{draft}").status_code == 404
    ids = [item["id"] for item in client.get(API).get_json()["items"]]
    assert ids == [soon, later, past]
    assert [i["id"] for i in client.get(API, query_string={"when": "past"}).get_json()["items"]] == [past]
    assert [i["id"] for i in client.get(API, query_string={"when": "upcoming", "direction": "energy"})
            .get_json()["items"]] == [soon, past][:1] + []
    only_materials = client.get(API, query_string={"direction": "materials", "when": "upcoming"}).get_json()
    assert {i["id"] for i in only_materials["items"]} == {soon, later}
    bad = client.get(API, query_string={"direction": "nowhere"})
    assert bad.status_code == 422 and "directions" in bad.get_json()["errors"]
    detail = client.get(f"{API}/{past}").get_json()
    assert detail["phase"] == "ended" and detail["roadshow"] == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"ends_at": hours(24 * 6)}, "ends_at"),
    ({"mode": "offline", "place": None}, "place"),
    ({"mode": "online", "online_url": None}, "online_url"),
    ({"mode": "online", "online_url": "http://meeting.example.cn"}, "online_url"),
    ({"directions": ["energy", "astrology"]}, "directions"),
    ({"capacity": 0}, "capacity"),
    ({"registration_deadline": hours(24 * 10)}, "registration_deadline"),
    ({"title_zh": " ", "title_en": None}, "title_zh"),
])
def test_the_content_rules_name_the_field(market: Market, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make_exhibition(market.app, market.parties.admin_id, **overrides)
    assert field in refused.value.errors
    assert read(market.app, lambda: db.session.scalar(select(Exhibition.id))) is None


def test_online_needs_no_place_and_offline_no_link(market: Market) -> None:
    online = make_exhibition(market.app, market.parties.admin_id, mode="online", place=None)
    offline = make_exhibition(market.app, market.parties.admin_id, mode="offline", online_url=None)
    assert market.app.test_client().get(f"{API}/{online}").get_json()["mode"] == "online"
    assert market.app.test_client().get(f"{API}/{offline}").get_json()["online_url"] is None


def test_the_event_machine_publish_then_cancel_with_a_reason_tells_registrants(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin, publish=False)
    with pytest.raises(Conflict):
        as_admin(app, admin, lambda a: exhibitions.cancel_exhibition(a, exhibition_id, "x") and
                 exhibitions.publish_exhibition(a, exhibition_id))
    as_admin(app, admin, lambda a: exhibitions.publish_exhibition(a, exhibition_id))
    with pytest.raises(Conflict):
        as_admin(app, admin, lambda a: exhibitions.publish_exhibition(a, exhibition_id))
    assert market.buyer.post(f"{API}/{exhibition_id}/registration", {"attendees": 3}).status_code == 201
    with pytest.raises(InvalidInput):
        as_admin(app, admin, lambda a: exhibitions.cancel_exhibition(a, exhibition_id, " "))
    as_admin(app, admin, lambda a: exhibitions.cancel_exhibition(a, exhibition_id, "场地变更"))
    page = app.test_client().get(f"{API}/{exhibition_id}").get_json()
    assert page["status"] == "cancelled" and page["cancel_reason"] == "场地变更" and page["online_url"] is None
    assert exhibition_id not in [i["id"] for i in app.test_client().get(API).get_json()["items"]]
    notes = market.buyer.get("/api/v1/notifications").get_json()
    assert any("场地变更" in (n.get("body") or "") for n in notes)
    again = market.buyer_b.post(f"{API}/{exhibition_id}/registration", {"attendees": 1})
    assert again.status_code == 409


def test_an_invitation_is_answered_by_its_institution_only(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin)
    entry_id = invite(app, admin, exhibition_id, listing_id=market.licence)
    assert any("invites" in (n.get("body") or "") for n in market.seller.get("/api/v1/notifications").get_json())
    assert app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"] == []  # not accepted yet
    path = f"{API}/{exhibition_id}/entries/{entry_id}"
    assert market.buyer.post(f"{path}/accept").status_code == 404
    assert market.outsider.post(f"{path}/withdraw").status_code == 404
    assert market.seller.post(f"{path}/accept").get_json()["status"] == "accepted"
    assert market.seller.post(f"{path}/decline").status_code == 409
    roadshow = app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"]
    assert [(r["kind"], r["listing_id"], r["position"]) for r in roadshow] == [("listing", market.licence, 1)]
    assert market.seller.post(f"{path}/withdraw").get_json()["status"] == "withdrawn"
    assert app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"] == []
    mine = market.seller.get(f"{API}/mine").get_json()
    assert [(e["id"], e["status"]) for e in mine["entries"]] == [(entry_id, "withdrawn")]
    assert market.buyer.get(f"{API}/mine").get_json()["entries"] == []


def test_applications_are_decided_by_admins_not_of_the_applying_institution(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin)
    assert market.buyer.post(f"{API}/{exhibition_id}/entries", {"listing_id": market.licence}).status_code == 422
    demand_id = publish(app, Poster(app, market.parties.seller))
    applied = market.seller.post(f"{API}/{exhibition_id}/entries", {"demand_id": demand_id})
    assert applied.status_code == 201 and applied.get_json()["status"] == "applied"
    entry_id = applied.get_json()["id"]
    assert market.seller.post(f"{API}/{exhibition_id}/entries", {"demand_id": demand_id}).status_code == 409
    assert market.seller.post(f"{API}/{exhibition_id}/entries/{entry_id}/accept").status_code == 403
    with app.app_context():
        own_admin = UserFactory(is_admin=True, institution=db.session.get(Institution, market.parties.seller_org))
        db.session.commit()
        own_admin_id = own_admin.id
    with pytest.raises(Forbidden):
        as_admin(app, own_admin_id, lambda a: exhibitions_entries.decide_application(a, exhibition_id, entry_id,
                                                                                     "accept"))
    with pytest.raises(InvalidInput):
        as_admin(app, admin, lambda a: exhibitions_entries.decide_application(a, exhibition_id, entry_id, "decline"))
    as_admin(app, admin, lambda a: exhibitions_entries.decide_application(a, exhibition_id, entry_id, "decline",
                                                                          "不符合主题"))
    assert market.seller.get(f"{API}/mine").get_json()["entries"][0]["status_reason"] == "不符合主题"
    assert app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"] == []


def test_entries_of_unpublished_listings_are_never_shown(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin)
    on_roadshow(market, exhibition_id, market.licence)
    on_roadshow(market, exhibition_id, market.negotiable)
    assert len(app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"]) == 2
    assert market.seller.post(f"/api/v1/listings/{market.negotiable}/withdraw").status_code == 200
    roadshow = app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"]
    assert [r["listing_id"] for r in roadshow] == [market.licence]


def test_registration_rules(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin, capacity=5)
    path = f"{API}/{exhibition_id}/registration"
    assert market.buyer.post(path, {"attendees": 21}).status_code == 422
    assert market.buyer.post(path, {"attendees": 4}).status_code == 201
    full = market.buyer_b.post(path, {"attendees": 2})
    assert full.status_code == 409 and "1" in full.get_json()["message"]
    assert market.buyer.post(path, {"attendees": 3}).status_code == 201  # fewer: a seat freed
    assert market.buyer_b.post(path, {"attendees": 2}).status_code == 201
    assert market.buyer.client.delete(path, headers={"X-CSRFToken": market.buyer.csrf}).status_code == 200
    assert read(app, lambda: db.session.get(Exhibition, exhibition_id).registered_attendees) == 2
    assert market.buyer.client.delete(path, headers={"X-CSRFToken": market.buyer.csrf}).status_code == 404
    closed = make_exhibition(app, admin, registration_deadline=hours(1))
    with app.app_context():
        row = db.session.get(Exhibition, closed)
        assert row is not None
        row.registration_deadline = hours(-1)
        db.session.commit()
    late = market.buyer.post(f"{API}/{closed}/registration", {"attendees": 1})
    assert late.status_code == 409 and "Registration closed" in late.get_json()["message"]
    draft = make_exhibition(app, admin, publish=False)
    assert market.buyer.post(f"{API}/{draft}/registration", {"attendees": 1}).status_code == 404


def _thread(market: Market, body: dict[str, Any]) -> Any:
    return market.buyer.post("/api/v1/threads", {"body": "路演上看到了，想了解授权条件。", **body})


def test_leads_are_attributed_only_to_a_published_exhibition_the_listing_is_on(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin)
    other = make_exhibition(app, admin, title_zh="另一场")
    on_roadshow(market, exhibition_id, market.licence)
    for body, field in (({"listing_id": market.licence, "exhibition_id": other}, "exhibition_id"),
                        ({"listing_id": market.negotiable, "exhibition_id": exhibition_id}, "exhibition_id"),
                        ({"listing_id": market.licence, "exhibition_id": 987_654}, "exhibition_id")):
        refused = _thread(market, body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    wrong = market.buyer.order(market.licence, "non_exclusive_license", exhibition_id=other)
    assert wrong.status_code == 422 and "exhibition_id" in wrong.get_json()["errors"]
    assert read(app, lambda: db.session.scalar(select(Thread.id))) is None

    opened = _thread(market, {"listing_id": market.licence, "exhibition_id": exhibition_id})
    assert opened.status_code == 201 and opened.get_json()["exhibition_id"] == exhibition_id
    placed = market.buyer.order(market.licence, "non_exclusive_license", exhibition_id=exhibition_id)
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["exhibition_id"] == exhibition_id  # the API says where the order came from
    order_id = placed.get_json()["id"]
    assert read(app, lambda: db.session.get(Order, order_id).exhibition_id) == exhibition_id
    pay_by_card(market, order_id)
    refund(market, order_id, 100_000_00)
    unpaid = market.buyer_b.order(market.licence, "non_exclusive_license", exhibition_id=exhibition_id)
    assert unpaid.status_code == 201

    def counts(actor_id: int, own: bool) -> Any:
        with app.app_context():
            person = db.session.get(User, actor_id)
            assert person is not None
            if own:
                return exhibitions_leads.own_leads(person, exhibition_id)
            return exhibitions_leads.exhibition_leads(person, exhibition_id)
    total = counts(admin, own=False)
    amount = read(app, lambda: db.session.get(Order, order_id).paid_amount) - 100_000_00
    assert (total.enquiries, total.orders, total.paid_orders, total.paid_amounts) == (1, 2, 1, {"CNY": amount})
    seller_view = counts(market.parties.seller_id, own=True)
    assert (seller_view.enquiries, seller_view.orders) == (1, 2)
    buyer_view = counts(market.parties.buyer_id, own=True)
    assert (buyer_view.enquiries, buyer_view.orders, buyer_view.paid_orders) == (0, 0, 0)
    other_counts = read(app, lambda: exhibitions_leads.exhibition_leads(db.session.get(User, admin), other))
    assert other_counts.orders == 0


def test_cancelled_exhibitions_take_no_more_leads(market: Market, app: Flask) -> None:
    exhibition_id = make_exhibition(app, market.parties.admin_id)
    on_roadshow(market, exhibition_id, market.licence)
    as_admin(app, market.parties.admin_id, lambda a: exhibitions.cancel_exhibition(a, exhibition_id, "取消"))
    refused = _thread(market, {"listing_id": market.licence, "exhibition_id": exhibition_id})
    assert refused.status_code == 422 and "exhibition_id" in refused.get_json()["errors"]


def test_a_withdrawn_entry_may_apply_again_and_a_declined_one_be_invited_again(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin)
    entry_id = invite(app, admin, exhibition_id, listing_id=market.licence)
    path = f"{API}/{exhibition_id}/entries"
    assert market.seller.post(f"{path}/{entry_id}/decline").get_json()["status"] == "declined"
    assert market.seller.post(path, {"listing_id": market.licence}).status_code == 409  # declined: no re-application
    assert invite(app, admin, exhibition_id, listing_id=market.licence) == entry_id  # the same row, invited again
    assert market.seller.post(f"{path}/{entry_id}/withdraw").get_json()["status"] == "withdrawn"
    again = market.seller.post(path, {"listing_id": market.licence})
    assert again.status_code == 201 and again.get_json()["id"] == entry_id
    assert (again.get_json()["status"], again.get_json()["origin"]) == ("applied", "applied")
    as_admin(app, admin, lambda a: exhibitions_entries.decide_application(a, exhibition_id, entry_id, "accept"))
    notes = market.seller.get("/api/v1/notifications").get_json()
    assert any("accepted" in (n.get("body") or "") for n in notes)
    assert app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"][0]["entry_id"] == entry_id


def test_the_roadshow_follows_the_positions_an_admin_sets(market: Market) -> None:
    app, admin = market.app, market.parties.admin_id
    exhibition_id = make_exhibition(app, admin)
    first = on_roadshow(market, exhibition_id, market.licence)
    second = on_roadshow(market, exhibition_id, market.negotiable)
    roadshow = app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"]
    assert [r["entry_id"] for r in roadshow] == [first, second]
    slot = hours(24 * 7 + 2)
    as_admin(app, admin, lambda a: exhibitions_entries.set_position(a, exhibition_id, first, 5, slot))
    roadshow = app.test_client().get(f"{API}/{exhibition_id}").get_json()["roadshow"]
    assert [r["entry_id"] for r in roadshow] == [second, first] and roadshow[1]["slot_at"] is not None
    with pytest.raises(InvalidInput):
        as_admin(app, admin, lambda a: exhibitions_entries.set_position(a, exhibition_id, first, 1, hours(1)))
