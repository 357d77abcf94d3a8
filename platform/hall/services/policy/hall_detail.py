"""The stamp of a listing's public detail: one small statement whose answer changes whenever anything the detail
shows changes, so a detail kept under it (``blueprints.api.hall_caching``) is still the true one.

What the detail shows, and what moves the stamp:
- the listing: state, term, stock and content (``lock_version`` is raised on every change of content or state,
  a file marked confidential included; ``updated_at`` on every UPDATE, the stock's conditional one included);
- its institution (names, kind, verification) and its public version (``updated_at``);
- the evaluation reports on it (count and last change) and their evaluators' names (their last change).

It lives on the policy floor because it reads the evaluation reports; the visibility rule is the hall's own
(``public_listing_conditions``), evaluated by the database at the moment of asking.
"""
from __future__ import annotations

import hashlib
import time
import weakref
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, TextClause, bindparam, event, func, select
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from hall import recent_answers
from hall.extensions import db
from hall.models import Institution, Listing, ListingVersion
from hall.models.evaluations import EvaluationEngagement
from hall.models.types import UtcDateTime, utcnow
from hall.services.publishing.hall import public_listing_conditions


def detail_stamp(listing_id: int, now: datetime | None = None, fresh_within: float = 0.0) -> str | None:
    """A digest of everything the public detail of ``listing_id`` shows, or None when the listing is not public
    (the view then answers, and says 404). With ``fresh_within`` seconds, a stamp this process read that recently
    is taken without asking the database: another process's change shows up to that much later, one committed by
    this process at once (``_forget_after_commit``)."""
    engine = db.engine
    if fresh_within > 0 and now is None:
        kept = _RECENT.get(engine, {}).get(listing_id)
        if kept is not None and time.monotonic() - kept[0] < fresh_within:
            return kept[1]
    read_at = time.monotonic()
    row = db.session.execute(_stamp_query(), {"listing_id": listing_id, "now": now or utcnow()}).first()
    stamp = None if row is None else hashlib.blake2b(repr(tuple(row)).encode(), digest_size=10).hexdigest()
    if fresh_within > 0 and now is None:
        kept_here = _RECENT.setdefault(engine, {})
        if len(kept_here) >= _RECENT_LIMIT:
            kept_here.clear()
        kept_here[listing_id] = (read_at, stamp)
    return stamp


def stamp_read_at(listing_id: int) -> float | None:
    """When (``time.monotonic()``) this process last read the stamp of ``listing_id`` that it keeps, if it does."""
    kept = _RECENT.get(db.engine, {}).get(listing_id)
    return kept[0] if kept is not None else None


# Stamps this process read, per engine, by listing: (when, stamp). Forgotten after any commit of this process
# that wrote anything, so this process's own changes show at once.
_RECENT: weakref.WeakKeyDictionary[Any, dict[int, tuple[float, str | None]]] = weakref.WeakKeyDictionary()
_RECENT_LIMIT = 10_000
_WROTE = "hall_detail_wrote"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete or (
            isinstance(statement, TextClause) and not statement.text.lstrip().upper().startswith("SELECT")):
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        _RECENT.clear()
        recent_answers.forget()


@cache
def _stamp_query() -> Select[Any]:
    """The stamp's statement, built once (building it cost more than running it)."""
    report = EvaluationEngagement
    evaluator = aliased(Institution)
    version_changed = select(ListingVersion.updated_at).where(
        ListingVersion.id == Listing.published_version_id).scalar_subquery()
    report_count = select(func.count(report.id)).where(report.listing_id == Listing.id).scalar_subquery()
    report_changed = select(func.max(report.updated_at)).where(report.listing_id == Listing.id).scalar_subquery()
    evaluator_changed = select(func.max(evaluator.updated_at)).join(
        report, report.evaluator_institution_id == evaluator.id).where(
        report.listing_id == Listing.id).scalar_subquery()
    now = bindparam("now", type_=UtcDateTime())
    return (select(Listing.lock_version, Listing.updated_at, Listing.stock, Listing.published_version_id,
                   Listing.expires_at, Institution.updated_at, version_changed, report_count, report_changed,
                   evaluator_changed)
            .join(Institution, Institution.id == Listing.institution_id)
            .where(Listing.id == bindparam("listing_id"), *public_listing_conditions(now)))
