"""Leads of docking exhibitions: an enquiry (docking floor) or an order (this floor) started from an exhibition
page names the exhibition, and is counted for it. The check lives here, on the lowest floor that needs it, and reads
the exhibition models only (the exhibition workflows themselves are on the policy floor)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from hall.extensions import db
from hall.models.exhibitions import Exhibition, ExhibitionEntry
from hall.services.core.errors import InvalidInput


def check_lead(exhibition_id: int | None, *, listing_id: int | None = None,
               demand_id: int | None = None) -> int | None:
    """The exhibition id to record on a new thread or order, or None when none was named; 422 naming
    ``exhibition_id`` unless the exhibition is published (not a draft, not cancelled) and the listing (or demand)
    has an accepted entry in it."""
    if exhibition_id is None:
        return None
    exhibition = db.session.get(Exhibition, exhibition_id)
    if exhibition is None or exhibition.status != "published":
        raise InvalidInput.field("exhibition_id", _("no published exhibition has this id"))
    subject = (ExhibitionEntry.listing_id == listing_id if listing_id is not None
               else ExhibitionEntry.demand_id == demand_id)
    accepted = db.session.scalar(select(ExhibitionEntry.id).where(
        ExhibitionEntry.exhibition_id == exhibition.id, subject, ExhibitionEntry.status == "accepted"))
    if accepted is None:
        raise InvalidInput.field("exhibition_id", _("this is not on the exhibition's roadshow"))
    return exhibition.id
