"""The stock a first-of-kind product still has is shown to the public and to its owner, and follows orders."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from hall.extensions import db
from tests.support.factories import sign_in
from tests.support.trading import make_parties, publish_product


def test_stock_available_follows_orders_and_cancellations(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        parties = make_parties()
        listing_id = publish_product(parties, stock=3)
        db.session.remove()
    assert client.get(f"/api/v1/hall/listings/{listing_id}").get_json()["stock_available"] == 3
    csrf = sign_in(client, parties.buyer)
    order = client.post("/api/v1/orders", json={"listing_id": listing_id, "deal_mode": "purchase", "quantity": 2,
                                                "end_user_declared": True}, headers={"X-CSRFToken": csrf})
    assert order.status_code == 201, order.get_json()
    assert client.get(f"/api/v1/hall/listings/{listing_id}").get_json()["stock_available"] == 1
    cancelled = client.post(f"/api/v1/orders/{order.get_json()['id']}/cancel", json={"reason": "换型号"},
                            headers={"X-CSRFToken": csrf})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/hall/listings/{listing_id}").get_json()["stock_available"] == 3

    seller = FlaskClient(app, use_cookies=True)
    sign_in(seller, parties.seller)
    assert seller.get(f"/api/v1/listings/{listing_id}").get_json()["stock"] == 3
