"""Demand postings (技术需求) as their institution manages them: drafts, edits (revisions once published),
submission, withdrawal, closing.

The lifecycle is one transition table (``DEMAND_MACHINE``); a revision of a published demand has its own review
table (``REVISION_MACHINE``, on ``revision_status``) so that the public keeps the published content until the
revision is approved. Every move is a compare-and-set with an audit event.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from hall.extensions import db
from hall.labels import state_word
from hall.models import AuditEvent, Demand, User
from hall.models.demands import DEMAND_STATUSES
from hall.models.types import utcnow
from hall.search.demands import unindex_demand
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import Machine, compare_and_set, transition
from hall.services.docking.demand_rules import check_content, content_of, jsonable_changes, missing_for_submission

# action -> (states it may start from, state it leads to)
DEMAND_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "changes_requested"}), "submitted"),
    "approve": (frozenset({"submitted"}), "published"),
    "request_changes": (frozenset({"submitted"}), "changes_requested"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "withdraw": (frozenset({"draft", "changes_requested"}), "withdrawn"),
    "close": (frozenset({"published"}), "closed"),
    "suspend": (frozenset({"published"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "published"),
    "expire": (frozenset({"published"}), "expired"),
}
# A revision of a published demand (started by an edit, as "draft").
REVISION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "changes_requested"}), "submitted"),
    "approve": (frozenset({"submitted"}), "approved"),
    "request_changes": (frozenset({"submitted"}), "changes_requested"),
    "reject": (frozenset({"submitted"}), "rejected"),
    # the owner discards it, or its demand left the hall (closed, expired) while it was pending
    "withdraw": (frozenset({"draft", "submitted", "changes_requested"}), "withdrawn"),
}
DEMAND_MACHINE = Machine("demand", DEMAND_TRANSITIONS, reason_column="status_reason")
REVISION_MACHINE = Machine("demand_revision", REVISION_TRANSITIONS, column="revision_status",
                           reason_column="revision_reason")
DRAFT_STATUSES = frozenset({"draft", "changes_requested"})
PENDING_REVISION = frozenset({"draft", "submitted", "changes_requested"})


def transition_demand(demand: Demand, action: str, actor: User | None, *, reason: str | None = None,
                      expected_lock_version: int | None = None, **values: Any) -> None:
    """Apply one lifecycle transition (compare-and-set on status, and on lock_version when given) and audit it."""
    conditions = () if expected_lock_version is None else (Demand.lock_version == expected_lock_version,)
    transition(DEMAND_MACHINE, demand, action, actor=actor, reason=reason, conditions=conditions,
               lock_version=Demand.lock_version + 1, **values)


def transition_revision(demand: Demand, action: str, actor: User | None, *, reason: str | None = None,
                        **values: Any) -> None:
    """Apply one review transition to the demand's pending revision (compare-and-set on revision_status)."""
    transition(REVISION_MACHINE, demand, action, actor=actor, reason=reason, lock_version=Demand.lock_version + 1,
               **values)


def bump_lock_version(demand: Demand, expected: int | None = None) -> None:
    """Count a content change; with ``expected``, refuse (409) when someone else changed the demand first."""
    current = demand.lock_version if expected is None else expected
    compare_and_set(demand, "lock_version", current, current + 1)


def own_demand(actor: User, demand_id: int) -> Demand:
    """A demand of the actor's institution; any other id answers 404 (AUTHZ-01)."""
    demand = db.session.get(Demand, demand_id)
    if demand is None or actor.institution_id is None or demand.institution_id != actor.institution_id:
        raise NotFound(_("No such demand."))
    return demand


def list_own_demands(actor: User, status: str | None = None, *, page: int = 1,
                     per_page: int = 20) -> tuple[list[Demand], int]:
    """One page of the institution's demands, newest first, optionally by status; and the total."""
    require_member(actor)
    query = select(Demand).where(Demand.institution_id == actor.institution_id)
    if status:
        query = query.where(Demand.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(query.order_by(Demand.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(items), total


def count_own_demands(actor: User) -> dict[str, int]:
    """How many of the institution's demands are in each status (zeros included)."""
    require_member(actor)
    rows = db.session.execute(select(Demand.status, func.count()).where(Demand.institution_id == actor.institution_id)
                              .group_by(Demand.status))
    counts = {status: 0 for status in DEMAND_STATUSES}
    counts.update({status: int(count) for status, count in rows})
    return counts


def _set_columns(demand: Demand, changes: dict[str, Any]) -> None:
    merged = {**content_of(demand), **changes}
    check_content(merged)
    for key, value in changes.items():
        setattr(demand, key, value)


def create_demand(actor: User, content: dict[str, Any]) -> Demand:
    """Start a demand as a draft of the actor's institution (an unverified institution may draft, not submit)."""
    org = require_member(actor)
    demand = Demand(institution_id=org.id, status="draft", created_by_id=actor.id, field_codes=[], deal_modes=[],
                    keywords=[])
    _set_columns(demand, content)
    db.session.add(demand)
    db.session.flush()
    record_event("demand.created", "demand", demand.id, actor=actor, to_state="draft")
    return demand


def pending_content(demand: Demand) -> dict[str, Any]:
    """What the owner is editing: the pending revision of a published demand, or the demand's own content."""
    if demand.status == "published" and demand.has_pending_revision and demand.revision is not None:
        return {**content_of(demand), **demand.revision}
    return content_of(demand)


def edit_demand(actor: User, demand_id: int, changes: dict[str, Any], expected_lock_version: int | None) -> Demand:
    """Change the content being edited. A published demand gets a revision; the public keeps the published one."""
    demand = own_demand(actor, demand_id)
    if expected_lock_version is not None and expected_lock_version != demand.lock_version:
        raise Conflict(_("The demand changed since you read it; reload it and apply your edit again."))
    if demand.status in DRAFT_STATUSES:
        _set_columns(demand, changes)
        bump_lock_version(demand, demand.lock_version)
    elif demand.status == "published":
        if demand.revision_status == "submitted":
            raise Conflict(_("The revision is under review; wait for the decision before editing."))
        started = not demand.has_pending_revision
        revision = content_of(demand) if started else {**content_of(demand), **(demand.revision or {})}
        revision.update(jsonable_changes(changes))
        check_content(revision)
        values: dict[str, Any] = {"revision": revision}
        if started:
            values.update(revision_status="draft", revision_reason=None)
        compare_and_set(demand, "lock_version", demand.lock_version, demand.lock_version + 1, **values)
        if started:
            record_event("demand.revision_started", "demand_revision", demand.id, actor=actor, to_state="draft")
    else:
        raise Conflict({"submitted": _("The demand is under review; wait for the decision before editing."),
                        "suspended": _("A suspended demand cannot be edited; contact the platform.")}.get(
            demand.status, _("A demand that is “%(state)s” cannot be edited; post a new one.",
                             state=state_word(demand.status))))
    if changes:
        record_event("demand.edited", "demand", demand.id, actor=actor,
                     details={"fields": sorted(changes), "revision": demand.status == "published"})
    return demand


def submit_demand(actor: User, demand_id: int, today: date | None = None) -> Demand:
    """Send the demand (or the revision of a published demand) for review, once it is complete."""
    demand = own_demand(actor, demand_id)
    require_member(actor, verified=True, unverified_message=_("Only verified institutions may post demands; wait "
                                                              "for the platform to verify yours."))
    today = today or utcnow().date()
    if demand.status == "published":
        if not demand.has_pending_revision or demand.revision_status == "submitted":
            raise Conflict(_("Nothing to submit: edit the demand first to make a revision."))
        missing = missing_for_submission(pending_content(demand), today)
        if missing:
            raise InvalidInput(_("The demand is not complete; fill in the fields named in errors."), missing)
        transition_revision(demand, "submit", actor, revision_submitted_at=utcnow())
        return demand
    if demand.status in DRAFT_STATUSES:
        missing = missing_for_submission(content_of(demand), today)
        if missing:
            raise InvalidInput(_("The demand is not complete; fill in the fields named in errors."), missing)
    transition_demand(demand, "submit", actor, submitted_at=utcnow())
    return demand


def withdraw_demand(actor: User, demand_id: int) -> Demand:
    """Withdraw a draft (or one returned for changes) for good; on a published demand, discard the pending
    revision instead (the published content stays)."""
    demand = own_demand(actor, demand_id)
    if demand.status == "published" and demand.has_pending_revision:
        transition_revision(demand, "withdraw", actor)
        return demand
    transition_demand(demand, "withdraw", actor)
    return demand


def discard_pending_revision(demand: Demand, actor: User | None = None) -> None:
    """A pending revision is dropped when its demand leaves the hall (closed, expired)."""
    if demand.has_pending_revision:
        transition_revision(demand, "withdraw", actor, reason="the demand left the hall")


def close_demand(actor: User, demand_id: int) -> Demand:
    """The institution closes a published demand (found what it needed, or gave up): it leaves the hall."""
    demand = own_demand(actor, demand_id)
    transition_demand(demand, "close", actor, closed_at=utcnow())
    unindex_demand(demand)
    discard_pending_revision(demand, actor)
    return demand


def demand_history(actor: User, demand_id: int) -> list[dict[str, Any]]:
    """Every transition of the demand and its revisions, with the admins' reasons, oldest first."""
    demand = own_demand(actor, demand_id)
    rows = db.session.execute(
        select(AuditEvent, User.is_admin).outerjoin(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.object_type.in_(("demand", "demand_revision")), AuditEvent.object_id == str(demand.id))
        .order_by(AuditEvent.id)
    ).all()
    return [{"occurred_at": event.occurred_at, "action": event.action, "from_state": event.from_state,
             "to_state": event.to_state, "reason": event.reason, "by_platform": bool(is_admin)}
            for event, is_admin in rows]
