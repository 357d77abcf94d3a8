"""The audit trail: append-only, hash-chained events (UPDATE and DELETE refused by database triggers).

Each event since migration 0018 belongs to the stream of its object (``object_type:object_id``) and is number
``seq`` (1, 2, …) in it, chained to the stream's previous event; unique (stream, seq). Events recorded before
0018 keep stream and seq NULL: they form the legacy chain, linked in id order as they were written.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hall.extensions import Model
from hall.models.types import UtcDateTime, utcnow


class AuditEvent(Model):
    """Who did what to which object, from which state to which, why, in which request, when (UTC)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),
                      Index("uq_audit_events_stream_seq", "stream", "seq", unique=True))

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
    stream: Mapped[str | None] = mapped_column(String(100))  # "order:12"; NULL: the legacy chain (before 0018)
    seq: Mapped[int | None] = mapped_column()  # 1, 2, … within the stream
    prev_hash: Mapped[str] = mapped_column(String(64))  # the stream's previous event (genesis for seq 1)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Model):
    """A signed statement of the trail at one moment: how many events up to which id, that event's hash, and
    (format 2) the root over every stream's head then (``root_hash``, ``stream_count``). Format 1 rows, from
    before migration 0018, state the head of the one global chain, which is now the legacy chain.

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
    format: Mapped[int] = mapped_column(default=2, server_default="1")  # 1: global chain head; 2: root of heads
    root_hash: Mapped[str | None] = mapped_column(String(64))  # format 2: SHA-256 over the sorted stream heads
    stream_count: Mapped[int | None] = mapped_column()  # format 2: how many streams (the legacy chain counts one)
    key_id: Mapped[str] = mapped_column(String(16))  # fingerprint of the signing key
    signature: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256, hex


class ReadinessProbe(Model):
    """The row ``/readyz`` writes inside a transaction it always rolls back: proof that the database accepts a
    write within a short lock timeout. It never holds a committed row."""

    __tablename__ = "readiness_probe"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
