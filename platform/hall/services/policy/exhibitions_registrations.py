"""Institutions register to attend a docking exhibition (one registration per institution, by one of its members,
1–20 attendees), and may cancel.

Refused for a draft (404), a cancelled or ended exhibition, after the registration deadline, and when the seats are
taken: the exhibition's ``registered_attendees`` moves only by a conditional UPDATE that checks the capacity, so two
registrations racing for the last seats never oversell (the same pattern as stock).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, select, update

from hall.extensions import db
from hall.models import User
from hall.models.exhibitions import MAX_ATTENDEES, Exhibition, ExhibitionRegistration
from hall.models.types import utcnow
from hall.services.core.access import require_member
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.policy.exhibitions import admin_exhibition


def _exhibition(exhibition_id: int) -> Exhibition:
    exhibition = db.session.get(Exhibition, exhibition_id)
    if exhibition is None or exhibition.status == "draft":
        raise NotFound(_("No such exhibition."))
    return exhibition


def registration_closed(exhibition: Exhibition, now: datetime | None = None) -> str | None:
    """Why registration is closed now (in words), or None while it is open."""
    now = now or utcnow()
    if exhibition.status == "cancelled":
        return _("The exhibition is cancelled.")
    if exhibition.status != "published":
        return _("The exhibition is not published.")
    if exhibition.ends_at <= now:
        return _("The exhibition is over.")
    if exhibition.registration_deadline is not None and exhibition.registration_deadline < now:
        return _("Registration closed on %(deadline)s.",
                 deadline=f"{exhibition.registration_deadline:%Y-%m-%d %H:%M} UTC")
    return None


def _take_seats(exhibition: Exhibition, seats: int) -> None:
    """Move the exhibition's seat count by ``seats`` (negative gives back) only within its capacity."""
    condition: tuple[Any, ...] = ()
    if seats > 0:
        condition = ((Exhibition.capacity.is_(None)) |
                     (Exhibition.registered_attendees + seats <= Exhibition.capacity),)
    result = cast(CursorResult[Any], db.session.execute(
        update(Exhibition).where(Exhibition.id == exhibition.id, *condition)
        .values(registered_attendees=Exhibition.registered_attendees + seats)
        .execution_options(synchronize_session=False)))
    db.session.expire(exhibition)
    if result.rowcount != 1:
        left = max((exhibition.capacity or 0) - exhibition.registered_attendees, 0)
        raise Conflict(_("The exhibition is full: %(left)s seats are left.", left=left))


def register(actor: User, exhibition_id: int, attendees: int = 1) -> ExhibitionRegistration:
    """Register the actor's (verified) institution, or change how many attend; returns the registration."""
    org = require_member(actor, verified=True)
    if not 1 <= attendees <= MAX_ATTENDEES:
        raise InvalidInput.field("attendees", _("must be between 1 and %(max)s", max=MAX_ATTENDEES))
    exhibition = _exhibition(exhibition_id)
    closed = registration_closed(exhibition)
    if closed is not None:
        raise Conflict(closed)
    registration = db.session.scalar(select(ExhibitionRegistration).where(
        ExhibitionRegistration.exhibition_id == exhibition.id, ExhibitionRegistration.institution_id == org.id))
    held = registration.attendees if registration is not None and registration.status == "registered" else 0
    db.session.flush()
    _take_seats(exhibition, attendees - held)
    if registration is None:
        registration = ExhibitionRegistration(exhibition_id=exhibition.id, institution_id=org.id,
                                              registered_by_id=actor.id, attendees=attendees, status="registered")
        db.session.add(registration)
    else:
        registration.attendees, registration.status, registration.cancelled_at = attendees, "registered", None
        registration.registered_by_id = actor.id
    db.session.flush()
    record_event("exhibition_registration.register", "exhibition_registration", registration.id, actor=actor,
                 to_state="registered", details={"exhibition_id": exhibition.id, "attendees": attendees})
    return registration


def cancel_registration(actor: User, exhibition_id: int) -> ExhibitionRegistration:
    """Cancel the actor's institution's registration (its seats are given back); 404 when it has none."""
    org = require_member(actor)
    registration = db.session.scalar(select(ExhibitionRegistration).where(
        ExhibitionRegistration.exhibition_id == exhibition_id, ExhibitionRegistration.institution_id == org.id,
        ExhibitionRegistration.status == "registered"))
    if registration is None:
        raise NotFound(_("Your institution is not registered for this exhibition."))
    exhibition = registration.exhibition
    if exhibition.has_ended():
        raise Conflict(_("The exhibition is over."))
    db.session.flush()
    _take_seats(exhibition, -registration.attendees)
    registration.status, registration.cancelled_at = "cancelled", utcnow()
    db.session.flush()
    record_event("exhibition_registration.cancel", "exhibition_registration", registration.id, actor=actor,
                 from_state="registered", to_state="cancelled", details={"exhibition_id": exhibition.id})
    return registration


def own_registration(actor: User, exhibition_id: int) -> ExhibitionRegistration | None:
    """The actor's institution's current registration for the exhibition, if any."""
    if actor.institution_id is None:
        return None
    return db.session.scalar(select(ExhibitionRegistration).where(
        ExhibitionRegistration.exhibition_id == exhibition_id,
        ExhibitionRegistration.institution_id == actor.institution_id,
        ExhibitionRegistration.status == "registered"))


def own_registrations(actor: User) -> list[ExhibitionRegistration]:
    """Every registration of the actor's institution (cancelled ones included), latest first."""
    require_member(actor)
    return list(db.session.scalars(select(ExhibitionRegistration).where(
        ExhibitionRegistration.institution_id == actor.institution_id).order_by(ExhibitionRegistration.id.desc())))


def registrations(admin: User, exhibition_id: int) -> list[ExhibitionRegistration]:
    """The exhibition's registrations for the console (current ones first)."""
    admin_exhibition(admin, exhibition_id)
    return list(db.session.scalars(select(ExhibitionRegistration).where(
        ExhibitionRegistration.exhibition_id == exhibition_id).order_by(
        ExhibitionRegistration.status != "registered", ExhibitionRegistration.id)))
