"""The admin console's order desk for the console's trading tests: committed parties, a product and an
achievement, the admin's browser and the API clients (``Desk``), the order as stored (``row``), the balance shown
on the order page, and today in the console's time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, LedgerEntry, Order
from tests.support.console import page_csrf
from tests.support.listings import Owner
from tests.support.trading import Parties, deliver, fake_gateway, intent_succeeded

PATHS = {"bank_transfer": "bank-transfer", "refund": "refund", "settlement": "settlement",
         "resolve_dispute": "resolve-dispute"}
PREFIXES = {"bank_transfer": "transfer", "refund": "refund", "settlement": "settlement", "resolve_dispute": "dispute"}


def local_today() -> date:
    """Today in the console's time zone (bank value dates are China's days)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@dataclass
class Desk:
    """Committed parties, a product (stock 3) and an achievement, the admin's browser, and the API clients."""

    app: Flask
    parties: Parties
    product: int
    licence: int
    admin: FlaskClient
    buyer: Owner
    buyer_b: Owner
    seller: Owner

    def order(self, who: Owner | None = None, listing: str = "product") -> dict[str, Any]:
        """An order placed through the API (the product by default, bought by the first buyer)."""
        body = {"listing_id": self.product, "deal_mode": "purchase", "end_user_declared": True} \
            if listing == "product" else {"listing_id": self.licence, "deal_mode": "non_exclusive_license"}
        response = (who or self.buyer).post("/api/v1/orders", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def pay_by_card(self, order: dict[str, Any], who: Owner | None = None) -> str:
        """Start a card payment as the buyer and deliver Stripe's signed payment_intent.succeeded."""
        started = (who or self.buyer).post(f"/api/v1/orders/{order['id']}/payments", {"method": "stripe"})
        assert started.status_code == 201, started.get_json()
        intent_id = started.get_json()["client_secret"].split("_secret_")[0]
        intent = fake_gateway(self.app).succeed(intent_id)
        delivered = deliver(self.app.test_client(), intent_succeeded(intent_id, order["amount"],
                                                                    charge=intent.latest_charge))
        assert delivered.status_code == 200, delivered.get_json()
        assert row(self.app, order["id"])["status"] == "paid"
        return intent_id

    def complete(self, order: dict[str, Any], who: Owner | None = None) -> None:
        """The seller delivers and the buyer confirms, through the API."""
        assert self.seller.post(f"/api/v1/orders/{order['id']}/deliver", {"note": "设备已交付"}).status_code == 200
        assert (who or self.buyer).post(f"/api/v1/orders/{order['id']}/confirm").status_code == 200

    def post(self, order_id: int, action: str, csrf: bool = True, **fields: Any) -> Any:
        """Post one of the order page's forms as a browser would (the session's token, the form's prefix)."""
        prefix = PREFIXES[action]
        data = {f"{prefix}-{name}": value for name, value in fields.items()}
        if csrf:
            data[f"{prefix}-csrf_token"] = page_csrf(self.admin, f"/admin/orders/{order_id}")
        return self.admin.post(f"/admin/orders/{order_id}/{PATHS[action]}", data=data)

    def transfer(self, order_id: int, amount: str = "12000000.00", reference: str = "ICBC-2026-0001") -> Any:
        """Record a bank transfer through the console."""
        return self.post(order_id, "bank_transfer", amount=amount, currency="CNY",
                         value_date=local_today().isoformat(), bank_reference=reference)


def row(app: Flask, order_id: int) -> dict[str, Any]:
    """The order as stored, with its ledger, payments and number of audit events."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order is not None
        ledger = [(e.kind, e.amount, e.provider_reference) for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order_id).order_by(LedgerEntry.id))]
        return {"status": order.status, "paid": order.paid_amount, "refunded": order.refunded_amount,
                "settled": order.settled_amount, "ledger": ledger,
                "payments": [(p.method, p.status) for p in order.payments],
                "events": db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.object_type == "order", AuditEvent.object_id == str(order_id)))}


def balance(html: str) -> dict[str, str]:
    """The balance shown on the order page."""
    return dict(re.findall(r'<dd id="balance-(\w+)">([^<]*)</dd>', html))
