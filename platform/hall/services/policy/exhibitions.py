"""Docking exhibitions (成果对接会 / 路演) as platform admins run them, and as the public finds them.

An exhibition is one transition table (``EXHIBITION_MACHINE``): draft → published → cancelled (a draft may be
cancelled too). "Ended" is not a state: a published exhibition whose ``ends_at`` has passed is over (it stays
published, listed under past events, and counts its leads). Drafts are seen by admins only (404 to everyone else);
a cancelled exhibition keeps its page (with the reason) but leaves the lists.

Entries (the roadshow) are in ``exhibitions_entries``, registrations in ``exhibitions_registrations``, the lead
counts in ``exhibitions_leads``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import String, case, cast, func, select

from hall.extensions import db
from hall.labels import state_word
from hall.library_messages import N_
from hall.models import Direction, User
from hall.models.exhibitions import EXHIBITION_MODES, Exhibition, ExhibitionEntry, ExhibitionRegistration
from hall.models.types import utcnow
from hall.services.core import inbox
from hall.services.core.access import require_admin
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict, InvalidInput, NotFound
from hall.services.core.state import Machine, compare_and_set, transition

EXHIBITION_MACHINE = Machine("exhibition", {
    "publish": (frozenset({"draft"}), "published"),
    "cancel": (frozenset({"draft", "published"}), "cancelled"),
}, reason_column="status_reason")
CONTENT_FIELDS = ("title_zh", "title_en", "description_zh", "description_en", "starts_at", "ends_at", "mode",
                  "place", "online_url", "directions", "registration_deadline", "capacity")
WHEN = ("upcoming", "past")


def _aware(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput.field(name, _("give a date and time with its time zone"))
    return value


def check_directions(codes: list[str]) -> list[str]:
    """The direction codes, each checked against the taxonomy (422 naming ``directions``), without repeats."""
    seen: list[str] = []
    for code in codes:
        if db.session.get(Direction, code) is None:
            raise InvalidInput.field("directions", _("%(code)s is not a direction; see GET /api/v1/hall/taxonomy",
                                                     code=code))
        if code not in seen:
            seen.append(code)
    return seen


def _check_link(url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in url):
        raise InvalidInput.field("online_url", _("give a full https:// address"))


def check_content(content: dict[str, Any], registered: int = 0) -> None:
    """Every rule an exhibition's content obeys (422 naming the field): a title, an end after the start, a place
    for offline and hybrid events and an https link for online and hybrid ones, known directions, a registration
    deadline before the end, a capacity of at least one (and at least the attendees already registered)."""
    if not ((content.get("title_zh") or "").strip() or (content.get("title_en") or "").strip()):
        raise InvalidInput.field("title_zh", _("give a title in at least one language"))
    starts, ends = _aware("starts_at", content.get("starts_at")), _aware("ends_at", content.get("ends_at"))
    if starts is None:
        raise InvalidInput.field("starts_at", _("required"))
    if ends is None:
        raise InvalidInput.field("ends_at", _("required"))
    if ends <= starts:
        raise InvalidInput.field("ends_at", _("must be after the start"))
    mode = content.get("mode")
    if mode not in EXHIBITION_MODES:
        raise InvalidInput.field("mode", _("must be offline, online or hybrid"))
    if mode in ("offline", "hybrid") and not (content.get("place") or "").strip():
        raise InvalidInput.field("place", _("an offline or hybrid exhibition needs a place"))
    if mode in ("online", "hybrid") and not (content.get("online_url") or "").strip():
        raise InvalidInput.field("online_url", _("an online or hybrid exhibition needs a link"))
    _check_link(content.get("online_url"))
    content["directions"] = check_directions(list(content.get("directions") or []))
    deadline = _aware("registration_deadline", content.get("registration_deadline"))
    if deadline is not None and deadline > ends:
        raise InvalidInput.field("registration_deadline", _("must be before the exhibition ends"))
    capacity = content.get("capacity")
    if capacity is not None and capacity < 1:
        raise InvalidInput.field("capacity", _("must be at least 1, or empty for no limit"))
    if capacity is not None and capacity < registered:
        raise InvalidInput.field("capacity", _("%(count)s attendees are registered already; the capacity cannot be "
                                               "lower", count=registered))


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    content = {name: values.get(name) for name in CONTENT_FIELDS if name in values}
    for name in ("title_zh", "title_en", "description_zh", "description_en", "place", "online_url"):
        if name in content:
            content[name] = (content[name] or "").strip() or None
    return content


def create_exhibition(admin: User, values: dict[str, Any]) -> Exhibition:
    """A new exhibition, as a draft only admins see."""
    require_admin(admin, _("run exhibitions"))
    content = _normalise(values)
    check_content(content)
    exhibition = Exhibition(status="draft", created_by_id=admin.id, **content)
    db.session.add(exhibition)
    db.session.flush()
    record_event("exhibition.create", "exhibition", exhibition.id, actor=admin, to_state="draft")
    return exhibition


def admin_exhibition(admin: User, exhibition_id: int, expected_lock_version: int | None = None) -> Exhibition:
    """Any exhibition, for an admin; 409 when it changed since the page showing ``expected_lock_version``."""
    require_admin(admin, _("run exhibitions"))
    exhibition = db.session.get(Exhibition, exhibition_id)
    if exhibition is None:
        raise NotFound(_("No such exhibition."))
    if expected_lock_version is not None and exhibition.lock_version != expected_lock_version:
        raise Conflict(_("The exhibition changed after you opened it; reload the page and try again."))
    return exhibition


def update_exhibition(admin: User, exhibition_id: int, values: dict[str, Any],
                      expected_lock_version: int | None = None) -> Exhibition:
    """Change an exhibition's content (not once it is cancelled or over)."""
    exhibition = admin_exhibition(admin, exhibition_id, expected_lock_version)
    if exhibition.status == "cancelled":
        raise Conflict(_("A cancelled exhibition cannot be changed."))
    if exhibition.status == "published" and exhibition.has_ended():
        raise Conflict(_("The exhibition is over; it cannot be changed."))
    content = {name: getattr(exhibition, name) for name in CONTENT_FIELDS}
    content.update(_normalise(values))
    check_content(content, exhibition.registered_attendees)
    compare_and_set(exhibition, "lock_version", exhibition.lock_version, exhibition.lock_version + 1)
    for name, value in content.items():
        setattr(exhibition, name, value)
    db.session.flush()
    record_event("exhibition.update", "exhibition", exhibition.id, actor=admin,
                 details={"fields": sorted(_normalise(values))})
    return exhibition


def _move(exhibition: Exhibition, action: str, admin: User, reason: str | None = None, **values: Any) -> None:
    if not EXHIBITION_MACHINE.can(action, exhibition.status):
        raise Conflict(_("The exhibition is “%(state)s”; this cannot be done now.",
                         state=state_word(exhibition.status)))
    transition(EXHIBITION_MACHINE, exhibition, action, actor=admin, reason=reason,
               conditions=(Exhibition.lock_version == exhibition.lock_version,),
               lock_version=Exhibition.lock_version + 1, **values)


def publish_exhibition(admin: User, exhibition_id: int, expected_lock_version: int | None = None) -> Exhibition:
    """Put a draft on the public list (refused once its end has passed)."""
    exhibition = admin_exhibition(admin, exhibition_id, expected_lock_version)
    if exhibition.status == "draft" and exhibition.has_ended():
        raise InvalidInput.field("ends_at", _("the exhibition is over already; change its time first"))
    _move(exhibition, "publish", admin, published_at=utcnow())
    return exhibition


def cancel_exhibition(admin: User, exhibition_id: int, reason: str | None,
                      expected_lock_version: int | None = None) -> Exhibition:
    """Cancel an exhibition (reason required); everyone registered, and every institution on its roadshow, is
    told."""
    exhibition = admin_exhibition(admin, exhibition_id, expected_lock_version)
    reason = (reason or "").strip() or None
    if reason is None:
        raise InvalidInput.field("reason", _("a reason is required to cancel"))
    if exhibition.status == "published" and exhibition.has_ended():
        raise Conflict(_("The exhibition is over; it cannot be cancelled."))
    _move(exhibition, "cancel", admin, reason=reason, cancelled_at=utcnow())
    registered = set(db.session.scalars(select(ExhibitionRegistration.institution_id).where(
        ExhibitionRegistration.exhibition_id == exhibition.id, ExhibitionRegistration.status == "registered")))
    on_show = set(db.session.scalars(select(ExhibitionEntry.institution_id).where(
        ExhibitionEntry.exhibition_id == exhibition.id,
        ExhibitionEntry.status.in_(("invited", "applied", "accepted")))))
    zh, en = exhibition.title_zh, exhibition.title_en
    for institution_id in sorted(registered | on_show):
        inbox.notify("exhibition.cancelled", group="notices", institution_id=institution_id,
                     title=N_("Exhibition cancelled: “%(title)s”"),
                     body=N_("The exhibition “%(title)s” is cancelled.\nReason: %(reason)s"),
                     params={"title": lambda: title_in_locale(zh, en), "reason": reason},
                     link=f"/exhibitions/{exhibition.id}")
    return exhibition


def title_in_locale(zh: str | None, en: str | None) -> str:
    """A title in the current language (for notifications rendered in each language)."""
    first, second = (en, zh) if str(get_locale()) == "en" else (zh, en)
    return first or second or ""


def admin_exhibitions(admin: User) -> list[Exhibition]:
    """Every exhibition for the console: upcoming and drafts first (soonest first), then the past."""
    require_admin(admin, _("run exhibitions"))
    now = utcnow()
    upcoming = Exhibition.ends_at > now
    return list(db.session.scalars(select(Exhibition).order_by(
        case((upcoming, 0), else_=1), case((upcoming, Exhibition.starts_at)).asc(), Exhibition.starts_at.desc(),
        Exhibition.id)))


def _public_query(when: str | None, direction: str | None, now: datetime) -> Any:
    query = select(Exhibition).where(Exhibition.status == "published")
    if when == "upcoming":
        query = query.where(Exhibition.ends_at > now)
    elif when == "past":
        query = query.where(Exhibition.ends_at <= now)
    if direction:
        check_directions([direction])
        query = query.where(cast(Exhibition.directions, String).like(f'%"{direction}"%'))
    return query


def public_exhibitions(when: str | None = None, direction: str | None = None, *, page: int = 1,
                       per_page: int = 20, now: datetime | None = None) -> tuple[list[Exhibition], int]:
    """Published exhibitions (never drafts or cancelled ones): upcoming first (soonest first), then past ones
    (latest first); ``when`` upcoming|past and ``direction`` (a taxonomy code) filter; and the total."""
    now = now or utcnow()
    query = _public_query(when, direction, now)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    upcoming = Exhibition.ends_at > now
    ordered = query.order_by(case((upcoming, 0), else_=1), case((upcoming, Exhibition.starts_at)).asc(),
                             Exhibition.starts_at.desc(), Exhibition.id)
    return list(db.session.scalars(ordered.limit(per_page).offset((page - 1) * per_page))), total


def public_exhibition(exhibition_id: int) -> Exhibition:
    """A published or cancelled exhibition (a cancelled one shows why); a draft or a missing id is 404."""
    exhibition = db.session.get(Exhibition, exhibition_id)
    if exhibition is None or exhibition.status == "draft":
        raise NotFound(_("No such exhibition."))
    return exhibition


def phase(exhibition: Exhibition, now: datetime | None = None) -> str:
    """draft | upcoming | ongoing | ended | cancelled: where the exhibition stands for the public."""
    now = now or utcnow()
    if exhibition.status != "published":
        return exhibition.status
    if exhibition.ends_at <= now:
        return "ended"
    return "ongoing" if exhibition.starts_at <= now else "upcoming"
