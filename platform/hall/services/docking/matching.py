"""Matching demands and listings, with the reasons for each match (issue 12).

For a demand, the listings that fit come from the hall's own full-text index: the demand's words (title and
keywords first, then its description) are looked up as an any-word query, ranked by the index's relevance (bm25 on
SQLite, ts_rank on PostgreSQL), and joined by the published listings of the demand's fields that share no word with
it. Each candidate is then scored on what a buyer weighs, and each weight is a reason shown with the match:

* the words they share (the text score, relative to the best candidate),
* the field (the same field, or only the same direction),
* the TRL against the demand's window,
* the price against the budget (same currency; a negotiable price or budget is neither),
* the deal modes the listing offers and the demand accepts,
* the region (the same province).

For a listing, the demands it could answer come the same way from the demand hall's index
(``hall.services.docking.demand_hall``). Owners star or dismiss matches (``record_feedback``): a dismissed match is
not proposed again, a starred one comes first, and matches that resemble what the institution starred or dismissed
(the same listing or demand elsewhere, the same counterpart institution, the same field) move up or down.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hall.extensions import db
from hall.labels import state_word
from hall.library_messages import N_
from hall.models import HallIndexEntry, Listing, ListingVersion, MatchFeedback, User
from hall.models.demands import Demand
from hall.models.listings import DEAL_MODES
from hall.models.types import utcnow
from hall.money import money_text
from hall.search import ranked
from hall.search.tokenizer import query_terms
from hall.services.core import inbox
from hall.services.core.access import require_member
from hall.services.core.errors import InvalidInput, NotFound
from hall.services.publishing.hall import public_entries
from hall.services.trading.scope import field_label, territory_label

MAX_TERMS = 10  # words of a demand looked up in the index (its title and keywords first)
TEXT_CANDIDATES = 200  # best text matches scored in full
# Only the newest RANK_WINDOW text matches are ranked: an any-word query of common words can match most of the
# hall, and ranking every match costs seconds at 1M listings (hall.search.ranked).
RANK_WINDOW = 3000
FIELD_CANDIDATES = 50  # newest listings of the demand's fields that share no word with it
# A match is first about the topic (the words and the field), then about whether the deal can happen (TRL,
# budget, deal modes, region): score = topic × (½ + ½ × deal fit). A candidate whose topic is weaker than
# MIN_TOPIC (a stray shared word in another field) is not proposed at all.
TOPIC_WEIGHTS = {"terms": 0.65, "field": 0.35}
FIT_WEIGHTS = {"trl": 0.3, "budget": 0.3, "deal_modes": 0.3, "region": 0.1}
MIN_TOPIC = 0.2
REASON_ORDER = ("feedback", "terms", "field", "trl", "budget", "deal_modes", "region")
FEEDBACK_SHIFT = {"same": 0.3, "institution": 0.05, "field": 0.05}  # per resembling star (+) or dismissal (-)


@dataclass
class Reason:
    """One consideration behind a match: what it is, whether it speaks for the match, and a sentence (said only
    when shown: hundreds of candidates are weighed for the twenty presented)."""

    kind: str
    fits: bool
    say: Callable[[], str]
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The sentence, in the request's language."""
        return str(self.say())


@dataclass
class ListingMatch:
    """A published listing proposed for a demand."""

    listing_id: int
    entry: HallIndexEntry
    version: ListingVersion | None  # read for the matches shown
    score: float
    reasons: list[Reason]
    verdict: str | None = None


# --- the words ---------------------------------------------------------------------------------------------------

def demand_terms(demand: Demand | dict[str, Any]) -> list[str]:
    """The demand's search words: its titles and keywords first, then its description, at most MAX_TERMS."""
    get = demand.get if isinstance(demand, dict) else lambda name: getattr(demand, name)
    head = " ".join(filter(None, [get("title_zh"), get("title_en"), " ".join(get("keywords") or [])]))
    body = " ".join(filter(None, [get("description_zh"), get("description_en")]))
    terms = list(dict.fromkeys(query_terms(head) + query_terms(body)))
    return [term for term in terms if len(term) > 1][:MAX_TERMS]  # a single character says little


def readable_terms(demand: Demand, terms: Sequence[str]) -> list[str]:
    """The shared terms a person can read: Chinese words, and Latin ones as the demand writes them (the index
    stems Latin words — "batteri", "electrolyt" — which are not shown)."""
    text = " ".join(filter(None, [demand.title_zh, demand.title_en, demand.description_zh, demand.description_en,
                                  " ".join(demand.keywords or [])])).lower()
    words = set(re.findall(r"[a-z0-9]+", text))
    return [term for term in terms if not term.isascii() or term in words]


def shared_terms(terms: Sequence[str], tokens: str) -> list[str]:
    """The query ``terms`` found among an index row's ``tokens`` (a Latin term also as a prefix, as the index
    matches it)."""
    present = set(tokens.split())
    return [term for term in terms if term in present
            or (term.isascii() and any(token.startswith(term) for token in present))]


# --- the weights -------------------------------------------------------------------------------------------------

def field_reason(field_codes: Sequence[str], direction: str | None, entry_field: str | None,
                  entry_direction: str | None, lang: str) -> tuple[float, Reason]:
    if entry_field and entry_field in field_codes:
        return 1.0, Reason("field", True, lambda: _("Same field: %(field)s", field=field_label(entry_field)[lang]),
                           {"field_code": entry_field})
    if entry_direction and entry_direction == direction:
        return 0.5, Reason("field", True, lambda: _("Same direction: %(direction)s",
                                            direction=field_label(entry_direction)[lang]),
                           {"direction_code": entry_direction})
    return 0.0, Reason("field", False, lambda: _("Another field: %(field)s",
                                         field=field_label(entry_field or entry_direction)[lang]),
                       {"field_code": entry_field})


def trl_reason(trl: int | None, low: int | None, high: int | None) -> tuple[float, Reason | None]:
    if trl is None or (low is None and high is None):
        return 0.5, None
    low, high = low or 1, high or 9
    values = {"trl": trl, "trl_min": low, "trl_max": high}
    if low <= trl <= high:
        return 1.0, Reason("trl", True, lambda: _("TRL %(trl)s is within the wanted %(low)s–%(high)s", trl=trl, low=low,
                                          high=high), values)
    gap = low - trl if trl < low else trl - high
    return max(0.0, 1.0 - gap / 3), Reason("trl", False, lambda: _("TRL %(trl)s is outside the wanted %(low)s–%(high)s",
                                                           trl=trl, low=low, high=high), values)


def budget_reason(price_mode: str | None, price: int | None, price_currency: str, budget_max: int | None,
                   budget_currency: str, negotiable: bool) -> tuple[float, Reason | None]:
    money = money_text
    if price_mode == "negotiable" or price is None:
        return 0.5, Reason("budget", True, lambda: _("The price is to be negotiated"), {})
    if budget_max is None or negotiable:
        return 0.5, None
    if price_currency != budget_currency:
        return 0.3, Reason("budget", False, lambda: _("Priced in %(currency)s, the budget is in %(budget_currency)s",
                                              currency=price_currency, budget_currency=budget_currency), {})
    values = {"price": price, "budget_max": budget_max, "currency": price_currency}
    if price <= budget_max:
        return 1.0, Reason("budget", True, lambda: _("The price %(price)s is within the budget of %(budget)s",
                                             price=money(price, price_currency),
                                             budget=money(budget_max, budget_currency)), values)
    return max(0.0, 1.0 - (price - budget_max) / budget_max) if budget_max else 0.0, Reason(
        "budget", False, lambda: _("The price %(price)s is above the budget of %(budget)s",
                           price=money(price, price_currency), budget=money(budget_max, budget_currency)), values)


def deal_reason(offered_mask: int, wanted: Sequence[str]) -> tuple[float, Reason | None]:
    if not wanted:
        return 0.5, None
    both = [mode for i, mode in enumerate(DEAL_MODES) if offered_mask & (1 << i) and mode in wanted]
    if both:
        return 1.0, Reason("deal_modes", True, lambda: _("Both sides accept %(modes)s",
                                                 modes="、".join(state_word(mode) for mode in both)),
                           {"deal_modes": both})
    return 0.0, Reason("deal_modes", False, lambda: _("None of the wanted deal modes is offered"), {"deal_modes": []})


def region_reason(region: str | None, other: str | None, lang: str) -> tuple[float, Reason | None]:
    if not region or not other or region[:2] != other[:2] or not region[:2].isdigit():
        return 0.0, None
    province = f"{region[:2]}0000"
    return 1.0, Reason("region", True,
                       lambda: _("Same province: %(province)s", province=territory_label(province)[lang]),
                       {"province": province})


# --- feedback ----------------------------------------------------------------------------------------------------

@dataclass
class Feedback:
    """An institution's verdicts on one side, and what they say about similar matches."""

    exact: dict[tuple[int, int], str]  # (demand id, listing id) → verdict
    items: dict[int, int]  # listing or demand id → +1 per star, -1 per dismissal (on any of the owner's matches)
    institutions: dict[int, int]  # counterpart institution → net verdicts
    fields: dict[str, int]  # field code → net verdicts


def institution_feedback(institution_id: int, side: str) -> Feedback:
    """Every verdict ``institution_id`` gave on ``side`` ("demand": judging listings; "listing": judging demands)."""
    feedback = Feedback({}, {}, {}, {})
    rows = db.session.execute(
        select(MatchFeedback.demand_id, MatchFeedback.listing_id, MatchFeedback.verdict, HallIndexEntry.institution_id,
               HallIndexEntry.field_code, Demand.institution_id, Demand.field_codes)
        .join(Demand, Demand.id == MatchFeedback.demand_id)
        .outerjoin(HallIndexEntry, HallIndexEntry.listing_id == MatchFeedback.listing_id)
        .where(MatchFeedback.institution_id == institution_id, MatchFeedback.side == side)).all()
    for demand_id, listing_id, verdict, listing_org, listing_field, demand_org, demand_fields in rows:
        sign = 1 if verdict == "star" else -1
        feedback.exact[(demand_id, listing_id)] = verdict
        other_id, other_org, fields = ((listing_id, listing_org, [listing_field]) if side == "demand"
                                       else (demand_id, demand_org, demand_fields or []))
        feedback.items[other_id] = feedback.items.get(other_id, 0) + sign
        if other_org is not None:
            feedback.institutions[other_org] = feedback.institutions.get(other_org, 0) + sign
        for code in fields:
            if code:
                feedback.fields[code] = feedback.fields.get(code, 0) + sign
    return feedback


def feedback_shift(feedback: Feedback, other_id: int, other_org: int, fields: Sequence[str | None]) -> float:
    """How much resembling verdicts move a candidate's score (never for the pair itself: that is ``exact``)."""
    shift = FEEDBACK_SHIFT["same"] * _sign(feedback.items.get(other_id, 0))
    shift += FEEDBACK_SHIFT["institution"] * _sign(feedback.institutions.get(other_org, 0))
    shift += FEEDBACK_SHIFT["field"] * sum(_sign(feedback.fields.get(code or "", 0)) for code in fields)
    return shift


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def record_feedback(actor: User, demand_id: int, listing_id: int, side: str, verdict: str | None) -> None:
    """Star or dismiss a match (``verdict`` None takes the verdict back). ``side`` "demand": the demand's owner judges
    the listing; "listing": the listing's owner judges the demand. Only the owner of that side may."""
    org = require_member(actor)
    if side not in ("demand", "listing"):
        raise InvalidInput.field("side", _("must be demand or listing"))
    if verdict not in (None, "star", "dismiss"):
        raise InvalidInput.field("verdict", _("must be star, dismiss or null"))
    demand = db.session.get(Demand, demand_id)
    listing = db.session.get(Listing, listing_id)
    owned = demand if side == "demand" else listing
    if demand is None or listing is None or owned is None or owned.institution_id != org.id:
        raise NotFound(_("No such match."))
    row = db.session.scalar(select(MatchFeedback).where(
        MatchFeedback.demand_id == demand_id, MatchFeedback.listing_id == listing_id, MatchFeedback.side == side))
    if verdict is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(MatchFeedback(demand_id=demand_id, listing_id=listing_id, side=side, institution_id=org.id,
                                     user_id=actor.id, verdict=verdict))
    else:
        row.verdict, row.user_id, row.updated_at = verdict, actor.id, utcnow()
    db.session.flush()


# --- a demand's listings -------------------------------------------------------------------------------------------

def _candidates(demand: Demand, terms: list[str]) -> list[tuple[int, float | None]]:
    """(listing id, text score) of the best text matches, then the newest listings of the demand's fields. (The
    demand's own institution is left out when the entries are read: a condition here would stop SQLite from
    ranking only the window.)"""
    h = HallIndexEntry
    others = [h.institution_id != demand.institution_id]
    found: list[tuple[int, float | None]] = list(
        ranked(terms, "any", [], TEXT_CANDIDATES, 0, window=RANK_WINDOW) if terms else [])
    seen = {listing_id for listing_id, _score in found}
    fields = list(demand.field_codes or [])
    by_field = h.field_code.in_(fields) if fields else h.direction_code == demand.direction_code
    if fields or demand.direction_code:
        for listing_id in db.session.scalars(select(h.listing_id).where(by_field, *others)
                                             .order_by(h.listing_id.desc()).limit(FIELD_CANDIDATES)):
            if listing_id not in seen:
                found.append((listing_id, None))
    return found


def lang() -> str:
    """The request's language as the taxonomy and region tables name it (zh or en)."""
    return "en" if str(get_locale()) == "en" else "zh"


def score_listing(demand: Demand, terms: list[str], entry: HallIndexEntry, text_score: float | None,
                  best: float) -> tuple[float, list[Reason]]:
    """A listing's score for a demand (0..1 before feedback; 0 when the topic is too weak to propose it) and the
    reasons, those for the match first."""
    return score_pair(demand, entry, terms, entry.text_tokens, text_score, best)


def score_pair(demand: Demand, entry: HallIndexEntry, terms: list[str], other_tokens: str, text_score: float | None,
               best: float) -> tuple[float, list[Reason]]:
    """A demand and a listing's index entry weighed against each other, whichever side asked: ``terms`` are the
    asking side's words, ``other_tokens`` the other side's indexed text, ``text_score`` its relevance (``best``
    the best candidate's)."""
    language = lang()
    reasons: list[Reason] = []
    shared = shared_terms(terms, other_tokens)
    if shared:
        shown = readable_terms(demand, shared)
        reasons.append(Reason("terms", True, lambda: _("Shares the words %(terms)s", terms="、".join(shown[:8])),
                              {"terms": shared}))
    weights = {"terms": (text_score or 0.0) / best if best > 0 and text_score else 0.0}
    weights["field"], reason = field_reason(demand.field_codes or [], demand.direction_code, entry.field_code,
                                            entry.direction_code, language)
    reasons.append(reason)
    for kind, (weight, maybe) in (
            ("trl", trl_reason(entry.trl, demand.trl_min, demand.trl_max)),
            ("budget", budget_reason(entry.price_mode, entry.price_amount, entry.currency, demand.budget_max,
                                     demand.currency, demand.budget_negotiable)),
            ("deal_modes", deal_reason(entry.deal_modes_mask, demand.deal_modes or [])),
            ("region", region_reason(demand.region_code, entry.region_code, language))):
        weights[kind] = weight
        if maybe is not None:
            reasons.append(maybe)
    reasons.sort(key=lambda r: (not r.fits, REASON_ORDER.index(r.kind)))
    return combined(weights), reasons


def combined(weights: dict[str, float]) -> float:
    """The topic's strength times how well the deal fits; 0 below MIN_TOPIC."""
    topic = sum(TOPIC_WEIGHTS[kind] * weights[kind] for kind in TOPIC_WEIGHTS)
    if topic < MIN_TOPIC:
        return 0.0
    return topic * (0.5 + 0.5 * sum(FIT_WEIGHTS[kind] * weights[kind] for kind in FIT_WEIGHTS))


def listings_for_demand(actor: User, demand_id: int, *, limit: int = 20) -> list[ListingMatch]:
    """The published listings that fit the actor's institution's demand, best first, each with its reasons.
    Dismissed matches are left out; starred ones come first."""
    org = require_member(actor)
    demand = db.session.get(Demand, demand_id)
    if demand is None or demand.institution_id != org.id:
        raise NotFound(_("No such demand."))
    return match_demand(demand, limit=limit)


def match_demand(demand: Demand, *, limit: int = 20) -> list[ListingMatch]:
    """The matches of any demand (no access check: the caller has done it, or it is the platform's own job)."""
    terms = demand_terms(demand)
    candidates = _candidates(demand, terms)
    best = max((score for _id, score in candidates if score), default=0.0)
    feedback = institution_feedback(demand.institution_id, "demand")
    entries = public_entries([listing_id for listing_id, _score in candidates], with_text=True)
    matches = []
    for listing_id, text_score in candidates:
        entry = entries.get(listing_id)
        if entry is None or entry.institution_id == demand.institution_id:
            continue
        verdict = feedback.exact.get((demand.id, entry.listing_id))
        if verdict == "dismiss":
            continue
        score, reasons = score_listing(demand, terms, entry, text_score, best)
        if score <= 0 and verdict != "star":
            continue
        score += feedback_shift(feedback, entry.listing_id, entry.institution_id, [entry.field_code])
        if verdict == "star":
            score += 1.0
            reasons.insert(0, Reason("feedback", True, lambda: _("You starred this match"), {}))
        matches.append(ListingMatch(entry.listing_id, entry, None, round(score, 4), reasons, verdict))
    matches.sort(key=lambda m: (-m.score, -m.listing_id))
    shown = matches[:limit]
    versions = {v.id: v for v in db.session.scalars(select(ListingVersion).where(
        ListingVersion.id.in_([m.entry.version_id for m in shown])))} if shown else {}
    for match in shown:
        match.version = versions[match.entry.version_id]
    return shown


ANNOUNCED_MATCHES = 5  # listings whose institutions hear of a newly published demand


def announce_matches(demand: Demand) -> int:
    """A demand has just been published: the institutions of its best-fitting listings hear of it (group
    "matches"), and so does the demand's own institution, with how many listings fit. Returns how many people
    were told."""
    found = match_demand(demand, limit=ANNOUNCED_MATCHES)
    if not found:
        return 0
    told = 0
    for match in found:
        version = match.version
        listing_title = (version.title_zh or version.title_en or "") if version is not None else ""
        told += inbox.notify(
            "match.demand_published", group="matches", institution_id=match.entry.institution_id,
            title=N_("A new demand may fit “%(listing)s”"),
            body=N_("The demand “%(demand)s” was just published and fits your listing “%(listing)s”. Open the "
                    "listing's matches to see why, or answer the demand."),
            params={"demand": demand.title_zh or demand.title_en or "", "listing": listing_title},
            link=f"/workspace/listings/{match.listing_id}")
    told += inbox.notify(
        "match.listings_found", group="matches", institution_id=demand.institution_id,
        title=N_("%(count)s listings fit your demand “%(demand)s”"),
        body=N_("Your demand “%(demand)s” is published; %(count)s listings in the hall fit it. Open the demand to "
                "see them with their reasons, and star or dismiss them."),
        params={"demand": demand.title_zh or demand.title_en or "", "count": len(found)},
        link=f"/workspace/demands/{demand.id}")
    return told
