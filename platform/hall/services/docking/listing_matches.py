"""The demands a published listing could answer (issue 12): the other way round from
``hall.services.docking.matching``, from the demand hall's full-text index, with the same reasons and weights."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from hall.extensions import db
from hall.library_messages import N_
from hall.models import HallIndexEntry, Listing, ListingVersion, User
from hall.models.demands import Demand, DemandIndexEntry, DemandIndexField
from hall.search.demands import ranked_demands
from hall.search.tokenizer import query_terms
from hall.services.core import announcements, inbox
from hall.services.core.access import require_member
from hall.services.core.errors import NotFound
from hall.services.docking.demand_hall import public_demand_conditions, public_demand_rows
from hall.services.docking.matching import (
    MAX_TERMS,
    Reason,
    feedback_shift,
    institution_feedback,
    score_pair,
)

TEXT_CANDIDATES = 200
FIELD_CANDIDATES = 50


@dataclass
class DemandMatch:
    """A published demand proposed for a listing."""

    demand_id: int
    demand: Demand
    score: float
    reasons: list[Reason]
    verdict: str | None = None


def listing_terms(version: ListingVersion) -> list[str]:
    """The listing's search words: its titles and keywords first, then its summary, at most MAX_TERMS."""
    head = " ".join(filter(None, [version.title_zh, version.title_en, " ".join(version.keywords or [])]))
    body = " ".join(filter(None, [version.summary_zh, version.summary_en]))
    terms = list(dict.fromkeys(query_terms(head) + query_terms(body)))
    return [term for term in terms if len(term) > 1 or not term.isascii()][:MAX_TERMS]


def _candidates(entry: HallIndexEntry, terms: list[str]) -> list[tuple[int, float | None]]:
    d = DemandIndexEntry
    others = [d.institution_id != entry.institution_id, *public_demand_conditions()]
    found: list[tuple[int, float | None]] = list(ranked_demands(terms, "any", others, TEXT_CANDIDATES, 0)
                                                 if terms else [])
    seen = {demand_id for demand_id, _score in found}
    in_field = select(DemandIndexField.demand_id).where(DemandIndexField.field_code == entry.field_code)
    by_field = d.demand_id.in_(in_field) if entry.field_code else d.direction_code == entry.direction_code
    for demand_id in db.session.scalars(select(d.demand_id).where(by_field, *others)
                                        .order_by(d.demand_id.desc()).limit(FIELD_CANDIDATES)):
        if demand_id not in seen:
            found.append((demand_id, None))
    return found


def demands_for_listing(actor: User, listing_id: int, *, limit: int = 20) -> list[DemandMatch]:
    """The published demands the actor's institution's published listing could answer, best first, with their
    reasons; dismissed ones left out, starred ones first. A listing that is not in the hall has none."""
    org = require_member(actor)
    listing = db.session.get(Listing, listing_id)
    if listing is None or listing.institution_id != org.id:
        raise NotFound(_("No such listing."))
    entry = db.session.get(HallIndexEntry, listing_id)
    if entry is None or listing.published_version is None:
        return []
    return match_listing(entry, listing.published_version, limit=limit)


def match_listing(entry: HallIndexEntry, version: ListingVersion, *, limit: int = 20) -> list[DemandMatch]:
    """The matches of any indexed listing (no access check: the caller has done it)."""
    terms = listing_terms(version)
    candidates = _candidates(entry, terms)
    best = max((score for _id, score in candidates if score), default=0.0)
    indexes = {row.demand_id: row for row in db.session.scalars(select(DemandIndexEntry).where(
        DemandIndexEntry.demand_id.in_([demand_id for demand_id, _score in candidates])))} if candidates else {}
    feedback = institution_feedback(entry.institution_id, "listing")
    matches = []
    for demand, text_score in public_demand_rows(candidates):
        verdict = feedback.exact.get((demand.id, entry.listing_id))
        if verdict == "dismiss":
            continue
        index = indexes.get(demand.id)
        tokens = f"{index.title_tokens} {index.body_tokens}" if index is not None else ""
        score, reasons = score_pair(demand, entry, terms, tokens, text_score, best)
        if score <= 0 and verdict != "star":
            continue
        score += feedback_shift(feedback, demand.id, demand.institution_id, demand.field_codes or [])
        if verdict == "star":
            score += 1.0
            reasons.insert(0, Reason("feedback", True, lambda: _("You starred this match"), {}))
        matches.append(DemandMatch(demand.id, demand, round(score, 4), reasons, verdict))
    matches.sort(key=lambda m: (-m.score, -m.demand_id))
    return matches[:limit]



ANNOUNCED_MATCHES = 5  # demands whose institutions hear of a newly published listing


def announce_listing_matches(listing: Listing) -> int:
    """A listing has just been published: the institutions of the open demands it fits best hear of it (group
    "matches"), and so does the listing's own institution, with how many demands it could answer. Returns how many
    people were told."""
    entry = db.session.get(HallIndexEntry, listing.id)
    version = listing.published_version
    if entry is None or version is None:
        return 0
    found = match_listing(entry, version, limit=ANNOUNCED_MATCHES)
    if not found:
        return 0
    title = version.title_zh or version.title_en or ""
    told = 0
    for match in found:
        told += inbox.notify(
            "match.listing_published", group="matches", institution_id=match.demand.institution_id,
            title=N_("A new listing may answer “%(demand)s”"),
            body=N_("“%(listing)s” was just published in the hall and fits your demand “%(demand)s”. Open the "
                    "demand's matches to see why, or ask its institution."),
            params={"listing": title, "demand": match.demand.title_zh or match.demand.title_en or ""},
            link=f"/workspace/demands/{match.demand_id}")
    told += inbox.notify(
        "match.demands_found", group="matches", institution_id=listing.institution_id,
        title=N_("Your listing “%(listing)s” could answer %(count)s demands"),
        body=N_("“%(listing)s” is published; %(count)s open demands in the demand hall fit it. Open the listing to "
                "see them with their reasons."),
        params={"listing": title, "count": len(found)}, link=f"/workspace/listings/{listing.id}")
    return told


announcements.subscribe("listing.published", announce_listing_matches)
