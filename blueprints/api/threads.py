"""Enquiry threads between two institutions, about a listing or a demand, and their messages."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("threads", __name__, url_prefix="/threads",
                   description="Enquiry threads between two institutions about a listing or a demand")
