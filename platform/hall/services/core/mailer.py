"""Mail: queued into the outbox in the business transaction, delivered by the configured backend after commit."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from hall.extensions import db
from hall.models import OutboxMail
from hall.models.types import utcnow

log = logging.getLogger("hall.mail")


SUBJECT_LENGTH = 300


@dataclass(frozen=True)
class QueuedMail:
    """What a message needs to be sent, held in memory so it can go out with no transaction open."""

    id: int
    recipient: str
    subject: str
    body: str


def queue_mail(recipient: str, subject: str, body: str, purpose: str) -> OutboxMail:
    """Add a message to the outbox (flushed, not committed: it is sent only if the transaction commits)."""
    subject = " ".join(subject.split())[:SUBJECT_LENGTH]  # one line (no header injection), fits the column
    mail = OutboxMail(recipient=recipient, subject=subject, body=body, purpose=purpose)
    db.session.add(mail)
    db.session.flush()
    db.session.info.setdefault("mail_queued", []).append(QueuedMail(mail.id, recipient, subject, body))
    return mail


def send_queued(messages: list[QueuedMail]) -> None:
    """Send messages queued by a transaction that has committed: send first, then mark them in a short
    transaction of their own, so no database lock is held while a mail server answers."""
    outcomes = [(message, _send(message)) for message in messages]
    for message, error in outcomes:
        values: dict[str, Any] = {"attempts": OutboxMail.attempts + 1, "last_error": error}
        if error is None:
            values["sent_at"] = utcnow()
        db.session.execute(update(OutboxMail).where(OutboxMail.id == message.id, OutboxMail.sent_at.is_(None))
                           .values(**values))
    db.session.commit()


def deliver_pending(limit: int = 100) -> int:
    """Deliver unsent messages (the retry worker, `flask hall deliver-mail`); returns how many were sent.

    Only messages queued at least MAIL_RETRY_AFTER_SECONDS ago are taken: a younger one belongs to a request (on
    any instance) that has committed and may be sending it right now, and taking it too would mail it twice."""
    settled = utcnow() - timedelta(seconds=int(current_app.config["MAIL_RETRY_AFTER_SECONDS"]))
    pending = [QueuedMail(m.id, m.recipient, m.subject, m.body) for m in db.session.scalars(
        select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < 5,
                                 OutboxMail.created_at <= settled)
        .order_by(OutboxMail.id).limit(limit))]
    db.session.rollback()  # end the read before talking to the mail server
    send_queued(pending)
    return db.session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.id.in_([m.id for m in pending]), OutboxMail.sent_at.is_not(None))) or 0


def _send(message: QueuedMail) -> str | None:
    """Deliver one message with the configured backend; the error text, or None when it went out."""
    config = current_app.config
    try:
        if config["MAIL_BACKEND"] == "smtp":
            _send_smtp(message)
        elif config.get("MAIL_LOG_BODY", True):
            log.info("mail to %s [%s]\n%s", message.recipient, message.subject, message.body)
        else:
            log.info("mail %s to %s [%s]", message.id, message.recipient, message.subject)
    except Exception as exc:  # one bad message must never block the others
        log.warning("mail %s to %s not delivered: %s", message.id, message.recipient, exc)
        return f"{type(exc).__name__}: {exc}"[:1000]
    return None


def _send_smtp(mail: QueuedMail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
