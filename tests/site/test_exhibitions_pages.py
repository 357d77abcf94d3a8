"""Docking exhibitions on the web front and in the console: the public list and page (drafts 404), registering and
applying from the page, answering an invitation in the workspace (another institution: 404), leads carried by the
enquiry and order forms from the exhibition page, and the console's create/publish/invite/decide/leads."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import Order, Thread
from hall.models.exhibitions import Exhibition, ExhibitionEntry, ExhibitionRegistration
from tests.support.console import admin_client_for, hidden_value, input_values, text
from tests.support.demands import admin_decides, demand_body
from tests.support.exhibitions import invite, make_exhibition, on_roadshow
from tests.support.orders import Market, Party, open_market, read

HTML = {"Accept": "text/html", "Accept-Language": "en"}


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def post(party: Party, path: str, data: dict[str, Any], *, token_from: str) -> TestResponse:
    fields = {**data, "csrf_token": hidden_value(page(party.client, token_from), "csrf_token")}
    return party.client.post(path, data=fields, headers=HTML)


def test_public_pages_show_published_exhibitions_and_their_roadshow(app: Flask) -> None:
    market = open_market(app)
    draft = make_exhibition(app, market.parties.admin_id, publish=False, title_en="Secret draft")
    shown = make_exhibition(app, market.parties.admin_id)
    on_roadshow(market, shown, market.licence)
    visitor = app.test_client()
    listing = page(visitor, "/exhibitions")
    assert "New energy docking exhibition" in listing and "Secret draft" not in listing
    page(visitor, f"/exhibitions/{draft}", 404)
    detail = page(visitor, f"/exhibitions/{shown}")
    assert f"/hall/listings/{market.licence}?exhibition={shown}" in detail
    assert "Sign in to register" in detail
    assert page(visitor, "/exhibitions?when=past").count("exh-card") == 0
    assert "Exhibitions" in page(visitor, "/exhibitions?direction=nowhere", 422)


def test_register_and_apply_from_the_page(app: Flask) -> None:
    market = open_market(app)
    exhibition_id = make_exhibition(app, market.parties.admin_id, capacity=3)
    path = f"/exhibitions/{exhibition_id}"
    assert post(market.buyer, f"{path}/registration", {"attendees": "5"}, token_from=path).status_code == 409
    assert post(market.buyer, f"{path}/registration", {"attendees": "2"}, token_from=path).status_code == 302
    assert "2 人参会" in page(market.buyer.client, path)
    assert read(app, lambda: db.session.scalar(select(ExhibitionRegistration.attendees))) == 2
    html = page(market.seller.client, path)
    assert f'value="listing:{market.licence}"' in html
    applied = post(market.seller, f"{path}/apply", {"subject": f"listing:{market.licence}"}, token_from=path)
    assert applied.status_code == 302
    assert read(app, lambda: db.session.scalar(select(ExhibitionEntry.status))) == "applied"
    refused = post(market.buyer, f"{path}/apply", {"subject": f"listing:{market.licence}"}, token_from=path)
    assert refused.status_code == 422


def test_invitations_are_answered_in_the_workspace_by_their_institution_only(app: Flask) -> None:
    market = open_market(app)
    exhibition_id = make_exhibition(app, market.parties.admin_id)
    entry_id = invite(app, market.parties.admin_id, exhibition_id, listing_id=market.licence)
    html = page(market.seller.client, "/workspace/exhibitions")
    target = f"/workspace/exhibitions/entries/{entry_id}"
    assert "新能源成果对接会" in html and f'action="{target}"' in html
    other = post(market.buyer, target, {"action": "accept"}, token_from="/workspace/exhibitions")
    assert other.status_code == 404
    assert post(market.seller, target, {"action": "accept"}, token_from="/workspace/exhibitions").status_code == 302
    assert read(app, lambda: db.session.get(ExhibitionEntry, entry_id).status) == "accepted"


def _lead_market(app: Flask) -> tuple[Market, int]:
    market = open_market(app)
    exhibition_id = make_exhibition(app, market.parties.admin_id)
    on_roadshow(market, exhibition_id, market.licence)
    return market, exhibition_id


def test_the_enquiry_and_order_forms_carry_the_exhibition(app: Flask) -> None:
    market, exhibition_id = _lead_market(app)
    listing = f"/hall/listings/{market.licence}?exhibition={exhibition_id}"
    html = page(market.buyer.client, listing)
    assert input_values(html).get("exhibition_id") == str(exhibition_id)
    assert f"/hall/listings/{market.licence}/order?exhibition={exhibition_id}" in html
    asked = post(market.buyer, f"/hall/listings/{market.licence}/ask",
                 {"subject": "Licence", "body": "Seen at the roadshow.", "exhibition_id": str(exhibition_id)},
                 token_from=listing)
    assert asked.status_code == 302, text(asked)[:1000]
    assert read(app, lambda: db.session.scalar(select(Thread.exhibition_id))) == exhibition_id
    order_page = f"/hall/listings/{market.licence}/order?exhibition={exhibition_id}"
    assert input_values(page(market.buyer.client, order_page)).get("exhibition_id") == str(exhibition_id)
    ordered = post(market.buyer, f"/hall/listings/{market.licence}/order",
                   {"deal_mode": "non_exclusive_license", "exhibition_id": str(exhibition_id)}, token_from=order_page)
    assert ordered.status_code == 302, text(ordered)[:2000]
    assert read(app, lambda: db.session.scalar(select(Order.exhibition_id))) == exhibition_id


def test_the_answer_form_of_a_roadshow_demand_carries_the_exhibition(app: Flask) -> None:
    market = open_market(app)
    exhibition_id = make_exhibition(app, market.parties.admin_id)
    demand_id = market.seller.post("/api/v1/demands", demand_body()).get_json()["id"]
    assert market.seller.post(f"/api/v1/demands/{demand_id}/submit").status_code == 200
    admin_decides(app, demand_id, "approve")
    entry_id = invite(app, market.parties.admin_id, exhibition_id, demand_id=demand_id)
    assert market.seller.post(f"/api/v1/exhibitions/{exhibition_id}/entries/{entry_id}/accept").status_code == 200
    shown = f"/demands/{demand_id}?exhibition={exhibition_id}"
    assert f"?exhibition={exhibition_id}" in page(market.buyer.client, f"/exhibitions/{exhibition_id}")
    assert input_values(page(market.buyer.client, shown)).get("exhibition_id") == str(exhibition_id)
    answered = post(market.buyer, f"/demands/{demand_id}/answer",
                    {"subject": "Roadshow", "body": "We met at the roadshow.", "exhibition_id": str(exhibition_id)},
                    token_from=shown)
    assert answered.status_code == 302, text(answered)[:1000]
    assert read(app, lambda: db.session.scalar(select(Thread.exhibition_id))) == exhibition_id


def test_a_wrong_exhibition_in_the_order_form_is_refused(app: Flask) -> None:
    market, exhibition_id = _lead_market(app)
    order_page = f"/hall/listings/{market.negotiable}/order?exhibition={exhibition_id}"
    refused = post(market.buyer, f"/hall/listings/{market.negotiable}/order",
                   {"deal_mode": "transfer", "exhibition_id": str(exhibition_id)}, token_from=order_page)
    assert refused.status_code == 422 and "路演名单" in text(refused)
    assert read(app, lambda: db.session.scalar(select(Order.id))) is None


def test_the_console_creates_publishes_invites_and_counts(app: Flask) -> None:
    market = open_market(app)
    admin = admin_client_for(app, market.parties.admin)
    new = admin.get("/admin/exhibitions/new", headers=HTML)
    assert new.status_code == 200
    form = {"csrf_token": hidden_value(text(new), "csrf_token"), "title_zh": "储能路演", "title_en": "Storage roadshow",
            "starts_at": "2031-05-01T09:00", "ends_at": "2031-04-30T17:00", "mode": "offline", "place": "",
            "directions": "energy"}
    refused = admin.post("/admin/exhibitions/create", data=form, headers=HTML)
    assert refused.status_code == 422
    created = admin.post("/admin/exhibitions/create", data={**form, "ends_at": "2031-05-01T17:00", "place": "北京"},
                         headers=HTML)
    assert created.status_code == 302, text(created)[:2000]
    exhibition_id = read(app, lambda: db.session.scalar(select(Exhibition.id)))
    starts = read(app, lambda: db.session.get(Exhibition, exhibition_id).starts_at)
    assert (starts.hour, starts.day) == (1, 1)  # 09:00 Beijing time is 01:00 UTC
    detail = f"/admin/exhibitions/{exhibition_id}"
    html = page(admin, detail)
    assert 'value="2031-05-01T09:00"' in html  # the edit form shows Beijing time again
    token = hidden_value(html, "csrf_token")
    assert admin.post(f"{detail}/state", data={"csrf_token": token, "action": "publish", "lock_version": "1"},
                      headers=HTML).status_code == 302
    assert admin.post(f"{detail}/invite", data={"csrf_token": token, "kind": "listing", "subject_id": "987654"},
                      headers=HTML).status_code == 422
    assert admin.post(f"{detail}/invite", data={"csrf_token": token, "kind": "listing",
                                                "subject_id": str(market.licence)}, headers=HTML).status_code == 302
    entry_id = read(app, lambda: db.session.scalar(select(ExhibitionEntry.id)))
    assert market.seller.post(f"/api/v1/exhibitions/{exhibition_id}/entries/{entry_id}/accept").status_code == 200
    assert market.buyer.post("/api/v1/threads", {"listing_id": market.licence, "body": "hi",
                                                 "exhibition_id": exhibition_id}).status_code == 201
    html = page(admin, detail)
    assert 'data-lead="enquiries">1<' in html
    assert admin.post(f"{detail}/state", data={"csrf_token": token, "action": "cancel", "reason": ""},
                      headers=HTML).status_code == 422
    assert admin.post(f"{detail}/state", data={"csrf_token": token, "action": "cancel", "reason": "改期",
                                               "lock_version": "2"}, headers=HTML).status_code == 302
    assert read(app, lambda: db.session.get(Exhibition, exhibition_id).status) == "cancelled"
