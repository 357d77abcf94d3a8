"""Models of first-of-kind insurance policies and premium compensation applications (首台套/首批次保险补偿).

A policy insures a recognised first-of-kind product of its institution; an application asks the platform (for the
central funds) to compensate one policy year's premium. The amounts of an application are kept in the ledger style:
``compensation_entries`` is append-only (UPDATE and DELETE refused by database triggers, migration 0013).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

APPLICATION_STATUSES = ("draft", "filed", "approved", "rejected", "paid", "withdrawn")
# An application that still counts for its policy year (a rejected or withdrawn one leaves the year open).
OPEN_APPLICATION_STATUSES = ("draft", "filed", "approved", "paid")
ENTRY_KINDS = ("requested", "approved", "paid")
DOCUMENT_KINDS = ("policy", "premium_invoice", "payment_proof", "other")
_OPEN_SQL = "status IN ('draft', 'filed', 'approved', 'paid')"


class InsurancePolicy(Model):
    """A first-of-kind product's insurance policy (quality and/or liability cover) held by its institution; the
    premium is the premium of each policy year. Renewals are further policies of the same listing."""

    __tablename__ = "insurance_policies"
    __table_args__ = (
        CheckConstraint("premium > 0", name="premium_positive"),
        CheckConstraint("insured_amount > 0", name="insured_amount_positive"),
        CheckConstraint("premium_rate_bp IS NULL OR (premium_rate_bp BETWEEN 1 AND 10000)", name="premium_rate_range"),
        CheckConstraint("period_end > period_start", name="period_window"),
        UniqueConstraint("insurer", "policy_number", name="uq_insurance_policies_insurer_policy_number"),
        Index("ix_insurance_policies_institution", "institution_id"),
        Index("ix_insurance_policies_listing", "listing_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    insurer: Mapped[str] = mapped_column(String(200))
    policy_number: Mapped[str] = mapped_column(String(100))
    coverage: Mapped[str] = mapped_column(Text)
    insured_amount: Mapped[int] = mapped_column(BigInteger)  # minor units (fen)
    premium: Mapped[int] = mapped_column(BigInteger)  # of one policy year, minor units (fen)
    premium_rate_bp: Mapped[int | None] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # Bumped on every change: the ETag and the stale-form check (409).
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    listing = relationship("Listing")
    institution = relationship("Institution")


class CompensationApplication(Model):
    """An application for the premium compensation of one policy year. The rule it was computed under (share,
    rate cap, year limit) is copied in, so a later change of the catalogue's table does not rewrite it."""

    __tablename__ = "compensation_applications"
    __table_args__ = (
        CheckConstraint(check_in("status", APPLICATION_STATUSES), name="status"),
        CheckConstraint("policy_year >= 1", name="policy_year_positive"),
        CheckConstraint("requested_amount >= 0", name="requested_not_negative"),
        CheckConstraint("approved_amount IS NULL OR (approved_amount > 0 AND approved_amount <= requested_amount)",
                        name="approved_within_requested"),
        Index("ix_compensation_applications_institution_status", "institution_id", "status"),
        Index("ix_compensation_applications_policy", "policy_id"),
        # One live application per policy year; a rejected or withdrawn one frees the year.
        Index("uq_compensation_applications_open_year", "policy_id", "policy_year", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policies.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    policy_year: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # the institution's remarks to the platform
    product_kind: Mapped[str] = mapped_column(String(16))
    share_bp: Mapped[int] = mapped_column()  # share of the premium compensated, basis points (8000 = 80 %)
    rate_cap_bp: Mapped[int] = mapped_column()  # the premium rate counted at most, basis points (300 = 3 %)
    max_years: Mapped[int] = mapped_column()
    counted_premium: Mapped[int] = mapped_column(BigInteger)  # min(year's premium, insured amount x rate cap)
    requested_amount: Mapped[int] = mapped_column(BigInteger)  # share x counted premium, computed by the service
    approved_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_reference: Mapped[str | None] = mapped_column(String(120), unique=True)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    policy: Mapped[InsurancePolicy] = relationship()
    institution = relationship("Institution")
    documents: Mapped[list[CompensationDocument]] = relationship(
        back_populates="application", order_by="CompensationDocument.id")
    entries: Mapped[list[CompensationEntry]] = relationship(order_by="CompensationEntry.id", viewonly=True)


class CompensationDocument(Model):
    """A PDF the institution attached to its application (the policy, the premium invoice, proof of payment),
    stored under a generated name (FILE-01) and served to the institution and the platform's admins only."""

    __tablename__ = "compensation_documents"
    __table_args__ = (
        CheckConstraint(check_in("kind", DOCUMENT_KINDS), name="kind"),
        Index("ix_compensation_documents_application", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("compensation_applications.id"))
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    application: Mapped[CompensationApplication] = relationship(back_populates="documents")


class CompensationEntry(Model):
    """One amount of an application in the ledger style: requested (on filing), approved, paid. Positive minor
    units; never edited or deleted (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "compensation_entries"
    __table_args__ = (
        CheckConstraint(check_in("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_compensation_entries_application", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("compensation_applications.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
