"""Notifications: an in-app inbox per person (rendered in both languages when created) and mail preferences."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

NOTIFICATION_GROUPS = ("reviews", "matches", "messages", "orders", "nda", "notices")


class Notification(Model):
    """One message in one person's inbox; title and body are stored in Chinese and English."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(check_in("group_code", NOTIFICATION_GROUPS), name="group_code"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(String(64))
    group: Mapped[str] = mapped_column("group_code", String(16))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NotificationPreference(Model):
    """Whether a person wants mail for one group of events (no row: mail is on)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint(check_in("group_code", NOTIFICATION_GROUPS), name="group_code"),
        UniqueConstraint("user_id", "group_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    group: Mapped[str] = mapped_column("group_code", String(16))
    mail: Mapped[bool] = mapped_column(default=True)
