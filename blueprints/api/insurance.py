"""The API of first-of-kind insurance policies and premium compensation applications."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("insurance", __name__, description="First-of-kind insurance compensation")
