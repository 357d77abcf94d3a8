"""The audit trail: append-only, hash-chained events (UPDATE and DELETE refused by database triggers)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hall.extensions import Model
from hall.models.types import UtcDateTime, utcnow


class AuditEvent(Model):
    """Who did what to which object, from which state to which, why, in which request, when (UTC)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Model):
    """A signed statement of the chain's head at one moment: how many events, the last one's id and hash.

    Append-only like the events (UPDATE and DELETE refused by triggers). The HMAC signature is made with a key
    that is not in the database (AUDIT_CHECKPOINT_KEY), so whoever can write rows cannot forge a checkpoint; a
    checkpoint can also be exported to a file kept elsewhere (``flask hall audit-checkpoint --export``).
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (
        CheckConstraint("event_count >= 0", name="event_count_not_negative"),
        CheckConstraint("(last_event_id IS NULL) = (event_count = 0)", name="head_matches_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    event_count: Mapped[int] = mapped_column()
    last_event_id: Mapped[int | None] = mapped_column()  # None for an empty chain; no foreign key: evidence
    last_event_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))  # fingerprint of the signing key
    signature: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256, hex


class ReadinessProbe(Model):
    """The row ``/readyz`` writes inside a transaction it always rolls back: proof that the database accepts a
    write within a short lock timeout. It never holds a committed row."""

    __tablename__ = "readiness_probe"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
