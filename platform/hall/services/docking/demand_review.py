"""Platform admins decide on demand postings: approve, request changes, reject (a demand or a revision of a
published one), suspend, reinstate; and the expiry of demands whose deadline has passed.

Used by the admin console and the tests. Two decisions racing on one demand: the compare-and-set lets one win and
the other gets a Conflict. The institution is told every decision in its inbox (group "reviews").
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from hall.extensions import db
from hall.labels import state_word
from hall.library_messages import N_
from hall.models import Demand, User
from hall.models.types import utcnow
from hall.search.demands import index_demand, unindex_demand
from hall.services.core import inbox
from hall.services.core.access import forbid_own_institution, require_admin
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.docking import matching
from hall.services.docking.demand_rules import deadline_of
from hall.services.docking.demands import discard_pending_revision, transition_demand, transition_revision

REASON_REQUIRED = frozenset({"request_changes", "reject", "suspend"})
_REASON_MISSING = {"request_changes": _l("a reason is required to request changes"),
                   "reject": _l("a reason is required to reject"), "suspend": _l("a reason is required to suspend")}
TEMPLATES = {
    False: (N_("Your demand “%(title)s”: %(decision)s"),
            N_("The platform reviewed your demand “%(title)s”. Decision: %(decision)s.\nReason: %(reason)s")),
    True: (N_("Revision of your demand “%(title)s”: %(decision)s"),
           N_("The platform reviewed the revision of your demand “%(title)s”. Decision: %(decision)s.\n"
              "Reason: %(reason)s")),
}
DECISIONS = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected",
             "suspend": "suspended", "reinstate": "published"}


def _title(demand: Demand) -> Callable[[], str]:
    zh, en = demand.title_zh, demand.title_en

    def title() -> str:
        first, second = (en, zh) if str(get_locale()) == "en" else (zh, en)
        return first or second or f"#{demand.id}"

    return title


def tell_decision(demand: Demand, action: str, reason: str | None, *, revision: bool = False) -> int:
    """Notify the demand's institution of a review decision; returns how many people were told."""
    title, body = TEMPLATES[revision]
    state = DECISIONS[action]
    event = f"demand.{'revision_' if revision else ''}{action}"
    return inbox.notify(event, group="reviews", title=title, body=body, institution_id=demand.institution_id,
                        params={"title": _title(demand), "decision": lambda: state_word(state),
                                "reason": reason or "—"},
                        link=f"/workspace/demands/{demand.id}")


AWAITING_REVIEW = or_(Demand.status == "submitted",
                      (Demand.status == "published") & (Demand.revision_status == "submitted"))


def review_queue() -> list[Demand]:
    """Demands awaiting a decision (new submissions and revisions of published demands), oldest first."""
    return list(db.session.scalars(select(Demand).where(AWAITING_REVIEW).order_by(Demand.submitted_at, Demand.id)))


def demands_query(admin: User, status: str | None = None, q: str | None = None) -> Select[Any]:
    """The console's list: what awaits review (no status; oldest first), or the demands in ``status`` (newest
    first); ``q`` searches the titles."""
    require_admin(admin, _("review demands"))
    query = select(Demand)
    if status is None:
        query = query.where(AWAITING_REVIEW).order_by(func.coalesce(Demand.revision_submitted_at,
                                                                    Demand.submitted_at), Demand.id)
    else:
        query = query.where(Demand.status == status).order_by(Demand.id.desc())
    if q:
        pattern = f"%{q.strip()[:100]}%"
        query = query.where(or_(Demand.title_zh.ilike(pattern), Demand.title_en.ilike(pattern)))
    return query


def admin_demand(admin: User, demand_id: int, expected_lock_version: int | None = None) -> Demand:
    """A demand an admin may decide on: not of the admin's own institution, unchanged since the page was read."""
    require_admin(admin, _("review demands"))
    demand = db.session.get(Demand, demand_id)
    if demand is None:
        raise NotFound(_("No such demand."))
    forbid_own_institution(admin, demand.institution_id, doing=_("decide on their own institution's demands"))
    if expected_lock_version is not None and demand.lock_version != expected_lock_version:
        raise Conflict(_("The demand changed after you opened it; reload the page and decide again."))
    return demand


def _reason(action: str, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and reason is None:
        raise InvalidInput.field("reason", str(_REASON_MISSING[action]))
    return reason


def pending_submission(demand: Demand) -> str:
    """'demand' when the demand itself awaits review, 'revision' when an edit of a published one does."""
    if demand.status == "submitted":
        return "demand"
    if demand.status == "published" and demand.revision_status == "submitted":
        return "revision"
    raise Conflict(_("Nothing awaits review on this demand (it is “%(state)s”).", state=state_word(demand.status)))


def _check_deadline(deadline: date | None, today: date) -> None:
    if deadline is None or deadline < today:
        raise InvalidInput.field("deadline", _("the deadline has passed; request changes instead"))


def decide(admin: User, demand_id: int, action: str, reason: str | None = None,
           expected_lock_version: int | None = None, today: date | None = None) -> Demand:
    """Approve, request changes on, or reject what awaits review (the demand or a revision of it)."""
    if action not in ("approve", "request_changes", "reject"):
        raise InvalidInput.field("action", _("must be approve, request_changes or reject"))
    demand = admin_demand(admin, demand_id, expected_lock_version)
    reason = _reason(action, reason)
    what = pending_submission(demand)
    today = today or utcnow().date()
    if action == "approve" and not demand.institution.is_verified:
        raise Conflict(_("The institution is not verified (any more); it cannot publish."))
    if what == "demand":
        if action == "approve":
            _check_deadline(demand.deadline, today)
        extra = {"published_at": utcnow()} if action == "approve" else {}
        transition_demand(demand, action, admin, reason=reason, expected_lock_version=demand.lock_version, **extra)
    else:
        revision = dict(demand.revision or {})
        if action == "approve":
            _check_deadline(deadline_of(revision), today)
            transition_revision(demand, "approve", admin, reason=reason, revision=None)
            db.session.refresh(demand)
            for key, value in revision.items():
                setattr(demand, key, deadline_of(revision) if key == "deadline" else value)
            db.session.flush()
        else:
            transition_revision(demand, action, admin, reason=reason)
    db.session.refresh(demand)
    if action == "approve":
        index_demand(demand)
    tell_decision(demand, action, reason, revision=what == "revision")
    if action == "approve" and what == "demand":
        matching.announce_matches(demand)
    return demand


def suspend_demand(admin: User, demand_id: int, reason: str | None,
                   expected_lock_version: int | None = None) -> Demand:
    """Take a published demand out of the hall (reason required); it can be reinstated."""
    demand = admin_demand(admin, demand_id, expected_lock_version)
    reason = _reason("suspend", reason)
    transition_demand(demand, "suspend", admin, reason=reason, expected_lock_version=demand.lock_version)
    unindex_demand(demand)
    tell_decision(demand, "suspend", reason)
    return demand


def reinstate_demand(admin: User, demand_id: int, reason: str | None = None,
                     expected_lock_version: int | None = None, today: date | None = None) -> Demand:
    """Put a suspended demand back in the hall with its published content."""
    demand = admin_demand(admin, demand_id, expected_lock_version)
    if not demand.institution.is_verified:
        raise Conflict(_("The institution is not verified; reinstate the institution first."))
    if demand.deadline is not None and demand.deadline < (today or utcnow().date()):
        raise Conflict(_("The demand's deadline passed while it was suspended; the institution must post it again."))
    reason = _reason("reinstate", reason)
    transition_demand(demand, "reinstate", admin, reason=reason, expected_lock_version=demand.lock_version)
    db.session.refresh(demand)
    index_demand(demand)
    tell_decision(demand, "reinstate", reason)
    return demand


def expire_due_demands(today: date | None = None) -> list[int]:
    """Move published demands whose deadline has passed to expired (they leave the hall); returns their ids."""
    today = today or utcnow().date()
    due = db.session.scalars(select(Demand).where(Demand.status == "published", Demand.deadline < today)
                             .order_by(Demand.id)).all()
    expired = []
    for demand in due:
        try:
            transition_demand(demand, "expire", None, reason="the demand's deadline passed")
        except Conflict:
            continue
        unindex_demand(demand)
        discard_pending_revision(demand)
        expired.append(demand.id)
    return expired
