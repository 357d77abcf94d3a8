"""NDA data rooms: a listing's versioned NDA text, its data-room settings, the institutions' access requests and
the append-only log of confidential downloads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

ACCESS_STATUSES = ("requested", "approved", "rejected", "revoked")
# At most one request per (listing, institution) is open or granted (the partial unique index on both databases).
_LIVE_SQL = "status IN ('requested', 'approved')"
NDA_TEXT_LENGTH = 20_000


class NdaText(Model):
    """One version of a listing's NDA; the listing's current NDA is its highest version (each save adds one)."""

    __tablename__ = "nda_texts"
    __table_args__ = (
        UniqueConstraint("listing_id", "version", name="uq_nda_texts_listing_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    version: Mapped[int] = mapped_column()
    text_zh: Mapped[str | None] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ListingDataRoom(Model):
    """A listing's data-room settings (no row: requests wait for the owner's decision)."""

    __tablename__ = "listing_data_rooms"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True, autoincrement=False)
    auto_approve: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AccessRequest(Model):
    """An institution's request to open a listing's confidential files, made by accepting one NDA version."""

    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(check_in("status", ACCESS_STATUSES), name="status"),
        CheckConstraint("nda_version >= 1", name="nda_version_positive"),
        Index("ix_access_requests_listing_status", "listing_id", "status"),
        Index("ix_access_requests_institution_status", "institution_id", "status"),
        Index("uq_access_requests_live", "listing_id", "institution_id", unique=True,
              sqlite_where=text(_LIVE_SQL), postgresql_where=text(_LIVE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    nda_version: Mapped[int] = mapped_column()
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    institution = relationship("Institution", foreign_keys=[institution_id])
    listing = relationship("Listing", foreign_keys=[listing_id])


class DownloadLog(Model):
    """One successful download of a confidential file (append-only: UPDATE and DELETE refused by triggers)."""

    __tablename__ = "download_logs"
    __table_args__ = (Index("ix_download_logs_listing_downloaded_at", "listing_id", "downloaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("listing_attachments.id"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"))
    downloaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
