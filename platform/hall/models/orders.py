"""Orders: what a buyer institution takes from a listing, its payments, exclusive claims and idempotency records."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

ORDER_STATUSES = ("requested", "quoted", "accepted", "awaiting_payment", "paid", "delivered", "completed",
                  "cancelled", "expired", "refunded", "disputed")
# Orders that still hold (or may still take) what they reserve and have not been paid.
OPEN_STATUSES = ("requested", "quoted", "accepted", "awaiting_payment")
CONTRACT_TYPES = ("development", "transfer", "license", "consulting", "service")
PAYMENT_METHODS = ("stripe", "bank_transfer")
PAYMENT_STATUSES = ("pending", "failed", "succeeded", "cancelled")
EXCLUSIVE_DEAL_MODES = ("transfer", "exclusive_license", "sole_license")
# Deal modes sold within a scope (field of use, territory, term): each holds a claim while it reserves or is sold.
SCOPED_DEAL_MODES = ("transfer", "exclusive_license", "sole_license", "non_exclusive_license")

_OPEN_SQL = check_in("status", OPEN_STATUSES)


class Order(Model):
    """One deal between a buyer institution and the listing's institution, priced by the platform."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(check_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint("contract_type IS NULL OR " + check_in("contract_type", CONTRACT_TYPES), name="contract_type"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint("fee_amount IS NULL OR (fee_amount >= 0 AND fee_amount <= amount)", name="fee_range"),
        CheckConstraint("paid_amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= paid_amount",
                        name="refund_within_paid"),
        CheckConstraint("settled_amount >= 0", name="settled_not_negative"),
        CheckConstraint("buyer_institution_id <> seller_institution_id", name="buyer_is_not_seller"),
        Index("ix_orders_buyer_status", "buyer_institution_id", "status"),
        Index("ix_orders_seller_status", "seller_institution_id", "status"),
        # A double click (or two racing identical requests) finds the open order instead of making a second.
        Index("uq_orders_open_duplicate", "buyer_institution_id", "listing_id", "terms_key", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # remittance reference, e.g. HT7K3M9Q2X4D
    buyer_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    seller_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    listing_version_id: Mapped[int] = mapped_column(ForeignKey("listing_versions.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    deal_mode: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(default=1)
    # The scope of a transfer or licence, as codes (hall.services.trading.scope); None is unrestricted.
    field_of_use: Mapped[str | None] = mapped_column(String(200))  # taxonomy code: energy.storage or energy
    territory: Mapped[str | None] = mapped_column(String(200))  # CN or a GB/T 2260 code; None is worldwide
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    terms_key: Mapped[str] = mapped_column(String(64))  # digest of deal mode, quantity and scope
    contract_type: Mapped[str | None] = mapped_column(String(16))
    buyer_note: Mapped[str | None] = mapped_column(Text)
    # The docking exhibition the order was started from (a lead of it), when one was named.
    exhibition_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitions.id"), index=True)

    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    price_mode: Mapped[str] = mapped_column(String(16))  # fixed (listing price) or negotiated (accepted quote)
    unit_price: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units; None until a quote exists
    fee_rate_bp: Mapped[int] = mapped_column()
    fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quote_note: Mapped[str | None] = mapped_column(Text)
    quote_count: Mapped[int] = mapped_column(default=0)
    stock_taken: Mapped[int] = mapped_column(default=0)  # units this order holds from listings.stock
    delivery_note: Mapped[str | None] = mapped_column(Text)

    # Counters guarded by conditional UPDATEs (refunds and settlements serialise on them); the ledger is the record.
    paid_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    settled_amount: Mapped[int] = mapped_column(BigInteger, default=0)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    quoted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reserved_until: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # A negotiated price for a state-funded achievement is posted publicly (公示) until then; no payment before.
    notice_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    complete_after: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    listing = relationship("Listing")
    listing_version = relationship("ListingVersion")
    buyer = relationship("Institution", foreign_keys=[buyer_institution_id])
    seller = relationship("Institution", foreign_keys=[seller_institution_id])
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.id")

    @property
    def is_exclusive(self) -> bool:
        """A transfer or an exclusive or sole licence: sold once per scope."""
        return self.deal_mode in EXCLUSIVE_DEAL_MODES

    @property
    def is_scoped(self) -> bool:
        """A transfer or a licence of any kind: it holds a scope claim while it reserves or is sold."""
        return self.deal_mode in SCOPED_DEAL_MODES

    @property
    def scope_labels(self) -> dict[str, dict[str, str]] | None:
        """The names (zh, en) of the field of use and territory, for display; None for unscoped deals."""
        if not self.is_scoped:
            return None
        from hall.services.trading.scope import field_label, territory_label  # display only: models make no decision

        return {"field_of_use": field_label(self.field_of_use), "territory": territory_label(self.territory)}

    @property
    def refundable_amount(self) -> int:
        """What was paid and not refunded yet."""
        return self.paid_amount - self.refunded_amount

    @property
    def admin_refundable_amount(self) -> int:
        """What an admin may still refund: paid, less refunded, less what was settled to the seller (the platform
        no longer holds that money); never below zero."""
        return max(self.paid_amount - self.refunded_amount - self.settled_amount, 0)


class Payment(Model):
    """One attempt to pay an order by one method (a Stripe PaymentIntent or an expected bank transfer)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(check_in("method", PAYMENT_METHODS), name="method"),
        CheckConstraint(check_in("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("method", "provider_reference", name="uq_payments_provider_reference"),
        UniqueConstraint("order_id", "attempt", name="uq_payments_order_attempt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    attempt: Mapped[int] = mapped_column()  # 1, 2, … per order: part of the Stripe idempotency key
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider_reference: Mapped[str] = mapped_column(String(100))  # pi_… or the order's remittance reference
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(back_populates="payments")


class ExclusiveClaim(Model):
    """A scoped deal's hold on a listing (transfers and licences of every kind, non-exclusive ones included), so
    that a later deal sees what it would have to coexist with; released when the order ends unpaid or is fully
    refunded. Scope as codes (hall.services.trading.scope; None = unrestricted); the matrix there decides conflicts."""

    __tablename__ = "exclusive_claims"
    __table_args__ = (
        Index("ix_exclusive_claims_listing_active", "listing_id", "released_at"),
        CheckConstraint(check_in("deal_mode", SCOPED_DEAL_MODES), name="deal_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    deal_mode: Mapped[str] = mapped_column(String(32))
    field_of_use: Mapped[str | None] = mapped_column(String(60))  # taxonomy code
    territory: Mapped[str | None] = mapped_column(String(8))  # CN or a GB/T 2260 code; None is worldwide
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IdempotencyRecord(Model):
    """A request made with an Idempotency-Key and the response it got (TXN-02); same key → same response."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "scope", "key", name="uq_idempotency_user_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scope: Mapped[str] = mapped_column(String(120))  # method and path
    key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class ProviderEvent(Model):
    """A payment provider's event, stored once under its id in the transaction that applies it (PAY-03)."""

    __tablename__ = "provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_provider_events_provider_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32), default="applied")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
