"""The hall's facet counts come from one statement (issue 14) and are exactly what counting each facet on its own
over the filtered listings gives, on random filters, on both backends; a hall page runs the same small number of
statements whatever the filters, and fewer when its totals, ids and facets are already known for the hall's
current version."""
from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import HallIndexEntry
from hall.models.listings import DEAL_MODES
from hall.search import query_terms
from hall.services.publishing.hall import FACETS, HallFilter, facet_counts, filtered_selection, search_hall
from tests.support.hall_listings import add_to_hall, build_hall
from tests.support.listing_data import achievement
from tests.support.statements import counted, without_begin

DIRECTIONS = {"energy": ("energy.storage", "energy.hydrogen"), "materials": ("materials.key_strategic",),
              "health": ("health.high_end_medical_equipment",)}
REGIONS = ("110108", "440305", "320102", "310115", "440106", "330106")


@pytest.fixture
def hall_ids(app: Flask) -> dict[str, int]:
    rng = random.Random(14)
    bodies = {}
    for n in range(6):
        direction = rng.choice(sorted(DIRECTIONS))
        bodies[f"extra{n}"] = achievement(
            title_zh=f"电池储能系统{n}", direction_code=direction, field_code=rng.choice(DIRECTIONS[direction]),
            region_code=rng.choice(REGIONS), trl=rng.randint(1, 9), state_funded=rng.random() < 0.5,
            deal_modes=rng.sample(DEAL_MODES[:7], rng.randint(1, 3)))
    return add_to_hall(app, build_hall(app), bodies)


def per_facet(f: HallFilter) -> dict[str, dict[str, int]]:
    """Each facet counted on its own, in Python, over the index rows of the filtered listings."""
    terms = query_terms(f.q) if f.q else []
    ids = set(db.session.scalars(filtered_selection(f, terms, "all")))
    entries = [entry for entry in db.session.scalars(select(HallIndexEntry)) if entry.listing_id in ids]
    facets: dict[str, dict[str, int]] = {}
    for name in FACETS[:-2]:
        values = [getattr(entry, name) for entry in entries]
        facets[name] = dict(Counter(str(v).lower() if isinstance(v, bool) else str(v) for v in values
                                    if v is not None))
    facets["province"] = dict(Counter(entry.region_code[:2] for entry in entries if entry.region_code))
    facets["deal_mode"] = {mode: count for mode, count in (
        (mode, sum(1 for entry in entries if entry.deal_modes_mask & (1 << i))) for i, mode in enumerate(DEAL_MODES))
        if count}
    return facets


def random_filter(rng: random.Random) -> HallFilter:
    choices: dict[str, Any] = {
        "q": rng.choice([None, "电池", "graphene", "石墨烯 battery"]),
        "kind": rng.choice([None, "achievement", "first_of_kind"]),
        "direction": rng.choice([None, "energy", "materials"]),
        "trl_min": rng.choice([None, 3, 5]), "trl_max": rng.choice([None, 7, 9]),
        "deal_mode": rng.choice([None, "transfer", "technical_service"]),
        "state_funded": rng.choice([None, True, False]),
        "region": rng.choice([None, "440000", "110000", "440305"]),
    }
    return HallFilter(**choices)


def test_facets_in_one_statement_equal_counting_each_facet(app: Flask, hall_ids: dict[str, int]) -> None:
    rng = random.Random(1414)
    with app.app_context():
        for f in [HallFilter(), *(random_filter(rng) for _ in range(40))]:
            expected = per_facet(f)
            terms = query_terms(f.q) if f.q else []
            with counted() as statements:
                assert facet_counts(filtered_selection(f, terms, "all")) == expected, f
            assert len(statements) == 1
            assert search_hall(f).facets == expected, f  # and through the search (cached or not)
            found = search_hall(f)
            assert found.facets == expected, f
            assert found.total == sum(expected["kind"].values()), f  # PostgreSQL: the total of the facets' pass
        unfiltered = per_facet(HallFilter())
        assert sum(unfiltered["kind"].values()) == 8 + 6 and unfiltered["province"]
        assert set(unfiltered["state_funded"]) == {"true", "false"}


def test_a_hall_page_runs_a_fixed_small_number_of_statements(app: Flask, hall_ids: dict[str, int]) -> None:
    client = app.test_client()
    cold, warm = set(), set()
    for query in ("", "q=电池", "direction=energy&sort=newest", "q=graphene&trl_min=3&deal_mode=transfer",
                  "kind=achievement&region=440000&state_funded=true&sort=price_asc", "q=nothing-matches-this"):
        for seen in (cold, warm):
            with app.app_context(), counted() as statements:
                assert client.get(f"/api/v1/hall/listings?{query}").status_code == 200
            seen.add(len(without_begin(statements)))
    assert max(cold) <= 6, cold  # version, count, page ids, facets, rows, their attachments
    assert max(warm) <= 3, warm  # version, rows, their attachments: the rest is known for this version


def test_every_page_and_sort_of_a_search_shares_its_total_and_facets(app: Flask, hall_ids: dict[str, int]) -> None:
    with app.app_context():
        f = HallFilter(q="电池")
        first = search_hall(f, page=1, per_page=2)
        assert first.total > 2
        for sort, page in (("relevance", 2), ("newest", 1), ("price_asc", 2)):
            with counted() as statements:
                other = search_hall(f, sort=sort, page=page, per_page=2)
            sql = [statement.lower() for statement in without_begin(statements)]
            assert not any("count(" in statement for statement in sql), (sort, page, sql)  # counted once
            assert (other.total, other.facets) == (first.total, first.facets)
            assert other.rows
