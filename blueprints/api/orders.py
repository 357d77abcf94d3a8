"""Orders for buyers and sellers: create, list, read, quote, accept, pay, deliver, confirm, cancel, dispute."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import login_required

from blueprints.actor import actor, per_person
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, paginated
from blueprints.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from hall.extensions import limiter
from hall.services.trading import disputes, order_queries, orders, payments
from schemas.orders import (
    AcceptIn,
    DeliverIn,
    OrderCreateIn,
    OrderDetailOut,
    OrderOut,
    OrderQueryIn,
    PaymentIn,
    PaymentOut,
    QuoteIn,
    ReasonIn,
)

blp = ApiBlueprint("orders", __name__, url_prefix="/orders",
                   description="Orders your institution places (buyer) or receives (seller)")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(OrderQueryIn, location="query")
@blp.response(200, OrderOut(many=True), headers=PAGINATION_HEADER)
def list_orders(query: dict[str, Any]) -> Any:
    """Your institution's orders as buyer (default) or seller, newest first, filtered by status, listing, dates."""
    page, size = query.pop("page"), query.pop("page_size")
    items, total = order_queries.list_orders(actor(), query.pop("role"), page=page, per_page=size, **query)
    return paginated(items, total, page, size)


@blp.route("", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["ORDER_CREATE_LIMIT"], key_func=per_person, scope="order-create")
@idempotent
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.arguments(OrderCreateIn)
@blp.response(201, OrderOut)
@blp.alt_response(200, schema=OrderOut, description="You already have this order open: here it is.")
def create_order(data: dict[str, Any]) -> Any:
    """Order from a published listing. The price comes from the listing (fixed price × quantity) or from the
    seller's quote later; the platform never takes a price from the client."""
    listing_id = data.pop("listing_id")
    order, created = orders.create_order(actor(), listing_id, data)
    return order, 201 if created else 200


@blp.route("/<int:order_id>", methods=["GET"])
@login_required
@blp.response(200, OrderDetailOut)
def read_order(order_id: int) -> Any:
    """One order of your institution (as buyer or seller) with its history, transaction records and balance."""
    return order_queries.party_order_detail(actor(), order_id)


@blp.route("/<int:order_id>/quote", methods=["POST"])
@login_required
@blp.arguments(QuoteIn)
@blp.response(200, OrderOut)
def quote_order(data: dict[str, Any], order_id: int) -> Any:
    """Seller: name the total price (minor units) and terms of a requested order; quote again to revise."""
    return orders.quote_order(actor(), order_id, data["amount"], data.get("note"))


@blp.route("/<int:order_id>/accept", methods=["POST"])
@login_required
@blp.arguments(AcceptIn)
@blp.response(200, OrderOut)
def accept_quote(data: dict[str, Any], order_id: int) -> Any:
    """Buyer: accept the quote you read (its quote_number); stock or exclusivity is reserved until paid."""
    return orders.accept_quote(actor(), order_id, data["quote_number"])


@blp.route("/<int:order_id>/payments", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PAYMENT_CREATE_LIMIT"], key_func=per_person, scope="payment-create")
@idempotent
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.arguments(PaymentIn)
@blp.response(201, PaymentOut)
def start_payment(data: dict[str, Any], order_id: int) -> Any:
    """Buyer: pay by card (a Stripe PaymentIntent; confirm it with Stripe.js and the client_secret) or by bank
    transfer (the platform's account and the remittance reference). Asking again returns the open payment."""
    payment, extra = payments.start_payment(actor(), order_id, data["method"])
    return {"id": payment.id, "order_id": payment.order_id, "method": payment.method, "status": payment.status,
            "amount": payment.amount, "currency": payment.currency, **extra}


@blp.route("/<int:order_id>/deliver", methods=["POST"])
@login_required
@blp.arguments(DeliverIn)
@blp.response(200, OrderOut)
def deliver_order(data: dict[str, Any], order_id: int) -> Any:
    """Seller: record the delivery of a paid order."""
    return orders.deliver_order(actor(), order_id, data["note"])


@blp.route("/<int:order_id>/confirm", methods=["POST"])
@login_required
@blp.response(200, OrderOut)
def confirm_delivery(order_id: int) -> Any:
    """Buyer: confirm the delivery; the order completes."""
    return orders.confirm_delivery(actor(), order_id)


@blp.route("/<int:order_id>/cancel", methods=["POST"])
@login_required
@blp.arguments(ReasonIn)
@blp.response(200, OrderOut)
def cancel_order(data: dict[str, Any], order_id: int) -> Any:
    """Buyer or seller: end an unpaid order; its reservation is released."""
    return orders.cancel_order(actor(), order_id, data["reason"])


@blp.route("/<int:order_id>/dispute", methods=["POST"])
@login_required
@blp.arguments(ReasonIn)
@blp.response(200, OrderOut)
def open_dispute(data: dict[str, Any], order_id: int) -> Any:
    """Buyer: dispute a paid order; the platform resolves it."""
    return disputes.open_dispute(actor(), order_id, data["reason"])
