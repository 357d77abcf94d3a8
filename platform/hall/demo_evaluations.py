"""Demo data of evaluation engagements and reports by professional institutions."""
from __future__ import annotations

from hall.models import User


def seed_demo_evaluations(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
