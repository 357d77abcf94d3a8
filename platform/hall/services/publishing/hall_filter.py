"""What a visitor asks the hall for: the filter of a search (``hall.services.publishing.hall.search_hall``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HallFilter:
    """What a visitor asks the hall for (all optional)."""

    q: str | None = None
    kind: str | None = None
    direction: str | None = None
    field: str | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    deal_mode: str | None = None
    price_mode: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    currency: str | None = None
    region: str | None = None
    institution_id: int | None = None
    product_kind: str | None = None
    recognition_level: str | None = None
    state_funded: bool | None = None


def region_prefix(code: str) -> str:
    """A province (110000) or city (110100) code covers every code under it; a county code is exact."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code
