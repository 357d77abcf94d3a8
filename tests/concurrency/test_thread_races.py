"""Enquiry threads under races: members of one institution opening a thread on the same listing at the same moment
get one thread (the partial unique index decides; the losers get the winner's thread back, never a 500), and one
person reading a thread in several tabs at once ends with one read mark. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import Institution, Thread, ThreadRead
from tests.support.factories import UserFactory
from tests.support.races import api_post, run_together, signed_in_clients
from tests.support.trading import make_parties, publish_achievement

RACERS = 8


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return int(count or 0)


def test_colleagues_opening_the_same_thread_at_once_get_one_thread(race_app: Flask) -> None:
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
        org = db.session.get(Institution, parties.buyer_org)
        emails = [UserFactory(institution=org, institution_role="member").email for _ in range(RACERS)]
        db.session.commit()
        db.session.remove()
    clients = signed_in_clients(race_app, emails)
    body = {"listing_id": listing_id, "body": "请问是否可以独家许可？"}
    results = run_together([api_post(client, "/api/v1/threads", body, headers) for client, headers in clients])
    statuses = sorted(status for status, _body, _headers in results)
    assert statuses == [200] * (RACERS - 1) + [201], results
    assert len({answer["id"] for _status, answer, _headers in results}) == 1
    assert _count(race_app, Thread) == 1


def test_one_person_reading_in_several_tabs_keeps_one_read_mark(race_app: Flask) -> None:
    with race_app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties)
        db.session.remove()
    (buyer, buyer_headers), = signed_in_clients(race_app, [parties.buyer])
    opened = buyer.post("/api/v1/threads", json={"listing_id": listing_id, "body": "hello"}, headers=buyer_headers)
    assert opened.status_code == 201
    thread_id = opened.get_json()["id"]
    seller_tabs = signed_in_clients(race_app, [parties.seller] * RACERS)

    def reader(client: Any) -> Any:
        def work(barrier: threading.Barrier) -> int:
            barrier.wait(timeout=30)
            return int(client.get(f"/api/v1/threads/{thread_id}").status_code)
        return work

    assert run_together([reader(client) for client, _headers in seller_tabs]) == [200] * RACERS
    assert _count(race_app, ThreadRead) == 2  # the buyer's (from writing) and the seller's
