"""Demo data of docking exhibitions, their entries, registrations and leads."""
from __future__ import annotations

from hall.models import User


def seed_demo_exhibitions(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
