"""Demo data of first-of-kind insurance policies and premium compensation applications."""
from __future__ import annotations

from hall.models import User


def seed_demo_insurance(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
