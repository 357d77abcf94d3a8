"""The scope of transfers and licences through the API (issue 9, item 3): the probes that got two exclusive
licences for one scope, a transfer sold twice, a non-exclusive licence beside a sole one, an exclusive licence over
a non-exclusive one and a term in the past — each now answered by codes and the compatibility matrix.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from hall.models import Order
from hall.models.types import utcnow
from tests.support.console import admin_client_for, text
from tests.support.orders import ORDERS, Market, active_claims, count, open_market

MODES = ["transfer", "exclusive_license", "sole_license", "non_exclusive_license"]


@pytest.fixture
def market(app: Flask) -> Market:
    return open_market(app, deal_modes=MODES)


def placed(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def refused(response: Any, status: int = 409) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("values, field, hint", [
    ({"field_of_use": "动力电池"}, "field_of_use", "energy.storage"),
    ({"field_of_use": "动力 电池"}, "field_of_use", "GET /api/v1/hall/taxonomy"),
    ({"field_of_use": "ＥＶ battery"}, "field_of_use", "taxonomy"),
    ({"territory": "中国大陆"}, "territory", "CN for all of China"),
    ({"territory": "地质勘探/中国"}, "territory", "GB/T 2260"),
    ({"term_start": "2020-01-01", "term_end": "2021-12-31"}, "term_end", "in the past"),
    ({"term_start": "2031-01-01", "term_end": "2030-12-31"}, "term_end", "before term_start"),
])
def test_free_text_and_past_terms_are_refused_saying_what_to_send(market: Market, values: dict[str, Any],
                                                                  field: str, hint: str) -> None:
    problem = refused(market.buyer.order(market.licence, "exclusive_license", **values), 422)
    assert hint in " ".join(problem["errors"][field]), problem
    assert count(market.app, Order) == 0


def test_one_code_however_it_is_written_is_one_scope(market: Market) -> None:
    first = placed(market.buyer.order(market.licence, "exclusive_license", field_of_use="energy.storage",
                                      territory="CN"))
    assert (first["field_of_use"], first["territory"]) == ("energy.storage", "CN")
    assert first["scope_names"] == {"field_of_use": {"zh": "新型储能", "en": "New-type energy storage"},
                                    "territory": {"zh": "中国（全国）", "en": "China (nationwide)"}}
    for field, territory in ((" ENERGY . storage ", "cn"), ("ｅｎｅｒｇｙ.ｓｔｏｒａｇｅ", "ＣＮ")):
        clash = refused(market.buyer_b.order(market.licence, "exclusive_license", field_of_use=field,
                                             territory=territory))
        assert clash["message"].startswith("This listing is already reserved or sold exclusively")
    assert active_claims(market.app, market.licence) == [first["id"]]


def test_a_direction_contains_its_fields_and_china_its_provinces(market: Market) -> None:
    """地质勘察/中国 vs 地质勘探/中国大陆, as codes: deep earth in China, then all of space in Beijing."""
    placed(market.buyer.order(market.licence, "exclusive_license", field_of_use="space.deep_earth", territory="CN"))
    refused(market.buyer_b.order(market.licence, "exclusive_license", field_of_use="space", territory="110000"))
    refused(market.buyer_b.order(market.licence, "non_exclusive_license", territory="110108"))
    placed(market.buyer_b.order(market.licence, "exclusive_license", field_of_use="space.deep_sea",
                                territory="110000"))  # another field of the same direction
    worldwide = placed(market.outsider.order(market.licence, "non_exclusive_license", field_of_use="health"))
    assert worldwide["territory"] is None and worldwide["scope_names"]["territory"]["en"] == "Worldwide"


def test_a_transfer_sells_the_whole_right_once(market: Market) -> None:
    problem = refused(market.buyer.order(market.licence, "transfer", field_of_use="energy.storage"), 422)
    assert "whole right" in problem["errors"]["field_of_use"][0]
    transfer = placed(market.buyer.order(market.licence, "transfer"))
    assert transfer["field_of_use"] is None and transfer["territory"] is None
    refused(market.buyer_b.order(market.licence, "transfer"))
    refused(market.buyer_b.order(market.licence, "non_exclusive_license", field_of_use="information.quantum",
                                 territory="650000"))
    assert active_claims(market.app, market.licence) == [transfer["id"]]


def test_a_sole_licence_blocks_third_parties_but_not_its_own_licensee(market: Market) -> None:
    sole = placed(market.buyer.order(market.licence, "sole_license", territory="440000"))
    clash = refused(market.buyer_b.order(market.licence, "non_exclusive_license", territory="440300"))
    assert "licensed on a sole basis" in clash["message"]
    own = placed(market.buyer.order(market.licence, "non_exclusive_license", territory="440300"))
    elsewhere = placed(market.buyer_b.order(market.licence, "non_exclusive_license", territory="450000"))
    assert sorted(active_claims(market.app, market.licence)) == sorted([sole["id"], own["id"], elsewhere["id"]])


def test_an_exclusive_licence_is_not_sold_over_a_non_exclusive_one(market: Market) -> None:
    licence = placed(market.buyer.order(market.licence, "non_exclusive_license", field_of_use="energy.storage",
                                        territory="440000"))
    for mode in ("exclusive_license", "sole_license", "transfer"):
        clash = refused(market.buyer_b.order(market.licence, mode, **({} if mode == "transfer" else {
            "field_of_use": "energy", "territory": "CN"})))
        assert "licensed non-exclusively" in clash["message"], clash
    assert active_claims(market.app, market.licence) == [licence["id"]]
    assert market.buyer.post(f"{ORDERS}/{licence['id']}/cancel", {"reason": "预算调整"}).status_code == 200
    placed(market.buyer_b.order(market.licence, "exclusive_license", field_of_use="energy", territory="CN"))


def test_terms_that_do_not_meet_do_not_conflict(market: Market) -> None:
    today = utcnow().date()
    first = {"term_start": str(today), "term_end": str(today + timedelta(days=365))}
    later = {"term_start": str(today + timedelta(days=366)), "term_end": None}
    placed(market.buyer.order(market.licence, "exclusive_license", territory="CN", **first))
    placed(market.buyer_b.order(market.licence, "exclusive_license", territory="CN", **later))
    refused(market.outsider.order(market.licence, "non_exclusive_license", territory="440000",
                                  term_end=str(today + timedelta(days=30))))


def test_a_quote_request_for_a_taken_scope_is_refused_at_once(market: Market) -> None:
    """The negotiable listing: a transfer accepted by one buyer holds it, so another's request for a quote is
    refused at once (the request would only lead to a refusal at acceptance)."""
    first = placed(market.buyer.order(market.negotiable, "transfer"))
    assert first["status"] == "requested" and active_claims(market.app, market.negotiable) == []
    assert market.seller.post(f"{ORDERS}/{first['id']}/quote", {"amount": 800_000_00}).status_code == 200
    assert market.buyer.post(f"{ORDERS}/{first['id']}/accept", {"quote_number": 1}).status_code == 200
    assert active_claims(market.app, market.negotiable) == [first["id"]]
    refused(market.buyer_b.order(market.negotiable, "transfer"))
    assert placed(market.buyer_b.order(market.negotiable, "technical_service"))["status"] == "requested"


def test_the_console_shows_the_scope_by_name(market: Market) -> None:
    order = placed(market.buyer.order(market.licence, "sole_license", field_of_use="energy.storage",
                                      territory="440305", term_end="2099-12-31"))
    page = text(admin_client_for(market.app, market.parties.admin).get(f"/admin/orders/{order['id']}"))
    assert '<dd id="scope-field_of_use">新型储能 <small><code>energy.storage</code></small></dd>' in page
    assert '<dd id="scope-territory">广东省 440305</dd>' in page
