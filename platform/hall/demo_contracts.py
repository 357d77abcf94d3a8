"""Demo data of technical-contract registration records of completed orders."""
from __future__ import annotations

from hall.models import User


def seed_demo_contracts(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
