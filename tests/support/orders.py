"""The API trading tests' market and order helpers: signed-in parties (``Party``) around published listings
(``Market``, ``open_market``), placing and paying orders through the API, refunds and settlements through the
services, and reads of what is committed."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import ExclusiveClaim, Listing, Order, Payment, User
from hall.models.types import utcnow
from hall.services.trading import refunds, settlements
from tests.conftest import make_app
from tests.support.factories import sign_in
from tests.support.trading import (
    Parties,
    deliver,
    fake_gateway,
    intent_succeeded,
    make_parties,
    publish_achievement,
    publish_product,
)

ORDERS = "/api/v1/orders"
MISSING = 987_654


class Party:
    """A signed-in person with their own cookie jar; writes carry the CSRF token."""

    def __init__(self, app: Flask, email: str) -> None:
        self.email = email
        self.client = app.test_client()
        self.csrf = sign_in(self.client, email)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf, **(headers or {})})

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def order(self, listing_id: int, deal_mode: str, headers: dict[str, str] | None = None, **values: Any) -> Any:
        """POST /orders for ``listing_id``."""
        return self.post(ORDERS, {"listing_id": listing_id, "deal_mode": deal_mode, **values}, headers=headers)


@dataclass
class Market:
    """Committed parties and published listings, with everyone signed in."""

    app: Flask
    parties: Parties
    product: int  # first-of-kind, fixed price, stock; deal mode purchase
    licence: int  # achievement, fixed 500,000.00 CNY; transfer, exclusive and non-exclusive licences
    negotiable: int  # achievement, negotiable; transfer and technical service
    buyer: Party
    buyer_b: Party
    seller: Party
    outsider: Party
    admin: Party
    stock: int
    unit_price: int


def open_market(app: Flask, *, stock: int = 5, price: int = 12_000_000_00, **licence: Any) -> Market:
    """Parties, a product with ``stock`` units at ``price``, a fixed-price and a negotiable achievement."""
    with app.app_context():
        parties = make_parties()
        product = publish_product(parties, stock=stock, price=price)
        fixed = publish_achievement(parties, **licence)
        negotiable = publish_achievement(parties, price_mode="negotiable", price_amount=None,
                                         deal_modes=["transfer", "technical_service"])
        db.session.remove()
    return Market(app, parties, product, fixed, negotiable, Party(app, parties.buyer), Party(app, parties.buyer_b),
                  Party(app, parties.seller), Party(app, parties.outsider), Party(app, parties.admin), stock, price)


@contextmanager
def app_with(database_url: str, **overrides: Any) -> Iterator[Flask]:
    """The testing app with config overrides (rate limits, fee, reservation), its engine disposed afterwards."""
    application = make_app(database_url, **overrides)
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()


def buy_product(market: Market, quantity: int = 1, party: Party | None = None, **extra: Any) -> dict[str, Any]:
    """A fixed-price product order (201), as the buyer unless ``party`` is given."""
    response = (party or market.buyer).order(market.product, "purchase", quantity=quantity, end_user_declared=True,
                                              **extra)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert "fee_amount" not in body and "fee_rate_bp" not in body  # the platform's fee is not the buyer's business
    row = order_row(market.app, body["id"])
    return {**body, "fee_amount": row["fee_amount"], "fee_rate_bp": row["fee_rate_bp"]}


def start_card_payment(market: Market, order_id: int, party: Party | None = None) -> dict[str, Any]:
    response = (party or market.buyer).post(f"{ORDERS}/{order_id}/payments", {"method": "stripe"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def intent_of(app: Flask, payment_id: int) -> str:
    return read(app, lambda: db.session.get(Payment, payment_id).provider_reference)


def webhook(app: Flask, event: dict[str, Any], **kwargs: Any) -> Any:
    """Deliver a signed event as Stripe does: from a client without the site's cookies."""
    return deliver(app.test_client(), event, **kwargs)


def pay_by_card(market: Market, order_id: int, charge: str | None = None, party: Party | None = None) -> str:
    """Start a card payment, let the fake gateway's card go through, deliver the signed event; returns the intent."""
    payment = start_card_payment(market, order_id, party)
    intent = intent_of(market.app, payment["id"])
    fake_gateway(market.app).succeed(intent)
    response = webhook(market.app, intent_succeeded(intent, payment["amount"], payment["currency"].lower(), charge))
    assert response.status_code == 200 and response.get_json()["outcome"] == "applied", response.get_json()
    return intent


def as_admin(market: Market, action: Any) -> None:
    """Run ``action(admin)`` through the services in an app context and commit (refunds, settlements)."""
    with market.app.app_context():
        action(db.session.get(User, market.parties.admin_id))
        db.session.commit()
        db.session.remove()


def refund(market: Market, order_id: int, amount: int, reason: str = "部分退款") -> None:
    as_admin(market, lambda admin: refunds.refund_order(admin, order_id, amount, reason))


def settle(market: Market, order_id: int, amount: int, bank_reference: str) -> None:
    as_admin(market, lambda admin: settlements.record_settlement(admin, order_id, amount=amount,
                                                              bank_reference=bank_reference,
                                                              value_date=utcnow().date()))


def deliver_and_confirm(market: Market, order_id: int, buyer: Party | None = None) -> None:
    assert market.seller.post(f"{ORDERS}/{order_id}/deliver", {"note": "已交付"}).status_code == 200
    assert (buyer or market.buyer).post(f"{ORDERS}/{order_id}/confirm").status_code == 200


def read(app: Flask, query: Any) -> Any:
    """Run ``query()`` in a fresh app context and session (what is committed)."""
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def count(app: Flask, model: Any, *conditions: Any) -> int:
    return read(app, lambda: db.session.scalar(select(func.count()).select_from(model).where(*conditions)))


def order_row(app: Flask, order_id: int) -> dict[str, Any]:
    """The order's committed columns."""
    def load() -> dict[str, Any]:
        order = db.session.get(Order, order_id)
        return {column.key: getattr(order, column.key) for column in Order.__table__.columns}
    return read(app, load)


def listing_stock(app: Flask, listing_id: int) -> int | None:
    return read(app, lambda: db.session.get(Listing, listing_id).stock)


def active_claims(app: Flask, listing_id: int) -> list[int]:
    return read(app, lambda: list(db.session.scalars(select(ExclusiveClaim.order_id).where(
        ExclusiveClaim.listing_id == listing_id, ExclusiveClaim.released_at.is_(None)))))
