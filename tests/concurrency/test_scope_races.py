"""TXN-01 over structured scope (issue 9, item 3): buyers race for overlapping exclusive, sole and non-exclusive
licences of one listing, and exactly a compatible set wins — on SQLite and, with TEST_DATABASE_URL, PostgreSQL.

Each racer is a thread with its own session and connection behind a barrier (tests/support/races.py).
Which racer of a group wins depends on the interleaving, so the test asserts what every serial order gives: within
a group whose deals all conflict exactly one wins; where non-exclusive licences (compatible with one another) race
sole licences (compatible with none of them), either every non-exclusive licence wins or exactly one sole licence.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import ExclusiveClaim, Order
from tests.support.orders import ORDERS
from tests.support.races import THREADS, api_post, make_buyers, run_together, signed_in_clients
from tests.support.trading import make_parties, publish_achievement

E, S, N = "exclusive_license", "sole_license", "non_exclusive_license"
# (group, deal mode, field of use, territory) per racer: 20 in all.
RACERS = (
    # Guangdong: exclusive licences over energy storage in the province and over all energy in Shenzhen (inside
    # it): every pair overlaps, so exactly one wins.
    [("guangdong", E, "energy.storage", "440000")] * 7 + [("guangdong", E, "energy", "440300")] * 3
    # Beijing: non-exclusive licences in the city and sole licences in Haidian (inside it), each for another buyer.
    + [("beijing", N, "energy.storage", "110000")] * 5 + [("beijing", S, "energy.storage", "110108")] * 3
    # Quantum information for all of China: overlaps both territories above but no field of theirs.
    + [("quantum", E, "information.quantum", "CN")] * 2
)


def body(listing_id: int, mode: str, field: str, territory: str) -> dict[str, Any]:
    return {"listing_id": listing_id, "deal_mode": mode, "field_of_use": field, "territory": territory,
            "term_start": "2027-01-01", "term_end": "2036-12-31"}


def test_buyers_race_for_overlapping_scopes_and_a_compatible_set_wins(race_app: Flask, backend: str) -> None:  # noqa: F811
    assert len(RACERS) == THREADS
    with race_app.app_context():
        listing_id = publish_achievement(make_parties(), deal_modes=[E, S, N])
        buyers = make_buyers(THREADS)
    clients = signed_in_clients(race_app, buyers)
    results = run_together([api_post(client, ORDERS, body(listing_id, *racer[1:]), headers)
                            for (client, headers), racer in zip(clients, RACERS)])

    assert {status for status, _, _ in results} <= {201, 409}, (backend, results)
    for status, answer, _ in results:
        if status == 409:  # the matrix's clean refusal, not a lock error or a constraint caught on the way out
            assert answer["message"].startswith("This listing is already"), answer
    won = Counter((group, mode) for (status, _, _), (group, mode, _, _) in zip(results, RACERS) if status == 201)
    assert won[("guangdong", E)] == 1, (backend, won)
    assert won[("quantum", E)] == 1, (backend, won)
    beijing = (won[("beijing", N)], won[("beijing", S)])
    assert beijing in ((5, 0), (0, 1)), (backend, won)

    winners = sorted(answer["id"] for status, answer, _ in results if status == 201)
    with race_app.app_context():
        placed = db.session.scalars(select(Order).where(Order.listing_id == listing_id)).all()
        assert sorted(order.id for order in placed) == winners  # the losers left no order behind
        assert all(order.status == "accepted" for order in placed)
        claims = db.session.execute(select(ExclusiveClaim.order_id, ExclusiveClaim.deal_mode).where(
            ExclusiveClaim.listing_id == listing_id, ExclusiveClaim.released_at.is_(None))).all()
        assert sorted(claims) == sorted((order.id, order.deal_mode) for order in placed)


def test_an_exclusive_licence_and_non_exclusive_ones_race_for_all_of_china(race_app: Flask,  # noqa: F811
                                                                           backend: str) -> None:
    """Ten buyers want a non-exclusive licence for China, ten an exclusive one for a province in it: either the
    ten non-exclusive licences win, or exactly one exclusive licence and nothing else."""
    racers = [(N, "CN")] * 10 + [(E, "320000")] * 10
    with race_app.app_context():
        listing_id = publish_achievement(make_parties(), deal_modes=[E, N])
        buyers = make_buyers(THREADS)
    clients = signed_in_clients(race_app, buyers)
    results = run_together([api_post(client, ORDERS, body(listing_id, mode, "energy", territory), headers)
                            for (client, headers), (mode, territory) in zip(clients, racers)])
    won = Counter(mode for (status, _, _), (mode, _) in zip(results, racers) if status == 201)
    assert Counter(status for status, _, _ in results) == {201: sum(won.values()), 409: THREADS - sum(won.values())}
    assert won in (Counter({N: 10}), Counter({E: 1})), (backend, won)
    with race_app.app_context():
        active = db.session.scalars(select(ExclusiveClaim.deal_mode).where(
            ExclusiveClaim.listing_id == listing_id, ExclusiveClaim.released_at.is_(None))).all()
        assert Counter(active) == won
