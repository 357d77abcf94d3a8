"""Stripe's webhook: the raw body's signature is verified before anything is read from it (PAY-01)."""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from blueprints.api.base import ApiBlueprint
from hall.services.trading import stripe_events
from schemas.orders import WebhookOut

blp = ApiBlueprint("payments", __name__, url_prefix="/payments", description="Payment providers' callbacks")


@blp.route("/stripe/webhook", methods=["POST"])
@blp.doc(security=[], parameters=[{"in": "header", "name": "Stripe-Signature", "required": True,
                                   "schema": {"type": "string"}}])
@blp.response(200, WebhookOut)
def stripe_webhook() -> Any:
    """Stripe calls this with signed events; each is applied once, in one transaction with its effects. A bad,
    stale or future signature answers 400 and changes nothing; a failure answers 5xx so Stripe retries."""
    config = current_app.config
    event = stripe_events.verify_event(request.get_data(cache=True), request.headers.get("Stripe-Signature"),
                                       config.get("STRIPE_WEBHOOK_SECRET"), config["STRIPE_WEBHOOK_TOLERANCE"])
    fetched = stripe_events.fetch_provider_data(event)  # before the transaction: no call to Stripe under a lock
    return {"received": True, "outcome": stripe_events.apply_event(event, fetched)}
