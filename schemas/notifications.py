"""Notifications: the inbox items, the unread count, mail preferences per group."""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from marshmallow import Schema, fields, validate

from hall.services.core.inbox import GROUPS, text_of
from schemas.common import StrictSchema


class NotificationQuery(StrictSchema):
    """Page the inbox; ``unread=true`` keeps only unread notifications."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    unread = fields.Boolean(load_default=False)


class NotificationOut(Schema):
    """One notification, its title and body in the request's language."""

    id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"description": "what happened, e.g. listing.approved"})
    group = fields.String(required=True, metadata={"enum": list(GROUPS)})
    title = fields.Method("_title", metadata={"type": "string"})
    body = fields.Method("_body", metadata={"type": "string"})
    link = fields.String(allow_none=True, metadata={"description": "a path on the site"})
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)
    read = fields.Method("_read", metadata={"type": "boolean"})

    def _title(self, obj: Any) -> str:
        return text_of(obj, get_locale())[0]

    def _body(self, obj: Any) -> str:
        return text_of(obj, get_locale())[1]

    def _read(self, obj: Any) -> bool:
        return obj.read_at is not None


class UnreadCountOut(Schema):
    """How many notifications are unread."""

    unread = fields.Integer(required=True)


class MarkedOut(Schema):
    """How many notifications were marked read."""

    marked = fields.Integer(required=True)


def _preference_fields(required: bool) -> dict[str, fields.Field]:
    return {group: fields.Boolean(required=required, metadata={"description": f"mail for {group} events"})
            for group in GROUPS}


PreferencesIn = StrictSchema.from_dict(_preference_fields(False), name="PreferencesIn")
PreferencesOut = Schema.from_dict(_preference_fields(True), name="PreferencesOut")
