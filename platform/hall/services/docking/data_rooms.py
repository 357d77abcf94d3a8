"""NDA data rooms (tiered disclosure): a listing's owner writes a versioned NDA and decides who may open its
confidential files; a verified institution asks by accepting the current NDA version.

- The NDA: each save is a new version; the current one is the highest. Anyone may read the current NDA of a
  public listing. A new version does not end an approval, but downloads need the current version accepted again.
- Requests: one ``AccessRequest`` per (listing, institution) may be ``requested`` or ``approved`` at a time — the
  service answers 409 first, and a partial unique index on both databases (``uq_access_requests_live``) catches
  two racing requests. ACCESS_MACHINE: requested → approved | rejected; approved → revoked; every move audited
  with from/to states. A rejected or revoked institution may ask again (a new request).
- Auto-approve (``ListingDataRoom.auto_approve``): a request is approved at once, by nobody (decided_by empty).
- Notifications (group "nda"): the owner institution on a new request, the requester's institution on a decision.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from hall.extensions import db
from hall.library_messages import N_
from hall.models import AccessRequest, Institution, Listing, ListingDataRoom, NdaText, User
from hall.models.types import utcnow
from hall.services.core import inbox
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import Machine, transition
from hall.services.publishing.hall import published_listing
from hall.services.publishing.listings import own_listing

ACCESS_MACHINE = Machine("access_request", {
    "approve": (frozenset({"requested"}), "approved"),
    "reject": (frozenset({"requested"}), "rejected"),
    "revoke": (frozenset({"approved"}), "revoked"),
}, reason_column="reason")
DECISIONS = tuple(ACCESS_MACHINE.table)
SIDES = ("incoming", "outgoing")
NOTICES: dict[str, tuple[str, str]] = {
    "nda.requested": (N_("NDA accepted: access requested to “%(title)s”"),
                      N_("%(institution)s accepted version %(version)s of the NDA of “%(title)s” and asks to open "
                         "its confidential files. Approve or reject the request.")),
    "nda.auto_approved": (N_("NDA accepted: access given to “%(title)s”"),
                          N_("%(institution)s accepted version %(version)s of the NDA of “%(title)s” and was given "
                             "access to its confidential files at once (auto-approve is on).")),
    "nda.approve": (N_("Access approved: “%(title)s”"),
                    N_("Your institution may now download the confidential files of “%(title)s”.")),
    "nda.reject": (N_("Access declined: “%(title)s”"),
                   N_("Your request to open the confidential files of “%(title)s” was declined.\nReason: %(reason)s")),
    "nda.revoke": (N_("Access revoked: “%(title)s”"),
                   N_("Your institution's access to the confidential files of “%(title)s” was revoked.\n"
                      "Reason: %(reason)s")),
}


# --- reading ----------------------------------------------------------------------------------------------------

def current_nda(listing_id: int) -> NdaText | None:
    """The listing's current NDA (its highest version), or None when it has none."""
    return db.session.scalars(select(NdaText).where(NdaText.listing_id == listing_id)
                              .order_by(NdaText.version.desc()).limit(1)).first()


def public_nda(listing_id: int) -> NdaText:
    """The current NDA of a public listing; 404 when the listing is not public or has no NDA."""
    published_listing(listing_id)
    nda = current_nda(listing_id)
    if nda is None:
        raise NotFound(_("This listing has no NDA; its confidential files cannot be requested yet."))
    return nda


def auto_approves(listing_id: int) -> bool:
    """Whether the listing's requests are approved at once."""
    room = db.session.get(ListingDataRoom, listing_id)
    return room is not None and room.auto_approve


def room_settings(actor: User, listing_id: int) -> dict[str, Any]:
    """The owner's view of a listing's data room: auto-approve and the current NDA (if any)."""
    listing = own_listing(actor, listing_id)
    nda = current_nda(listing.id)
    return {"listing_id": listing.id, "auto_approve": auto_approves(listing.id), "nda": nda}


def live_request(listing_id: int, institution_id: int) -> AccessRequest | None:
    """The institution's request for the listing that is waiting or approved, if any."""
    return db.session.scalars(select(AccessRequest).where(
        AccessRequest.listing_id == listing_id, AccessRequest.institution_id == institution_id,
        AccessRequest.status.in_(("requested", "approved")))).first()


def granted_request(listing_id: int, institution_id: int | None) -> AccessRequest | None:
    """The institution's approved request for the listing whose NDA version is still the current one."""
    if institution_id is None:
        return None
    request = live_request(listing_id, institution_id)
    nda = current_nda(listing_id)
    if request is None or request.status != "approved" or nda is None or request.nda_version != nda.version:
        return None
    return request


# --- the owner's settings -----------------------------------------------------------------------------------------

def write_nda(actor: User, listing_id: int, text_zh: str | None, text_en: str | None) -> NdaText:
    """Save the listing's NDA as a new version (at least one language); earlier acceptances go stale."""
    listing = own_listing(actor, listing_id)
    text_zh, text_en = (text_zh or "").strip() or None, (text_en or "").strip() or None
    if text_zh is None and text_en is None:
        raise InvalidInput.field("text_zh", _("write the NDA in at least one language"))
    number = (db.session.scalar(select(func.max(NdaText.version)).where(NdaText.listing_id == listing.id)) or 0) + 1
    nda = NdaText(listing_id=listing.id, version=number, text_zh=text_zh, text_en=text_en, created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(nda)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Someone else saved the NDA at the same moment; reload and try again.")) from None
    record_event("listing.nda_written", "listing", listing.id, actor=actor, details={"nda_version": number})
    return nda


def set_auto_approve(actor: User, listing_id: int, auto_approve: bool) -> dict[str, Any]:
    """Turn auto-approve on or off (requests already waiting still wait for a decision)."""
    listing = own_listing(actor, listing_id)
    room = db.session.get(ListingDataRoom, listing.id)
    if room is None:
        room = ListingDataRoom(listing_id=listing.id, auto_approve=auto_approve)
        db.session.add(room)
    else:
        room.auto_approve = auto_approve
        room.updated_at = utcnow()
    db.session.flush()
    record_event("listing.data_room_set", "listing", listing.id, actor=actor,
                 details={"auto_approve": auto_approve})
    return room_settings(actor, listing.id)


# --- requests -----------------------------------------------------------------------------------------------------

def _title(listing: Listing) -> Callable[[], str]:
    version = listing.published_version or listing.working_version

    def title() -> str:
        if version is None:
            return f"#{listing.id}"
        first, second = (version.title_en, version.title_zh) if str(get_locale()) == "en" else \
            (version.title_zh, version.title_en)
        return first or second or f"#{listing.id}"

    return title


def _institution_name(org: Institution) -> Callable[[], str]:
    return lambda: (org.name_en or org.name_zh) if str(get_locale()) == "en" else org.name_zh


def _tell(event: str, request: AccessRequest, institution_id: int, link: str, exclude: int | None = None) -> int:
    title, body = NOTICES[event]
    params = {"title": _title(request.listing), "institution": _institution_name(request.institution),
              "version": request.nda_version, "reason": request.reason or "—"}
    return inbox.notify(event, group="nda", title=title, body=body, institution_id=institution_id, params=params,
                        link=link, exclude_user_id=exclude)


def request_access(actor: User, listing_id: int, nda_version: int, accept: bool) -> tuple[AccessRequest, bool]:
    """Accept the current NDA version for the actor's (verified) institution and ask to open the listing's
    confidential files; approved at once when the owner auto-approves. Accepting a new NDA version on an approved
    or waiting request updates it (an approval stands). Returns the request and whether it is new."""
    org = require_member(actor, verified=True, unverified_message=_(
        "Your institution must be verified by the platform before it can request confidential files."))
    listing, _version = published_listing(listing_id)
    if listing.institution_id == org.id:
        raise Conflict(_("Your institution owns this listing; its confidential files are already open to you."))
    if not accept:
        raise InvalidInput.field("accept", _("accept the NDA to request access"))
    nda = current_nda(listing.id)
    if nda is None:
        raise Conflict(_("This listing has no NDA; its confidential files cannot be requested yet."))
    if nda_version != nda.version:
        raise Conflict(_("The NDA is now at version %(current)s (you accepted version %(given)s); read it and "
                         "accept the current version.", current=nda.version, given=nda_version))
    existing = live_request(listing.id, org.id)
    if existing is not None:
        if existing.nda_version == nda.version:
            if existing.status == "approved":
                raise Conflict(_("Your institution already has access to these files."))
            raise Conflict(_("Your institution's request is already waiting for the owner's decision."))
        previous = existing.nda_version
        existing.nda_version, existing.accepted_at, existing.requested_by_id = nda.version, utcnow(), actor.id
        db.session.flush()
        record_event("access_request.nda_accepted", "access_request", existing.id, actor=actor,
                     details={"listing_id": listing.id, "nda_version": nda.version, "previous_version": previous})
        return existing, False
    request = AccessRequest(listing_id=listing.id, institution_id=org.id, requested_by_id=actor.id,
                            nda_version=nda.version, status="requested")
    try:
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
    except IntegrityError:  # another member of the institution asked a moment ago (uq_access_requests_live)
        raise Conflict(_("Your institution's request is already waiting for the owner's decision.")) from None
    record_event("access_request.requested", "access_request", request.id, actor=actor, to_state="requested",
                 details={"listing_id": listing.id, "institution_id": org.id, "nda_version": nda.version})
    link = f"/workspace/listings/{listing.id}"
    if auto_approves(listing.id):
        transition(ACCESS_MACHINE, request, "approve", actor=None, details={"auto": True}, decided_at=utcnow())
        _tell("nda.auto_approved", request, listing.institution_id, link)
    else:
        _tell("nda.requested", request, listing.institution_id, link)
    return request, True


def _incoming(actor: User, request_id: int) -> AccessRequest:
    """A request for a listing of the actor's institution; any other id answers 404."""
    require_member(actor)
    request = db.session.get(AccessRequest, request_id)
    if request is None or request.listing.institution_id != actor.institution_id:
        raise NotFound(_("No such access request."))
    return request


def decide(actor: User, request_id: int, action: str, reason: str | None = None) -> AccessRequest:
    """The owner institution approves or rejects a waiting request, or revokes an approved one (a reason is
    required to reject or revoke); the requester's institution is told."""
    request = _incoming(actor, request_id)
    if action not in DECISIONS:
        raise InvalidInput.field("action", _("choose approve, reject or revoke"))
    reason = (reason or "").strip() or None
    if action in ("reject", "revoke") and reason is None:
        raise InvalidInput.field("reason", _("say why, for the requesting institution"))
    transition(ACCESS_MACHINE, request, action, actor=actor, reason=reason, decided_by_id=actor.id,
               decided_at=utcnow(), details={"listing_id": request.listing_id})
    _tell(f"nda.{action}", request, request.institution_id, f"/hall/listings/{request.listing_id}")
    return request


def list_requests(actor: User, side: str | None, status: str | None, listing_id: int | None, *, page: int = 1,
                  page_size: int = 20) -> tuple[list[dict[str, Any]], int]:
    """Requests for the institution's listings (incoming) and its own requests (outgoing), newest first; each
    with its side and whether the NDA version it accepted is still the current one."""
    org = require_member(actor)
    owned = select(Listing.id).where(Listing.institution_id == org.id)
    incoming, outgoing = AccessRequest.listing_id.in_(owned), AccessRequest.institution_id == org.id
    conditions: list[Any] = [{"incoming": incoming, "outgoing": outgoing}[side] if side else or_(incoming, outgoing)]
    if status:
        conditions.append(AccessRequest.status == status)
    if listing_id is not None:
        conditions.append(AccessRequest.listing_id == listing_id)
    total = db.session.scalar(select(func.count()).select_from(AccessRequest).where(*conditions)) or 0
    rows = db.session.scalars(select(AccessRequest).where(*conditions)
                              .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
                              .limit(page_size).offset((page - 1) * page_size)).all()
    versions = dict(db.session.execute(
        select(NdaText.listing_id, func.max(NdaText.version))
        .where(NdaText.listing_id.in_({r.listing_id for r in rows})).group_by(NdaText.listing_id)).all()) \
        if rows else {}
    return [present_request(r, org.id, versions.get(r.listing_id)) for r in rows], total


def present_request(request: AccessRequest, viewer_institution_id: int | None,
                    current_version: int | None = None) -> dict[str, Any]:
    """A request as its two sides see it."""
    if current_version is None:
        nda = current_nda(request.listing_id)
        current_version = nda.version if nda is not None else None
    requester = db.session.get(User, request.requested_by_id)
    org = request.institution
    return {"id": request.id, "listing_id": request.listing_id, "listing_title": _title(request.listing)(),
            "side": "outgoing" if request.institution_id == viewer_institution_id else "incoming",
            "institution": {"id": org.id, "name_zh": org.name_zh, "name_en": org.name_en},
            "requested_by": requester.display_name if requester is not None else None,
            "nda_version": request.nda_version, "current_nda_version": current_version,
            "nda_current": request.nda_version == current_version, "accepted_at": request.accepted_at,
            "status": request.status, "decided_at": request.decided_at, "reason": request.reason,
            "created_at": request.created_at}
