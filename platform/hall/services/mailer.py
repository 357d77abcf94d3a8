"""Mail: queued into the outbox in the business transaction, delivered by the configured backend after commit."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from hall.extensions import db
from hall.models import OutboxMail
from hall.models.types import utcnow

log = logging.getLogger("hall.mail")


def queue_mail(recipient: str, subject: str, body: str, purpose: str) -> OutboxMail:
    """Add a message to the outbox (flushed, not committed: it is sent only if the transaction commits)."""
    mail = OutboxMail(recipient=recipient, subject=subject, body=body, purpose=purpose)
    db.session.add(mail)
    db.session.flush()
    db.session.info["mail_queued"] = True  # the request hook delivers after commit
    return mail


def deliver_pending(limit: int = 100) -> int:
    """Deliver unsent messages with the configured backend, marking each sent; returns how many were sent.

    Runs in its own short transaction after the business transaction has committed, and commits it
    (this is the delivery worker, not a business service).
    """
    backend = current_app.config["MAIL_BACKEND"]
    pending = db.session.scalars(
        select(OutboxMail).where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < 5)
        .order_by(OutboxMail.id).limit(limit)
    ).all()
    sent = 0
    for mail in pending:
        mail.attempts += 1
        try:
            if backend == "smtp":
                _send_smtp(mail)
            else:
                log.info("mail to %s [%s]\n%s", mail.recipient, mail.subject, mail.body)
        except (OSError, smtplib.SMTPException) as exc:
            mail.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("mail %s to %s not delivered: %s", mail.id, mail.recipient, mail.last_error)
            continue
        mail.sent_at = utcnow()
        sent += 1
    db.session.commit()
    return sent


def _send_smtp(mail: OutboxMail) -> None:
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
