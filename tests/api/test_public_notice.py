"""公示: a negotiated price for a state-funded achievement is posted publicly for PUBLIC_NOTICE_DAYS before it can
be paid (Art. 18 of the Law on Promoting the Transformation of S&T Achievements); other deals are not held."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from hall.extensions import db
from hall.models import Order
from hall.models.types import utcnow
from tests.conftest import make_app
from tests.support.factories import sign_in
from tests.support.trading import Parties, make_parties, publish_achievement


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url, PUBLIC_NOTICE_DAYS=15)
    yield application
    with application.app_context():
        db.engine.dispose()


def _negotiated_order(app: Flask, client: FlaskClient, state_funded: bool) -> tuple[Parties, int, str]:
    with app.app_context():
        parties = make_parties()
        listing_id = publish_achievement(parties, price_mode="negotiable", price_amount=None,
                                         state_funded=state_funded)
        db.session.remove()
    seller = app.test_client()
    seller_csrf = sign_in(seller, parties.seller)
    csrf = sign_in(client, parties.buyer)
    order = client.post("/api/v1/orders", json={"listing_id": listing_id, "deal_mode": "exclusive_license"},
                        headers={"X-CSRFToken": csrf}).get_json()
    assert order["status"] == "requested"
    quoted = seller.post(f"/api/v1/orders/{order['id']}/quote", json={"amount": 880_000_00, "note": "五年独占"},
                         headers={"X-CSRFToken": seller_csrf})
    assert quoted.status_code == 200, quoted.get_json()
    accepted = client.post(f"/api/v1/orders/{order['id']}/accept", json={"quote_number": 1},
                           headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 200, accepted.get_json()
    return parties, order["id"], csrf


def test_a_state_funded_negotiated_price_is_posted_and_cannot_be_paid_yet(app: Flask, client: FlaskClient) -> None:
    _parties, order_id, csrf = _negotiated_order(app, client, state_funded=True)
    order = client.get(f"/api/v1/orders/{order_id}").get_json()
    assert order["reserved_until"] > order["accepted_at"]

    notices = app.test_client().get("/api/v1/hall/notices")  # public: no sign-in
    assert notices.status_code == 200
    [notice] = notices.get_json()
    assert notice["amount"] == 880_000_00 and notice["deal_mode"] == "exclusive_license"
    assert notice["title_zh"] and notice["seller"]["name_zh"]

    refused = client.post(f"/api/v1/orders/{order_id}/payments", json={"method": "bank_transfer"},
                          headers={"X-CSRFToken": csrf})
    assert refused.status_code == 409 and "公示" in refused.get_json()["message"]

    with app.app_context():  # the notice period passes
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(notice_until=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    paid = client.post(f"/api/v1/orders/{order_id}/payments", json={"method": "bank_transfer"},
                       headers={"X-CSRFToken": csrf})
    assert paid.status_code == 201, paid.get_json()
    assert app.test_client().get("/api/v1/hall/notices").get_json() == []


def test_a_price_not_from_state_funding_is_not_held(app: Flask, client: FlaskClient) -> None:
    _parties, order_id, csrf = _negotiated_order(app, client, state_funded=False)
    assert app.test_client().get("/api/v1/hall/notices").get_json() == []
    paid = client.post(f"/api/v1/orders/{order_id}/payments", json={"method": "bank_transfer"},
                       headers={"X-CSRFToken": csrf})
    assert paid.status_code == 201, paid.get_json()
