"""What owners think of the matches the platform proposes: a star or a dismissal, per demand and listing pair and
per side (the demand's owner judging a listing, or the listing's owner judging a demand)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

MATCH_SIDES = ("demand", "listing")
MATCH_VERDICTS = ("star", "dismiss")


class MatchFeedback(Model):
    """One owner's verdict on one proposed match; changing one's mind updates the row."""

    __tablename__ = "match_feedback"
    __table_args__ = (
        UniqueConstraint("demand_id", "listing_id", "side", name="uq_match_feedback_pair_side"),
        CheckConstraint(check_in("side", MATCH_SIDES), name="side"),
        CheckConstraint(check_in("verdict", MATCH_VERDICTS), name="verdict"),
        Index("ix_match_feedback_institution", "institution_id", "side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    side: Mapped[str] = mapped_column(String(10))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))  # whose verdict it is
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
