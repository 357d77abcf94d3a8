"""Demand postings on the web front (issue 12): the public demand hall with its facets in words and a published
demand's page (drafts hidden); the workspace form (field-level errors, amounts typed in yuan kept in fen, a stale
edit, submission with what is missing); a demand's matches with their reasons, starred, dismissed and taken back;
the workspace listing page's demands it could answer; another institution's demand is 404 (AUTHZ-01)."""
from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from hall.extensions import db
from hall.models import Demand, MatchFeedback, User
from tests.support.console import field_errors, flashes, hidden_value, text
from tests.support.demands import admin_decides, demand_body, in_days
from tests.support.orders import Market, Party, open_market

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
BATTERY = dict(title_zh="寻求固态电池电解质技术", title_en="Seeking a solid-state battery electrolyte",
               description_zh="我公司需要硫化物固态电解质的制备工艺，用于动力电池。",
               description_en="We need a sulfide solid electrolyte process for traction batteries.",
               keywords=["固态电池", "电解质"], field_codes=["energy.storage"], trl_min=5, trl_max=7,
               budget_min=None, budget_max=600_000_00, bounty_amount=None, region_code="110000",
               deal_modes=["transfer", "exclusive_license"])
LICENCE_TITLE = "Solid-state battery electrolyte with high energy density"


@pytest.fixture
def market(app: Flask) -> Market:
    """Parties around published listings (the seller's battery electrolyte among them), pages in English."""
    opened = open_market(app)
    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    return opened


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, f"GET {path} -> {response.status_code}: {text(response)[:1500]}"
    return text(response)


def visible(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", body.split("<body>", 1)[-1]))


def link(body: str, pattern: str) -> str:
    """The first href matching ``pattern`` (a regular expression), unescaped."""
    found = re.search(rf'href="({pattern})"', body)
    assert found, f"no link like {pattern}"
    return html.unescape(found.group(1))


def post(party: Party, path: str, data: dict[str, Any], token_from: str) -> TestResponse:
    fields = {**data, "csrf_token": hidden_value(page(party.client, token_from), "csrf_token")}
    return party.client.post(path, data=fields, headers=HTML)


def publish(market: Market, party: Party, **overrides: Any) -> int:
    created = party.post("/api/v1/demands", demand_body(**overrides))
    assert created.status_code == 201, created.get_json()
    demand_id = int(created.get_json()["id"])
    assert party.post(f"/api/v1/demands/{demand_id}/submit").status_code == 200
    admin_decides(market.app, demand_id, "approve")
    return demand_id


def english_visitor(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.get("/language?locale=en&next=/")
    return client


def stored(app: Flask, demand_id: int) -> Demand:
    with app.app_context():
        demand = db.session.get(Demand, demand_id)
        assert demand is not None
        db.session.expunge(demand)
        return demand


# --- the public demand hall -----------------------------------------------------------------------------------

def test_the_demand_hall_shows_published_demands_with_facets_in_words_and_hides_drafts(market: Market) -> None:
    hydrogen = publish(market, market.buyer)
    battery = publish(market, market.buyer_b, **{**BATTERY, "budget_max": None, "budget_negotiable": True})
    draft = market.buyer.post("/api/v1/demands", demand_body(title_en="A secret draft need")).get_json()["id"]
    visitor = english_visitor(market.app)

    body = page(visitor, "/demands")
    words = visible(body)
    assert "Solid-state hydrogen storage material wanted" in words and "Seeking a solid-state battery" in words
    assert "A secret draft need" not in words
    assert "energy.hydrogen" not in words and "exclusive_license" not in words  # codes read as words
    assert "Bounty" in words and "Negotiable" in words
    assert 'rel="canonical" href="http://127.0.0.1:8000/demands"' in body
    assert 'href="/demands"' in body  # the "Demands" item of the public nav

    narrowed = visible(page(visitor, link(body, r"/demands\?has_bounty=true")))
    assert "Solid-state hydrogen storage material wanted" in narrowed
    assert "Seeking a solid-state battery" not in narrowed
    assert "Filters in use" in narrowed
    assert "Seeking a solid-state battery" in visible(page(visitor, link(body, r"/demands\?field=energy\.storage")))

    empty = visible(page(visitor, "/demands?q=zzqqxx&has_bounty=true"))
    assert "No open demand matches this search." in empty and "Try it with fewer filters" in empty
    assert "Lowest TRL" in visible(page(visitor, "/demands?trl_min=12", status=400))

    detail = page(visitor, f"/demands/{hydrogen}")
    facts = visible(detail)
    assert "¥500,000.00–CN¥2,000,000.00" in facts and "¥100,000.00" in facts  # yuan, from fen
    assert f'href="/institutions/{market.parties.buyer_org}"' in detail
    assert f'rel="canonical" href="http://127.0.0.1:8000/demands/{hydrogen}"' in detail
    assert "Negotiable" in visible(page(visitor, f"/demands/{battery}"))
    page(visitor, f"/demands/{draft}", status=404)
    assert "需求" in visible(page(market.app.test_client(), "/demands"))  # Chinese by default

    sitemap = market.app.test_client().get("/sitemap.xml").get_data(as_text=True)
    assert f"/demands/{hydrogen}</loc>" in sitemap and f"/demands/{draft}</loc>" not in sitemap


# --- the workspace form ---------------------------------------------------------------------------------------

def form_of(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title_zh": "高密度固态储氢材料技术需求", "title_en": "Solid-state hydrogen storage material wanted",
        "description_zh": "寻求体积储氢密度高、可循环的固态储氢材料。", "description_en": "",
        "keywords": "储氢, hydrogen storage", "direction_code": "energy", "field_codes": ["energy.hydrogen"],
        "trl_min": "4", "trl_max": "7", "currency": "CNY", "budget_min": "500000", "budget_max": "2000000.50",
        "deadline": in_days(60), "region_code": "440000", "deal_modes": ["transfer", "joint_development"],
        "bounty_amount": "100000"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_member_creates_a_demand_with_errors_beside_the_fields_and_amounts_in_yuan_kept_in_fen(
        market: Market) -> None:
    buyer = market.buyer
    refused = post(buyer, "/workspace/demands/new", form_of(budget_min="lots", trl_min="7", trl_max="4"),
                   "/workspace/demands/new")
    assert refused.status_code == 422
    body = text(refused)
    assert field_errors(body, "budget_min")
    assert flashes(body, "error")

    refused = post(buyer, "/workspace/demands/new", form_of(trl_min="7", trl_max="4"), "/workspace/demands/new")
    assert refused.status_code == 422 and field_errors(text(refused), "trl_max")

    refused = post(buyer, "/workspace/demands/new", form_of(direction_code="information"), "/workspace/demands/new")
    assert refused.status_code == 422 and field_errors(text(refused), "field_codes")  # the service's check

    created = post(buyer, "/workspace/demands/new", form_of(deadline=""), "/workspace/demands/new")
    assert created.status_code == 302, text(created)[:2000]
    demand_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    demand = stored(market.app, demand_id)
    assert (demand.budget_min, demand.budget_max, demand.bounty_amount) == (500_000_00, 2_000_000_50, 100_000_00)
    assert demand.field_codes == ["energy.hydrogen"] and demand.deal_modes == ["transfer", "joint_development"]
    assert demand.status == "draft" and demand.region_code == "440000"

    missing = post(buyer, f"/workspace/demands/{demand_id}/submit", {}, f"/workspace/demands/{demand_id}")
    assert missing.status_code == 422
    assert "Complete these before submitting" in text(missing) and "Closes after" in visible(text(missing))

    edit = f"/workspace/demands/{demand_id}/edit"
    saved = post(buyer, edit, form_of(deadline=in_days(30), lock_version=str(demand.lock_version)), edit)
    assert saved.status_code == 302, text(saved)[:2000]
    submitted = post(buyer, f"/workspace/demands/{demand_id}/submit", {}, f"/workspace/demands/{demand_id}")
    assert submitted.status_code == 302
    assert stored(market.app, demand_id).status == "submitted"
    listing = page(buyer.client, "/workspace/demands")
    assert "Solid-state hydrogen storage material wanted" in visible(listing) and "ws-state-submitted" in listing


def test_a_stale_edit_is_shown_as_someone_else_changed_this(market: Market) -> None:
    buyer = market.buyer
    demand_id = publish(market, buyer)
    edit = f"/workspace/demands/{demand_id}/edit"
    opened = page(buyer.client, edit)
    lock = hidden_value(opened, "lock_version")
    other = buyer.client.get(f"/api/v1/demands/{demand_id}")
    changed = buyer.client.patch(f"/api/v1/demands/{demand_id}", json={"title_en": "Changed meanwhile"},
                                 headers={"X-CSRFToken": buyer.csrf, "If-Match": other.headers["ETag"]})
    assert changed.status_code == 200
    stale = buyer.client.post(edit, data={**form_of(title_en="My late edit"), "lock_version": lock,
                                          "csrf_token": hidden_value(opened, "csrf_token")}, headers=HTML)
    assert stale.status_code == 409
    assert "Someone else changed this demand" in text(stale) and "Changed meanwhile" in text(stale)
    demand = stored(market.app, demand_id)
    assert demand.revision is not None and demand.revision["title_en"] == "Changed meanwhile"
    shown = visible(page(buyer.client, f"/workspace/demands/{demand_id}"))
    assert "Public version" in shown and "Your pending revision" in shown


# --- matches ----------------------------------------------------------------------------------------------------

def test_a_demand_shows_the_listings_that_fit_with_reasons_and_takes_stars_and_dismissals(market: Market) -> None:
    buyer = market.buyer
    demand_id = publish(market, buyer, **BATTERY)
    path = f"/workspace/demands/{demand_id}"
    body = page(buyer.client, path)
    assert f'href="/hall/listings/{market.licence}"' in body
    words = visible(body)
    assert LICENCE_TITLE in words and "Listings that fit" in words
    assert "✓" in words and "Same field" in words and "TRL 6 is within the wanted 5–7" in words
    action = f"/workspace/demands/{demand_id}/matches/{market.licence}"

    starred = post(buyer, action, {"verdict": "star"}, path)
    assert starred.status_code == 302
    after = visible(page(buyer.client, path))
    assert "You starred this match" in after and "Unstar" in after
    with market.app.app_context():
        row = db.session.scalar(select(MatchFeedback).where(MatchFeedback.demand_id == demand_id))
        assert row is not None and (row.verdict, row.side, row.listing_id) == ("star", "demand", market.licence)

    assert post(buyer, action, {"verdict": "dismiss"}, path).status_code == 302
    after = page(buyer.client, path)
    matches = after.split('id="matches"', 1)[1].split("dismissed", 1)[0]
    assert f"/hall/listings/{market.licence}" not in matches
    assert "Undo the dismissal" in after

    assert post(buyer, action, {"verdict": "undo"}, path).status_code == 302
    assert "Undo the dismissal" not in page(buyer.client, path)
    with market.app.app_context():
        assert db.session.scalar(select(MatchFeedback).where(MatchFeedback.demand_id == demand_id)) is None
    assert post(buyer, action, {"verdict": "love"}, path).status_code == 302  # refused, nothing stored


def test_another_institution_gets_404_and_a_visitor_is_sent_to_sign_in(market: Market) -> None:
    demand_id = publish(market, market.buyer, **BATTERY)
    outsider = market.outsider
    for path in (f"/workspace/demands/{demand_id}", f"/workspace/demands/{demand_id}/edit"):
        page(outsider.client, path, status=404)
    refused = post(outsider, f"/workspace/demands/{demand_id}/matches/{market.licence}", {"verdict": "star"},
                   "/workspace/demands")
    assert refused.status_code == 404
    closed = post(outsider, f"/workspace/demands/{demand_id}/close", {}, "/workspace/demands")
    assert closed.status_code == 404 and stored(market.app, demand_id).status == "published"
    visitor = market.app.test_client().get(f"/workspace/demands/{demand_id}", headers=HTML)
    assert visitor.status_code == 302 and visitor.headers["Location"].startswith("/sign-in")
    page(market.app.test_client(), "/workspace/demands", status=302)
    assert "Your demands" in visible(page(outsider.client, "/workspace/demands"))


def test_the_workspace_listing_page_shows_the_demands_it_could_answer(market: Market) -> None:
    demand_id = publish(market, market.buyer, **BATTERY)
    seller = market.seller
    path = f"/workspace/listings/{market.licence}"
    body = page(seller.client, path)
    words = visible(body)
    assert "Demands this listing could answer" in words and "Seeking a solid-state battery electrolyte" in words
    assert f'href="/demands/{demand_id}"' in body and "Same field" in words
    action = f"/workspace/listings/{market.licence}/demand-matches/{demand_id}"
    assert post(seller, action, {"verdict": "star"}, path).status_code == 302
    assert "Unstar" in page(seller.client, path)
    assert post(seller, action, {"verdict": "dismiss"}, path).status_code == 302
    assert "Undo the dismissal" in page(seller.client, path)
    with market.app.app_context():
        row = db.session.scalar(select(MatchFeedback).where(MatchFeedback.listing_id == market.licence))
        assert row is not None and (row.side, row.verdict) == ("listing", "dismiss")
    # the buyer cannot judge the seller's listing's matches
    assert post(market.buyer, action, {"verdict": "star"}, "/workspace/demands").status_code == 404


def test_the_workspace_demand_pages_render_in_chinese(market: Market) -> None:
    demand_id = publish(market, market.buyer, **BATTERY)
    with market.app.app_context():
        db.session.execute(update(User).values(locale="zh_CN"))
        db.session.commit()
        db.session.remove()
    buyer = market.buyer
    for path in ("/workspace/demands", "/workspace/demands/new", f"/workspace/demands/{demand_id}",
                 f"/workspace/demands/{demand_id}/edit", f"/demands/{demand_id}", "/demands"):
        assert '<html lang="zh-CN">' in page(buyer.client, path)
    assert '<html lang="zh-CN">' in page(market.seller.client, f"/workspace/listings/{market.licence}")
