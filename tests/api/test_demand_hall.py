"""The public demand hall: search by Chinese and English words through the demand index (FTS5 on SQLite, tsvector
on PostgreSQL), filters (direction, field, region prefix, TRL window overlap, deal mode, budget overlap, bounty,
deadline), facet counts, sorts, pagination; and visibility: only published, open demands of public institutions,
never drafts, pending, rejected, suspended, closed or expired demands nor those of a suspended institution."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from hall.extensions import db
from hall.models import Institution
from tests.support.demands import Poster, admin_decides, bring_to, expire_now, in_days, publish
from tests.support.factories import InstitutionFactory, UserFactory, make_people


@pytest.fixture
def hall(app: Flask) -> dict[str, Any]:
    """Four published demands of two institutions, and one of each status that must stay out of the hall."""
    with app.app_context():
        people = make_people()
        db.session.remove()
    poster, other = Poster(app, people["owner"]), Poster(app, people["other_owner"])
    ids = {
        "hydrogen": publish(app, poster),  # energy.hydrogen, TRL 4–7, 0.5–2 M yuan, bounty, Shenzhen, 60 days
        "battery": publish(app, poster, title_zh="固态电池电解质需求", title_en="Solid electrolyte for batteries",
                           description_zh="需要高离子电导率的固态电解质。",
                           description_en="Looking for a solid electrolyte with high ionic conductivity.",
                           keywords=["电池"], field_codes=["energy.hydrogen", "energy.nuclear"], trl_min=7,
                           trl_max=9, budget_min=None, budget_max=None, budget_negotiable=True, bounty_amount=None,
                           region_code="110108", deal_modes=["exclusive_license"], deadline=in_days(10)),
        "gene": publish(app, other, title_zh="细胞基因治疗载体递送", title_en="Gene therapy vector delivery",
                        description_zh="寻求安全高效的病毒载体递送平台。",
                        description_en="Seeking a safe and efficient viral vector delivery platform.",
                        keywords=["基因治疗"], direction_code="health", field_codes=["health.cell_gene"],
                        trl_min=2, trl_max=3, budget_min=1_000_000_000, budget_max=None, bounty_amount=0,
                        region_code="310104", deal_modes=["technical_service"], deadline=in_days(30)),
        "laser": publish(app, other, title_zh="激光焊接工艺", title_en="Laser welding process",
                         description_zh="用于电池壳体的激光焊接。", description_en="Laser welding for battery cases.",
                         keywords=[], direction_code="manufacturing", field_codes=["manufacturing.laser"],
                         trl_min=None, trl_max=None, budget_min=10_000_000, budget_max=20_000_000,
                         bounty_amount=None, region_code="440300", deal_modes=["transfer"], deadline=in_days(90)),
    }
    hidden = {status: bring_to(app, poster, status) for status in
              ("draft", "submitted", "changes_requested", "rejected", "withdrawn", "suspended", "closed", "expired")}
    return {"ids": ids, "hidden": hidden, "people": people, "poster": poster, "other": other}


def search(app: Flask, query: str = "") -> dict[str, Any]:
    response = app.test_client().get(f"/api/v1/demands/hall?per_page=50&{query}")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def found(app: Flask, query: str = "", sort: str = "newest") -> list[int]:
    return [item["id"] for item in search(app, f"sort={sort}&{query}")["items"]]


def names(hall: dict[str, Any], ids: list[int]) -> list[str]:
    by_id = {value: key for key, value in hall["ids"].items()}
    return [by_id.get(demand_id, f"hidden:{demand_id}") for demand_id in ids]


def test_the_hall_shows_only_published_open_demands(app: Flask, hall: dict[str, Any]) -> None:
    assert sorted(names(hall, found(app))) == ["battery", "gene", "hydrogen", "laser"]
    assert search(app)["total"] == 4
    client = app.test_client()
    for status, demand_id in hall["hidden"].items():
        assert client.get(f"/api/v1/demands/hall/{demand_id}").status_code == 404, status
    # the hidden demands share the hydrogen demand's words: search never finds them either
    assert names(hall, found(app, "q=储氢")) == ["hydrogen"]


def test_a_suspended_institution_takes_its_demands_out_of_the_hall(app: Flask, hall: dict[str, Any]) -> None:
    with app.app_context():
        db.session.get(Institution, hall["people"]["other_org"]).verification_status = "suspended"  # type: ignore
        db.session.commit()
    assert sorted(names(hall, found(app))) == ["battery", "hydrogen"]
    assert app.test_client().get(f"/api/v1/demands/hall/{hall['ids']['gene']}").status_code == 404
    assert search(app)["facets"]["direction_code"] == {"energy": 2}
    assert found(app, "q=laser") == []


def test_a_deadline_passed_before_the_sweep_is_never_shown(app: Flask, hall: dict[str, Any]) -> None:
    from datetime import timedelta

    from hall.models import Demand, DemandIndexEntry
    from hall.models.types import utcnow

    with app.app_context():
        yesterday = utcnow().date() - timedelta(days=1)
        db.session.get(Demand, hall["ids"]["laser"]).deadline = yesterday  # type: ignore[union-attr]
        db.session.get(DemandIndexEntry, hall["ids"]["laser"]).deadline = yesterday  # type: ignore[union-attr]
        db.session.commit()
    assert "laser" not in names(hall, found(app))
    assert app.test_client().get(f"/api/v1/demands/hall/{hall['ids']['laser']}").status_code == 404


@pytest.mark.parametrize(("query", "expected"), [
    ("q=储氢", ["hydrogen"]),
    ("q=hydrogen", ["hydrogen"]),
    ("q=Hydrogen%20storage", ["hydrogen"]),
    ("q=电解质", ["battery"]),
    ("q=electrolyte", ["battery"]),
    ("q=基因治疗", ["gene"]),
    ("q=vector", ["gene"]),
    ("q=激光焊接", ["laser"]),
    ("q=nothing-like-this", []),
])
def test_search_finds_chinese_and_english_words(app: Flask, hall: dict[str, Any], query: str,
                                                expected: list[str]) -> None:
    assert names(hall, found(app, query, sort="relevance")) == expected


def test_a_title_match_ranks_above_a_body_match(app: Flask, hall: dict[str, Any]) -> None:
    # "battery": in the battery demand's title, only in the laser demand's description
    result = search(app, "q=battery&sort=relevance")
    assert names(hall, [item["id"] for item in result["items"]]) == ["battery", "laser"]
    first = result["items"][0]
    assert first["score"] > result["items"][1]["score"]
    assert "<mark>" in (first["title_highlighted"] or "") and result["terms"] == ["batteri"]  # stemmed


@pytest.mark.parametrize(("query", "expected"), [
    ("direction=energy", ["battery", "hydrogen"]),
    ("field=energy.nuclear", ["battery"]),
    ("field=energy.hydrogen", ["battery", "hydrogen"]),
    ("region=440000", ["hydrogen", "laser"]),  # the province covers Shenzhen's county and city codes
    ("region=440300", ["hydrogen", "laser"]),
    ("region=440305", ["hydrogen"]),
    ("trl_min=8", ["battery", "laser"]),  # windows that reach 8 (an open window counts as 1–9)
    ("trl_min=8&trl_max=9", ["battery", "laser"]),
    ("trl_max=3", ["gene", "laser"]),
    ("trl_min=5&trl_max=6", ["hydrogen", "laser"]),
    ("deal_mode=transfer", ["hydrogen", "laser"]),
    ("deal_mode=exclusive_license", ["battery"]),
    ("budget_min=150000000", ["gene", "hydrogen"]),  # budgets reaching 1.5 M yuan
    ("budget_max=30000000", ["laser"]),
    ("budget_min=15000000&budget_max=60000000", ["hydrogen", "laser"]),
    ("negotiable=true", ["battery"]),
    ("has_bounty=true", ["hydrogen"]),
    ("has_bounty=false", ["battery", "gene", "laser"]),
    (f"closes_before={in_days(20)}", ["battery"]),
])
def test_filters(app: Flask, hall: dict[str, Any], query: str, expected: list[str]) -> None:
    assert sorted(names(hall, found(app, query))) == sorted(expected)
    assert search(app, query)["total"] == len(expected)


def test_the_institution_filter(app: Flask, hall: dict[str, Any]) -> None:
    assert sorted(names(hall, found(app, f"institution={hall['people']['other_org']}"))) == ["gene", "laser"]


def test_facet_counts_follow_the_filter(app: Flask, hall: dict[str, Any]) -> None:
    facets = search(app)["facets"]
    assert facets["direction_code"] == {"energy": 2, "health": 1, "manufacturing": 1}
    assert facets["field_code"] == {"energy.hydrogen": 2, "energy.nuclear": 1, "health.cell_gene": 1,
                                    "manufacturing.laser": 1}
    assert facets["deal_mode"] == {"transfer": 2, "joint_development": 1, "exclusive_license": 1,
                                   "technical_service": 1}
    assert facets["province"] == {"44": 2, "11": 1, "31": 1}
    energy = search(app, "direction=energy")["facets"]
    assert energy["direction_code"] == {"energy": 2}
    assert energy["field_code"] == {"energy.hydrogen": 2, "energy.nuclear": 1}
    assert search(app, "q=储氢")["facets"]["province"] == {"44": 1}
    assert search(app, "facets=false")["facets"] == {}


def test_sorts(app: Flask, hall: dict[str, Any]) -> None:
    assert names(hall, found(app, sort="newest")) == ["laser", "gene", "battery", "hydrogen"]
    assert names(hall, found(app, sort="deadline")) == ["battery", "gene", "hydrogen", "laser"]
    # by the top of the budget (the only figure when one end is open); negotiable ones without figures last
    assert names(hall, found(app, sort="budget_desc")) == ["gene", "hydrogen", "laser", "battery"]
    assert names(hall, found(app, sort="budget_asc")) == ["laser", "hydrogen", "gene", "battery"]
    assert names(hall, found(app, sort="relevance")) == ["laser", "gene", "battery", "hydrogen"]  # no words: newest


def test_pagination(app: Flask, hall: dict[str, Any]) -> None:
    client = app.test_client()
    pages = [client.get(f"/api/v1/demands/hall?sort=newest&per_page=3&page={page}").get_json() for page in (1, 2, 3)]
    assert [len(page["items"]) for page in pages] == [3, 1, 0]
    assert {page["total"] for page in pages} == {4}
    assert names(hall, [item["id"] for page in pages for item in page["items"]]) == \
        ["laser", "gene", "battery", "hydrogen"]


def test_detail_in_the_callers_language(app: Flask, hall: dict[str, Any]) -> None:
    client = app.test_client()
    demand_id = hall["ids"]["hydrogen"]
    english = client.get(f"/api/v1/demands/hall/{demand_id}?lang=en").get_json()
    assert english["title"] == "Solid-state hydrogen storage material wanted" and english["language"] == "en"
    assert english["budget_min"] == 50_000_000 and english["bounty_amount"] == 10_000_000
    assert english["institution"]["name"].startswith("Test Institute")
    chinese = client.get(f"/api/v1/demands/hall/{demand_id}?lang=zh").get_json()
    assert chinese["title"] == "高密度固态储氢材料技术需求" and chinese["institution"]["name"].startswith("测试研究所")
    assert "status" not in english and "lock_version" not in english and "revision" not in english


@pytest.mark.parametrize("query", ["trl_min=0", "trl_min=5&trl_max=2", "budget_min=-1", "deal_mode=barter",
                                   "sort=price", "per_page=51", "region=999999", "closes_before=soon", "unknown=1",
                                   "has_bounty=maybe", "budget_min=9&budget_max=1"])
def test_bad_queries_are_refused(app: Flask, hall: dict[str, Any], query: str) -> None:
    response = app.test_client().get(f"/api/v1/demands/hall?{query}")
    assert response.status_code == 422, response.get_json()


def test_the_hall_follows_suspension_reinstatement_close_and_expiry(app: Flask, hall: dict[str, Any]) -> None:
    demand_id = hall["ids"]["hydrogen"]
    admin_decides(app, demand_id, "suspend", "misleading")
    assert found(app, "q=储氢") == []
    admin_decides(app, demand_id, "reinstate")
    assert found(app, "q=储氢") == [demand_id]
    expire_now(app, demand_id)
    assert found(app, "q=储氢") == []
    battery = hall["ids"]["battery"]
    assert hall["poster"].act(battery, "close").status_code == 200
    assert found(app, "q=electrolyte") == []


def test_an_approved_revision_is_what_search_finds(app: Flask, hall: dict[str, Any]) -> None:
    demand_id = hall["ids"]["laser"]
    other = hall["other"]
    assert other.patch(demand_id, {"title_en": "Ultrafast laser cutting", "field_codes": ["manufacturing.laser"],
                                   "keywords": ["cutting"]}).status_code == 200
    other.act(demand_id, "submit")
    assert found(app, "q=cutting") == []  # still the published content
    admin_decides(app, demand_id, "approve")
    assert found(app, "q=cutting") == [demand_id]


def test_an_empty_hall(app: Flask) -> None:
    with app.app_context():
        InstitutionFactory()
        UserFactory()
        db.session.commit()
    result = search(app, "q=储氢")
    assert result["items"] == [] and result["total"] == 0
