"""Listings as their institution manages them: drafts, edits (revisions once published), submission, withdrawal.

The lifecycle is one transition table; every transition is a compare-and-set with an audit event.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from hall.extensions import db
from hall.models import AuditEvent, Listing, ListingAttachment, ListingVersion, User
from hall.models.listings import LISTING_STATUSES
from hall.models.types import utcnow
from hall.search import unindex_listing
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import Machine, compare_and_set, transition
from hall.services.publishing.listing_rules import check_deal_modes, check_taxonomy, jsonable, missing_for_submission

# action -> (states it may start from, state it leads to)
LISTING_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "changes_requested"}), "submitted"),
    "renew": (frozenset({"withdrawn", "expired"}), "submitted"),
    "approve": (frozenset({"submitted"}), "published"),
    "request_changes": (frozenset({"submitted"}), "changes_requested"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "withdraw": (frozenset({"published"}), "withdrawn"),
    "suspend": (frozenset({"published"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "published"),
    "expire": (frozenset({"published"}), "expired"),
}
# A version's review: the listing's first version and every later revision go through it.
VERSION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "changes_requested"}), "submitted"),
    "approve": (frozenset({"submitted"}), "approved"),
    "request_changes": (frozenset({"submitted"}), "changes_requested"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "supersede": (frozenset({"approved"}), "superseded"),  # a newer revision was approved
    "return": (frozenset({"submitted"}), "draft"),  # its listing left the hall while it waited for review
}
LISTING_MACHINE = Machine("listing", LISTING_TRANSITIONS, reason_column="status_reason")
VERSION_MACHINE = Machine("listing_version", VERSION_TRANSITIONS, column="review_status", reason_column="review_reason")
EDITABLE_STATUSES = frozenset({"draft", "changes_requested", "withdrawn", "expired", "published"})
FROZEN_VERSION_STATUSES = frozenset({"approved", "rejected", "superseded"})
JSON_FIELDS = frozenset({"evaluation", "ip_assets", "first_of_kind"})


def transition_listing(listing: Listing, action: str, actor: User | None, *, reason: str | None = None,
                       expected_lock_version: int | None = None, **values: Any) -> None:
    """Apply one lifecycle transition (compare-and-set on status, and on lock_version when given) and audit it."""
    conditions = () if expected_lock_version is None else (Listing.lock_version == expected_lock_version,)
    transition(LISTING_MACHINE, listing, action, actor=actor, reason=reason, conditions=conditions,
               lock_version=Listing.lock_version + 1, **values)


def transition_version(version: ListingVersion, action: str, *, actor: User | None = None,
                       reason: str | None = None) -> None:
    """Apply one review transition to a version (compare-and-set on review_status, audited)."""
    transition(VERSION_MACHINE, version, action, actor=actor, reason=reason,
               details={"listing_id": version.listing_id, "number": version.number})


def bump_lock_version(listing: Listing, expected: int | None = None) -> None:
    """Count a content change; with ``expected``, refuse (409) when someone else changed the listing first."""
    current = listing.lock_version if expected is None else expected
    compare_and_set(listing, "lock_version", current, current + 1)


def own_listing(actor: User, listing_id: int) -> Listing:
    """A listing of the actor's institution; any other id answers 404 (AUTHZ-01)."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or actor.institution_id is None or listing.institution_id != actor.institution_id:
        raise NotFound(_("No such listing."))
    return listing


def list_own_listings(actor: User, status: str | None = None, kind: str | None = None, *, page: int = 1,
                      per_page: int = 20) -> tuple[list[Listing], int]:
    """One page of the institution's listings, newest first, optionally by status and kind; and the total."""
    require_member(actor)
    query = select(Listing).where(Listing.institution_id == actor.institution_id)
    if status:
        query = query.where(Listing.status == status)
    if kind:
        query = query.where(Listing.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(query.order_by(Listing.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(items), total


def count_own_listings(actor: User) -> dict[str, int]:
    """How many of the institution's listings are in each status (every status, zeros included), in one query."""
    require_member(actor)
    rows = db.session.execute(select(Listing.status, func.count()).where(Listing.institution_id == actor.institution_id)
                              .group_by(Listing.status))
    counts = {status: 0 for status in LISTING_STATUSES}
    counts.update({status: int(count) for status, count in rows})
    return counts


def _apply_content(listing: Listing, version: ListingVersion, changes: dict[str, Any]) -> None:
    direction = changes.get("direction_code", version.direction_code)
    field = changes.get("field_code", version.field_code)
    if "direction_code" in changes or "field_code" in changes:
        check_taxonomy(direction, field)
    if "deal_modes" in changes:
        check_deal_modes(listing.kind, changes["deal_modes"])
    if "first_of_kind" in changes and changes["first_of_kind"] is not None and listing.kind != "first_of_kind":
        raise InvalidInput.field("first_of_kind", _("only first-of-kind listings carry these details"))
    for key, value in changes.items():
        setattr(version, key, jsonable(value) if key in JSON_FIELDS else value)
    if "price_mode" in changes and changes["price_mode"] == "negotiable" and "price_amount" not in changes:
        version.price_amount = None
    if version.price_mode == "negotiable" and version.price_amount is not None:
        raise InvalidInput.field("price_amount", _("a negotiable price has no amount; leave it out"))
    details = version.first_of_kind or {}
    version.product_kind, version.recognition_level = details.get("product_kind"), details.get("recognition_level")


def create_draft(actor: User, kind: str, content: dict[str, Any]) -> Listing:
    """Start a listing as a draft of the actor's institution."""
    org = require_member(actor)
    listing = Listing(institution_id=org.id, kind=kind, status="draft", created_by_id=actor.id)
    db.session.add(listing)
    db.session.flush()
    version = ListingVersion(listing_id=listing.id, number=1, review_status="draft", created_by_id=actor.id,
                             deal_modes=["purchase"] if kind == "first_of_kind" else [], keywords=[], ip_assets=[],
                             inventors=[])
    db.session.add(version)
    _apply_content(listing, version, content)
    db.session.flush()
    listing.working_version = version
    db.session.flush()
    record_event("listing.created", "listing", listing.id, actor=actor, to_state="draft",
                 details={"kind": kind})
    return listing


def _copy_version(listing: Listing, source: ListingVersion, actor: User) -> ListingVersion:
    """A new draft version holding ``source``'s content (and its attachments), made the working version."""
    number = (db.session.scalar(select(ListingVersion.number).where(ListingVersion.listing_id == listing.id)
                                .order_by(ListingVersion.number.desc()).limit(1)) or 0) + 1
    skip = {"id", "number", "review_status", "review_reason", "created_by_id", "created_at", "updated_at",
            "listing_id"}
    values = {c.key: getattr(source, c.key) for c in ListingVersion.__table__.columns if c.key not in skip}
    version = ListingVersion(listing_id=listing.id, number=number, review_status="draft", created_by_id=actor.id,
                             **values)
    for attachment in source.attachments:
        version.attachments.append(ListingAttachment(
            role=attachment.role, filename=attachment.filename, storage_name=attachment.storage_name,
            content_type=attachment.content_type, size=attachment.size, sha256=attachment.sha256,
            confidential=attachment.confidential))
    db.session.add(version)
    db.session.flush()
    listing.working_version = version
    db.session.flush()
    return version


def editable_version(actor: User, listing: Listing) -> ListingVersion:
    """The version an edit goes to: the working draft, or a new revision when the public version is frozen."""
    if listing.status not in EDITABLE_STATUSES:
        raise Conflict({"submitted": _("The listing is under review; wait for the decision before editing."),
                        "rejected": _("A rejected listing is closed; start a new draft."),
                        "suspended": _("A suspended listing cannot be edited; contact the platform.")}[listing.status])
    version = listing.working_version
    assert version is not None
    if version.review_status == "submitted":
        raise Conflict(_("The revision is under review; wait for the decision before editing."))
    if version.review_status in FROZEN_VERSION_STATUSES:
        source = listing.published_version if version.review_status == "rejected" and listing.published_version \
            else version
        version = _copy_version(listing, source, actor)
    return version


def edit_listing(actor: User, listing_id: int, changes: dict[str, Any], expected_lock_version: int | None) -> Listing:
    """Change the content being edited. A published listing gets a revision; the public keeps the approved one."""
    listing = own_listing(actor, listing_id)
    if expected_lock_version is not None and expected_lock_version != listing.lock_version:
        raise Conflict(_("The listing changed since you read it; reload it and apply your edit again."))
    version = editable_version(actor, listing)
    _apply_content(listing, version, changes)
    bump_lock_version(listing, listing.lock_version)
    if changes:
        record_event("listing.edited", "listing", listing.id, actor=actor, details={
            "version": version.number, "fields": sorted(changes)})
    return listing


def submit_listing(actor: User, listing_id: int) -> Listing:
    """Send the working version for review: a first submission, a renewal, or a revision of a published listing."""
    listing = own_listing(actor, listing_id)
    require_member(actor, verified=True, unverified_message=_("Only verified institutions may submit listings; wait "
                                                              "for the platform to verify yours."))
    renewal = listing.status in LISTING_TRANSITIONS["renew"][0]
    if renewal and listing.working_version.review_status in FROZEN_VERSION_STATUSES:  # type: ignore[union-attr]
        _copy_version(listing, listing.published_version or listing.working_version, actor)  # type: ignore[arg-type]
    version = listing.working_version
    assert version is not None
    missing = missing_for_submission(listing, version)
    if missing:
        raise InvalidInput(_("The listing is not complete; fill in the fields named in errors."), missing)
    if listing.status == "published":
        if not listing.has_pending_revision:
            raise Conflict(_("Nothing to submit: edit the listing first to make a revision."))
        transition_version(version, "submit", actor=actor)
        bump_lock_version(listing)
        record_event("listing.revision_submitted", "listing", listing.id, actor=actor,
                     details={"version": version.number})
        return listing
    action = "renew" if listing.status in LISTING_TRANSITIONS["renew"][0] else "submit"
    transition_version(version, "submit", actor=actor)
    transition_listing(listing, action, actor, submitted_at=utcnow())
    return listing


def withdraw_listing(actor: User, listing_id: int) -> Listing:
    """The institution takes a published listing out of the hall; it can be renewed later."""
    listing = own_listing(actor, listing_id)
    transition_listing(listing, "withdraw", actor)
    unindex_listing(listing)
    return_pending_revision(listing)
    return listing


def return_pending_revision(listing: Listing) -> None:
    """A revision under review goes back to draft when its listing leaves the hall (withdrawn or expired)."""
    version = listing.working_version
    if version is not None and version.review_status == "submitted" and listing.has_pending_revision:
        transition_version(version, "return")
        record_event("listing.revision_returned", "listing", listing.id, from_state="submitted", to_state="draft",
                     details={"version": version.number})


def listing_history(actor: User, listing_id: int) -> list[dict[str, Any]]:
    """Every transition of the listing, with the admins' reasons, oldest first."""
    listing = own_listing(actor, listing_id)
    rows = db.session.execute(
        select(AuditEvent, User.is_admin).outerjoin(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.object_type == "listing", AuditEvent.object_id == str(listing.id))
        .order_by(AuditEvent.id)
    ).all()
    return [{"occurred_at": event.occurred_at, "action": event.action.removeprefix("listing."),
             "from_state": event.from_state, "to_state": event.to_state, "reason": event.reason,
             "by_platform": bool(is_admin)} for event, is_admin in rows]


def listing_term_days() -> int:
    """How long a published listing stays in the hall before it expires and must be renewed."""
    return int(current_app.config.get("LISTING_TERM_DAYS", 365))
