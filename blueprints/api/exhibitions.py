"""The API of docking exhibitions, their entries, registrations and leads."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("exhibitions", __name__, description="Docking exhibitions, their entries, registrations and leads")
