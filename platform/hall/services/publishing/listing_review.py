"""Platform admins decide on listings: approve, request changes, reject, suspend, reinstate; and expiry.

Used by the admin console and the tests. When two decisions race on one listing, the compare-and-set lets one
win and the other gets a Conflict.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from hall.extensions import db
from hall.labels import state_word
from hall.models import Listing, Order, User
from hall.models.types import utcnow
from hall.search import index_listing, unindex_listing
from hall.services.core import announcements
from hall.services.core.access import forbid_own_institution, require_admin
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import compare_and_set
from hall.services.publishing import review_notices
from hall.services.publishing.listings import (
    bump_lock_version,
    listing_term_days,
    return_pending_revision,
    transition_listing,
    transition_version,
)

REASON_REQUIRED = frozenset({"request_changes", "reject", "suspend"})
_REASON_MISSING = {"request_changes": _l("a reason is required to request changes"),
                   "reject": _l("a reason is required to reject"), "suspend": _l("a reason is required to suspend")}


def _admin_listing(admin: User, listing_id: int, expected_lock_version: int | None) -> Listing:
    require_admin(admin, _("review listings"))
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        raise NotFound(_("No such listing."))
    forbid_own_institution(admin, listing.institution_id, doing=_("decide on their own institution's listings"))
    if expected_lock_version is not None and listing.lock_version != expected_lock_version:
        raise Conflict(_("The listing changed after you opened it; reload the page and decide again."))
    return listing


def _reason(action: str, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and reason is None:
        raise InvalidInput.field("reason", str(_REASON_MISSING[action]))
    return reason


def _expiry(listing: Listing, now: datetime) -> datetime:
    expires = now + timedelta(days=listing_term_days())
    details = listing.working_version.first_of_kind if listing.working_version else None
    if listing.kind == "first_of_kind" and details and details.get("valid_until"):
        valid_until = date.fromisoformat(details["valid_until"])
        if valid_until < now.date():
            raise InvalidInput.field("first_of_kind.valid_until", _("the recognition has already lapsed"))
        expires = min(expires, datetime.combine(valid_until, time.max, tzinfo=UTC))
    return expires


def _declared_stock(listing: Listing) -> int | None:
    """The units a first-of-kind version declares in all (sold, held by orders and still available)."""
    details = listing.working_version.first_of_kind if listing.working_version else None
    if listing.kind != "first_of_kind" or not details:
        return None
    return details.get("stock")


def _restock(listing: Listing, declared: int | None) -> dict[str, int | None]:
    """Move the live stock to what the approved version declares less what orders hold or bought.

    Review never overwrites the counter with the declared number: orders have taken units from it meanwhile. The
    listing row is locked first, so the units counted are those of every order committed before (PostgreSQL reads
    a fresh snapshot per statement; SQLite writers are serialised). Declaring fewer units than orders hold leaves
    nothing available (never a negative stock, never an order undone). Returns what the audit event records.
    """
    db.session.execute(select(Listing.id).where(Listing.id == listing.id).with_for_update())
    committed = int(db.session.scalar(select(func.coalesce(func.sum(Order.stock_taken), 0))
                                      .where(Order.listing_id == listing.id)) or 0)
    available = None if declared is None else max(declared - committed, 0)
    db.session.execute(update(Listing).where(Listing.id == listing.id).values(stock=available)
                       .execution_options(synchronize_session=False))
    return {"declared_stock": declared, "units_taken_by_orders": committed, "stock": available}


def pending_submission(listing: Listing) -> str:
    """'listing' when the listing itself awaits review, 'revision' when an edit of a published one does."""
    version = listing.working_version
    if listing.status == "submitted":
        return "listing"
    if listing.status == "published" and listing.has_pending_revision and version and \
            version.review_status == "submitted":
        return "revision"
    raise Conflict(_("Nothing awaits review on this listing (it is “%(state)s”).", state=state_word(listing.status)))


def decide(admin: User, listing_id: int, action: str, reason: str | None = None,
           expected_lock_version: int | None = None) -> Listing:
    """Approve, request changes on, or reject what awaits review (the listing or a revision of it)."""
    if action not in ("approve", "request_changes", "reject"):
        raise InvalidInput.field("action", _("must be approve, request_changes or reject"))
    listing = _admin_listing(admin, listing_id, expected_lock_version)
    reason = _reason(action, reason)
    what = pending_submission(listing)
    if action == "approve" and not listing.institution.is_verified:
        raise Conflict(_("The institution is not verified (any more); it cannot publish."))
    version = listing.working_version
    assert version is not None
    previous = listing.published_version
    declared_stock = _declared_stock(listing)
    now = utcnow()
    if what == "listing":
        extra = {"published_version_id": version.id, "published_at": now,
                 "expires_at": _expiry(listing, now)} if action == "approve" else {}
        transition_listing(listing, action, admin, reason=reason, expected_lock_version=listing.lock_version,
                           **extra)
        transition_version(version, action, actor=admin, reason=reason)
    else:
        transition_version(version, action, actor=admin, reason=reason)
        if action == "approve":
            compare_and_set(listing, "published_version_id", previous.id if previous else None, version.id,
                            conditions=(Listing.status == "published", Listing.lock_version == listing.lock_version),
                            lock_version=Listing.lock_version + 1, expires_at=_expiry(listing, now))
        else:
            bump_lock_version(listing)
        record_event(f"listing.revision_{action}", "listing", listing.id, actor=admin, reason=reason,
                     details={"version": version.number})
    if action == "approve":
        if listing.kind == "first_of_kind":
            record_event("listing.restock", "listing", listing.id, actor=admin,
                         details=_restock(listing, declared_stock))
        if previous is not None and previous.id != version.id:
            transition_version(previous, "supersede", actor=admin)
        db.session.refresh(listing)
        index_listing(listing)
    review_notices.tell_decision(listing, action, reason, revision=what != "listing")
    if action == "approve" and what == "listing":
        announcements.announce("listing.published", listing=listing)  # docking: the demands it could answer
    return listing


def suspend_listing(admin: User, listing_id: int, reason: str | None,
                    expected_lock_version: int | None = None) -> Listing:
    """Take a published listing out of the hall (reason required); it can be reinstated."""
    listing = _admin_listing(admin, listing_id, expected_lock_version)
    reason = _reason("suspend", reason)
    transition_listing(listing, "suspend", admin, reason=reason, expected_lock_version=listing.lock_version)
    unindex_listing(listing)
    review_notices.tell_decision(listing, "suspend", reason)
    return listing


def reinstate_listing(admin: User, listing_id: int, reason: str | None = None,
                      expected_lock_version: int | None = None) -> Listing:
    """Put a suspended listing back in the hall with its approved version."""
    listing = _admin_listing(admin, listing_id, expected_lock_version)
    if not listing.institution.is_verified:
        raise Conflict(_("The institution is not verified; reinstate the institution first."))
    if listing.expires_at is not None and listing.expires_at < utcnow():
        raise Conflict(_("The listing's term ended while it was suspended; the institution must renew it."))
    transition_listing(listing, "reinstate", admin, reason=_reason("reinstate", reason),
                       expected_lock_version=listing.lock_version)
    db.session.refresh(listing)
    index_listing(listing)
    review_notices.tell_decision(listing, "reinstate", reason)
    return listing


def expire_due_listings(now: datetime | None = None) -> list[int]:
    """Move published listings whose term or recognition has ended to expired; returns their ids."""
    now = now or utcnow()
    due = db.session.scalars(select(Listing).where(Listing.status == "published", Listing.expires_at < now)).all()
    expired = []
    for listing in due:
        try:
            transition_listing(listing, "expire", None, reason="listing term or recognition validity ended")
        except Conflict:
            continue
        unindex_listing(listing)
        return_pending_revision(listing)
        expired.append(listing.id)
    return expired
