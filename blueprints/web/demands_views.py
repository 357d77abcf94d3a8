"""Helpers of the public demand hall (blueprints/web/demands_public.py): links that keep the other filters, the
facets and the filters in force in words, the zero-result help, the cards. What is public and what matches is
``hall.services.docking.demand_hall``'s to say; the query string is checked by the API's schema."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from blueprints.api.demands import FILTER_KEYS
from blueprints.display import region_name
from blueprints.web.public_views import PARAM_WORDS, lang, org_name, province_name, trl_words
from hall.i18n import money
from hall.models.listings import DEAL_MODES
from hall.services.docking import demand_hall
from hall.services.docking.demand_hall import DemandFilter
from hall.services.publishing import hall_pages
from schemas.demands import present_demand

PARAMS = (*FILTER_KEYS, "institution")
SORTS = (("relevance", _l("Best match")), ("newest", _l("Newest")), ("deadline", _l("Closing soonest")),
         ("budget_desc", _l("Budget: high to low")), ("budget_asc", _l("Budget: low to high")))
WORDS = {**PARAM_WORDS, "budget_min": _l("Budget"), "budget_max": _l("Budget"), "negotiable": _l("Negotiable budget"),
         "has_bounty": _l("Bounty for the solver"), "closes_before": _l("Closes by")}
# Budget windows offered as links (fen): up to ¥100,000, ¥100,000–1,000,000, ¥1–10 million, above ¥10 million.
BUDGETS = ((None, 10_000_000), (10_000_000, 100_000_000), (100_000_000, 1_000_000_000), (1_000_000_000, None))
TRL_WINDOWS = ((1, 3), (4, 6), (7, 9))
JOINED = {"trl_max": "trl_min", "budget_max": "budget_min"}  # the upper bound is shown with the lower one


@dataclass
class Choice:
    """One value of a facet: its words, how many demands it has (None when not counted), its link, whether on."""

    label: str
    count: int | None
    url: str
    active: bool = False


@dataclass
class Facet:
    """A facet with its values, and the link that removes it when one is on."""

    name: str
    label: str
    items: list[Choice] = field(default_factory=list)
    remove_url: str | None = None

    @property
    def active(self) -> bool:
        """True when one of its values is in force."""
        return any(item.active for item in self.items)


def demand_filter(args: dict[str, Any]) -> DemandFilter:
    """The service's filter from checked arguments (as the API builds it)."""
    return DemandFilter(institution_id=args.get("institution"), **{key: args.get(key) for key in FILTER_KEYS})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def params_of(args: dict[str, Any]) -> dict[str, str]:
    """The filters in force as query parameters, in ``PARAMS`` order."""
    return {name: _text(args[name]) for name in PARAMS if args.get(name) not in (None, "")}


def hall_url(params: dict[str, str], changes: dict[str, Any] | None = None, *, sort: str | None = None,
             page: int = 1) -> str:
    """The demand hall with ``params`` changed by ``changes`` (None removes one), on ``page``, sorted by ``sort``."""
    merged = dict(params)
    for name, value in (changes or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = _text(value)
    ordered = {name: merged[name] for name in PARAMS if name in merged}
    if sort and sort != "relevance":
        ordered["sort"] = sort
    if page > 1:
        ordered["page"] = str(page)
    return url_for("web.demands") + (f"?{urlencode(ordered)}" if ordered else "")


def budget_words(low: int | None, high: int | None, currency: str | None = None) -> str:
    """A budget window in words: ¥100,000.00–¥1,000,000.00, up to ¥100,000.00, from ¥10,000,000.00."""
    currency = currency or "CNY"
    if low is not None and high is not None:
        return f"{money(low, currency)}–{money(high, currency)}"
    if high is not None:
        return _("up to %(amount)s", amount=money(high, currency))
    return _("from %(amount)s", amount=money(low, currency)) if low is not None else "—"


def demand_budget(demand: Any) -> str:
    """A demand's budget in words: 面议 (negotiable), its range, or a dash."""
    if demand.budget_negotiable:
        return _("negotiable")
    return budget_words(demand.budget_min, demand.budget_max, demand.currency)


def _words(name: str, args: dict[str, Any], names: dict[str, tuple[int, str]]) -> str:
    value: Any = args[name]
    if name in ("direction", "field"):
        return names.get(value, (0, _("Unknown field")))[1]
    if name == "region":
        return region_name(value)
    if name in ("trl_min", "trl_max"):
        return trl_words(args)
    if name in ("budget_min", "budget_max"):
        return budget_words(args.get("budget_min"), args.get("budget_max"), args.get("currency"))
    if name in ("negotiable", "has_bounty"):
        return _("yes") if value else _("no")
    if name == "deal_mode":
        return _(value)
    if name == "institution":
        return org_name(hall_pages.institution_names([value]).get(value))
    return _text(value)


def in_force(args: dict[str, Any], names: dict[str, tuple[int, str]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(what, value in words, the changes that remove it) for every filter in force (a window counts once)."""
    params = params_of(args)
    found = []
    for name in PARAMS:
        if name not in params or (name in JOINED and JOINED[name] in params):
            continue
        pair = next((p for p in JOINED.items() if name in p), None)
        removal: dict[str, Any] = dict.fromkeys(pair, None) if pair else {name: None}
        what = str(_("TRL")) if name.startswith("trl") else str(WORDS.get(name, name))
        found.append((what, _words(name, args, names), removal))
    return found


def active_filters(args: dict[str, Any], names: dict[str, tuple[int, str]]) -> list[tuple[str, str, str]]:
    """(what, value in words, link without it) for every filter in force."""
    params = params_of(args)
    return [(what, words, hall_url(params, removal, sort=args.get("sort")))
            for what, words, removal in in_force(args, names)]


def facets(counts: dict[str, dict[str, int]], args: dict[str, Any],
           names: dict[str, tuple[int, str]]) -> list[Facet]:
    """Every facet of GET /api/v1/demands/hall as links in words: the counted ones (direction, field, province,
    deal mode) and the windows (TRL, budget), the bounty and the negotiable budget."""
    params = params_of(args)
    sort = args.get("sort")

    def link(changes: dict[str, Any], active: bool) -> str:
        return hall_url(params, {k: None for k in changes} if active else changes, sort=sort)

    def counted(facet: str, param: str, label: Any, order: list[str], words: Any, to_value: Any = None) -> Facet:
        values = counts.get(facet, {})
        built = Facet(param, str(label))
        for code in [c for c in order if c in values] + sorted(c for c in values if c not in order):
            value = to_value(code) if to_value else code
            active = params.get(param) == value
            changes: dict[str, Any] = {param: value}
            if param == "direction":
                changes["field"] = None
            url = hall_url(params, {param: None} if active else changes, sort=sort)
            built.items.append(Choice(words(code), values[code], url, active))
        if param in params:
            built.remove_url = hall_url(params, {param: None}, sort=sort)
        return built

    def windows(name: str, label: Any, low: str, high: str, choices: Any, words: Any) -> Facet:
        built = Facet(name, str(label))
        for lo, hi in choices:
            active = args.get(low) == lo and args.get(high) == hi
            built.items.append(Choice(words(lo, hi), None, link({low: lo, high: hi}, active), active))
        if low in params or high in params:
            built.remove_url = hall_url(params, {low: None, high: None}, sort=sort)
        return built

    def yes_no(name: str, label: Any) -> Facet:
        built = Facet(name, str(label))
        for value in (True, False):
            active = args.get(name) is value
            built.items.append(Choice(_("yes") if value else _("no"), None, link({name: value}, active), active))
        if name in params:
            built.remove_url = hall_url(params, {name: None}, sort=sort)
        return built

    by_place = sorted(names, key=lambda code: names[code][0])
    province_order = sorted(counts.get("province", {}), key=lambda c: -counts["province"][c])
    groups = [
        counted("direction_code", "direction", _l("Direction"), by_place, lambda c: names.get(c, (0, c))[1]),
        counted("field_code", "field", _l("Field"), by_place, lambda c: names.get(c, (0, c))[1]),
        windows("trl", "TRL", "trl_min", "trl_max", TRL_WINDOWS, lambda lo, hi: f"TRL {lo}–{hi}"),
        windows("budget", _l("Budget"), "budget_min", "budget_max", BUDGETS,
                lambda lo, hi: budget_words(lo, hi, args.get("currency"))),
        yes_no("has_bounty", WORDS["has_bounty"]),
        yes_no("negotiable", WORDS["negotiable"]),
        counted("deal_mode", "deal_mode", _l("Deal mode"), list(DEAL_MODES), _),
        counted("province", "region", _l("Region"), province_order, lambda c: region_name(f"{c}0000"),
                lambda c: f"{c}0000"),
    ]
    return [g for g in groups if g.items or g.remove_url]


def relaxations(args: dict[str, Any], names: dict[str, tuple[int, str]]) -> list[tuple[str, str, int]]:
    """For a search with no results: each filter to remove (in words, its link, how many demands that finds), then
    the words alone; the ones that find something, if any do."""
    params = params_of(args)
    found = []
    for (what, words, removal), (_w, _v, url) in zip(in_force(args, names), active_filters(args, names)):
        found.append((_("Without %(what)s: %(value)s", what=what, value=words), url,
                      _count({**args, **removal})))
    if args.get("q") and len(params) > 1:
        found.append((_("Only the words “%(q)s”, without filters", q=args["q"]), hall_url({"q": args["q"]}),
                      _count({"q": args["q"]})))
    return [entry for entry in found if entry[2] > 0] or found


def _count(args: dict[str, Any]) -> int:
    return demand_hall.search_demands(demand_filter(args), per_page=1, with_facets=False).total


def cards(rows: list[tuple[Any, float | None]], terms: list[str] | None = None) -> list[dict[str, Any]]:
    """Demands as the cards the templates show: the text in the page's language (highlighted when there are
    terms), the budget, the bounty and the province in words."""
    items = []
    for demand, score in rows:
        item = present_demand(demand, lang(), terms, score)
        item.update(budget=demand_budget(demand), province=province_name(demand.region_code),
                    bounty=money(demand.bounty_amount, demand.currency) if demand.bounty_amount else None,
                    institution_name=org_name(demand.institution))
        items.append(item)
    return items
