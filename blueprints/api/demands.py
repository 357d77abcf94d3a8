"""Demand postings (技术需求): your institution's needs, their review, and the public demand hall."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("demands", __name__, url_prefix="/demands",
                   description="Demand postings (技术需求): your needs, their review, the public demand hall")
