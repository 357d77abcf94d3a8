"""A search with text and filters on SQLite matches the filter inside the full-text index (the facet words of
``hall.search.facet_terms``, migration 0022): the same listings, totals, orders and facets as the filter applied in
SQL, in one FTS5 match; the words no query can reach; migration 0022 fills them for listings already published."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, select, text

from blueprints.api import hall_caching
from hall.extensions import db
from hall.models import HallIndexEntry, HallText
from hall.search import build_query, fts5_query
from hall.search.facet_terms import MARK, SLOTS, entry_terms, facet_term
from hall.search.tokenizer import query_runs
from hall.services.publishing import hall as hall_service
from tests.support.hall_listings import build_hall


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    return build_hall(app)


def search(client: FlaskClient, query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/hall/listings?{query}&per_page=50")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


FILTERS = [
    "direction=energy", "direction=energy&trl_min=6", "trl_min=5&trl_max=7", "trl_max=4", "trl_min=7&trl_max=7",
    "field=energy.storage", "kind=first_of_kind", "kind=achievement&state_funded=true", "state_funded=false",
    "region=440000", "region=440300", "region=440305", "region=110000&deal_mode=transfer",
    "deal_mode=exclusive_license", "price_mode=fixed&currency=CNY", "currency=USD", "recognition_level=national",
    "product_kind=equipment", "price_min=10000000", "direction=energy&price_max=100000000",
    "direction=materials&price_min=1&price_max=9000000000&trl_min=5", "institution={org_b}", "institution={org_a}",
]
QUERIES = ["电池", "石墨烯", "battery", "石墨烯 battery", "材料", "量子 电池 石墨烯", "氢燃料电池"]


@pytest.mark.parametrize("filters", FILTERS)
def test_the_filter_in_the_full_text_index_finds_what_sql_finds(client: FlaskClient, hall_ids: dict[str, int],
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 filters: str) -> None:
    filters = filters.format(**hall_ids)
    for cache in ("_COUNTS", "_RESULTS"):  # nothing kept: each answer is computed
        monkeypatch.setattr(hall_service, cache, hall_service._ResultCache(0))
    monkeypatch.setattr(hall_caching, "_ANSWERS", hall_caching._Answers(0))
    for q in QUERIES:
        for sort in ("relevance", "newest", "price_asc"):
            query = f"q={q}&{filters}&sort={sort}"
            with_words = search(client, query)
            with monkeypatch.context() as patched:  # the filter in SQL, as before the facet words
                patched.setattr(hall_service, "fts_facets", lambda f: None)
                in_sql = search(client, query)
            assert [i["id"] for i in with_words["items"]] == [i["id"] for i in in_sql["items"]], query
            assert (with_words["total"], with_words["facets"]) == (in_sql["total"], in_sql["facets"]), query


def statements_of(app: Flask, client: FlaskClient, query: str) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        search(client, query)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_on_sqlite_text_and_filter_are_one_full_text_match(app: Flask, client: FlaskClient,
                                                          hall_ids: dict[str, int], backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL's planner joins hall_index; its vectors hold no facet words")
    seen = statements_of(app, client, "q=电池&direction=energy&trl_min=6&region=440000&facets=false")
    matches = [(sql, params) for sql, params in seen if "MATCH" in sql]
    assert matches
    for sql, params in matches:  # every match carries the filter, and none is joined to hall_index to test it
        assert any(facet_term("direction_code", "energy") in str(value) for value in params), (sql, params)
        assert "hall_index" not in sql, sql
    # a price range is still SQL's: the rest is in the match
    seen = statements_of(app, client, "q=电池&direction=energy&price_min=1&facets=false")
    assert any("MATCH" in sql and "hall_index" in sql and "price_amount" in sql for sql, _params in seen)


def test_the_words_of_an_entry_and_no_query_reaches_them() -> None:
    entry = HallIndexEntry(kind="first_of_kind", direction_code="energy", field_code="energy.storage",
                           region_code="440305", trl=7, deal_modes_mask=0b101, price_mode="fixed", currency="CNY",
                           state_funded=True, product_kind="equipment", recognition_level="national",
                           institution_id=42)
    words = entry_terms(entry).split()
    assert len(words) == SLOTS and words[15:] == [MARK] * (SLOTS - 15)  # as many words in every row
    words = words[:15]
    assert words == ["φkindφfirstφ5fofφ5fkind", "φdirectionφ5fcodeφenergy", "φfieldφ5fcodeφenergyφ2estorage",
                     "φtrlφ7", "φpriceφ5fmodeφfixed", "φproductφ5fkindφequipment",
                     "φrecognitionφ5flevelφnational", "φstateφ5ffundedφtrue", "φprovinceφ44",
                     "φdealφ5fmodeφtransfer", "φdealφ5fmodeφsoleφ5flicense", "φcityφ4403", "φcountyφ440305",
                     "φcurrencyφφ43φ4eφ59", "φinstitutionφ42"]
    for word in words:  # a visitor typing a facet word gets none of its runs as one token
        assert word not in query_runs(word) and all(MARK not in run for run in query_runs(word))
    assert MARK not in fts5_query(build_query(" ".join(words)), "any")


def test_migration_0022_fills_the_words_of_listings_already_published(app: Flask, hall_ids: dict[str, int],
                                                                      backend: str) -> None:
    with app.app_context():
        downgrade(revision="0021_hall_sort_indexes")
        upgrade()
        entries = db.session.scalars(select(HallIndexEntry)).all()
        assert entries
        for entry in entries:
            words = db.session.scalar(select(HallText.facet_tokens).where(HallText.listing_id == entry.listing_id))
            assert words == ("" if backend == "postgresql" else entry_terms(entry))
        if backend == "sqlite":  # and the full-text index holds them
            energy = [entry.listing_id for entry in entries if entry.direction_code == "energy"]
            found = db.session.scalars(text("SELECT rowid FROM hall_fts WHERE hall_fts MATCH :q ORDER BY rowid"),
                                       {"q": f'"{facet_term("direction_code", "energy")}"'}).all()
            assert found == sorted(energy) and len(energy) == 4


@pytest.mark.parametrize("value", ['en"ergy', "energy OR materials", "*", "NEAR(a b)", "^energy", "能源", "", "ENERGY"])
def test_any_filter_value_is_one_quoted_word_of_the_match(app: Flask, hall_ids: dict[str, int], value: str) -> None:
    """A filter value goes into the FTS5 expression only as one encoded word: quotes, operators, prefixes and
    non-ASCII characters neither break the match nor widen it (nothing in the hall has such a direction)."""
    with app.app_context():
        for q in ("电池", "石墨烯 battery"):
            page = hall_service.search_hall(hall_service.HallFilter(q=q, direction=value, field=value),
                                            version=None)
            assert (page.total, page.rows) == (0, [])
        assert hall_service.search_hall(hall_service.HallFilter(q="电池", direction="energy"),
                                        version=None).total == 3
        for nothing in ({"direction": "ENERGY"}, {"currency": "cny"},  # as SQL's = : case counts
                        {"trl_max": 0}, {"trl_min": 10}, {"trl_min": 7, "trl_max": 5}):  # (TRLs are 1–9)
            assert hall_service.search_hall(hall_service.HallFilter(q="电池", **nothing), version=None).total == 0
