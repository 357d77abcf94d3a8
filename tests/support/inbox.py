"""Reading the notifications inbox and the mails it queued, for the notifications tests."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import Notification, OutboxMail, User


def inbox_of(app: Flask, email: str, event: str | None = None) -> list[dict[str, Any]]:
    """The committed notifications of the person with ``email`` (optionally of one event), oldest first."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        query = select(Notification).where(Notification.user_id == user_id)
        if event is not None:
            query = query.where(Notification.event == event)
        rows = [{"id": n.id, "event": n.event, "group": n.group, "title_zh": n.title_zh, "title_en": n.title_en,
                 "body_zh": n.body_zh, "body_en": n.body_en, "link": n.link, "read_at": n.read_at}
                for n in db.session.scalars(query.order_by(Notification.id))]
        db.session.remove()
    return rows


def events_of(app: Flask, email: str) -> list[str]:
    """The events the person was notified of, oldest first."""
    return [row["event"] for row in inbox_of(app, email)]


def mails_of(app: Flask, email: str, purpose: str) -> list[tuple[str, str]]:
    """(subject, body) of the committed outbox mails of ``purpose`` (a notification's event) to ``email``."""
    with app.app_context():
        rows = [(m.subject, m.body) for m in db.session.scalars(
            select(OutboxMail).where(OutboxMail.recipient == email, OutboxMail.purpose == purpose)
            .order_by(OutboxMail.id))]
        db.session.remove()
    return rows
