"""Matching a demand to the hall's listings (issue 12): ranked from the full-text index, each match with its
reasons (shared words, field, TRL window, budget against price, deal modes, region), owners' stars and dismissals
stored and moving similar matches; only the demand's own institution asks (BOLA)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask

from hall.extensions import db
from hall.models.demands import Demand
from hall.models.types import utcnow
from hall.search.demands import index_demand
from tests.support.demands import Poster
from tests.support.demands import publish as publish_demand
from tests.support.inbox import inbox_of
from tests.support.listing_data import achievement
from tests.support.orders import Market
from tests.support.trading import publish

MATCHES = "/api/v1/demands/{}/matches"
FEEDBACK = "/api/v1/matches/feedback"


def make_demand(app: Flask, institution_id: int, user_id: int, **overrides: Any) -> int:
    """A published demand for a solid-state electrolyte (written directly: matching needs no review)."""
    values: dict[str, Any] = dict(
        institution_id=institution_id, created_by_id=user_id, status="published",
        title_zh="寻求固态电池电解质技术", title_en="Seeking a solid-state battery electrolyte",
        description_zh="我公司需要硫化物固态电解质的制备工艺，用于动力电池。",
        keywords=["固态电池", "电解质"], direction_code="energy", field_codes=["energy.storage"],
        trl_min=5, trl_max=7, budget_max=600_000_00, currency="CNY", deal_modes=["transfer", "exclusive_license"],
        region_code="110000", deadline=date.today() + timedelta(days=60))
    values.update(overrides)
    with app.app_context():
        demand = Demand(published_at=utcnow(), **values)
        db.session.add(demand)
        db.session.flush()
        index_demand(demand)  # in the demand hall, as approval puts it there
        db.session.commit()
        return demand.id


def quantum_listing(market: Market) -> int:
    with market.app.app_context():
        parties = market.parties
        return publish(parties.seller_id, parties.admin_id, achievement(
            title_zh="城域量子密钥分发网络", title_en="Metropolitan quantum key distribution network",
            summary_zh="基于诱骗态的量子密钥分发系统。", summary_en="A decoy-state QKD system.",
            description_zh="城域光纤网络中的量子保密通信。", description_en="Quantum-secure links over city fibre.",
            benefit_zh="密钥无法被窃听。", benefit_en="Keys cannot be eavesdropped.", scenarios_zh="政务专网。",
            scenarios_en="Government networks.",
            keywords=["量子通信"], direction_code="information", field_code="information.quantum",
            region_code="310000", trl=7, ip_assets=[]))


def matches(market: Market, demand_id: int, **headers: str) -> list[dict[str, Any]]:
    response = market.buyer.get(MATCHES.format(demand_id), headers=headers)
    assert response.status_code == 200, response.get_json()
    body: list[dict[str, Any]] = response.get_json()
    return body


def reasons(match: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {reason["kind"]: reason for reason in match["reasons"]}


def test_the_listing_that_fits_comes_first_with_every_reason(market: Market) -> None:
    quantum = quantum_listing(market)
    demand = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    found = matches(market, demand)
    ids = [m["listing_id"] for m in found]
    assert ids[0] == market.licence  # shares the words, the field, TRL 6 in 5–7, ¥500,000 ≤ ¥600,000, transfer
    assert quantum not in ids, found[ids.index(quantum)]["reasons"]  # no word, no field in common
    best = reasons(found[0])
    assert best["terms"]["fits"] and "固态电池" in best["terms"]["values"]["terms"]
    # the sentence names words as people write them, never the index's stems
    assert "固态电池" in best["terms"]["text"] and "batteri" in best["terms"]["values"]["terms"]
    assert "batteri" not in best["terms"]["text"].replace("battery", "")
    assert best["field"]["fits"] and best["field"]["values"] == {"field_code": "energy.storage"}
    assert best["trl"]["fits"] and best["trl"]["values"] == {"trl": 6, "trl_min": 5, "trl_max": 7}
    assert best["budget"]["fits"] and "¥500,000.00" in best["budget"]["text"]
    assert "¥600,000.00" in best["budget"]["text"]
    assert best["deal_modes"]["fits"] and set(best["deal_modes"]["values"]["deal_modes"]) == {"transfer",
                                                                                           "exclusive_license"}
    assert best["region"]["fits"] and best["region"]["values"] == {"province": "110000"}
    # the same achievement at a negotiable price: the price is neither within nor above the budget
    negotiable = reasons(next(m for m in found if m["listing_id"] == market.negotiable))
    assert negotiable["budget"]["values"] == {} and "negotiated" in negotiable["budget"]["text"]
    assert ids.index(market.negotiable) > ids.index(market.licence)
    # the fuel-cell product shares little more than the direction: proposed below both, or not at all
    assert market.product not in ids[:2]
    assert [m["score"] for m in found] == sorted((m["score"] for m in found), reverse=True)


def test_reasons_are_said_in_the_callers_language(market: Market) -> None:
    demand = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    english = reasons(matches(market, demand, **{"Accept-Language": "en"})[0])
    chinese = reasons(matches(market, demand, **{"Accept-Language": "zh-CN"})[0])
    assert english["field"]["text"] == "Same field: New-type energy storage"
    assert chinese["field"]["text"] == "同一领域：新型储能"
    assert english["field"]["text"] != chinese["field"]["text"]


def test_only_the_demands_institution_sees_its_matches(market: Market, app: Flask) -> None:
    demand = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    for party in (market.buyer_b, market.seller, market.outsider):
        assert party.get(MATCHES.format(demand)).status_code == 404
    assert app.test_client().get(MATCHES.format(demand)).status_code == 401
    assert market.buyer.get(MATCHES.format(987_654)).status_code == 404


def test_an_institutions_own_listings_are_never_proposed_to_it(market: Market) -> None:
    demand = make_demand(market.app, market.parties.seller_org, market.parties.seller_id)
    response = market.seller.get(MATCHES.format(demand))
    assert response.status_code == 200 and response.get_json() == []


def feedback(market: Market, demand: int, listing: int, verdict: str | None, side: str = "demand") -> Any:
    return market.buyer.client.put(FEEDBACK, json={"demand_id": demand, "listing_id": listing, "side": side,
                                                   "verdict": verdict}, headers={"X-CSRFToken": market.buyer.csrf})


def test_a_dismissed_match_is_gone_a_starred_one_first_and_similar_ones_move(market: Market) -> None:
    first = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    second = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id, title_zh="储能电池材料",
                         keywords=["储能"], description_zh="储能电池用电解质材料。")
    before = {m["listing_id"]: m["score"] for m in matches(market, second)}

    assert feedback(market, first, market.licence, "dismiss").status_code == 204
    assert market.licence not in [m["listing_id"] for m in matches(market, first)]
    after_dismissal = {m["listing_id"]: m["score"] for m in matches(market, second)}
    assert after_dismissal[market.licence] < before[market.licence]  # the same listing, on another demand, sinks

    assert feedback(market, first, market.negotiable, "star").status_code == 204
    starred = matches(market, first)[0]
    assert starred["listing_id"] == market.negotiable and starred["verdict"] == "star"
    assert starred["reasons"][0]["kind"] == "feedback"
    after_star = {m["listing_id"]: m["score"] for m in matches(market, second)}
    assert after_star[market.negotiable] > after_dismissal[market.negotiable]  # and a starred one rises

    assert feedback(market, first, market.licence, None).status_code == 204  # taken back
    assert market.licence in [m["listing_id"] for m in matches(market, first)]


def test_feedback_only_from_the_owner_of_that_side(market: Market) -> None:
    demand = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    assert feedback(market, demand, market.licence, "star", side="listing").status_code == 404  # not the seller
    other = make_demand(market.app, market.parties.buyer_b_org, market.parties.buyer_b_id)
    assert feedback(market, other, market.licence, "star").status_code == 404  # another institution's demand
    bad = market.buyer.client.put(FEEDBACK, json={"demand_id": demand, "listing_id": market.licence,
                                                  "side": "demand", "verdict": "love"},
                                  headers={"X-CSRFToken": market.buyer.csrf})
    assert bad.status_code == 422 and "verdict" in bad.get_json()["errors"]


def test_a_listing_finds_the_demands_it_could_answer(market: Market, app: Flask) -> None:
    fits = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    elsewhere = make_demand(market.app, market.parties.buyer_b_org, market.parties.buyer_b_id,
                            title_zh="量子通信网络建设", title_en="Quantum communication network",
                            keywords=["量子通信"],
                            description_zh="需要城域量子保密通信方案。", direction_code="information",
                            field_codes=["information.quantum"])
    response = market.seller.get(f"/api/v1/listings/{market.licence}/matches")
    assert response.status_code == 200, response.get_json()
    found = response.get_json()
    assert [m["demand_id"] for m in found] == [fits] and elsewhere != fits
    best = reasons(found[0])
    assert best["field"]["fits"] and best["budget"]["fits"] and best["deal_modes"]["fits"]
    # only the listing's institution asks
    assert market.buyer.get(f"/api/v1/listings/{market.licence}/matches").status_code == 404
    assert app.test_client().get(f"/api/v1/listings/{market.licence}/matches").status_code == 401
    # the seller dismisses it: gone from the listing's matches, still there for the demand's owner
    dismissed = market.seller.client.put(FEEDBACK, json={"demand_id": fits, "listing_id": market.licence,
                                                         "side": "listing", "verdict": "dismiss"},
                                         headers={"X-CSRFToken": market.seller.csrf})
    assert dismissed.status_code == 204
    assert market.seller.get(f"/api/v1/listings/{market.licence}/matches").get_json() == []
    assert market.licence in [m["listing_id"] for m in matches(market, fits)]


def test_publishing_a_demand_tells_the_fitting_listings_institutions_and_the_poster(market: Market) -> None:
    poster = Poster(market.app, market.parties.buyer)
    demand = publish_demand(market.app, poster, title_zh="寻求固态电池电解质技术", title_en="Solid-state battery "
                            "electrolyte wanted", keywords=["固态电池"], field_codes=["energy.storage"],
                            description_zh="需要硫化物固态电解质。", trl_min=5, trl_max=7, region_code="110000")
    told = inbox_of(market.app, market.parties.seller, "match.demand_published")
    assert told and told[0]["link"] in {f"/workspace/listings/{market.licence}",
                                        f"/workspace/listings/{market.negotiable}"}
    assert "寻求固态电池电解质技术" in told[0]["body_zh"] and told[0]["group"] == "matches"
    mine = inbox_of(market.app, market.parties.buyer, "match.listings_found")
    assert len(mine) == 1 and mine[0]["link"] == f"/workspace/demands/{demand}"
    assert inbox_of(market.app, market.parties.outsider, "match.demand_published") == []  # no listing that fits


def test_publishing_a_listing_tells_the_institutions_of_the_demands_it_could_answer(market: Market) -> None:
    demand = make_demand(market.app, market.parties.buyer_org, market.parties.buyer_id)
    elsewhere = make_demand(market.app, market.parties.buyer_b_org, market.parties.buyer_b_id,
                            title_zh="量子通信网络建设", title_en="Quantum communication network",
                            keywords=["量子通信"], description_zh="需要城域量子保密通信方案。",
                            direction_code="information", field_codes=["information.quantum"])
    with market.app.app_context():
        listing = publish(market.parties.seller_id, market.parties.admin_id, achievement(
            title_zh="硫化物固态电池电解质中试工艺", title_en="Pilot process for sulfide solid-state electrolytes"))
    told = inbox_of(market.app, market.parties.buyer, "match.listing_published")
    assert len(told) == 1 and told[0]["link"] == f"/workspace/demands/{demand}" and told[0]["group"] == "matches"
    assert "硫化物固态电池电解质中试工艺" in told[0]["body_zh"]
    assert inbox_of(market.app, market.parties.buyer_b, "match.listing_published") == [] and elsewhere
    seller = inbox_of(market.app, market.parties.seller, "match.demands_found")
    assert seller and seller[-1]["link"] == f"/workspace/listings/{listing}"
