"""Transaction records: an append-only ledger (UPDATE and DELETE refused by database triggers, TXN-03)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

# kind -> sign of its effect on the money the platform holds for the order (fees move no cash: they allocate it).
# A refund_reversal books back a refund the provider reported failed after it had been booked.
CASH_SIGNS = {"charge": 1, "refund": -1, "settlement": -1, "dispute_withdrawal": -1, "dispute_reinstatement": 1,
              "refund_reversal": 1}
FEE_SIGNS = {"platform_fee": 1, "fee_reversal": -1}
LEDGER_KINDS = tuple(CASH_SIGNS) + tuple(FEE_SIGNS)


class LedgerEntry(Model):
    """One movement of money for an order; amounts are positive minor units, the kind gives the direction.

    Never edited or deleted; a correction is a new entry. ``provider_reference`` is unique, so replaying the
    provider's event (or the admin's form) cannot count the same money twice.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(check_in("kind", LEDGER_KINDS), name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_ledger_entries_order", "order_id"),
        Index("ix_ledger_entries_seller_time", "seller_institution_id", "occurred_at"),
        Index("ix_ledger_entries_buyer_time", "buyer_institution_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    buyer_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    seller_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    rail: Mapped[str] = mapped_column(String(16))  # stripe, bank_transfer, fake, platform
    provider_reference: Mapped[str] = mapped_column(String(120), unique=True)
    value_date: Mapped[date | None] = mapped_column(Date)  # when the bank says the money moved (offline rails)
    memo: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    order = relationship("Order")

    @property
    def cash_effect(self) -> int:
        """Signed change to the money held for the order (0 for fee allocations)."""
        return CASH_SIGNS.get(self.kind, 0) * self.amount
