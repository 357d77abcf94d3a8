"""Models of technical-contract registration records of completed orders (技术合同认定登记).

One record per order, made in the transaction that completes the order. It keeps SNAPSHOTS of what the registry
asks for (the parties' names and credit codes, the contract's name, field and IP), so renaming an institution or
editing the listing afterwards does not rewrite a filed contract. A product purchase (首台套 …) is a sales contract,
not a technology contract: its record has the category ``sales`` and no contract type, and the registration export
leaves it out.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.orders import CONTRACT_TYPES
from hall.models.types import UtcDateTime, check_in, utcnow

CONTRACT_CATEGORIES = ("technology", "sales")


class ContractRecord(Model):
    """The registration record of one completed order's contract."""

    __tablename__ = "contract_records"
    __table_args__ = (
        CheckConstraint(check_in("category", CONTRACT_CATEGORIES), name="category"),
        CheckConstraint("contract_type IS NULL OR " + check_in("contract_type", CONTRACT_TYPES), name="contract_type"),
        CheckConstraint("(category = 'technology') = (contract_type IS NOT NULL)", name="type_of_category"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("technology_amount IS NULL OR (technology_amount >= 0 AND technology_amount <= amount)",
                        name="technology_amount_range"),
        CheckConstraint("performance_start IS NULL OR performance_end IS NULL OR performance_start <= performance_end",
                        name="performance_window"),
        Index("ix_contract_records_seller_completed", "seller_institution_id", "completed_on"),
        Index("ix_contract_records_buyer_completed", "buyer_institution_id", "completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    listing_version_id: Mapped[int] = mapped_column(ForeignKey("listing_versions.id"))
    category: Mapped[str] = mapped_column(String(16))
    contract_type: Mapped[str | None] = mapped_column(String(16))
    deal_mode: Mapped[str] = mapped_column(String(32))  # the way of transformation (transfer, licences, equity…)
    contract_number: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))  # the listing's title when the order completed
    name_en: Mapped[str | None] = mapped_column(String(300))

    seller_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    seller_name_zh: Mapped[str] = mapped_column(String(200))
    seller_name_en: Mapped[str | None] = mapped_column(String(300))
    seller_credit_code: Mapped[str] = mapped_column(String(18))
    buyer_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    buyer_name_zh: Mapped[str] = mapped_column(String(200))
    buyer_name_en: Mapped[str | None] = mapped_column(String(300))
    buyer_credit_code: Mapped[str] = mapped_column(String(18))

    amount: Mapped[int] = mapped_column(BigInteger)  # the contract amount: the order's amount, minor units
    # Set by the seller (lower than the amount net of refunds, with a reason); None means the amount net of refunds.
    technology_amount: Mapped[int | None] = mapped_column(BigInteger)
    technology_amount_reason: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))

    signed_on: Mapped[date] = mapped_column(Date)  # the day the price was agreed (the order accepted)
    performance_start: Mapped[date | None] = mapped_column(Date)
    performance_end: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date] = mapped_column(Date)
    direction_code: Mapped[str | None] = mapped_column(String(40))
    field_code: Mapped[str | None] = mapped_column(String(60))
    ip_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    state_funded: Mapped[bool] = mapped_column(default=False)

    registration_number: Mapped[str | None] = mapped_column(String(60))  # given by the local registry
    registered_on: Mapped[date | None] = mapped_column(Date)

    lock_version: Mapped[int] = mapped_column(default=1)  # the ETag and the edit form's stale-page check
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    order = relationship("Order")
