"""Notifications: one service for the in-app inbox and the mail that goes with it, with per-person preferences.

``notify`` renders an English msgid template (marked with ``N_``) in Chinese and English when the event happens,
stores one inbox row per recipient, and queues a mail (in the recipient's own language) for every recipient whose
preference for the event's group has mail on. The mailer sends after the request's commit and retries.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from hall.extensions import db
from hall.models import Notification, NotificationPreference, User
from hall.models.inbox import NOTIFICATION_GROUPS
from hall.models.types import utcnow
from hall.services.core.errors import InvalidInput, NotFound
from hall.services.core.mailer import queue_mail

GROUPS: tuple[str, ...] = NOTIFICATION_GROUPS
TITLE_LENGTH = 300


def _render(template: str, params: Mapping[str, Any], locale: str) -> str:
    """``template`` translated into ``locale`` with the params (callables are called inside that locale)."""
    with force_locale(locale):
        values = {key: (value() if callable(value) else value) for key, value in params.items()}
        return gettext(template, **values) if values else gettext(template)


def _recipients(institution_id: int | None, user_ids: Sequence[int], exclude_user_id: int | None,
                group: str) -> list[tuple[User, bool]]:
    """The active people to tell, each with whether they want mail for ``group`` (no preference row: yes)."""
    ids = {int(user_id) for user_id in user_ids}
    conditions: list[ColumnElement[bool]] = [User.id.in_(ids)] if ids else []
    if institution_id is not None:
        conditions.append(User.institution_id == institution_id)
    if not conditions:
        return []
    query = (select(User, NotificationPreference.mail)
             .outerjoin(NotificationPreference, and_(NotificationPreference.user_id == User.id,
                                                     NotificationPreference.group == group))
             .where(User.status == "active", or_(*conditions)))
    if exclude_user_id is not None:
        query = query.where(User.id != exclude_user_id)
    return [(user, mail is not False) for user, mail in db.session.execute(query.order_by(User.id))]


def notify(event: str, *, group: str, title: str, body: str, institution_id: int | None = None,
           user_ids: Sequence[int] = (), params: Mapping[str, Any] | None = None,
           link: str | None = None, exclude_user_id: int | None = None) -> int:
    """Put a notification in the inbox of every active member of ``institution_id`` and of ``user_ids`` (minus
    ``exclude_user_id``), and queue a mail for those whose preference allows it; returns how many people."""
    if group not in GROUPS:
        raise ValueError(f"unknown notification group {group!r}")
    recipients = _recipients(institution_id, user_ids, exclude_user_id, group)
    if not recipients:
        return 0
    params = dict(params or {})
    texts = {locale: (_render(title, params, locale)[:TITLE_LENGTH], _render(body, params, locale))
             for locale in ("zh_CN", "en")}
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    for user, wants_mail in recipients:
        db.session.add(Notification(
            user_id=user.id, event=event[:64], group=group, title_zh=texts["zh_CN"][0], title_en=texts["en"][0],
            body_zh=texts["zh_CN"][1], body_en=texts["en"][1], link=link))
        if not wants_mail:
            continue
        subject, text = texts["en"] if user.locale == "en" else texts["zh_CN"]
        if link:
            text = f"{text}\n\n{base}{link}"
        queue_mail(user.email, subject, text + "\n", event[:32])
    db.session.flush()
    return len(recipients)


def text_of(notification: Notification, locale: object) -> tuple[str, str]:
    """The title and body of a notification in ``locale`` ("en" → English, anything else → Chinese)."""
    if str(locale) == "en":
        return notification.title_en, notification.body_en
    return notification.title_zh, notification.body_zh


def unread_count(user: User) -> int:
    """How many of the person's notifications are unread."""
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_notifications(user: User, *, page: int = 1, page_size: int = 20,
                       unread: bool = False) -> tuple[list[Notification], int]:
    """One page of the person's inbox, newest first, and the total (``unread``: only unread ones)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                                    .limit(page_size).offset((page - 1) * page_size)))
    return items, total


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the person's notifications read (404 for anyone else's)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the person read; returns how many changed."""
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow())
        .execution_options(synchronize_session="fetch"))
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def preferences(user: User) -> dict[str, bool]:
    """Whether the person wants mail, per group (mail is on where nothing was chosen)."""
    chosen = {row.group: row.mail for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    return {group: chosen.get(group, True) for group in GROUPS}


def set_preferences(user: User, choices: Mapping[str, bool]) -> dict[str, bool]:
    """Change the person's mail choices for the groups named (422 for a group that does not exist)."""
    for group in choices:
        if group not in GROUPS:
            raise InvalidInput.field(group, _("No such notification group."))
    rows = {row.group: row for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for group, mail in choices.items():
        if group in rows:
            rows[group].mail = bool(mail)
        else:
            db.session.add(NotificationPreference(user_id=user.id, group=group, mail=bool(mail)))
    db.session.flush()
    return preferences(user)


