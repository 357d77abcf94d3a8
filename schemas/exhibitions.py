"""Schemas of docking exhibitions, their entries, registrations and leads."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models.exhibitions import MAX_ATTENDEES
from hall.models.types import utcnow
from hall.services.policy.exhibitions import WHEN, phase
from hall.services.policy.exhibitions_entries import Subject
from schemas.common import MAX_ID, StrictSchema

ID_RANGE = validate.Range(min=1, max=MAX_ID)
LANGS = ("zh", "en")


class ExhibitionQueryIn(StrictSchema):
    """Filters of the public list."""

    when = fields.String(validate=validate.OneOf(WHEN), metadata={"description": "upcoming or past; both if left out"})
    direction = fields.String(validate=validate.Length(min=1, max=40),
                              metadata={"description": "a taxonomy direction code (GET /api/v1/hall/taxonomy)"})
    lang = fields.String(validate=validate.OneOf(LANGS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ExhibitionLangIn(StrictSchema):
    """The language of the texts."""

    lang = fields.String(validate=validate.OneOf(LANGS))


class ExhibitionEntryIn(StrictSchema):
    """Apply with one of your institution's published listings or demands."""

    listing_id = fields.Integer(strict=True, validate=ID_RANGE, metadata={"description": "your published listing"})
    demand_id = fields.Integer(strict=True, validate=ID_RANGE, metadata={"description": "your published demand"})

    @validates_schema
    def _one_subject(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("listing_id" in data) == ("demand_id" in data):
            raise ValidationError(_("name either a listing or a demand"), "listing_id")


class ExhibitionRegistrationIn(StrictSchema):
    """How many people of your institution attend."""

    attendees = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=MAX_ATTENDEES))


class ExhibitionRoadshowItemOut(Schema):
    """One presentation of the roadshow: a published listing or demand, in order."""

    entry_id = fields.Integer()
    position = fields.Integer(allow_none=True)
    slot_at = fields.DateTime(allow_none=True)
    kind = fields.String(metadata={"description": "listing or demand"})
    listing_id = fields.Integer(allow_none=True)
    demand_id = fields.Integer(allow_none=True)
    title = fields.String()


class ExhibitionOut(Schema):
    """An exhibition as the public sees it."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    mode = fields.String(metadata={"description": "offline, online or hybrid"})
    place = fields.String(allow_none=True)
    online_url = fields.String(allow_none=True)
    directions = fields.List(fields.String())
    registration_deadline = fields.DateTime(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    seats_left = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "published or cancelled"})
    phase = fields.String(metadata={"description": "upcoming, ongoing, ended or cancelled"})
    cancel_reason = fields.String(allow_none=True)


class ExhibitionDetailOut(ExhibitionOut):
    """An exhibition with its roadshow."""

    roadshow = fields.List(fields.Nested(ExhibitionRoadshowItemOut))


class ExhibitionPageOut(Schema):
    """One page of exhibitions."""

    items = fields.List(fields.Nested(ExhibitionOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ExhibitionEntryOut(Schema):
    """An entry of your institution."""

    id = fields.Integer()
    exhibition_id = fields.Integer()
    exhibition_title = fields.String()
    listing_id = fields.Integer(allow_none=True)
    demand_id = fields.Integer(allow_none=True)
    origin = fields.String(metadata={"description": "invited (by the platform) or applied (by you)"})
    status = fields.String(metadata={"description": "invited, applied, accepted, declined or withdrawn"})
    status_reason = fields.String(allow_none=True)
    position = fields.Integer(allow_none=True)
    slot_at = fields.DateTime(allow_none=True)


class ExhibitionRegistrationOut(Schema):
    """Your institution's registration."""

    id = fields.Integer()
    exhibition_id = fields.Integer()
    attendees = fields.Integer()
    status = fields.String(metadata={"description": "registered or cancelled"})
    created_at = fields.DateTime()


class ExhibitionMineOut(Schema):
    """Your institution's entries and registrations."""

    entries = fields.List(fields.Nested(ExhibitionEntryOut))
    registrations = fields.List(fields.Nested(ExhibitionRegistrationOut))


def present_exhibition(exhibition: Any, lang: str) -> dict[str, Any]:
    """An exhibition in ``lang`` for the public (the link only while it is not cancelled)."""
    seats = None if exhibition.capacity is None else max(exhibition.capacity - exhibition.registered_attendees, 0)
    return {"id": exhibition.id, "title": exhibition.title(lang), "description": exhibition.description(lang),
            "starts_at": exhibition.starts_at, "ends_at": exhibition.ends_at, "mode": exhibition.mode,
            "place": exhibition.place,
            "online_url": exhibition.online_url if exhibition.status == "published" else None,
            "directions": list(exhibition.directions or []), "registration_deadline": exhibition.registration_deadline,
            "capacity": exhibition.capacity, "seats_left": seats, "status": exhibition.status,
            "phase": phase(exhibition, utcnow()),
            "cancel_reason": exhibition.status_reason if exhibition.status == "cancelled" else None}


def present_roadshow(rows: list[tuple[Any, Subject]], lang: str) -> list[dict[str, Any]]:
    """The roadshow's presentations in ``lang``."""
    items = []
    for entry, subject in rows:
        first, second = (subject.title_en, subject.title_zh) if lang == "en" else (subject.title_zh, subject.title_en)
        items.append({"entry_id": entry.id, "position": entry.position, "slot_at": entry.slot_at,
                      "kind": entry.subject_kind, "listing_id": entry.listing_id, "demand_id": entry.demand_id,
                      "title": first or second or ""})
    return items


def present_entry(entry: Any, lang: str) -> dict[str, Any]:
    """An entry for its institution."""
    return {"id": entry.id, "exhibition_id": entry.exhibition_id, "exhibition_title": entry.exhibition.title(lang),
            "listing_id": entry.listing_id, "demand_id": entry.demand_id, "origin": entry.origin,
            "status": entry.status, "status_reason": entry.status_reason, "position": entry.position,
            "slot_at": entry.slot_at}
