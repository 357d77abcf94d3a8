"""Your notifications: the inbox, unread count, mail preferences."""
from __future__ import annotations

from typing import Any

from flask_login import login_required

from blueprints.actor import actor
from blueprints.api.base import PAGINATION_HEADER, ApiBlueprint, paginated
from hall.services.core import inbox
from schemas.common import ErrorSchema
from schemas.notifications import (
    MarkedOut,
    NotificationOut,
    NotificationQuery,
    PreferencesIn,
    PreferencesOut,
    UnreadCountOut,
)

blp = ApiBlueprint("notifications", __name__, url_prefix="/notifications",
                   description="Your notifications: the inbox, unread count, mail preferences")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(NotificationQuery, location="query")
@blp.response(200, NotificationOut(many=True), headers=PAGINATION_HEADER)
def list_notifications(query: dict[str, Any]) -> Any:
    """Your notifications, newest first (``unread=true``: only unread ones; totals in X-Pagination)."""
    items, total = inbox.list_notifications(actor(), page=query["page"], page_size=query["page_size"],
                                            unread=query["unread"])
    return paginated(items, total, query["page"], query["page_size"])


@blp.route("/unread-count", methods=["GET"])
@login_required
@blp.response(200, UnreadCountOut)
def unread_count() -> Any:
    """How many of your notifications are unread."""
    return {"unread": inbox.unread_count(actor())}


@blp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
@blp.response(200, NotificationOut)
@blp.alt_response(404, schema=ErrorSchema, description="Not one of your notifications")
def mark_read(notification_id: int) -> Any:
    """Mark one of your notifications read."""
    return inbox.mark_read(actor(), notification_id)


@blp.route("/read-all", methods=["POST"])
@login_required
@blp.response(200, MarkedOut)
def mark_all_read() -> Any:
    """Mark all your notifications read."""
    return {"marked": inbox.mark_all_read(actor())}


@blp.route("/preferences", methods=["GET"])
@login_required
@blp.response(200, PreferencesOut)
def read_preferences() -> Any:
    """Whether you get mail for each group of events (reviews, matches, messages, orders, nda, notices)."""
    return inbox.preferences(actor())


@blp.route("/preferences", methods=["PUT"])
@login_required
@blp.arguments(PreferencesIn, location="json")
@blp.response(200, PreferencesOut)
@blp.alt_response(422, schema=ErrorSchema, description="An unknown group or a value that is not true/false")
def write_preferences(choices: dict[str, bool]) -> Any:
    """Turn mail on or off per group; groups not named keep their choice."""
    return inbox.set_preferences(actor(), choices)
