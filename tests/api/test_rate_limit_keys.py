"""Per-person rate limits (RATE-01) count the person, not the session or the token: signing in again does not buy a
fresh budget, a token and a session of one person share one, and two people calling with tokens never share one
(the key was once the session key, which a token caller does not have: every token caller counted as one)."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hall.extensions import db
from hall.models import User
from hall.services.accounts import sessions
from tests.support.orders import ORDERS, Party, app_with, open_market

LIMIT = 2


def token_client(app: Flask, email: str) -> tuple[FlaskClient, dict[str, str]]:
    """A client calling with a fresh personal access token of ``email``'s person."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        secret = sessions.create_api_token(user, "limits")[1]
        db.session.commit()
        db.session.remove()
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


def order_body(product: int) -> dict[str, object]:
    return {"listing_id": product, "deal_mode": "purchase", "quantity": 1, "end_user_declared": True}


def test_a_new_sign_in_does_not_reset_the_order_limit(database_url: str) -> None:
    with app_with(database_url, ORDER_CREATE_LIMIT=f"{LIMIT} per hour") as app:
        market = open_market(app, stock=20)
        for quantity in range(1, LIMIT + 1):
            placed = market.buyer.order(market.product, "purchase", quantity=quantity, end_user_declared=True)
            assert placed.status_code == 201, placed.get_json()
        again = Party(app, market.parties.buyer)  # a second session of the same person
        refused = again.order(market.product, "purchase", quantity=LIMIT + 1, end_user_declared=True)
        assert refused.status_code == 429, refused.get_json()
        client, headers = token_client(app, market.parties.buyer)  # and their token
        assert client.post(ORDERS, json=order_body(market.product), headers=headers).status_code == 429


def test_token_callers_each_have_their_own_budget(database_url: str) -> None:
    with app_with(database_url, ORDER_CREATE_LIMIT=f"{LIMIT} per hour") as app:
        market = open_market(app, stock=20)
        first, first_headers = token_client(app, market.parties.buyer)
        second, second_headers = token_client(app, market.parties.buyer_b)
        for quantity in range(1, LIMIT + 1):
            body = {**order_body(market.product), "quantity": quantity}
            assert first.post(ORDERS, json=body, headers=first_headers).status_code == 201
        assert first.post(ORDERS, json=order_body(market.product), headers=first_headers).status_code == 429
        answer = second.post(ORDERS, json=order_body(market.product), headers=second_headers)
        assert answer.status_code == 201, answer.get_json()
