"""Schemas for orders, payments and transaction records: separate In (load) and Out (dump) schemas."""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields, post_dump, validate

from hall.models.ledger import LEDGER_KINDS
from hall.models.orders import CONTRACT_TYPES, ORDER_STATUSES
from hall.services.trading.order_rules import MAX_AMOUNT, MAX_QUANTITY
from schemas.common import MAX_ID, StrictSchema
from schemas.listings import CURRENCIES

BUYER_DEAL_MODES = ("transfer", "exclusive_license", "sole_license", "non_exclusive_license", "equity",
                    "joint_development", "technical_service", "purchase")
Id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class OrderCreateIn(StrictSchema):
    """What the buyer asks for. There is no price field: the platform computes it (PAY-06)."""

    listing_id = Id
    deal_mode = fields.String(required=True, validate=validate.OneOf(BUYER_DEAL_MODES))
    quantity = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=MAX_QUANTITY),
                              metadata={"description": "units or batches of a first-of-kind product"})
    field_of_use = _text(60, allow_none=True, metadata={
        "description": "licences only: a code of the future-industry taxonomy (GET /api/v1/hall/taxonomy), a "
                       "field such as energy.storage or a whole direction such as energy; leave out for every "
                       "field. A transfer sells every field, territory and term: send none of them.",
        "example": "energy.storage"})
    territory = _text(20, allow_none=True, metadata={
        "description": "licences only: WORLD (or leave out) for worldwide, CN for all of China, or a GB/T 2260 "
                       "six-digit region code (440000 Guangdong ⊃ 440300 Shenzhen ⊃ 440305 Nanshan)",
        "example": "440000"})
    term_start = fields.Date(allow_none=True, metadata={"description": "licences only; open when left out"})
    term_end = fields.Date(allow_none=True, metadata={"description": "licences only: today or later; open when "
                                                                     "left out"})
    contract_type = fields.String(allow_none=True, validate=validate.OneOf(CONTRACT_TYPES),
                                  metadata={"description": "technology-contract type; defaults from the deal mode"})
    end_user_declared = fields.Boolean(load_default=False,
                                       metadata={"description": "required true for first-of-kind purchases"})
    note = _text(2000, allow_none=True)
    exhibition_id = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_ID),
                                   metadata={"description": "the docking exhibition the order starts from (the "
                                                            "listing must be on its roadshow); counted as its lead"})


class QuoteIn(StrictSchema):
    """The seller's price (total, minor units) and terms."""

    amount = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_AMOUNT))
    note = _text(4000, allow_none=True)


class AcceptIn(StrictSchema):
    """The quote the buyer read (its number), so a re-quote in between is not accepted blindly."""

    quote_number = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10_000))


class ReasonIn(StrictSchema):
    """Why (cancel, dispute)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DeliverIn(StrictSchema):
    """What was delivered."""

    note = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class PaymentIn(StrictSchema):
    """How the buyer pays."""

    method = fields.String(required=True, validate=validate.OneOf(("stripe", "bank_transfer")))


class OrderQueryIn(StrictSchema):
    """Filters and page of an order list."""

    role = fields.String(load_default="buyer", validate=validate.OneOf(("buyer", "seller")),
                         metadata={"description": "orders your institution places (buyer) or receives (seller)"})
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    listing_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    created_from = fields.Date()
    created_to = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class TransactionQueryIn(StrictSchema):
    """Filters of the transaction records."""

    side = fields.String(validate=validate.OneOf(("buyer", "seller")))
    kind = fields.String(validate=validate.OneOf(LEDGER_KINDS))
    order_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    since = fields.Date()
    until = fields.Date(metadata={"description": "exclusive"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class TransactionExportIn(TransactionQueryIn):
    """The same filters for a download."""

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class PartyOut(Schema):
    """An institution on one side of the order."""

    id = fields.Integer()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)


class NameOut(Schema):
    """A code's name in Chinese and English."""

    zh = fields.String()
    en = fields.String()


class ScopeNamesOut(Schema):
    """What the scope's codes stand for."""

    field_of_use = fields.Nested(NameOut)
    territory = fields.Nested(NameOut)


class OrderOut(Schema):
    """An order as its buyer and seller see it."""

    id = fields.Integer()
    reference = fields.String(metadata={"description": "remittance reference for bank transfers"})
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    listing_id = fields.Integer()
    listing_version_id = fields.Integer()
    kind = fields.String()
    buyer = fields.Nested(PartyOut)
    seller = fields.Nested(PartyOut)
    deal_mode = fields.String()
    quantity = fields.Integer()
    field_of_use = fields.String(allow_none=True, metadata={"description": "taxonomy code; null: every field"})
    territory = fields.String(allow_none=True, metadata={"description": "CN or a GB/T 2260 code; null: worldwide"})
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    scope_names = fields.Nested(ScopeNamesOut, allow_none=True, attribute="scope_labels",
                                metadata={"description": "names of the field of use and territory (transfers and "
                                                         "licences)"})
    contract_type = fields.String(allow_none=True)
    exhibition_id = fields.Integer(allow_none=True, metadata={
        "description": "the docking exhibition this order was started from (a lead of it)"})
    buyer_note = fields.String(allow_none=True)
    price_mode = fields.String()
    unit_price = fields.Integer(allow_none=True)
    amount = fields.Integer(allow_none=True, metadata={"description": "minor units"})
    fee_rate_bp = fields.Integer()
    fee_amount = fields.Integer(allow_none=True)
    currency = fields.String()
    quote_number = fields.Integer(attribute="quote_count")
    quote_note = fields.String(allow_none=True)
    delivery_note = fields.String(allow_none=True)
    paid_amount = fields.Integer()
    refunded_amount = fields.Integer()
    created_at = fields.DateTime()
    quoted_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    reserved_until = fields.DateTime(allow_none=True, metadata={"description": "pay before this or it expires"})
    paid_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    complete_after = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)

    @post_dump(pass_original=True)
    def hide_the_fee_from_the_buyer(self, data: dict[str, Any], order: Any, **_: Any) -> dict[str, Any]:
        """The platform's fee is between the platform and the seller: only the seller's members see it."""
        viewer = getattr(current_user, "institution_id", None)
        if viewer is None or viewer != getattr(order, "seller_institution_id", None):
            data.pop("fee_rate_bp", None)
            data.pop("fee_amount", None)
        return data


class OrderEventOut(Schema):
    """One step in the order's history."""

    occurred_at = fields.DateTime()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    by_platform = fields.Boolean()
    side = fields.String(allow_none=True, metadata={"description": "buyer or seller, for a step either side may take "
                                                                   "(a cancellation)"})


class LedgerEntryOut(Schema):
    """One transaction record."""

    id = fields.Integer()
    order_id = fields.Integer()
    kind = fields.String()
    amount = fields.Integer(metadata={"description": "positive minor units; the kind gives the direction"})
    currency = fields.String()
    rail = fields.String()
    provider_reference = fields.String()
    value_date = fields.Date(allow_none=True)
    occurred_at = fields.DateTime()


class OrderBalanceOut(Schema):
    """An order's money from its ledger."""

    charged = fields.Integer()
    refunded = fields.Integer()
    disputed = fields.Integer()
    fees = fields.Integer()
    settled = fields.Integer()
    held = fields.Integer()
    seller_due = fields.Integer()


class OrderDetailOut(OrderOut):
    """An order with its history, ledger and balance."""

    history = fields.List(fields.Nested(OrderEventOut))
    ledger = fields.List(fields.Nested(LedgerEntryOut))
    balance = fields.Nested(OrderBalanceOut)


class BankTransferOut(Schema):
    """Where and how to transfer the money."""

    account_name = fields.String()
    bank_name = fields.String()
    account_number = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    remittance_reference = fields.String()
    pay_before = fields.DateTime(allow_none=True)
    note_zh = fields.String()
    note_en = fields.String()


class PaymentOut(Schema):
    """A payment and what the buyer's front end needs to complete it."""

    id = fields.Integer()
    order_id = fields.Integer()
    method = fields.String()
    status = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    client_secret = fields.String(allow_none=True, metadata={"description": "Stripe.js confirms the card with it"})
    publishable_key = fields.String(allow_none=True)
    bank_transfer = fields.Nested(BankTransferOut, allow_none=True)


class BalanceOut(Schema):
    """An institution's money in one currency."""

    currency = fields.String()
    paid_as_buyer = fields.Integer()
    received_as_seller = fields.Integer()
    fees = fields.Integer()
    settled = fields.Integer()
    due_to_seller = fields.Integer()


class WebhookOut(Schema):
    """What the webhook did with the event."""

    received = fields.Boolean()
    outcome = fields.String()
