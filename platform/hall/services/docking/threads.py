"""Enquiry threads (询价/对接): a member of a verified institution asks about another institution's published listing,
or answers another institution's published demand; the thread then belongs to those two institutions alone.

- One open thread per subject (listing or demand) and asking institution: opening again returns it.
- Only the two institutions' members read or write it (anyone else: 404). An admin reads it only after one of the
  parties reported it, and every such read is audited.
- Either party closes it (the ``thread`` machine: open → closed); a closed thread takes no more messages.
- The asking institution may start an order from a thread about a listing (it is the buyer).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.library_messages import N_
from hall.models import Order, Thread, ThreadMessage, User
from hall.models.threads import REPORT_REASON_MAX_CHARS, SUBJECT_MAX_CHARS
from hall.models.types import utcnow
from hall.services.core import inbox
from hall.services.core.access import require_admin
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.docking.demand_hall import published_demand
from hall.services.docking.thread_messages import (
    StoredFile,
    Upload,
    add_message,
    institution_name,
    mark_read,
    reported_message_file,
    require_writer,
    thread_for_party,
    thread_link,
    unread_column,
    unread_count,
)
from hall.services.publishing.hall import published_listing
from hall.services.trading import orders
from hall.services.trading.exhibitions_attribution import check_lead

THREAD_MACHINE = Machine("thread", {"close": (frozenset({"open"}), "closed")})


@dataclass
class ThreadView:
    """A thread as one person sees it: which side they are on, how many messages they have not read, and (for the
    thread page) its messages. Every other attribute is the thread's own."""

    thread: Thread
    side: str  # opener | counterpart | admin
    unread_count: int = 0
    messages: list[ThreadMessage] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.thread, name)


def _view(actor: User, thread: Thread, unread: int = 0, messages: list[ThreadMessage] | None = None) -> ThreadView:
    side = "opener" if actor.institution_id == thread.opener_institution_id else "counterpart"
    return ThreadView(thread, side, unread, messages or [])


def _title(title_zh: str | None, title_en: str | None) -> str:
    return (title_zh or title_en or "")[:SUBJECT_MAX_CHARS]


def _open_duplicate(listing_id: int | None, demand_id: int | None, opener_id: int) -> Thread | None:
    subject = Thread.listing_id == listing_id if listing_id is not None else Thread.demand_id == demand_id
    return db.session.scalar(select(Thread).where(subject, Thread.opener_institution_id == opener_id,
                                                  Thread.status == "open"))


def open_thread(actor: User, *, listing_id: int | None = None, demand_id: int | None = None,
                subject: str | None = None, body: str | None = None,
                upload: Upload | None = None, exhibition_id: int | None = None) -> tuple[ThreadView, bool]:
    """Ask about a published listing, or answer a published demand, of another institution; returns (thread,
    created). The first message is required. While the actor's institution has an open thread on the same
    listing or demand, that thread comes back (created False) and nothing is added to it."""
    if (listing_id is None) == (demand_id is None):
        raise InvalidInput.field("listing_id", _("name either a listing or a demand"))
    require_writer(actor)
    opener_id = actor.institution_id
    assert opener_id is not None
    if listing_id is not None:
        listing, version = published_listing(listing_id)
        if listing.institution_id == opener_id:
            raise InvalidInput.field("listing_id", _("your institution publishes this listing; enquiries are for "
                                                     "other institutions' listings"))
        counterpart_id, default_subject = listing.institution_id, _title(version.title_zh, version.title_en)
    else:
        assert demand_id is not None
        demand = published_demand(demand_id)  # the demand hall's visibility rule
        if demand.institution_id == opener_id:
            raise InvalidInput.field("demand_id", _("your institution posted this demand; answer other "
                                                    "institutions' demands"))
        counterpart_id, default_subject = demand.institution_id, _title(demand.title_zh, demand.title_en)
    exhibition_id = check_lead(exhibition_id, listing_id=listing_id, demand_id=demand_id)  # a lead of an exhibition
    existing = _open_duplicate(listing_id, demand_id, opener_id)
    if existing is not None:
        return _view(actor, existing, unread_count(actor, existing.id)), False
    if not (body or "").strip() and upload is None:
        raise InvalidInput.field("body", _("write a message or attach a file"))
    now = utcnow()
    thread = Thread(listing_id=listing_id, demand_id=demand_id, opener_institution_id=opener_id,
                    counterpart_institution_id=counterpart_id, subject=(subject or "").strip() or default_subject,
                    status="open", created_by_id=actor.id, created_at=now, last_message_at=now,
                    exhibition_id=exhibition_id)
    try:
        with db.session.begin_nested():
            db.session.add(thread)
            db.session.flush()
    except IntegrityError:
        # Another member of this institution opened the same thread a moment ago (the partial unique index).
        existing = _open_duplicate(listing_id, demand_id, opener_id)
        if existing is None:
            raise
        return _view(actor, existing, unread_count(actor, existing.id)), False
    message = add_message(actor, thread, body, upload)
    record_event("thread.open", "thread", thread.id, actor=actor, to_state="open",
                 details={"listing_id": listing_id, "demand_id": demand_id, "counterpart": counterpart_id})
    if listing_id is not None:
        title = N_("New enquiry: “%(subject)s”")
        text = N_("%(institution)s asked about your listing “%(subject)s”. Read and answer it in your workspace.")
    else:
        title = N_("An answer to your demand: “%(subject)s”")
        text = N_("%(institution)s answered your demand “%(subject)s”. Read and reply in your workspace.")
    inbox.notify("thread.opened", group="messages", title=title, body=text, institution_id=counterpart_id,
                 exclude_user_id=actor.id, params={"subject": thread.subject, "institution": institution_name(actor)},
                 link=thread_link(thread.id))
    return _view(actor, thread, 0, [message]), True


def list_threads(actor: User, *, unread: bool = False, listing_id: int | None = None,
                 demand_id: int | None = None, status: str | None = None, page: int = 1,
                 per_page: int = 20) -> tuple[list[ThreadView], int]:
    """The threads of the actor's institution (as opener or counterpart), latest message first, with the actor's
    unread count on each; optionally only unread ones, one listing's or one demand's, or one status."""
    org_id = actor.institution_id
    if org_id is None:
        return [], 0
    unread_messages = unread_column(actor)
    conditions = [or_(Thread.opener_institution_id == org_id, Thread.counterpart_institution_id == org_id)]
    if unread:
        conditions.append(unread_messages > 0)
    if listing_id is not None:
        conditions.append(Thread.listing_id == listing_id)
    if demand_id is not None:
        conditions.append(Thread.demand_id == demand_id)
    if status is not None:
        conditions.append(Thread.status == status)
    total = db.session.scalar(select(func.count(Thread.id)).where(*conditions)) or 0
    rows = db.session.execute(select(Thread, unread_messages).where(*conditions)
                              .order_by(Thread.last_message_at.desc(), Thread.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return [_view(actor, thread, count or 0) for thread, count in rows], total


def read_thread(actor: User, thread_id: int) -> ThreadView:
    """A thread of the actor's institution with all its messages; reading it marks it read for the actor."""
    thread = thread_for_party(actor, thread_id)
    unread = unread_count(actor, thread.id)
    mark_read(actor, thread)
    return _view(actor, thread, unread, list(thread.messages))


def close_thread(actor: User, thread_id: int) -> ThreadView:
    """Either party ends the conversation; a closed thread takes no messages (a new enquiry may be opened)."""
    thread = thread_for_party(actor, thread_id)
    transition(THREAD_MACHINE, thread, "close", actor=actor, closed_at=utcnow())
    return _view(actor, thread, unread_count(actor, thread.id))


def report_thread(actor: User, thread_id: int, reason: str) -> ThreadView:
    """A party reports the thread (spam, abuse, fraud); from then on the platform's admins may read it."""
    thread = thread_for_party(actor, thread_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", _("say what is wrong with this thread"))
    if len(reason) > REPORT_REASON_MAX_CHARS:
        raise InvalidInput.field("reason", _("at most %(count)s characters", count=REPORT_REASON_MAX_CHARS))
    if thread.reported_at is not None:
        raise Conflict(_("This thread has already been reported; the platform is looking into it."))
    thread.reported_at, thread.reported_by_id, thread.report_reason = utcnow(), actor.id, reason
    db.session.flush()
    record_event("thread.report", "thread", thread.id, actor=actor, reason=reason)
    return _view(actor, thread, unread_count(actor, thread.id))


def list_reported(actor: User, *, page: int = 1, per_page: int = 20) -> tuple[list[ThreadView], int]:
    """Admins: the reported threads, latest report first. Threads nobody reported are never listed."""
    require_admin(actor, _("read reported threads"))
    condition = Thread.reported_at.is_not(None)
    total = db.session.scalar(select(func.count(Thread.id)).where(condition)) or 0
    threads = db.session.scalars(select(Thread).where(condition).order_by(Thread.reported_at.desc(), Thread.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page))
    return [ThreadView(thread, "admin") for thread in threads], total


def reported_thread_for_admin(actor: User, thread_id: int) -> Thread:
    """Admins: a reported thread; one nobody reported is 404 (as if it did not exist)."""
    require_admin(actor, _("read reported threads"))
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.reported_at is None:
        raise NotFound(_("No such thread."))
    return thread


def reported_thread(actor: User, thread_id: int) -> ThreadView:
    """Admins: one reported thread with its messages (each read is audited); an unreported one is 404."""
    thread = reported_thread_for_admin(actor, thread_id)
    record_event("thread.admin_read", "thread", thread.id, actor=actor)
    return ThreadView(thread, "admin", 0, list(thread.messages))


def reported_thread_file(actor: User, thread_id: int, message_id: int) -> tuple[StoredFile, Path]:
    """Admins: the file of a message in a reported thread (each download is audited)."""
    thread = reported_thread_for_admin(actor, thread_id)
    stored, path = reported_message_file(thread, message_id)
    record_event("thread.admin_file", "thread", thread.id, actor=actor, details={"message_id": message_id})
    return stored, path


def order_from_thread(actor: User, thread_id: int, values: dict[str, Any]) -> tuple[ThreadView, Order, bool]:
    """The asking institution orders the listing the thread is about, with the order fields of POST /orders (the
    trading rules decide price, stock and scope, and the seller is told as for any order). The thread remembers
    the order; returns (thread, order, created). Orders start only from threads about listings: a demand thread
    leads to a listing first."""
    thread = thread_for_party(actor, thread_id)
    require_writer(actor)
    if thread.listing_id is None:
        raise Conflict(_("Orders start from threads about a listing; this thread answers a demand. Open an "
                         "enquiry on the listing that answers it and order from there."))
    if actor.institution_id != thread.opener_institution_id:
        raise Forbidden(_("Only the institution that asked can order from this thread: it is the buyer."))
    if thread.status != "open":
        raise Conflict(_("This thread is closed; open a new enquiry to continue."))
    order, created = orders.create_order(actor, thread.listing_id, values)
    if thread.order_id != order.id:
        thread.order_id = order.id
        db.session.flush()
        record_event("thread.order", "thread", thread.id, actor=actor, details={"order_id": order.id})
    return _view(actor, thread, unread_count(actor, thread.id)), order, created
