"""Evaluation engagements (第三方科技成果评价): a client institution engages a verified evaluator institution on one of
its listings; the evaluator accepts or declines (with a reason); the client may cancel (with a reason) while the
engagement is open; the evaluator then issues the report (``evaluations_reports``).

The lifecycle is one transition table (``ENGAGEMENT_MACHINE``): every move is a compare-and-set with an audit event
(who, when, from, to, why). Only the two institutions see an engagement (anyone else: 404); platform admins oversee
it read-only in the console. Each side is told the other's moves in its inbox (group "reviews").
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.library_messages import N_
from hall.models import Institution, Listing, User
from hall.models.evaluations import ENGAGEMENT_STATUSES, OPEN_ENGAGEMENT_STATUSES, EvaluationEngagement
from hall.models.types import utcnow
from hall.services.core import inbox
from hall.services.core.access import require_admin, require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.policy.evaluations_words import state_words
from hall.services.publishing.listings import own_listing

# action -> (states it may start from, state it leads to)
ENGAGEMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({"requested"}), "accepted"),  # by the evaluator
    "decline": (frozenset({"requested"}), "declined"),  # by the evaluator, with a reason
    "cancel": (frozenset({"requested", "accepted"}), "cancelled"),  # by the client, with a reason
    "report": (frozenset({"accepted"}), "reported"),  # the evaluator issues the report
}
ENGAGEMENT_MACHINE = Machine("evaluation", ENGAGEMENT_TRANSITIONS, reason_column="status_reason")
ROLES = ("client", "evaluator")
CLOSED_LISTING_STATUSES = frozenset({"rejected", "withdrawn"})
NOTE_MAX = 4000
REASON_MAX = 2000

TEMPLATES = {
    "requested": (N_("Evaluation requested: “%(title)s”"),
                  N_("%(client)s asks your institution to evaluate “%(title)s”.\nScope: %(note)s")),
    "accepted": (N_("Evaluation accepted: “%(title)s”"),
                 N_("%(evaluator)s accepted to evaluate “%(title)s”.")),
    "declined": (N_("Evaluation declined: “%(title)s”"),
                 N_("%(evaluator)s declined to evaluate “%(title)s”.\nReason: %(reason)s")),
    "cancelled": (N_("Evaluation cancelled: “%(title)s”"),
                  N_("%(client)s cancelled the evaluation of “%(title)s”.\nReason: %(reason)s")),
    "reported": (N_("Evaluation report issued: “%(title)s”"),
                 N_("%(evaluator)s issued evaluation report %(number)s on “%(title)s”. You may attach it to the "
                    "public listing.")),
}


def _in_language(zh: str | None, en: str | None, fallback: str) -> Callable[[], str]:
    def text() -> str:
        first, second = (en, zh) if str(get_locale()) == "en" else (zh, en)
        return first or second or fallback

    return text


def listing_title(listing: Listing) -> Callable[[], str]:
    """The listing's title in the language current when called (the public version's, else the working one's)."""
    version = listing.published_version or listing.working_version
    return _in_language(version.title_zh if version else None, version.title_en if version else None,
                        f"#{listing.id}")


def institution_name(org: Institution) -> Callable[[], str]:
    """The institution's name in the language current when called."""
    return _in_language(org.name_zh, org.name_en, f"#{org.id}")


def tell(engagement: EvaluationEngagement, what: str, *, to_evaluator: bool, exclude_user_id: int | None = None
         ) -> int:
    """Notify one side of the engagement of a move (group "reviews"); returns how many people were told."""
    title, body = TEMPLATES[what]
    params = {"title": listing_title(engagement.listing), "client": institution_name(engagement.client),
              "evaluator": institution_name(engagement.evaluator), "note": engagement.note or "—",
              "reason": engagement.status_reason or "—", "number": engagement.report_number or "—"}
    return inbox.notify(f"evaluation.{what}", group="reviews", title=title, body=body,
                        institution_id=engagement.evaluator_institution_id if to_evaluator
                        else engagement.client_institution_id,
                        params=params, link=f"/workspace/evaluations/{engagement.id}",
                        exclude_user_id=exclude_user_id)


def move(engagement: EvaluationEngagement, action: str, actor: User | None, *, reason: str | None = None,
         **values: Any) -> None:
    """Apply one lifecycle transition (compare-and-set on status) and audit it; a move the table does not allow
    answers 409 naming the engagement's state."""
    if not ENGAGEMENT_MACHINE.can(action, engagement.status):
        raise Conflict(_("This evaluation is “%(state)s”; that step is not possible now.",
                         state=state_words(engagement.status)))
    transition(ENGAGEMENT_MACHINE, engagement, action, actor=actor, reason=reason, **values)


# --- who may see what -------------------------------------------------------------------------------------------

def evaluator_institution(institution_id: int) -> Institution:
    """A verified institution of kind evaluator; anything else is refused on the field that named it."""
    org = db.session.get(Institution, institution_id)
    if org is None or org.kind != "evaluator" or not org.is_verified:
        raise InvalidInput.field("evaluator_institution_id",
                                 _("choose a verified evaluation institution (see the list of evaluators)"))
    return org


def list_evaluators() -> list[Institution]:
    """The verified evaluator institutions, by Chinese name."""
    return list(db.session.scalars(select(Institution).where(
        Institution.kind == "evaluator", Institution.verification_status == "verified").order_by(
        Institution.name_zh, Institution.id)))


def engagement_for(actor: User, engagement_id: int) -> EvaluationEngagement:
    """An engagement where the actor's institution is the client or the evaluator; any other id answers 404."""
    engagement = db.session.get(EvaluationEngagement, engagement_id)
    if engagement is None or actor.institution_id is None or actor.institution_id not in (
            engagement.client_institution_id, engagement.evaluator_institution_id):
        raise NotFound(_("No such evaluation."))
    return engagement


def role_of(actor: User, engagement: EvaluationEngagement) -> str:
    """"client" or "evaluator": the actor's side of an engagement it may see."""
    return "client" if actor.institution_id == engagement.client_institution_id else "evaluator"


def as_client(actor: User, engagement_id: int) -> EvaluationEngagement:
    """The engagement, if the actor's institution is its client (the evaluator is told it may not; others 404)."""
    engagement = engagement_for(actor, engagement_id)
    if role_of(actor, engagement) != "client":
        raise Forbidden(_("Only the institution that asked for the evaluation may do this."))
    return engagement


def as_evaluator(actor: User, engagement_id: int) -> EvaluationEngagement:
    """The engagement, if the actor's institution is its evaluator and still verified (the client is refused)."""
    engagement = engagement_for(actor, engagement_id)
    if role_of(actor, engagement) != "evaluator":
        raise Forbidden(_("Only the evaluation institution decides on the evaluation and issues the report."))
    require_member(actor, verified=True)
    return engagement


def engagements_query(actor: User, role: str | None = None, status: str | None = None
                      ) -> Select[Any]:
    """The engagements of the actor's institution (as client, as evaluator, or both), newest first."""
    org = require_member(actor)
    side = {"client": EvaluationEngagement.client_institution_id == org.id,
            "evaluator": EvaluationEngagement.evaluator_institution_id == org.id}
    query = select(EvaluationEngagement).where(side[role] if role in side else or_(*side.values()))
    if status:
        query = query.where(EvaluationEngagement.status == status)
    return query.order_by(EvaluationEngagement.id.desc())


def list_engagements(actor: User, role: str | None = None, status: str | None = None, *, page: int = 1,
                     per_page: int = 20) -> tuple[list[EvaluationEngagement], int]:
    """One page of the institution's engagements (``role``: client, evaluator or both) and the total."""
    query = engagements_query(actor, role, status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))), total


def count_engagements(actor: User, role: str) -> dict[str, int]:
    """How many of the institution's engagements on one side are in each status (zeros included)."""
    ids = engagements_query(actor, role).with_only_columns(EvaluationEngagement.id).order_by(None)
    rows = db.session.execute(select(EvaluationEngagement.status, func.count()).where(
        EvaluationEngagement.id.in_(ids)).group_by(EvaluationEngagement.status))
    counts = {status: 0 for status in ENGAGEMENT_STATUSES}
    counts.update({status: int(count) for status, count in rows})
    return counts


def engagements_of_listing(actor: User, listing_id: int) -> list[EvaluationEngagement]:
    """Every engagement on one of the actor's institution's listings, newest first."""
    listing = own_listing(actor, listing_id)
    return list(db.session.scalars(select(EvaluationEngagement).where(
        EvaluationEngagement.listing_id == listing.id).order_by(EvaluationEngagement.id.desc())))


# --- the client ---------------------------------------------------------------------------------------------------

def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    text = (value or "").strip() or None
    if required and text is None:
        raise InvalidInput.field(field, _("give a reason (both institutions see it)"))
    if text is not None and len(text) > limit:
        raise InvalidInput.field(field, _("at most %(count)s characters", count=limit))
    return text


def request_evaluation(actor: User, listing_id: int, evaluator_institution_id: int,
                       note: str | None = None) -> EvaluationEngagement:
    """The client engages a verified evaluator on one of its listings; one open engagement per listing and
    evaluator. The evaluator is told."""
    org = require_member(actor, verified=True, unverified_message=_(
        "Only verified institutions may engage an evaluator; wait for the platform to verify yours."))
    listing = own_listing(actor, listing_id)
    if listing.status in CLOSED_LISTING_STATUSES:
        raise Conflict(_("A listing that is rejected or withdrawn cannot be evaluated."))
    if evaluator_institution_id == org.id:
        raise InvalidInput.field("evaluator_institution_id", _("an institution cannot evaluate its own listing"))
    evaluator = evaluator_institution(evaluator_institution_id)
    text = _text(note, "note", NOTE_MAX)
    if db.session.scalar(select(EvaluationEngagement.id).where(
            EvaluationEngagement.listing_id == listing.id,
            EvaluationEngagement.evaluator_institution_id == evaluator.id,
            EvaluationEngagement.status.in_(OPEN_ENGAGEMENT_STATUSES))) is not None:
        raise Conflict(_("This evaluator already has an open engagement on this listing."))
    engagement = EvaluationEngagement(listing_id=listing.id, client_institution_id=org.id,
                                      evaluator_institution_id=evaluator.id, status="requested", note=text,
                                      created_by_id=actor.id, currency="CNY", attached=False)
    try:
        with db.session.begin_nested():
            db.session.add(engagement)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("This evaluator already has an open engagement on this listing.")) from None
    record_event("evaluation.requested", "evaluation", engagement.id, actor=actor, to_state="requested",
                 details={"listing_id": listing.id, "evaluator_institution_id": evaluator.id})
    tell(engagement, "requested", to_evaluator=True)
    return engagement


def cancel(actor: User, engagement_id: int, reason: str | None) -> EvaluationEngagement:
    """The client cancels an open engagement, with a reason; the evaluator is told."""
    engagement = as_client(actor, engagement_id)
    text = _text(reason, "reason", REASON_MAX, required=True)
    move(engagement, "cancel", actor, reason=text, cancelled_by_id=actor.id, cancelled_at=utcnow())
    tell(engagement, "cancelled", to_evaluator=True)
    return engagement


# --- the evaluator ----------------------------------------------------------------------------------------------

def accept(actor: User, engagement_id: int) -> EvaluationEngagement:
    """The evaluator accepts a requested engagement; the client is told."""
    engagement = as_evaluator(actor, engagement_id)
    move(engagement, "accept", actor, responded_by_id=actor.id, responded_at=utcnow())
    tell(engagement, "accepted", to_evaluator=False)
    return engagement


def decline(actor: User, engagement_id: int, reason: str | None) -> EvaluationEngagement:
    """The evaluator declines a requested engagement, with a reason; the client is told."""
    engagement = as_evaluator(actor, engagement_id)
    text = _text(reason, "reason", REASON_MAX, required=True)
    move(engagement, "decline", actor, reason=text, responded_by_id=actor.id, responded_at=utcnow())
    tell(engagement, "declined", to_evaluator=False)
    return engagement


# --- the console (read-only) ------------------------------------------------------------------------------------

def admin_engagements_query(admin: User, status: str | None = None) -> Select[Any]:
    """Every engagement, newest first, optionally in one status (platform admins only)."""
    require_admin(admin)
    query = select(EvaluationEngagement)
    if status in ENGAGEMENT_STATUSES:
        query = query.where(EvaluationEngagement.status == status)
    return query.order_by(EvaluationEngagement.id.desc())


def admin_engagement(admin: User, engagement_id: int) -> EvaluationEngagement:
    """One engagement for the console (platform admins only); a missing id is 404."""
    require_admin(admin)
    engagement = db.session.get(EvaluationEngagement, engagement_id)
    if engagement is None:
        raise NotFound(_("No such evaluation."))
    return engagement
