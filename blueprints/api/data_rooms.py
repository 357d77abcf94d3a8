"""Confidential attachments under an NDA: the NDA text, access requests, approvals and the download log."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("data_rooms", __name__,
                   description="Confidential attachments under an NDA: its text, access requests, the download log")
