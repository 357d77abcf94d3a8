"""Seats of a docking exhibition under a race: institutions registering at once never take more seats than the
capacity (a conditional UPDATE on the seat count, like stock), and several tabs of one institution registering at
once make one registration whose seats are counted once — no 500, on SQLite and on PostgreSQL."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models.exhibitions import Exhibition, ExhibitionRegistration
from tests.support.exhibitions import make_exhibition
from tests.support.orders import open_market
from tests.support.races import api_post, make_buyers, run_together, signed_in_clients

CAPACITY = 5
RACERS = 8


def _seats_and_rows(app: Flask, exhibition_id: int) -> tuple[int, int, int]:
    with app.app_context():
        exhibition = db.session.get(Exhibition, exhibition_id)
        assert exhibition is not None
        rows = db.session.scalar(select(func.count()).select_from(ExhibitionRegistration).where(
            ExhibitionRegistration.exhibition_id == exhibition_id, ExhibitionRegistration.status == "registered"))
        attending = db.session.scalar(select(func.coalesce(func.sum(ExhibitionRegistration.attendees), 0)).where(
            ExhibitionRegistration.exhibition_id == exhibition_id, ExhibitionRegistration.status == "registered"))
        return exhibition.registered_attendees, int(rows or 0), int(attending or 0)


def test_institutions_racing_for_the_last_seats_never_oversell(race_app: Flask) -> None:
    market = open_market(race_app)
    exhibition_id = make_exhibition(race_app, market.parties.admin_id, capacity=CAPACITY)
    with race_app.app_context():
        emails = make_buyers(RACERS)
    path = f"/api/v1/exhibitions/{exhibition_id}/registration"
    results = run_together([api_post(client, path, {"attendees": 1}, headers)
                            for client, headers in signed_in_clients(race_app, emails)])
    statuses = sorted(status for status, _body, _headers in results)
    assert statuses == [201] * CAPACITY + [409] * (RACERS - CAPACITY), [(s, b) for s, b, _h in results]
    assert _seats_and_rows(race_app, exhibition_id) == (CAPACITY, CAPACITY, CAPACITY)


def test_tabs_of_one_institution_registering_at_once_make_one_registration(race_app: Flask) -> None:
    market = open_market(race_app)
    exhibition_id = make_exhibition(race_app, market.parties.admin_id, capacity=CAPACITY)
    path = f"/api/v1/exhibitions/{exhibition_id}/registration"
    tabs = signed_in_clients(race_app, [market.parties.buyer] * 4)
    results = run_together([api_post(client, path, {"attendees": 2}, headers) for client, headers in tabs])
    statuses = [status for status, _body, _headers in results]
    assert all(status in (200, 201, 409) for status in statuses), [(s, b) for s, b, _h in results]
    assert 201 in statuses
    assert _seats_and_rows(race_app, exhibition_id) == (2, 1, 2)
