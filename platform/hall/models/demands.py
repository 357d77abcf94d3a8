"""Demand postings (技术需求 / 难题): what an institution needs, moderated like listings, and their public index."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

DEMAND_STATUSES = ("draft", "submitted", "changes_requested", "published", "rejected", "withdrawn", "suspended",
                   "closed", "expired")
# A revision of a published demand: edited (draft), sent for review, then approved (applied and cleared),
# returned for changes, rejected, or withdrawn by the owner. The public keeps the published content meanwhile.
REVISION_STATUSES = ("draft", "submitted", "changes_requested", "approved", "rejected", "withdrawn")
DEMAND_TEXT_FIELDS = ("title", "description")
# The content a revision may change (everything the owner writes).
DEMAND_CONTENT_FIELDS = ("title_zh", "title_en", "description_zh", "description_en", "direction_code", "field_codes",
                         "trl_min", "trl_max", "budget_min", "budget_max", "currency", "budget_negotiable",
                         "deadline", "region_code", "deal_modes", "bounty_amount", "keywords")


class Demand(Model):
    """One technology need posted by an institution; the columns hold the content the public sees once published."""

    __tablename__ = "demands"
    __table_args__ = (
        CheckConstraint(check_in("status", DEMAND_STATUSES), name="status"),
        CheckConstraint("revision_status IS NULL OR " + check_in("revision_status", REVISION_STATUSES),
                        name="revision_status"),
        CheckConstraint("trl_min IS NULL OR (trl_min BETWEEN 1 AND 9)", name="trl_min_range"),
        CheckConstraint("trl_max IS NULL OR (trl_max BETWEEN 1 AND 9)", name="trl_max_range"),
        CheckConstraint("trl_min IS NULL OR trl_max IS NULL OR trl_min <= trl_max", name="trl_window"),
        CheckConstraint("budget_min IS NULL OR budget_min >= 0", name="budget_min_not_negative"),
        CheckConstraint("budget_max IS NULL OR budget_max >= 0", name="budget_max_not_negative"),
        CheckConstraint("budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max", name="budget_range"),
        CheckConstraint("bounty_amount IS NULL OR bounty_amount >= 0", name="bounty_not_negative"),
        Index("ix_demands_institution_status", "institution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change of content or state: the ETag and the admin console's stale-page check.
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    direction_code: Mapped[str | None] = mapped_column(ForeignKey("industry_directions.code"))
    field_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    trl_min: Mapped[int | None] = mapped_column()
    trl_max: Mapped[int | None] = mapped_column()
    budget_min: Mapped[int | None] = mapped_column(BigInteger)  # minor units (fen for CNY)
    budget_max: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    budget_negotiable: Mapped[bool] = mapped_column(default=False)
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    deal_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    bounty_amount: Mapped[int | None] = mapped_column(BigInteger)  # 揭榜挂帅 reward, minor units

    # A pending revision of a published demand: the edited content (DEMAND_CONTENT_FIELDS, JSON-safe values).
    revision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    revision_status: Mapped[str | None] = mapped_column(String(20))
    revision_reason: Mapped[str | None] = mapped_column(Text)
    revision_submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    institution = relationship("Institution")

    @property
    def has_pending_revision(self) -> bool:
        """True when a published demand has edited content that is not public yet and not decided."""
        return self.revision is not None and self.revision_status in ("draft", "submitted", "changes_requested")

    def text(self, name: str, lang: str) -> str | None:
        """One text field in one language (``name`` from DEMAND_TEXT_FIELDS, ``lang`` zh or en)."""
        value: str | None = getattr(self, f"{name}_{lang}")
        return value


class DemandIndexEntry(Model):
    """A published demand as the public demand hall finds it: filter columns and segmented text for search.

    A row exists exactly while the demand is published (and its institution public); it is written in the same
    transaction as the demand's state.
    """

    __tablename__ = "demand_index"
    __table_args__ = (
        Index("ix_demand_index_direction", "direction_code"),
        Index("ix_demand_index_published_at", "published_at"),
        Index("ix_demand_index_deadline", "deadline"),
        Index("ix_demand_index_institution", "institution_id"),
    )

    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), primary_key=True, autoincrement=False)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    direction_code: Mapped[str | None] = mapped_column(String(40))
    region_code: Mapped[str | None] = mapped_column(String(6))
    trl_min: Mapped[int | None] = mapped_column()
    trl_max: Mapped[int | None] = mapped_column()
    deal_modes_mask: Mapped[int] = mapped_column(default=0)
    budget_min: Mapped[int | None] = mapped_column(BigInteger)
    budget_max: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    budget_negotiable: Mapped[bool] = mapped_column(default=False)
    bounty_amount: Mapped[int | None] = mapped_column(BigInteger)
    deadline: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    title_tokens: Mapped[str] = mapped_column(Text, default="")
    body_tokens: Mapped[str] = mapped_column(Text, default="")


class DemandIndexField(Model):
    """One field code of an indexed demand (a demand names several), for the field filter and its facet."""

    __tablename__ = "demand_index_fields"
    __table_args__ = (Index("ix_demand_index_fields_field_code", "field_code"),)

    demand_id: Mapped[int] = mapped_column(ForeignKey("demand_index.demand_id", ondelete="CASCADE"),
                                           primary_key=True)
    field_code: Mapped[str] = mapped_column(String(60), primary_key=True)
