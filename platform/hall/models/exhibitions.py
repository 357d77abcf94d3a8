"""Models of docking exhibitions (成果对接会 / 路演), their entries, registrations and leads.

An exhibition is created and published by a platform admin; "ended" is not stored: a published exhibition whose
``ends_at`` has passed is over. Entries put a published listing or demand on the roadshow; registrations are
institutions that attend. Leads are the enquiry threads and orders that carry the exhibition's id.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

EXHIBITION_STATUSES = ("draft", "published", "cancelled")
EXHIBITION_MODES = ("offline", "online", "hybrid")
ENTRY_ORIGINS = ("invited", "applied")
ENTRY_STATUSES = ("invited", "applied", "accepted", "declined", "withdrawn")
REGISTRATION_STATUSES = ("registered", "cancelled")
MAX_ATTENDEES = 20


class Exhibition(Model):
    """One docking exhibition or roadshow: when, where (a place, a link or both), which directions it serves."""

    __tablename__ = "exhibitions"
    __table_args__ = (
        CheckConstraint(check_in("status", EXHIBITION_STATUSES), name="status"),
        CheckConstraint(check_in("mode", EXHIBITION_MODES), name="mode"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("mode = 'online' OR place IS NOT NULL", name="place_required"),
        CheckConstraint("mode = 'offline' OR online_url IS NOT NULL", name="link_required"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        CheckConstraint("registered_attendees >= 0 AND (capacity IS NULL OR registered_attendees <= capacity)",
                        name="within_capacity"),
        Index("ix_exhibitions_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    mode: Mapped[str] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    directions: Mapped[list[str]] = mapped_column(JSON, default=list)  # taxonomy direction codes
    registration_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    capacity: Mapped[int | None] = mapped_column()  # attendees (people), None: no limit
    # Seats taken by the current registrations, moved only by conditional UPDATEs (never oversold).
    registered_attendees: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    status_reason: Mapped[str | None] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def title(self, lang: str) -> str:
        """The title in ``lang`` (zh or en), falling back to the other language."""
        first, second = (self.title_en, self.title_zh) if lang == "en" else (self.title_zh, self.title_en)
        return first or second or f"#{self.id}"

    def description(self, lang: str) -> str:
        """The description in ``lang``, falling back to the other language."""
        first, second = ((self.description_en, self.description_zh) if lang == "en"
                         else (self.description_zh, self.description_en))
        return first or second or ""

    def has_ended(self, now: datetime | None = None) -> bool:
        """True once ``ends_at`` has passed."""
        return self.ends_at <= (now or utcnow())


class ExhibitionEntry(Model):
    """A published listing or a published demand on an exhibition's roadshow, invited by an admin or applied for by
    its institution; accepted entries are presented in ``position`` order."""

    __tablename__ = "exhibition_entries"
    __table_args__ = (
        CheckConstraint("(listing_id IS NULL AND demand_id IS NOT NULL) OR "
                        "(listing_id IS NOT NULL AND demand_id IS NULL)", name="one_subject"),
        CheckConstraint(check_in("origin", ENTRY_ORIGINS), name="origin"),
        CheckConstraint(check_in("status", ENTRY_STATUSES), name="status"),
        CheckConstraint("position IS NULL OR position >= 1", name="position_positive"),
        UniqueConstraint("exhibition_id", "listing_id", name="uq_exhibition_entries_exhibition_listing"),
        UniqueConstraint("exhibition_id", "demand_id", name="uq_exhibition_entries_exhibition_demand"),
        Index("ix_exhibition_entries_institution_status", "institution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibition_id: Mapped[int] = mapped_column(ForeignKey("exhibitions.id"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    origin: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column()
    slot_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    exhibition = relationship("Exhibition")
    institution = relationship("Institution")
    listing = relationship("Listing")
    demand = relationship("Demand")

    @property
    def subject_kind(self) -> str:
        """"listing" or "demand"."""
        return "listing" if self.listing_id is not None else "demand"


class ExhibitionRegistration(Model):
    """An institution attending an exhibition (registered by one of its members), with how many people come."""

    __tablename__ = "exhibition_registrations"
    __table_args__ = (
        CheckConstraint(check_in("status", REGISTRATION_STATUSES), name="status"),
        CheckConstraint(f"attendees BETWEEN 1 AND {MAX_ATTENDEES}", name="attendees_range"),
        UniqueConstraint("exhibition_id", "institution_id", name="uq_exhibition_registrations_exhibition_institution"),
        Index("ix_exhibition_registrations_institution", "institution_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibition_id: Mapped[int] = mapped_column(ForeignKey("exhibitions.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attendees: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="registered")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    exhibition = relationship("Exhibition")
    institution = relationship("Institution")
