"""Sorted hall pages on SQLite (issue 14): when matches are dense, a page sorted by price or by date walks the sort's
own index (the price orders' expression indexes of migration 0021, the date's index) and tests each listing against
the filter and the text, instead of finding every match and sorting them; the pages are the same either way,
prices tied and missing included, on both databases."""
from __future__ import annotations

import random

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from hall.extensions import db
from hall.search.query import build_query
from hall.services.publishing import hall
from hall.services.publishing.hall import HallFilter, search_hall
from tests.support.hall_listings import add_to_hall, build_hall
from tests.support.listing_data import achievement
from tests.support.statements import counted

PRICE_INDEXES = {"ix_hall_index_price_asc", "ix_hall_index_price_desc"}


@pytest.fixture
def priced_hall(app: Flask) -> dict[str, int]:
    rng = random.Random(21)
    bodies = {}
    for n in range(10):  # tied prices, and negotiable ones without a price
        negotiable = n % 4 == 3
        bodies[f"priced{n}"] = achievement(
            title_zh=f"储能电池管理系统{n}", direction_code="energy", field_code="energy.storage",
            trl=rng.randint(3, 9), price_mode="negotiable" if negotiable else "fixed",
            price_amount=None if negotiable else rng.choice([100_000_00, 250_000_00, 250_000_00, 900_000_00]))
    return add_to_hall(app, build_hall(app), bodies)


def _index_names() -> set[str]:
    if db.engine.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'hall_index'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hall_index'"
    names = set(db.session.scalars(text(query)))
    db.session.rollback()  # the migrations below run on connections of their own
    return names


def test_the_price_order_indexes_come_and_go_with_their_migration(app: Flask) -> None:
    with app.app_context():
        assert PRICE_INDEXES <= _index_names()
        downgrade(revision="0020_hall_facet_counts")
        assert not PRICE_INDEXES & _index_names()
        upgrade()
        assert PRICE_INDEXES <= _index_names()
        db.engine.dispose()


@pytest.mark.parametrize("sort", ["price_asc", "price_desc", "newest"])
def test_a_walked_page_is_the_page_a_sort_gives(app: Flask, priced_hall: dict[str, int], sort: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    filters = [HallFilter(), HallFilter(q="电池"), HallFilter(direction="energy"), HallFilter(q="电池", trl_min=5),
               HallFilter(kind="achievement", region="440000"), HallFilter(q="储能 系统")]
    with app.app_context():
        for f in filters:
            pages = {}
            for walk_entries in (0, 10**9):  # never walk, always walk (when there is anything to walk to)
                monkeypatch.setattr(hall, "WALK_ENTRIES", walk_entries)
                pages[walk_entries] = [[entry.listing_id for entry, _version, _score in search_hall(
                    f, sort=sort, page=page, per_page=3, version=None).rows] for page in (1, 2, 3)]
            assert pages[0] == pages[10**9], (f, sort)
            assert pages[0][0], (f, sort)
        db.session.remove()


def test_sqlite_walks_the_price_index_when_matches_are_dense(app: Flask, priced_hall: dict[str, int],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's planner; PostgreSQL chooses by its statistics")
        for sort, index in (("price_asc", "ix_hall_index_price_asc"), ("price_desc", "ix_hall_index_price_desc"),
                            ("newest", "ix_hall_index_published_at")):
            with counted() as statements:
                search_hall(HallFilter(q="电池", direction="energy"), sort=sort, version=None)
            page_query = [s for s in statements if "ORDER BY" in s and "LIMIT" in s and "bm25" not in s]
            assert len(page_query) == 1 and "+(" in page_query[0], statements
            f = HallFilter(q="电池", direction="energy")
            conditions = [hall.not_from_an_index(c) for c in
                          hall._conditions(f) + [hall.text_condition(build_query("电池"), "all")]]
            order = {"price_asc": [hall.HallIndexEntry.price_amount.is_(None), hall.HallIndexEntry.price_amount.asc(),
                                   hall.HallIndexEntry.published_at.desc()],
                     "price_desc": [hall.HallIndexEntry.price_amount.is_(None),
                                    hall.HallIndexEntry.price_amount.desc(), hall.HallIndexEntry.published_at.desc()],
                     "newest": [hall.HallIndexEntry.published_at.desc(), hall.HallIndexEntry.listing_id.desc()]}[sort]
            query = select(hall.HallIndexEntry.listing_id).where(*conditions).order_by(*order).limit(20)
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(row[3]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert index in plan and "TEMP B-TREE FOR ORDER BY" not in plan, (sort, plan)
        monkeypatch.setattr(hall, "WALK_ENTRIES", 0)  # sparse matches: found, then sorted
        with counted() as statements:
            search_hall(HallFilter(q="电池"), sort="price_asc", version=None)
        assert not any("+(" in s for s in statements)
        db.session.remove()
