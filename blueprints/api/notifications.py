"""Your notifications: the inbox, unread count, mail preferences."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("notifications", __name__, url_prefix="/notifications",
                   description="Your notifications: the inbox, unread count, mail preferences")
