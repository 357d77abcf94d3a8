"""PAY-07 at the gateway: every Stripe call that creates something carries an Idempotency-Key built from our ids
(hall-order-<id>-pay-<attempt>, hall-order-<id>-refund-<n>), the same on stripe-python's own retries and when a
buyer or an admin tries again after a failure, so a lost response never charges or refunds twice.

Stripe is played by a custom stripe-python HTTP client given to StripeGateway: it records every attempt, answers as
Stripe does (a key it has seen gets the first answer again) and can lose the response of the next attempts after
handling them, like a timeout between Stripe and us. No network and no localstripe (which ignores the keys).
"""
from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import LedgerEntry, Order, Payment, User
from hall.payments import EXTENSION_KEY, GatewayError
from hall.payments.stripe_gateway import StripeGateway
from hall.services.trading import payments, refunds
from tests.conftest import make_app
from tests.support.factories import sign_in
from tests.support.trading import Parties, make_parties, publish_product

SECRET_KEY = "sk_test_hall_keys"
API_BASE = "http://127.0.0.1:9"  # never contacted: the HTTP client below answers every request itself
PRICE = 1_000_000


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt stripe-python made."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]


class FlakyStripe(stripe.HTTPClient):
    """Stripe behind stripe-python's HTTP-client interface, with a connection that can drop answers."""

    name = "flaky-stripe"

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[Attempt] = []
        self.lose_next = 0  # lose the answers of this many coming attempts (after Stripe handled them)
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, str] = {}  # Idempotency-Key → the first answer, as Stripe keeps it for 24 h
        self._ids = itertools.count(1)

    def request(self, method: str, url: str, headers: Any, post_data: Any = None, *,
                _usage: Any = None) -> tuple[str, int, dict[str, str]]:
        path = urlsplit(url).path
        params = dict(parse_qsl(post_data or urlsplit(url).query, keep_blank_values=True))
        headers = dict(headers or {})
        self.attempts.append(Attempt(method.upper(), path, headers, params))
        key = headers.get("Idempotency-Key")
        if key is not None and key in self._answers:
            body, status = self._answers[key], 200
        else:
            body, status = self._handle(method.upper(), path, params)
            if key is not None and method.upper() == "POST":
                self._answers[key] = body
        if self.lose_next:
            self.lose_next -= 1
            raise stripe.APIConnectionError("the connection dropped before Stripe's answer arrived",
                                            should_retry=True)
        return body, status, {"Request-Id": f"req_keys_{next(self._ids)}"}

    def _handle(self, method: str, path: str, params: dict[str, str]) -> tuple[str, int]:
        metadata = {name[len("metadata["):-1]: value for name, value in params.items()
                    if name.startswith("metadata[")}
        if (method, path) == ("POST", "/v1/payment_intents"):
            intent_id = f"pi_keys_{next(self._ids)}"
            self.intents[intent_id] = {
                "id": intent_id, "object": "payment_intent", "amount": int(params["amount"]),
                "currency": params["currency"], "status": "requires_payment_method", "latest_charge": None,
                "client_secret": f"{intent_id}_secret_{next(self._ids)}", "metadata": metadata,
                "created": int(time.time())}
            return json.dumps(self.intents[intent_id]), 200
        if method == "GET" and path.startswith("/v1/payment_intents/") and path.rsplit("/", 1)[1] in self.intents:
            return json.dumps(self.intents[path.rsplit("/", 1)[1]]), 200
        if (method, path) == ("POST", "/v1/refunds") and params.get("payment_intent") in self.intents:
            refund_id = f"re_keys_{next(self._ids)}"
            self.refunds[refund_id] = {
                "id": refund_id, "object": "refund", "amount": int(params["amount"]),
                "currency": self.intents[params["payment_intent"]]["currency"], "status": "succeeded",
                "payment_intent": params["payment_intent"], "charge": None, "metadata": metadata,
                "created": int(time.time())}
            return json.dumps(self.refunds[refund_id]), 200
        return json.dumps({"error": {"type": "invalid_request_error", "message": f"no route {method} {path}"}}), 404

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.01  # stripe-python waits 0.5 s and more between retries; nothing to wait for here

    def close(self) -> None:
        pass

    def keys(self, method: str, path: str) -> list[str | None]:
        """The Idempotency-Key of every attempt at ``method path``, in order."""
        return [a.headers.get("Idempotency-Key") for a in self.attempts if (a.method, a.path) == (method, path)]


@pytest.fixture
def keys_app(database_url: str) -> Iterator[tuple[Flask, FlakyStripe]]:
    """The app configured for Stripe, its gateway talking through FlakyStripe."""
    app = make_app(database_url, PAYMENT_GATEWAY="stripe", STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=API_BASE)
    assert isinstance(app.extensions[EXTENSION_KEY], StripeGateway)
    flaky = FlakyStripe()
    app.extensions[EXTENSION_KEY] = StripeGateway(SECRET_KEY, api_base=API_BASE, http_client=flaky,
                                                  max_network_retries=2)
    yield app, flaky
    with app.app_context():
        db.engine.dispose()


def ordered(app: Flask) -> tuple[Parties, FlaskClient, str, int]:
    """The parties, the buyer's signed-in test client and CSRF token, and an accepted order at PRICE."""
    with app.app_context():
        parties = make_parties()
        listing_id = publish_product(parties, stock=3, price=PRICE)
    client = app.test_client()
    csrf = sign_in(client, parties.buyer)
    response = client.post("/api/v1/orders", headers={"X-CSRFToken": csrf}, json={
        "listing_id": listing_id, "deal_mode": "purchase", "quantity": 1, "end_user_declared": True})
    assert response.status_code == 201, response.get_json()
    return parties, client, csrf, response.get_json()["id"]


def payment_rows(app: Flask, order_id: int) -> list[tuple[int, int, str, str]]:
    with app.app_context():
        return [(p.id, p.attempt, p.status, p.provider_reference) for p in db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id))]


def test_payment_intent_key_is_ours_on_every_retry_and_the_open_payment_is_reused(
        keys_app: tuple[Flask, FlakyStripe]) -> None:
    app, flaky = keys_app
    _, client, csrf, order_id = ordered(app)
    pay = f"/api/v1/orders/{order_id}/payments"
    key = f"hall-order-{order_id}-pay-1"

    # Stripe made the intent, but all three attempts (stripe-python retries twice) lost the answer: 502. The
    # payment was recorded (and committed) before the call, with no intent attached yet.
    flaky.lose_next = 3
    response = client.post(pay, json={"method": "stripe"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 502, response.get_json()
    [(_, attempt, status, placeholder)] = payment_rows(app, order_id)
    assert (attempt, status) == (1, "pending") and placeholder.startswith("HT")
    assert flaky.keys("POST", "/v1/payment_intents") == [key] * 3
    [intent_id] = flaky.intents

    # The buyer tries again: the same key, so Stripe answers with the intent it already made (first attempt lost
    # again, the library's retry gets through).
    flaky.lose_next = 1
    response = client.post(pay, json={"method": "stripe"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 201, response.get_json()
    first = response.get_json()
    assert flaky.keys("POST", "/v1/payment_intents") == [key] * 5
    assert list(flaky.intents) == [intent_id]
    assert first["client_secret"] == flaky.intents[intent_id]["client_secret"]
    assert (first["amount"], first["currency"]) == (PRICE, "CNY")
    [(payment_id, attempt, status, reference)] = payment_rows(app, order_id)
    assert (payment_id, attempt, status, reference) == (first["id"], 1, "pending", intent_id)
    intent_params = [a.params for a in flaky.attempts if (a.method, a.path) == ("POST", "/v1/payment_intents")]
    assert {(p["amount"], p["currency"], p["metadata[order_id]"]) for p in intent_params} == \
        {(str(PRICE), "cny", str(order_id))}

    # A double click: the open payment is reused, no second intent is created (only read back).
    creates_before = len(flaky.keys("POST", "/v1/payment_intents"))
    again = client.post(pay, json={"method": "stripe"}, headers={"X-CSRFToken": csrf})
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first
    assert len(flaky.keys("POST", "/v1/payment_intents")) == creates_before
    assert flaky.attempts[-1].method == "GET" and flaky.attempts[-1].path == f"/v1/payment_intents/{intent_id}"
    assert list(flaky.intents) == [intent_id]
    assert len(payment_rows(app, order_id)) == 1


def test_refund_key_is_ours_on_every_retry(keys_app: tuple[Flask, FlakyStripe]) -> None:
    app, flaky = keys_app
    parties, client, csrf, order_id = ordered(app)
    response = client.post(f"/api/v1/orders/{order_id}/payments", json={"method": "stripe"},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 201, response.get_json()
    [intent_id] = flaky.intents
    with app.app_context():  # what the payment_intent.succeeded webhook does
        payment = db.session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert payments.payment_succeeded(payment, amount=PRICE, currency="cny", charge_reference="ch_keys",
                                          rail="stripe") == "applied"
        db.session.commit()
    first_key, second_key = f"hall-order-{order_id}-refund-1", f"hall-order-{order_id}-refund-2"

    def refund(amount: int) -> None:
        with app.app_context():
            admin = db.session.get(User, parties.admin_id)
            try:
                refunds.refund_order(admin, order_id, amount, "退款 / refund")
                db.session.commit()
            finally:
                db.session.rollback()

    def refunds_recorded() -> tuple[int, list[tuple[int, str]]]:
        with app.app_context():
            order = db.session.get(Order, order_id)
            assert order is not None
            return order.refunded_amount, [(e.amount, e.provider_reference) for e in db.session.scalars(
                select(LedgerEntry).where(LedgerEntry.order_id == order_id, LedgerEntry.kind == "refund")
                .order_by(LedgerEntry.id))]

    # Stripe refunded, but every answer was lost: the admin sees an error; the refund stays requested (counted,
    # so nothing can overtake it) and nothing is booked in the ledger.
    flaky.lose_next = 3
    with pytest.raises(GatewayError):
        refund(300_000)
    assert refunds_recorded() == (300_000, [])
    assert flaky.keys("POST", "/v1/refunds") == [first_key] * 3
    [refund_id] = flaky.refunds

    # The admin tries again: same key, Stripe answers with the refund it already made; it is recorded once.
    flaky.lose_next = 1
    refund(300_000)
    assert flaky.keys("POST", "/v1/refunds") == [first_key] * 5
    assert list(flaky.refunds) == [refund_id]
    assert refunds_recorded() == (300_000, [(300_000, refund_id)])
    assert {a.params["payment_intent"] for a in flaky.attempts if a.path == "/v1/refunds"} == {intent_id}

    # A second, separate refund gets the next key and a new refund at Stripe.
    refund(100_000)
    assert flaky.keys("POST", "/v1/refunds") == [first_key] * 5 + [second_key]
    assert len(flaky.refunds) == 2
    second_id = list(flaky.refunds)[1]
    assert refunds_recorded() == (400_000, [(300_000, refund_id), (100_000, second_id)])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.order_id == order_id, LedgerEntry.kind == "fee_reversal")) == 2
