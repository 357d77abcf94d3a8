"""One compensation application per policy year under a race: several tabs of the institution start an
application for the same policy year at once; exactly one draft is made, the others are told 409 (the service's
check, or the partial unique index when two pass the check together) — on SQLite and on PostgreSQL."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models.insurance import CompensationApplication
from tests.support.insurance import APPLICATIONS, make_policy
from tests.support.orders import open_market
from tests.support.races import api_post, run_together, signed_in_clients

RACERS = 8


def test_racing_tabs_make_one_application_per_policy_year(race_app: Flask) -> None:
    market = open_market(race_app)
    policy_id = make_policy(market.seller, market.product)
    tabs = signed_in_clients(race_app, [market.parties.seller] * RACERS)
    body = {"policy_id": policy_id, "policy_year": 2}
    results = run_together([api_post(client, APPLICATIONS, body, headers) for client, headers in tabs])
    statuses = sorted(status for status, _body, _headers in results)
    assert statuses == [201] + [409] * (RACERS - 1), [(s, b) for s, b, _h in results]
    with race_app.app_context():
        made = db.session.scalar(select(func.count()).select_from(CompensationApplication)
                                 .where(CompensationApplication.policy_id == policy_id))
    assert made == 1
