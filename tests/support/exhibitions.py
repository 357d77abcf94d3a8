"""Test helpers of docking exhibitions, their entries, registrations and leads."""
from __future__ import annotations

from tests.support.orders import Market


def workspace_ids(market: Market) -> dict[str, int]:
    """The ids the web route inventory needs for this feature's workspace rules, made in ``market`` (the seller's
    institution owns them; see tests/support/web_routes.py)."""
    return {}
