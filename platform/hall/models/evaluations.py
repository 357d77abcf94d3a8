"""Models of evaluation engagements and reports by professional institutions (第三方科技成果评价).

A client institution engages a verified evaluator institution on one of its listings; the evaluator accepts or
declines, then issues the report (GB/T 22900 grades, value range, method, PDF). The report lives on the engagement
row: once issued it never changes (a correction is a new engagement and a new report). The client may attach the
issued report to its public listing, and detach it again.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

ENGAGEMENT_STATUSES = ("requested", "accepted", "declined", "cancelled", "reported")
OPEN_ENGAGEMENT_STATUSES = ("requested", "accepted")
VALUATION_METHODS = ("cost", "market", "income", "other")  # 成本法 / 市场法 / 收益法 / 其他
_OPEN_SQL = "status IN ('requested', 'accepted')"
_REPORT_COMPLETE = ("status <> 'reported' OR (maturity_grade IS NOT NULL AND innovation_grade IS NOT NULL "
                    "AND advancement_grade IS NOT NULL AND valuation_method IS NOT NULL AND report_number IS NOT NULL "
                    "AND issued_on IS NOT NULL AND report_storage_name IS NOT NULL)")


class EvaluationEngagement(Model):
    """One engagement of an evaluator institution by a client institution on a listing, and its report."""

    __tablename__ = "evaluation_engagements"
    __table_args__ = (
        CheckConstraint(check_in("status", ENGAGEMENT_STATUSES), name="status"),
        CheckConstraint("client_institution_id <> evaluator_institution_id", name="not_self"),
        CheckConstraint("maturity_grade IS NULL OR (maturity_grade BETWEEN 1 AND 9)", name="maturity_range"),
        CheckConstraint("innovation_grade IS NULL OR (innovation_grade BETWEEN 1 AND 4)", name="innovation_range"),
        CheckConstraint("advancement_grade IS NULL OR (advancement_grade BETWEEN 1 AND 7)",
                        name="advancement_range"),
        CheckConstraint("(value_low IS NULL) = (value_high IS NULL)", name="value_both_or_none"),
        CheckConstraint("value_low IS NULL OR (value_low >= 0 AND value_low <= value_high)", name="value_range"),
        CheckConstraint("valuation_method IS NULL OR " + check_in("valuation_method", VALUATION_METHODS),
                        name="valuation_method"),
        CheckConstraint(_REPORT_COMPLETE, name="report_complete"),
        CheckConstraint("NOT attached OR status = 'reported'", name="attached_reported"),
        Index("ix_evaluation_engagements_client_status", "client_institution_id", "status"),
        Index("ix_evaluation_engagements_evaluator_status", "evaluator_institution_id", "status"),
        Index("ix_evaluation_engagements_listing", "listing_id"),
        Index("uq_evaluation_engagements_open", "listing_id", "evaluator_institution_id", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("uq_evaluation_engagements_report_number", "evaluator_institution_id", "report_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    client_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    evaluator_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    status_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # the scope asked for, written by the client
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # accepted or declined
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # The report (set once, when the evaluator issues it; immutable after).
    maturity_grade: Mapped[int | None] = mapped_column()  # 技术成熟度, TRL 1–9
    innovation_grade: Mapped[int | None] = mapped_column()  # 技术创新度 1–4
    advancement_grade: Mapped[int | None] = mapped_column()  # 技术先进度 1–7
    value_low: Mapped[int | None] = mapped_column(BigInteger)  # minor units (fen for CNY)
    value_high: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    valuation_method: Mapped[str | None] = mapped_column(String(16))
    report_number: Mapped[str | None] = mapped_column(String(60))
    issued_on: Mapped[date | None] = mapped_column(Date)
    conclusion_zh: Mapped[str | None] = mapped_column(Text)
    conclusion_en: Mapped[str | None] = mapped_column(Text)
    report_filename: Mapped[str | None] = mapped_column(String(200))
    report_storage_name: Mapped[str | None] = mapped_column(String(64))
    report_content_type: Mapped[str | None] = mapped_column(String(100))
    report_size: Mapped[int | None] = mapped_column()
    report_sha256: Mapped[str | None] = mapped_column(String(64))

    # Shown on the public listing while attached (only a reported engagement can be).
    attached: Mapped[bool] = mapped_column(default=False)
    attached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    listing = relationship("Listing")
    client = relationship("Institution", foreign_keys=[client_institution_id])
    evaluator = relationship("Institution", foreign_keys=[evaluator_institution_id])

    @property
    def is_open(self) -> bool:
        """True while the evaluator may still act (requested or accepted)."""
        return self.status in OPEN_ENGAGEMENT_STATUSES

    @property
    def filename(self) -> str | None:
        """The report PDF's display name (for the download helper)."""
        return self.report_filename

    @property
    def content_type(self) -> str | None:
        """The report PDF's media type (for the download helper)."""
        return self.report_content_type
