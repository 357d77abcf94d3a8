"""Messages of enquiry threads: who may read and write a thread (its two institutions only), posting a message with
an optional file (checked exactly as listing attachments are, FILE-01), per-person read marks and unread counts,
and downloading a message's file. ``threads`` (opening, listing, closing, reporting, ordering) builds on this."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.selectable import ScalarSelect

from hall.extensions import db
from hall.library_messages import N_
from hall.models import Thread, ThreadMessage, ThreadRead, User
from hall.models.threads import MESSAGE_MAX_CHARS
from hall.models.types import utcnow
from hall.services.core import inbox
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.publishing.attachments import checked_upload, store_file, upload_dir


@dataclass(frozen=True)
class Upload:
    """A file sent with a message: its bytes as a stream and the name the sender gave it."""

    stream: IO[bytes]
    filename: str


@dataclass(frozen=True)
class StoredFile:
    """A message's file as the download view serves it (display name and media type)."""

    filename: str
    content_type: str


def thread_link(thread_id: int) -> str:
    """The workspace page of a thread (the link notifications carry)."""
    return f"/workspace/threads/{thread_id}"


def thread_for_party(actor: User, thread_id: int) -> Thread:
    """A thread the actor's institution is a party to (the opener or the counterpart); any other — of other
    institutions, missing, or asked by a person of no institution — is 404, whether or not the actor is an admin."""
    thread = db.session.get(Thread, thread_id)
    if thread is None or actor.institution_id is None or actor.institution_id not in thread.party_ids():
        raise NotFound(_("No such thread."))
    return thread


def require_writer(actor: User) -> None:
    """Writing in threads (opening, messages, orders) takes a member of a verified institution."""
    require_member(actor, verified=True, unverified_message=_("Your institution must be verified by the platform "
                                                              "before it can send enquiries and messages."))


def other_party(thread: Thread, institution_id: int) -> int:
    """The institution on the other side of the thread from ``institution_id``."""
    opener, counterpart = thread.party_ids()
    return counterpart if institution_id == opener else opener


def _clean_body(body: str | None) -> str | None:
    text = (body or "").strip()
    if len(text) > MESSAGE_MAX_CHARS:
        raise InvalidInput.field("body", _("a message is at most %(count)s characters", count=MESSAGE_MAX_CHARS))
    return text or None


def add_message(actor: User, thread: Thread, body: str | None, upload: Upload | None = None) -> ThreadMessage:
    """Append a message by ``actor`` to an open thread (the caller checked the actor is a party and may write):
    a text, a checked and stored file, or both. The author's own read mark moves past it; nobody is notified."""
    text = _clean_body(body)
    if text is None and upload is None:
        raise InvalidInput.field("body", _("write a message or attach a file"))
    if thread.status != "open":
        raise Conflict(_("This thread is closed; open a new enquiry to continue."))
    message = ThreadMessage(thread_id=thread.id, author_id=actor.id, author_institution_id=actor.institution_id,
                            body=text)
    if upload is not None:
        data, media_type, display_name = checked_upload(upload.stream, upload.filename)
        message.attachment_filename = display_name
        message.attachment_content_type = media_type
        message.attachment_size = len(data)
        message.attachment_sha256 = hashlib.sha256(data).hexdigest()
        message.attachment_storage_name = store_file(data, media_type)
    db.session.add(message)
    db.session.flush()
    thread.last_message_at = message.created_at
    mark_read(actor, thread, upto=message.id)
    return message


def post_message(actor: User, thread_id: int, body: str | None, upload: Upload | None = None) -> ThreadMessage:
    """Write in a thread of the actor's institution; the other institution's members are notified."""
    thread = thread_for_party(actor, thread_id)
    require_writer(actor)
    message = add_message(actor, thread, body, upload)
    record_event("thread.message", "thread", thread.id, actor=actor,
                 details={"message_id": message.id, "file": message.attachment_filename})
    notify_new_message(actor, thread, message)
    return message


def notify_new_message(actor: User, thread: Thread, message: ThreadMessage) -> int:
    """Tell the other institution's members that a message came (the author is never told)."""
    assert actor.institution_id is not None
    return inbox.notify(
        "thread.message", group="messages", title=N_("New message about “%(subject)s”"),
        body=N_("%(institution)s wrote in the enquiry “%(subject)s”: %(excerpt)s"),
        institution_id=other_party(thread, actor.institution_id), exclude_user_id=actor.id,
        params={"subject": thread.subject, "excerpt": _excerpt(message),
                "institution": institution_name(actor)},
        link=thread_link(thread.id))


def institution_name(actor: User) -> Callable[[], str]:
    """The actor's institution's name in the language a notification is rendered in (a param for inbox.notify)."""
    org = actor.institution
    name_zh, name_en = (org.name_zh, org.name_en or org.name_zh) if org is not None else ("", "")
    return lambda: name_en if str(get_locale()).startswith("en") else name_zh


def _excerpt(message: ThreadMessage) -> str:
    if message.body:
        return message.body[:140] + ("…" if len(message.body) > 140 else "")
    return f"[{message.attachment_filename}]"


def mark_read(actor: User, thread: Thread, upto: int | None = None) -> None:
    """Record that ``actor`` has read ``thread`` up to message ``upto`` (default: its newest). The mark only moves
    forward; two tabs marking at once end with one row."""
    if upto is None:
        upto = db.session.scalar(select(func.max(ThreadMessage.id)).where(ThreadMessage.thread_id == thread.id)) or 0
    now = utcnow()
    moved = db.session.execute(
        update(ThreadRead).where(ThreadRead.thread_id == thread.id, ThreadRead.user_id == actor.id)
        .values(last_read_message_id=func.max(ThreadRead.last_read_message_id, upto)
                if db.session.get_bind().dialect.name == "sqlite"
                else func.greatest(ThreadRead.last_read_message_id, upto), read_at=now)
        .execution_options(synchronize_session=False))
    if getattr(moved, "rowcount", 0):
        return
    try:
        with db.session.begin_nested():
            db.session.add(ThreadRead(thread_id=thread.id, user_id=actor.id, last_read_message_id=upto, read_at=now))
    except IntegrityError:  # another request of this person made the row a moment ago
        mark_read(actor, thread, upto)


def unread_count(actor: User, thread_id: int) -> int:
    """Messages of a thread the actor has not read yet: the other institution's, newer than the actor's read mark
    (what the actor's own institution wrote never counts, as in a shared mailbox)."""
    read_upto = select(ThreadRead.last_read_message_id).where(
        ThreadRead.thread_id == thread_id, ThreadRead.user_id == actor.id).scalar_subquery()
    return db.session.scalar(select(func.count(ThreadMessage.id)).where(
        ThreadMessage.thread_id == thread_id, ThreadMessage.author_institution_id != actor.institution_id,
        ThreadMessage.id > func.coalesce(read_upto, 0))) or 0


def unread_column(actor: User) -> ScalarSelect[int]:
    """``unread_count`` as a correlated subquery over each ``Thread`` row, for list queries."""
    read_upto = select(ThreadRead.last_read_message_id).where(
        ThreadRead.thread_id == Thread.id, ThreadRead.user_id == actor.id).correlate(Thread).scalar_subquery()
    return select(func.count(ThreadMessage.id)).where(
        ThreadMessage.thread_id == Thread.id, ThreadMessage.author_institution_id != actor.institution_id,
        ThreadMessage.id > func.coalesce(read_upto, 0)).correlate(Thread).scalar_subquery()


def _file_of(thread: Thread, message_id: int) -> tuple[StoredFile, Path]:
    message = db.session.get(ThreadMessage, message_id)
    if (message is None or message.thread_id != thread.id or message.attachment_storage_name is None
            or message.attachment_filename is None or message.attachment_content_type is None):
        raise NotFound(_("No such attachment."))
    return (StoredFile(message.attachment_filename, message.attachment_content_type),
            upload_dir() / message.attachment_storage_name)


def message_file(actor: User, thread_id: int, message_id: int) -> tuple[StoredFile, Path]:
    """The file of a message in a thread of the actor's institution (404 for anyone else)."""
    return _file_of(thread_for_party(actor, thread_id), message_id)


def reported_message_file(thread: Thread, message_id: int) -> tuple[StoredFile, Path]:
    """The file of a message in a thread an admin may read (the caller checked it was reported)."""
    return _file_of(thread, message_id)
