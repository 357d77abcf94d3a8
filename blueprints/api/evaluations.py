"""The API of evaluation engagements and reports by professional institutions."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("evaluations", __name__, description="Evaluations by professional institutions")
