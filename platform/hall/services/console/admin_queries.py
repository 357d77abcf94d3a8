"""What the admin console shows: queues, browse lists, the audit log, and a revision's differences."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from hall.extensions import db
from hall.models import AuditEvent, Institution, Listing, ListingVersion, User
from hall.models.listings import TEXT_FIELDS
from hall.models.types import utcnow
from hall.services.core.access import require_admin


@dataclass(frozen=True)
class Dashboard:
    """Counts of what waits, each with the age of its oldest item."""

    institutions_pending: int
    listings_pending: int
    revisions_pending: int
    oldest_institution: datetime | None
    oldest_listing: datetime | None

    @property
    def oldest_waiting(self) -> datetime | None:
        """When the longest-waiting item started waiting."""
        stamps = [s for s in (self.oldest_institution, self.oldest_listing) if s is not None]
        return min(stamps) if stamps else None


def _revision_waiting() -> Any:
    return and_(Listing.status == "published", Listing.working_version_id != Listing.published_version_id,
                ListingVersion.review_status == "submitted")


def dashboard(admin: User) -> Dashboard:
    """How many institutions, listings and revisions await a decision, and since when."""
    require_admin(admin)
    institutions = db.session.execute(
        select(func.count(), func.min(Institution.created_at)).where(Institution.verification_status == "pending")
    ).one()
    listings = db.session.execute(
        select(func.count(), func.min(Listing.submitted_at)).where(Listing.status == "submitted")).one()
    revisions = db.session.execute(
        select(func.count(), func.min(ListingVersion.updated_at)).select_from(Listing)
        .join(ListingVersion, ListingVersion.id == Listing.working_version_id).where(_revision_waiting())).one()
    oldest_listing = min([s for s in (listings[1], revisions[1]) if s is not None], default=None)
    return Dashboard(institutions[0], listings[0], revisions[0], institutions[1], oldest_listing)


def institutions_query(admin: User, status: str | None, q: str | None) -> Select[Any]:
    """Institutions by status (oldest first) with an optional search in names and credit code."""
    require_admin(admin)
    query = select(Institution)
    if status:
        query = query.where(Institution.verification_status == status)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(Institution.name_zh.ilike(pattern), Institution.name_en.ilike(pattern),
                                Institution.credit_code.ilike(pattern)))
    return query.order_by(Institution.created_at, Institution.id)


def review_queue_query(admin: User, kind: str | None, direction: str | None,
                       institution_id: int | None) -> Select[Any]:
    """Listings and revisions awaiting review, oldest first."""
    require_admin(admin)
    query = (select(Listing).join(ListingVersion, ListingVersion.id == Listing.working_version_id)
             .where(or_(Listing.status == "submitted", _revision_waiting())))
    if kind:
        query = query.where(Listing.kind == kind)
    if direction:
        query = query.where(ListingVersion.direction_code == direction)
    if institution_id:
        query = query.where(Listing.institution_id == institution_id)
    return query.order_by(func.coalesce(Listing.submitted_at, ListingVersion.updated_at), Listing.id)


def listings_query(admin: User, status: str | None, q: str | None) -> Select[Any]:
    """All listings by status, newest first, with an optional search in the titles of the working version."""
    require_admin(admin)
    query = select(Listing).join(ListingVersion, ListingVersion.id == Listing.working_version_id)
    if status:
        query = query.where(Listing.status == status)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(ListingVersion.title_zh.ilike(pattern), ListingVersion.title_en.ilike(pattern)))
    # each row shows the working and the public version's titles and the institution: loaded with the page
    return query.options(selectinload(Listing.working_version), selectinload(Listing.published_version),
                         selectinload(Listing.institution)).order_by(Listing.id.desc())


def audit_query(admin: User, object_type: str | None, object_id: str | None, actor_email: str | None,
                date_from: datetime | None, date_to: datetime | None) -> Select[Any]:
    """Audit events, newest first, filtered by object, actor and date."""
    require_admin(admin)
    query = select(AuditEvent)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if actor_email:
        query = query.join(User, AuditEvent.actor_id == User.id).where(User.email == actor_email.strip().lower())
    if date_from:
        query = query.where(AuditEvent.occurred_at >= date_from)
    if date_to:
        query = query.where(AuditEvent.occurred_at < date_to)
    return query.order_by(AuditEvent.id.desc())


def actor_emails(events: list[AuditEvent]) -> dict[int, str]:
    """The e-mail of each actor on a page of events (one query)."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    return {user_id: email for user_id, email in db.session.execute(select(User.id, User.email)
                                                                    .where(User.id.in_(ids))).all()}


def object_history(admin: User, object_type: str, object_id: int) -> list[tuple[AuditEvent, str | None]]:
    """The audit events of one object, oldest first, with the actor's e-mail."""
    require_admin(admin)
    rows = db.session.execute(
        select(AuditEvent, User.email).outerjoin(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)).all()
    return [(row[0], row[1]) for row in rows]


DIFF_FIELDS = tuple(f"{name}_{lang}" for name in TEXT_FIELDS for lang in ("zh", "en")) + (
    "keywords", "direction_code", "field_code", "region_code", "trl", "evaluation", "ip_assets", "inventors",
    "deal_modes", "price_mode", "price_amount", "currency", "state_funded", "funding_source", "first_of_kind")


def version_diff(published: ListingVersion | None, revision: ListingVersion) -> list[tuple[str, Any, Any]]:
    """(field, published value, revised value) for every field the revision changes."""
    if published is None:
        return []
    changes = [(name, getattr(published, name), getattr(revision, name)) for name in DIFF_FIELDS
               if getattr(published, name) != getattr(revision, name)]
    old_files = sorted(a.filename for a in published.attachments)
    new_files = sorted(a.filename for a in revision.attachments)
    if old_files != new_files:
        changes.append(("attachments", ", ".join(old_files), ", ".join(new_files)))
    return changes


def waiting_since(stamp: datetime | None) -> float | None:
    """Hours since ``stamp``."""
    return None if stamp is None else (utcnow() - stamp).total_seconds() / 3600
