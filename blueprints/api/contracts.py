"""The API of technical-contract registration records of completed orders."""
from __future__ import annotations

from blueprints.api.base import ApiBlueprint

blp = ApiBlueprint("contracts", __name__, description="Technical-contract registration records of completed orders")
