"""Helpers for trading tests: published listings, the parties of a deal, and signed Stripe events."""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import stripe
from flask import Flask

from hall.extensions import db
from hall.models import User
from hall.payments import EXTENSION_KEY
from hall.payments.fake import FakeGateway
from hall.services.publishing import listing_review, listings
from tests.support.factories import InstitutionFactory, UserFactory
from tests.support.listing_data import achievement, first_of_kind

WEBHOOK_SECRET = "whsec_testing_secret"  # TestingConfig's STRIPE_WEBHOOK_SECRET
_event_ids = itertools.count(1)


@dataclass(frozen=True)
class Parties:
    """Ids and e-mails of everyone around a deal (all committed)."""

    seller_org: int
    seller: str
    seller_id: int
    buyer_org: int
    buyer: str
    buyer_id: int
    buyer_b_org: int
    buyer_b: str
    buyer_b_id: int
    outsider_org: int
    outsider: str
    admin: str
    admin_id: int


def make_parties() -> Parties:
    """A seller, two buyer institutions, an outsider institution (each verified, with an owner) and an admin."""
    orgs = [InstitutionFactory() for _ in range(4)]
    owners = [UserFactory(institution=org, institution_role="owner") for org in orgs]
    admin = UserFactory(is_admin=True)
    db.session.commit()
    return Parties(orgs[0].id, owners[0].email, owners[0].id, orgs[1].id, owners[1].email, owners[1].id,
                   orgs[2].id, owners[2].email, owners[2].id, orgs[3].id, owners[3].email, admin.email, admin.id)


def publish(owner_id: int, admin_id: int, body: dict[str, Any]) -> int:
    """Create, submit and approve a listing from ``body`` (commits); returns its id."""
    owner, admin = db.session.get(User, owner_id), db.session.get(User, admin_id)
    body = dict(body)
    kind = body.pop("kind")
    listing = listings.create_draft(owner, kind, body)
    listings.submit_listing(owner, listing.id)
    db.session.commit()
    listing_review.decide(admin, listing.id, "approve")
    db.session.commit()
    return listing.id


def publish_product(parties: Parties, stock: int = 3, price: int = 12_000_000_00) -> int:
    """A first-of-kind product with ``stock`` units at ``price`` fen each."""
    body = first_of_kind(price_amount=price)
    body["first_of_kind"] = {**body["first_of_kind"], "stock": stock,
                             "insurance": {**body["first_of_kind"]["insurance"], "insured_amount": price}}
    return publish(parties.seller_id, parties.admin_id, body)


def publish_achievement(parties: Parties, **overrides: Any) -> int:
    """An achievement offering transfer, exclusive and non-exclusive licences at a fixed 500,000.00 yuan."""
    overrides.setdefault("deal_modes", ["transfer", "exclusive_license", "non_exclusive_license"])
    return publish(parties.seller_id, parties.admin_id, achievement(**overrides))


def fake_gateway(app: Flask) -> FakeGateway:
    """The app's fake payment gateway (TestingConfig uses it)."""
    gateway = app.extensions[EXTENSION_KEY]
    assert isinstance(gateway, FakeGateway)
    return gateway


def stripe_event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event envelope around ``obj``."""
    return {"id": event_id or f"evt_test_{next(_event_ids)}", "object": "event", "type": event_type,
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


def intent_succeeded(intent_id: str, amount: int, currency: str = "cny", charge: str | None = None,
                     event_id: str | None = None) -> dict[str, Any]:
    """payment_intent.succeeded for ``intent_id``."""
    return stripe_event("payment_intent.succeeded", {
        "id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
        "currency": currency, "status": "succeeded", "latest_charge": charge or f"ch_for_{intent_id}"}, event_id)


def intent_failed(intent_id: str, amount: int, currency: str = "cny", event_id: str | None = None) -> dict[str, Any]:
    """payment_intent.payment_failed for ``intent_id``."""
    return stripe_event("payment_intent.payment_failed", {
        "id": intent_id, "object": "payment_intent", "amount": amount, "currency": currency,
        "status": "requires_payment_method", "last_payment_error": {"message": "Your card was declined."}}, event_id)


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[str, dict]:
    """The JSON body and headers Stripe would send (signature over the exact body)."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


def deliver(client: Any, event: dict[str, Any], **kwargs: Any) -> Any:
    """POST a signed event to the webhook."""
    payload, headers = signed(event, **kwargs)
    return client.post("/api/v1/payments/stripe/webhook", data=payload, headers=headers)
