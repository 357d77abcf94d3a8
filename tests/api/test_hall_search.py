"""The public hall search through GET /api/v1/hall/listings on both backends (SQLite FTS5, PostgreSQL tsvector):
Chinese words and domain terms, long phrases, English stems, mixed queries, title-over-body ranking, highlighting;
unpublished listings kept out of results, totals and facets; every filter, facets, sorting, paging and validation;
the language of the answer; the listing detail, the taxonomy and institution profiles."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hall.extensions import db
from hall.search import build_query, ranked
from hall.services.publishing.hall import HallFilter, filtered_selection
from tests.support.factories import make_people
from tests.support.hall_listings import PUBLISHED, UNPUBLISHED, build_hall
from tests.support.listing_data import achievement
from tests.support.listings import Owner, admin_decides


@pytest.fixture(autouse=True)
def _clients_ask_for_english() -> None:
    """Not here: the hall's answers are in the language asked for, and these tests rely on the Chinese default
    or ask explicitly (replaces the autouse fixture of tests/api/conftest.py)."""


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    return build_hall(app)


def search(client: FlaskClient, query: str = "", **headers: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/hall/listings?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(ids: dict[str, int], page: dict[str, Any]) -> list[str]:
    by_id = {ids[key]: key for key in (*PUBLISHED, *UNPUBLISHED)}
    return [by_id[item["id"]] for item in page["items"]]


@pytest.mark.parametrize(("q", "expected"), [
    ("电池", {"solid", "perovskite", "product"}),
    ("钙钛矿", {"perovskite"}), ("脑机接口", {"bci"}), ("碳纤维", {"carbon"}), ("量子通信", {"quantum"}),
    ("固态电池", {"solid"}), ("锂离子电池", {"solid"}),
    ("graphene", {"graphene", "english", "solid"}), ("batteries", {"solid", "english"}),
    ("battery", {"solid", "english"}),
    ("Graph", {"graphene", "english"}), ("石墨烯 battery", {"solid", "english"}), ("graphene 铝合金", {"graphene"}),
])
def test_queries_find_exactly_the_matching_published_listings(client: FlaskClient, hall_ids: dict[str, int], q: str,
                                                              expected: set[str]) -> None:
    page = search(client, f"q={q}")
    assert set(names(hall_ids, page)[:page["matched_all"]]) == expected and page["matched_all"] == len(expected)


def test_a_query_that_few_match_in_full_is_widened_to_partial_matches_after_the_full_ones(
        client: FlaskClient, hall_ids: dict[str, int]) -> None:
    """Fewer than a page match every word: the listings matching some follow, by how many words they match."""
    page = search(client, "q=石墨烯 battery")
    found = names(hall_ids, page)
    assert page["matched_all"] == 2 and set(found[:2]) == {"solid", "english"}
    assert found[2:] == ["graphene"] and page["total"] == 3 == sum(page["facets"]["kind"].values())
    page = search(client, "q=graphene 铝合金")
    assert names(hall_ids, page)[0] == "graphene" and page["matched_all"] == 1 and page["total"] > 1
    assert search(client, "q=钙钛矿")["matched_all"] == search(client, "q=钙钛矿")["total"] == 1
    assert search(client, "direction=energy")["matched_all"] is None


@pytest.mark.parametrize("q", ["石墨烯 battery 钙钛矿 脑机接口", "基于钙钛矿材料的高效太阳能电池制备",
                               "graphene 铝合金 量子通信"])
def test_the_widened_ranking_orders_by_units_met_then_score_then_newest(app: Flask, hall_ids: dict[str, int],
                                                                        q: str) -> None:
    with app.app_context():
        units = build_query(q)
        matches = set(db.session.scalars(filtered_selection(HallFilter(), units, "any")))
        met = {listing_id: sum(listing_id in set(db.session.scalars(filtered_selection(HallFilter(), [unit], "all")))
                               for unit in units) for listing_id in matches}
        for window in (None, 2):  # every match ranked, or only the newest two
            found = ranked(units, "any", [], 50, 0, window=window)
            ranked_ids = [listing_id for listing_id, _score in found]
            expected = matches if window is None else set(sorted(matches, reverse=True)[:window])
            assert set(ranked_ids) == expected and len(ranked_ids) == len(expected), (q, window)
            keys = [(-met[listing_id], -score, -listing_id) for listing_id, score in found]
            assert keys == sorted(keys), (q, window, found, met)
            assert ranked(units, "any", [], 2, 1, window=window) == found[1:3]  # a page of it
        assert len({count for count in met.values()}) > 1, met  # some listings meet more units than others
        db.session.remove()


def test_a_long_chinese_phrase_ranks_the_perovskite_listing_first(client: FlaskClient,
                                                                  hall_ids: dict[str, int]) -> None:
    page = search(client, "q=基于钙钛矿材料的高效太阳能电池制备")
    assert page["terms"][:5] == ["钙钛矿", "材料", "高效", "太阳能电池", "制备"]  # then synonyms: perovskit …
    found = names(hall_ids, page)
    assert found[0] == "perovskite" and page["total"] == len(found) > 1
    assert not set(found) & set(UNPUBLISHED)


def test_a_title_match_ranks_above_a_description_match(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    """石墨烯 is once in the graphene listing's title and twice in the solid-state listing's description only (the
    English listing says graphene, its synonym, in its title: found, below the graphene listing)."""
    page = search(client, "q=石墨烯")
    found = names(hall_ids, page)
    assert found[0] == "graphene" and set(found[1:]) == {"solid", "english"}
    assert page["items"][0]["score"] > page["items"][1]["score"]


def test_results_carry_highlighted_titles_and_snippets(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    item = search(client, "q=钙钛矿")["items"][0]
    assert item["title_highlighted"] == "<mark>钙钛矿</mark>高效太阳能电池制备工艺"
    assert item["snippet"].startswith("<mark>钙钛矿</mark>叠层太阳能电池")
    product = next(i for i in search(client, "q=电池")["items"] if i["id"] == hall_ids["product"])
    assert product["title_highlighted"] == "兆瓦级氢燃料<mark>电池</mark>发电系统"
    english = next(i for i in search(client, "q=batteries&lang=en")["items"] if i["id"] == hall_ids["english"])
    assert english["title_highlighted"] == "Graphene <mark>batteries</mark> for fast charging"
    assert english["snippet"] == "Graphene electrodes let <mark>batteries</mark> charge in ten minutes."


def test_unpublished_listings_never_appear_in_results_totals_or_facets(client: FlaskClient,
                                                                       hall_ids: dict[str, int]) -> None:
    everything = search(client, "per_page=50")
    assert sorted(names(hall_ids, everything)) == sorted(PUBLISHED) and everything["total"] == 8
    assert everything["facets"]["kind"] == {"achievement": 7, "first_of_kind": 1}
    assert everything["facets"]["direction_code"] == {"materials": 2, "energy": 4, "health": 1, "information": 1}
    assert everything["facets"]["field_code"]["energy.storage"] == 2
    for q in ("固态电池", "石墨烯", "脑机接口", "碳纤维", "量子通信", "perovskite", "电池", "graphene"):
        page = search(client, f"q={q}&per_page=50")
        assert not set(names(hall_ids, page)) & set(UNPUBLISHED), q
        assert page["total"] == len(page["items"]) == sum(page["facets"]["kind"].values()), q
    # the unpublished listing's English title says perovskite; the published one is found by its Chinese name
    assert names(hall_ids, search(client, "q=perovskite")) == ["perovskite"]
    solid = search(client, "q=电解质")
    assert names(hall_ids, solid) == ["solid"]
    assert solid["facets"]["state_funded"] == {"true": 1} and solid["facets"]["trl"] == {"7": 1}
    for status in UNPUBLISHED:
        assert client.get(f"/api/v1/hall/listings/{hall_ids[status]}").status_code == 404
    assert client.get("/api/v1/hall/listings/999999").status_code == 404
    detail = client.get(f"/api/v1/hall/listings/{hall_ids['solid']}").get_json()
    assert detail["title"] == "高安全固态电池电解质" and detail["institution"]["id"] == hall_ids["org_a"]


@pytest.mark.parametrize(("query", "expected"), [
    ("kind=first_of_kind", {"product"}),
    ("kind=achievement", set(PUBLISHED) - {"product"}),
    ("direction=energy", {"solid", "perovskite", "english", "product"}),
    ("direction=materials", {"graphene", "carbon"}),
    ("field=energy.storage", {"solid", "english"}),
    ("field=information.quantum", {"quantum"}),
    ("trl_min=6&trl_max=7", {"solid", "bci", "quantum"}),
    ("trl_min=8", {"carbon"}), ("trl_max=4", {"perovskite"}),
    ("deal_mode=transfer", {"graphene", "carbon", "english"}),
    ("deal_mode=technical_service", {"bci", "quantum"}), ("deal_mode=purchase", {"product"}),
    ("price_min=20000000&price_max=80000000", {"graphene", "solid", "bci"}),
    ("price_min=100000000", {"carbon", "product"}), ("price_max=5000000", {"english"}),
    ("region=440000", {"solid", "carbon", "product"}), ("region=440300", {"solid", "product"}),
    ("region=440305", {"solid", "product"}), ("region=110000", {"graphene", "quantum"}),
    ("region=110108", {"graphene"}), ("region=510000", set()),
    ("price_mode=negotiable", {"perovskite", "quantum"}), ("price_mode=starting", {"bci"}),
    ("price_mode=fixed", {"graphene", "solid", "carbon", "english", "product"}),
    ("product_kind=equipment", {"product"}), ("product_kind=material", set()),
    ("recognition_level=national", {"product"}), ("recognition_level=provincial", set()),
    ("state_funded=true", {"solid", "perovskite", "carbon", "quantum"}),
    ("state_funded=false", {"graphene", "bci", "english", "product"}),
    ("direction=energy&q=电池", {"solid", "perovskite", "product"}),
    ("direction=energy&deal_mode=transfer&state_funded=false", {"english"}),
])
def test_filters_narrow_the_results(client: FlaskClient, hall_ids: dict[str, int], query: str,
                                    expected: set[str]) -> None:
    page = search(client, f"{query}&per_page=50")
    assert set(names(hall_ids, page)) == expected and page["total"] == len(expected)


def test_institution_filter(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    page = search(client, f"institution={hall_ids['org_b']}")
    assert set(names(hall_ids, page)) == {"bci", "quantum"} and page["total"] == 2
    page = search(client, f"institution={hall_ids['org_a']}&q=石墨烯")
    assert set(names(hall_ids, page)) == {"graphene", "solid", "english"}


def test_facets_reflect_the_current_filter(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    facets = search(client, "direction=energy")["facets"]
    assert facets["kind"] == {"achievement": 3, "first_of_kind": 1}
    assert facets["direction_code"] == {"energy": 4}
    assert facets["field_code"] == {"energy.storage": 2, "energy.solar_cells": 1, "energy.hydrogen": 1}
    assert facets["province"] == {"44": 2, "32": 1, "33": 1}
    assert facets["price_mode"] == {"fixed": 3, "negotiable": 1}
    assert facets["state_funded"] == {"true": 2, "false": 2}
    assert facets["deal_mode"] == {"exclusive_license": 1, "joint_development": 1, "transfer": 1, "purchase": 1}
    assert facets["product_kind"] == {"equipment": 1} and facets["recognition_level"] == {"national": 1}
    facets = search(client, "q=fast charging")["facets"]  # the English listing alone
    assert facets["direction_code"] == {"energy": 1} and facets["trl"] == {"5": 1}
    facets = search(client, "q=graphene")["facets"]  # and the two that say 石墨烯
    assert facets["direction_code"] == {"materials": 1, "energy": 2} and sum(facets["trl"].values()) == 3
    everything = search(client)["facets"]
    assert everything["deal_mode"] == {"transfer": 3, "exclusive_license": 1, "non_exclusive_license": 1, "equity": 1,
                                       "joint_development": 1, "technical_service": 2, "purchase": 1}
    assert everything["province"] == {"11": 2, "44": 3, "32": 1, "31": 1, "33": 1}
    assert search(client, "direction=energy&facets=false")["facets"] == {}


def test_sort_newest_and_by_price(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    assert names(hall_ids, search(client, "sort=newest")) == list(reversed(PUBLISHED))
    assert names(hall_ids, search(client, "sort=price_asc")) == [
        "english", "bci", "graphene", "solid", "carbon", "product", "quantum", "perovskite"]
    assert names(hall_ids, search(client, "sort=price_desc")) == [
        "product", "carbon", "solid", "graphene", "bci", "english", "quantum", "perovskite"]
    assert names(hall_ids, search(client, "sort=price_asc&direction=energy")) == [
        "english", "solid", "product", "perovskite"]
    assert names(hall_ids, search(client, "q=电池&sort=newest")) == ["product", "perovskite", "solid"]
    assert names(hall_ids, search(client)) == list(reversed(PUBLISHED))  # no text: newest first


def test_pagination(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    seen: list[str] = []
    for number in (1, 2, 3):
        page = search(client, f"sort=newest&page={number}&per_page=3")
        assert page["total"] == 8 and page["page"] == number and page["per_page"] == 3
        assert len(page["items"]) == (3 if number < 3 else 2)
        seen += names(hall_ids, page)
    assert seen == list(reversed(PUBLISHED))
    beyond = search(client, "sort=newest&page=4&per_page=3")
    assert beyond["items"] == [] and beyond["total"] == 8
    assert len(search(client, "per_page=50")["items"]) == 8
    assert search(client)["per_page"] == 20


@pytest.mark.parametrize("query", ["per_page=51", "per_page=0", "page=0", "trl_min=7&trl_max=3",
                                   "price_min=500&price_max=100", "trl_min=10", "sort=cheapest", "kind=service",
                                   "region=999999", "lang=fr", "colour=red", "q=" + "长" * 201])
def test_invalid_queries_are_422(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/hall/listings?{query}")
    assert response.status_code == 422, response.get_json()


def test_language_of_the_answer(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    solid = hall_ids["solid"]
    item = search(client, f"q=电解质&lang=en&institution={hall_ids['org_a']}")["items"][0]
    assert item["title"] == "Safe solid-state battery electrolyte" and item["language"] == "en"
    assert item["id"] == solid and search(client, "q=电解质")["items"][0]["title"] == "高安全固态电池电解质"
    by_header = search(client, "q=电解质", **{"Accept-Language": "en-US,en;q=0.9"})["items"][0]
    assert by_header["title"] == "Safe solid-state battery electrolyte" and by_header["language"] == "en"
    explicit = search(client, "q=电解质&lang=zh", **{"Accept-Language": "en"})["items"][0]
    assert explicit["language"] == "zh"
    fallback = search(client, "q=钙钛矿&lang=en")["items"][0]
    assert fallback["title"] == "钙钛矿高效太阳能电池制备工艺" and fallback["language"] == "zh"
    english = next(i for i in search(client, "q=graphene")["items"] if i["id"] == hall_ids["english"])
    assert english["title"] == "Graphene batteries for fast charging" and english["language"] == "en"
    detail = client.get(f"/api/v1/hall/listings/{solid}?lang=en").get_json()
    assert detail["description"] == "A coated current collector gives two thousand cycles."
    detail = client.get(f"/api/v1/hall/listings/{hall_ids['perovskite']}", headers={"Accept-Language": "en"})
    assert detail.get_json()["language"] == "zh" and detail.get_json()["summary"].startswith("钙钛矿叠层")


def test_taxonomy_lists_six_directions_with_fields(client: FlaskClient) -> None:
    response = client.get("/api/v1/hall/taxonomy")
    assert response.status_code == 200
    directions = response.get_json()
    assert [d["code"] for d in directions] == ["manufacturing", "information", "materials", "energy", "space",
                                               "health"]
    assert all(d["fields"] and d["name_zh"] and d["name_en"] for d in directions)
    energy = next(d for d in directions if d["code"] == "energy")
    assert "energy.hydrogen" in [f["code"] for f in energy["fields"]]
    assert all(f["code"].startswith(d["code"] + ".") for d in directions for f in d["fields"])


def test_institution_profile_shows_only_its_published_listings(client: FlaskClient, hall_ids: dict[str, int]) -> None:
    response = client.get(f"/api/v1/hall/institutions/{hall_ids['org_b']}")
    assert response.status_code == 200
    profile = response.get_json()
    assert profile["id"] == hall_ids["org_b"]
    assert set(names(hall_ids, profile["listings"])) == {"bci", "quantum"} and profile["listings"]["total"] == 2
    mine = client.get(f"/api/v1/hall/institutions/{hall_ids['org_a']}?per_page=50").get_json()["listings"]
    assert set(names(hall_ids, mine)) == set(PUBLISHED) - {"bci", "quantum"} and mine["total"] == 6
    filtered = client.get(f"/api/v1/hall/institutions/{hall_ids['org_a']}?q=电池").get_json()["listings"]
    assert set(names(hall_ids, filtered)) == {"solid", "perovskite", "product"}
    assert client.get(f"/api/v1/hall/institutions/{hall_ids['unverified_org']}").status_code == 404
    assert client.get("/api/v1/hall/institutions/999999").status_code == 404


def test_a_very_common_query_ranks_only_its_newest_matches(app: Flask, client: FlaskClient, backend: str) -> None:
    """Above SEARCH_RANK_WINDOW matches, relevance is decided among the newest matches (bounded cost), with
    filters too (the newest matches that pass them)."""
    from hall.services.publishing.hall import HallFilter, search_hall

    with app.app_context():
        people = make_people()
    owner = Owner(app, people["owner"])
    ids = []
    for n in range(4):  # the oldest listing has the word in its title, the others only in the body
        title = "石墨烯导热膜" if n == 0 else f"导热材料第{n}号"
        body = achievement(title_zh=title, title_en=f"Thermal film {n}", summary_zh="一种石墨烯相关材料。")
        listing_id = owner.post("/api/v1/listings", body).get_json()["id"]
        owner.post(f"/api/v1/listings/{listing_id}/submit")
        admin_decides(app, listing_id, "approve")
        ids.append(listing_id)
    with app.app_context():
        assert search_hall(HallFilter(q="石墨烯"), with_facets=False).rows[0][0].listing_id == ids[0]
        app.config["SEARCH_RANK_WINDOW"] = 2
        page = search_hall(HallFilter(q="石墨烯"), per_page=2, with_facets=False)
        assert page.total == 4
        assert {entry.listing_id for entry, _version, _score in page.rows} == set(ids[2:])
        filtered = search_hall(HallFilter(q="石墨烯", institution_id=people["org"]), per_page=2, with_facets=False)
        assert {entry.listing_id for entry, _version, _score in filtered.rows} == set(ids[2:])
