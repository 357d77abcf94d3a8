"""Refunds as records with their own states: asked of the provider, accepted, succeeded, or failed later."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

# requested: recorded and counted on the order, the provider not yet answered (or the answer not yet applied);
# pending / succeeded: the provider took it (the ledger has the refund); failed / cancelled: it did not happen
# (a refund already in the ledger is reversed there, and the order's refund counter gives the amount back).
REFUND_STATUSES = ("requested", "pending", "succeeded", "failed", "cancelled")
BOOKED_REFUND_STATUSES = ("pending", "succeeded")


class Refund(Model):
    """One refund of an order's payment, made by an admin or reported by the provider."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(check_in("status", REFUND_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("order_id", "sequence", name="uq_refunds_order_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    sequence: Mapped[int] = mapped_column()  # 1, 2, … per order: part of the idempotency key
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    provider_reference: Mapped[str | None] = mapped_column(String(100), unique=True)  # re_… once the provider has it
    reason: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    order = relationship("Order")
    payment = relationship("Payment")
