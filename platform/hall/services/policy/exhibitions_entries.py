"""The roadshow of a docking exhibition: entries, each a published listing or a published demand of one institution.

``ENTRY_MACHINE`` (on ``exhibition_entries.status``):
- an admin invites (``invited``); the institution accepts or declines; an admin applies no decision to it;
- an institution applies with its own published listing or demand (``applied``); an admin (never of that
  institution) accepts or declines it (a reason is required to decline);
- the institution withdraws an invited, applied or accepted entry at any time before the exhibition ends;
- a declined or withdrawn entry may be invited again, a withdrawn one applied for again (one row per subject).

Who answers what is decided here: only the entry's institution answers an invitation (anyone else: 404), only an
admin decides an application. The public sees accepted entries whose listing or demand is still public.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from hall.extensions import db
from hall.labels import state_word
from hall.library_messages import N_
from hall.models import Demand, Listing, User
from hall.models.exhibitions import Exhibition, ExhibitionEntry
from hall.models.types import utcnow
from hall.services.core import inbox
from hall.services.core.access import forbid_own_institution, require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.docking.demand_hall import published_demand
from hall.services.policy.exhibitions import admin_exhibition, title_in_locale
from hall.services.publishing.hall import published_listing

ENTRY_MACHINE = Machine("exhibition_entry", {
    "accept": (frozenset({"invited", "applied"}), "accepted"),
    "decline": (frozenset({"invited", "applied"}), "declined"),
    "withdraw": (frozenset({"invited", "applied", "accepted"}), "withdrawn"),
    "reinvite": (frozenset({"declined", "withdrawn"}), "invited"),
    "reapply": (frozenset({"withdrawn"}), "applied"),
}, reason_column="status_reason")
# The entry states in words (hall/labels.py lists the shared ones; these are the roadshow's own).
ENTRY_STATE_WORDS = (_l("invited"), _l("applied"), _l("declined"), _l("registered"))
# the origin of an entry, in words: invited (above) or applied (above)
LIVE_STATUSES = ("invited", "applied", "accepted")


@dataclass(frozen=True)
class Subject:
    """The published listing or demand of an entry: its id, institution and titles."""

    listing_id: int | None
    demand_id: int | None
    institution_id: int
    title_zh: str | None
    title_en: str | None


def public_subject(listing_id: int | None, demand_id: int | None) -> Subject:
    """The public listing or demand (422 naming the field when it is not public, or when none or both are named)."""
    if (listing_id is None) == (demand_id is None):
        raise InvalidInput.field("listing_id", _("name either a listing or a demand"))
    if listing_id is not None:
        try:
            listing, version = published_listing(listing_id)
        except NotFound:
            raise InvalidInput.field("listing_id", _("no published listing has this id")) from None
        return Subject(listing.id, None, listing.institution_id, version.title_zh, version.title_en)
    assert demand_id is not None
    try:
        demand = published_demand(demand_id)
    except NotFound:
        raise InvalidInput.field("demand_id", _("no published demand has this id")) from None
    return Subject(None, demand.id, demand.institution_id, demand.title_zh, demand.title_en)


def _open_for_entries(exhibition: Exhibition, *, published_only: bool) -> None:
    if exhibition.status == "cancelled" or (published_only and exhibition.status != "published"):
        raise Conflict(_("This exhibition takes no entries (it is not open)."))
    if exhibition.has_ended():
        raise Conflict(_("This exhibition is over; it takes no more entries."))


def _existing(exhibition_id: int, subject: Subject) -> ExhibitionEntry | None:
    column = ExhibitionEntry.listing_id if subject.listing_id is not None else ExhibitionEntry.demand_id
    return db.session.scalar(select(ExhibitionEntry).where(ExhibitionEntry.exhibition_id == exhibition_id,
                                                           column == (subject.listing_id or subject.demand_id)))


def move_entry(entry: ExhibitionEntry, action: str, actor: User | None, reason: str | None = None,
               **values: Any) -> None:
    """One move of the entry machine (a refusal names the entry's state), with its audit event."""
    if not ENTRY_MACHINE.can(action, entry.status):
        raise Conflict(_("The entry is “%(state)s”; this cannot be done now.", state=state_word(entry.status)))
    transition(ENTRY_MACHINE, entry, action, actor=actor, reason=reason, **values)


def _tell(entry: ExhibitionEntry, event: str, title: str, body: str, reason: str | None = None) -> None:
    exhibition = entry.exhibition
    zh, en = exhibition.title_zh, exhibition.title_en
    inbox.notify(event, group="notices", institution_id=entry.institution_id, title=title, body=body,
                 params={"title": lambda: title_in_locale(zh, en), "reason": reason or "—"},
                 link="/workspace/exhibitions")


def invite(admin: User, exhibition_id: int, *, listing_id: int | None = None,
           demand_id: int | None = None) -> ExhibitionEntry:
    """Invite a published listing or demand to the roadshow (its institution is told and answers)."""
    exhibition = admin_exhibition(admin, exhibition_id)
    _open_for_entries(exhibition, published_only=False)
    subject = public_subject(listing_id, demand_id)
    forbid_own_institution(admin, subject.institution_id, doing=_("invite their own institution"))
    entry = _existing(exhibition.id, subject)
    if entry is None:
        entry = ExhibitionEntry(exhibition_id=exhibition.id, listing_id=subject.listing_id,
                                demand_id=subject.demand_id, institution_id=subject.institution_id,
                                origin="invited", status="invited", created_by_id=admin.id)
        db.session.add(entry)
        db.session.flush()
        record_event("exhibition_entry.invite", "exhibition_entry", entry.id, actor=admin, to_state="invited",
                     details={"exhibition_id": exhibition.id})
    elif entry.status in ("declined", "withdrawn"):
        move_entry(entry, "reinvite", admin, origin="invited", position=None)
    else:
        raise Conflict(_("This is on the exhibition already (“%(state)s”).", state=state_word(entry.status)))
    _tell(entry, "exhibition.invited", N_("Invitation to the exhibition “%(title)s”"),
          N_("The platform invites your institution to present at the exhibition “%(title)s”. Accept or decline "
             "the invitation in your workspace."))
    return entry


def apply(actor: User, exhibition_id: int, *, listing_id: int | None = None,
          demand_id: int | None = None) -> ExhibitionEntry:
    """Apply to present one of the actor's institution's published listings or demands (an admin decides)."""
    org = require_member(actor, verified=True)
    exhibition = db.session.get(Exhibition, exhibition_id)
    if exhibition is None or exhibition.status == "draft":
        raise NotFound(_("No such exhibition."))
    _open_for_entries(exhibition, published_only=True)
    subject = public_subject(listing_id, demand_id)
    if subject.institution_id != org.id:
        field = "listing_id" if listing_id is not None else "demand_id"
        raise InvalidInput.field(field, _("apply with your own institution's published listings and demands"))
    entry = _existing(exhibition.id, subject)
    if entry is None:
        entry = ExhibitionEntry(exhibition_id=exhibition.id, listing_id=subject.listing_id,
                                demand_id=subject.demand_id, institution_id=org.id, origin="applied",
                                status="applied", created_by_id=actor.id)
        db.session.add(entry)
        db.session.flush()
        record_event("exhibition_entry.apply", "exhibition_entry", entry.id, actor=actor, to_state="applied",
                     details={"exhibition_id": exhibition.id})
    elif entry.status == "withdrawn":
        move_entry(entry, "reapply", actor, origin="applied", position=None)
    else:
        raise Conflict(_("This is on the exhibition already (“%(state)s”).", state=state_word(entry.status)))
    return entry


def own_entry(actor: User, entry_id: int, exhibition_id: int | None = None) -> ExhibitionEntry:
    """An entry of the actor's institution (of ``exhibition_id`` when given); anything else is 404."""
    entry = db.session.get(ExhibitionEntry, entry_id)
    if entry is None or actor.institution_id is None or entry.institution_id != actor.institution_id \
            or (exhibition_id is not None and entry.exhibition_id != exhibition_id):
        raise NotFound(_("No such entry."))
    return entry


def answer_invitation(actor: User, entry_id: int, action: str, exhibition_id: int | None = None) -> ExhibitionEntry:
    """The entry's institution accepts or declines an invitation (an application is decided by an admin)."""
    entry = own_entry(actor, entry_id, exhibition_id)
    require_member(actor, verified=True)
    if action not in ("accept", "decline"):
        raise InvalidInput.field("action", _("must be accept or decline"))
    if entry.status == "applied":
        raise Forbidden(_("Your application is decided by the platform."))
    if entry.exhibition.has_ended() or entry.exhibition.status == "cancelled":
        raise Conflict(_("This exhibition takes no entries (it is not open)."))
    values: dict[str, Any] = {"decided_at": utcnow()}
    if action == "accept":
        values["position"] = _next_position(entry.exhibition_id)
    move_entry(entry, action, actor, **values)
    return entry


def withdraw(actor: User, entry_id: int, exhibition_id: int | None = None) -> ExhibitionEntry:
    """The entry's institution takes its listing or demand off the roadshow."""
    entry = own_entry(actor, entry_id, exhibition_id)
    if entry.exhibition.has_ended():
        raise Conflict(_("This exhibition is over; its roadshow is kept as it was."))
    move_entry(entry, "withdraw", actor, position=None)
    return entry


def _next_position(exhibition_id: int) -> int:
    last = db.session.scalar(select(func.max(ExhibitionEntry.position)).where(
        ExhibitionEntry.exhibition_id == exhibition_id, ExhibitionEntry.status == "accepted"))
    return int(last or 0) + 1


def admin_entry(admin: User, exhibition_id: int, entry_id: int) -> ExhibitionEntry:
    """An entry of the exhibition, for an admin."""
    admin_exhibition(admin, exhibition_id)
    entry = db.session.get(ExhibitionEntry, entry_id)
    if entry is None or entry.exhibition_id != exhibition_id:
        raise NotFound(_("No such entry."))
    return entry


def decide_application(admin: User, exhibition_id: int, entry_id: int, action: str,
                       reason: str | None = None) -> ExhibitionEntry:
    """An admin (never of the applying institution) accepts or declines an application; declining needs a reason.
    The institution is told."""
    entry = admin_entry(admin, exhibition_id, entry_id)
    forbid_own_institution(admin, entry.institution_id, doing=_("decide on their own institution's applications"))
    if action not in ("accept", "decline"):
        raise InvalidInput.field("action", _("must be accept or decline"))
    reason = (reason or "").strip() or None
    if action == "decline" and reason is None:
        raise InvalidInput.field("reason", _("a reason is required to decline"))
    if entry.status != "applied":
        raise Conflict(_("Only applications are decided here (this entry is “%(state)s”).",
                         state=state_word(entry.status)))
    values: dict[str, Any] = {"decided_at": utcnow()}
    if action == "accept":
        values["position"] = _next_position(exhibition_id)
    move_entry(entry, action, admin, reason=reason, **values)
    if action == "accept":
        _tell(entry, "exhibition.application_accepted", N_("Application accepted: “%(title)s”"),
              N_("Your application to present at the exhibition “%(title)s” is accepted."))
    else:
        _tell(entry, "exhibition.application_declined", N_("Application declined: “%(title)s”"),
              N_("Your application to present at the exhibition “%(title)s” is declined.\nReason: %(reason)s"),
              reason)
    return entry


def set_position(admin: User, exhibition_id: int, entry_id: int, position: int | None,
                 slot_at: datetime | None = None) -> ExhibitionEntry:
    """Place an accepted entry in the roadshow's order (1 first), with an optional presentation time within the
    exhibition."""
    entry = admin_entry(admin, exhibition_id, entry_id)
    if entry.status != "accepted":
        raise Conflict(_("Only accepted entries have a place in the roadshow."))
    if position is not None and not 1 <= position <= 1000:
        raise InvalidInput.field("position", _("must be between 1 and 1000"))
    exhibition = entry.exhibition
    if slot_at is not None and (slot_at.tzinfo is None or not exhibition.starts_at <= slot_at <= exhibition.ends_at):
        raise InvalidInput.field("slot_at", _("must be within the exhibition's time"))
    entry.position, entry.slot_at = position, slot_at
    db.session.flush()
    return entry


def _order() -> tuple[Any, ...]:
    return (ExhibitionEntry.position.is_(None), ExhibitionEntry.position, ExhibitionEntry.id)


def roadshow(exhibition: Exhibition) -> list[tuple[ExhibitionEntry, Subject]]:
    """The accepted entries in presentation order whose listing or demand is public now (others are left out)."""
    rows = db.session.scalars(select(ExhibitionEntry).where(
        ExhibitionEntry.exhibition_id == exhibition.id, ExhibitionEntry.status == "accepted").order_by(*_order()))
    shown = []
    for entry in rows:
        try:
            shown.append((entry, public_subject(entry.listing_id, entry.demand_id)))
        except InvalidInput:
            continue
    return shown


def exhibition_entries(admin: User, exhibition_id: int) -> list[ExhibitionEntry]:
    """Every entry of the exhibition for the console: accepted in order, then the others by status."""
    admin_exhibition(admin, exhibition_id)
    return list(db.session.scalars(select(ExhibitionEntry).where(ExhibitionEntry.exhibition_id == exhibition_id)
                                   .order_by(ExhibitionEntry.status != "accepted", ExhibitionEntry.status,
                                             *_order())))


def own_entries(actor: User) -> list[ExhibitionEntry]:
    """The actor's institution's entries on every exhibition (drafts of exhibitions included once invited)."""
    require_member(actor)
    return list(db.session.scalars(select(ExhibitionEntry).where(
        ExhibitionEntry.institution_id == actor.institution_id).order_by(ExhibitionEntry.id.desc())))


def entry_subject_title(entry: ExhibitionEntry, lang: str) -> str:
    """The entry's listing or demand title for its own institution and admins (whatever its state now)."""
    if entry.listing_id is not None:
        version = entry.listing.published_version or entry.listing.working_version
        zh, en = (version.title_zh, version.title_en) if version is not None else (None, None)
    else:
        zh, en = entry.demand.title_zh, entry.demand.title_en
    first, second = (en, zh) if lang == "en" else (zh, en)
    return first or second or f"#{entry.listing_id or entry.demand_id}"


def own_public_subjects(actor: User, lang: str) -> list[tuple[str, int, str]]:
    """(kind, id, title) of the actor's institution's published listings and demands, for the apply form."""
    if actor.institution_id is None:
        return []
    found: list[tuple[str, int, str]] = []
    for listing in db.session.scalars(select(Listing).where(Listing.institution_id == actor.institution_id,
                                                            Listing.status == "published").order_by(Listing.id)):
        version = listing.published_version
        if version is not None:
            first, second = (version.title_en, version.title_zh) if lang == "en" else (version.title_zh,
                                                                                       version.title_en)
            found.append(("listing", listing.id, first or second or f"#{listing.id}"))
    for demand in db.session.scalars(select(Demand).where(Demand.institution_id == actor.institution_id,
                                                          Demand.status == "published").order_by(Demand.id)):
        first, second = (demand.title_en, demand.title_zh) if lang == "en" else (demand.title_zh, demand.title_en)
        found.append(("demand", demand.id, first or second or f"#{demand.id}"))
    return found
