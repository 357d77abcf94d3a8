"""Enquiry threads: two institutions talking about one listing or one demand, their messages (with an optional
stored file) and how far each person has read."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

THREAD_STATUSES = ("open", "closed")
SUBJECT_MAX_CHARS = 200
MESSAGE_MAX_CHARS = 10_000
REPORT_REASON_MAX_CHARS = 2000
_OPEN_SQL = "status = 'open'"


class Thread(Model):
    """A conversation between the institution that asks (the opener) and the one whose listing or demand it is
    about (the counterpart). Only their members read or write it; an admin reads it only once a party reported it."""

    __tablename__ = "threads"
    __table_args__ = (
        CheckConstraint(check_in("status", THREAD_STATUSES), name="status"),
        CheckConstraint("(listing_id IS NULL AND demand_id IS NOT NULL) OR "
                        "(listing_id IS NOT NULL AND demand_id IS NULL)", name="one_subject"),
        CheckConstraint("opener_institution_id <> counterpart_institution_id", name="two_institutions"),
        # One open thread per subject and asking institution: opening again returns it (and a race loses here).
        Index("uq_threads_open_listing", "listing_id", "opener_institution_id", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("uq_threads_open_demand", "demand_id", "opener_institution_id", unique=True,
              sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_threads_opener_last_message", "opener_institution_id", "last_message_at"),
        Index("ix_threads_counterpart_last_message", "counterpart_institution_id", "last_message_at"),
        Index("ix_threads_reported_at", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    opener_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    counterpart_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX_CHARS))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_reason: Mapped[str | None] = mapped_column(Text)
    # The docking exhibition the enquiry was started from (a lead of it), when one was named.
    exhibition_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitions.id"), index=True)

    opener_institution = relationship("Institution", foreign_keys=[opener_institution_id])
    counterpart_institution = relationship("Institution", foreign_keys=[counterpart_institution_id])
    messages: Mapped[list[ThreadMessage]] = relationship(back_populates="thread", order_by="ThreadMessage.id")

    @property
    def subject_kind(self) -> str:
        """"listing" or "demand": what the thread is about."""
        return "listing" if self.listing_id is not None else "demand"

    def party_ids(self) -> tuple[int, int]:
        """The two institutions the thread belongs to."""
        return self.opener_institution_id, self.counterpart_institution_id


class ThreadMessage(Model):
    """One message of a thread: a text, a stored file (PDF or image, checked as listing attachments are), or both."""

    __tablename__ = "thread_messages"
    __table_args__ = (
        CheckConstraint("body IS NOT NULL OR attachment_storage_name IS NOT NULL", name="body_or_file"),
        CheckConstraint(f"body IS NULL OR length(body) <= {MESSAGE_MAX_CHARS}", name="body_length"),
        Index("ix_thread_messages_thread_id_id", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    body: Mapped[str | None] = mapped_column(Text)
    attachment_filename: Mapped[str | None] = mapped_column(String(200))
    attachment_content_type: Mapped[str | None] = mapped_column(String(64))
    attachment_size: Mapped[int | None] = mapped_column()
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    attachment_storage_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    thread: Mapped[Thread] = relationship(back_populates="messages")
    author = relationship("User")

    @property
    def has_attachment(self) -> bool:
        """Whether a file came with the message."""
        return self.attachment_storage_name is not None


class ThreadRead(Model):
    """How far one person has read one thread (the newest message id they saw). Per person, not per institution:
    a colleague reading a thread does not make it read for everyone else, as in any shared mailbox."""

    __tablename__ = "thread_reads"
    __table_args__ = (UniqueConstraint("thread_id", "user_id", name="uq_thread_reads_thread_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
