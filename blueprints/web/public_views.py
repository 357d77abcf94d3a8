"""Helpers of the public pages (blueprints/web/public.py): the query string checked by the API's schemas, search
links that keep the other filters, facets and active filters in words, result cards, canonical addresses and the
caching headers. No business rule lives here: what is public and what matches is the services' to say."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, make_response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError

from blueprints.api.hall import FILTER_KEYS
from blueprints.display import region_name
from hall.i18n import money
from hall.models import HallIndexEntry, ListingVersion
from hall.models.listings import DEAL_MODES, LISTING_KINDS, PRICE_MODES, PRODUCT_KINDS, RECOGNITION_LEVELS
from hall.services.publishing import hall, hall_pages
from hall.services.publishing.hall import HallFilter
from schemas.hall import present_version

# The parameters of a search, in the one order links and canonical addresses use; `institution` is the API's name.
FILTER_PARAMS = ("q", "kind", "direction", "field", "region", "trl_min", "trl_max", "deal_mode", "price_mode",
                 "price_min", "price_max", "currency", "product_kind", "recognition_level", "state_funded",
                 "institution")
# Parameters that say where a visitor came from: dropped before the query is checked and from canonical addresses.
TRACKING = re.compile(r"^(utm_[a-z_]+|gclid|fbclid|msclkid|yclid|spm|from|share_token|_hsenc|_hsmi|mc_[ce]id)$")
# The policy the admin console uses: this site's own styles and images, no scripts, forms only to this site.
SORTS = (("relevance", _l("Best match")), ("newest", _l("Newest")), ("price_asc", _l("Price: low to high")),
         ("price_desc", _l("Price: high to low")))
PARAM_WORDS = {
    "q": _l("Search words"), "kind": _l("Kind"), "direction": _l("Direction"), "field": _l("Field"),
    "region": _l("Region"), "trl_min": _l("Lowest TRL"), "trl_max": _l("Highest TRL"), "deal_mode": _l("Deal mode"),
    "price_mode": _l("Price"),
    "price_min": _l("Lowest price"), "price_max": _l("Highest price"), "currency": _l("Currency"),
    "product_kind": _l("Product kind"), "recognition_level": _l("Recognition level"),
    "state_funded": _l("State funded"), "institution": _l("Institution"), "sort": _l("Sort"), "page": _l("Page"),
    "per_page": _l("Results per page"), "facets": _l("Facets"), "lang": _l("Language"),
}
assert set(FILTER_PARAMS) == set(FILTER_KEYS) | {"institution"}  # the API's filters, every one


class BadQuery(Exception):
    """The query string breaks the API's schema: parameter name → messages."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("bad query string")
        self.errors = errors


@dataclass
class FacetItem:
    """One value of a facet: its words, how many results it has, the link that applies it, whether it is on."""

    label: str
    count: int
    url: str
    active: bool = False


@dataclass
class FacetGroup:
    """A facet with its values, and the link that removes it when one is on."""

    name: str
    label: str
    items: list[FacetItem] = field(default_factory=list)
    remove_url: str | None = None

    @property
    def active(self) -> bool:
        """True when one of its values is the current filter."""
        return any(item.active for item in self.items)


def lang() -> str:
    """The language of the page's text: ``en`` or ``zh`` (the services' codes)."""
    return "en" if str(get_locale()) == "en" else "zh"


def load_query(schema: Schema) -> dict[str, Any]:
    """The query string checked by ``schema`` (the API's), tracking parameters and empty values left out; a
    parameter the schema refuses (unknown, malformed, out of range) raises ``BadQuery``."""
    raw = {key: value for key, value in request.args.items() if value.strip() and not TRACKING.match(key)}
    try:
        return dict(schema.load(raw))
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"query": error.messages}
        raise BadQuery(messages) from None


def hall_filter(args: dict[str, Any]) -> HallFilter:
    """The service's filter from checked arguments (as the API builds it)."""
    return HallFilter(institution_id=args.get("institution"), **{key: args.get(key) for key in FILTER_KEYS})


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def search_params(args: dict[str, Any]) -> dict[str, str]:
    """The filters in force as query parameters, in ``FILTER_PARAMS`` order (sort, page and size left out)."""
    return {name: _text(args[name]) for name in FILTER_PARAMS if args.get(name) not in (None, "")}


def search_url(params: dict[str, str], changes: dict[str, Any] | None = None, *, sort: str | None = None,
               page: int = 1) -> str:
    """The search page with ``params`` changed by ``changes`` (None removes one), on ``page``, sorted by ``sort``."""
    merged = dict(params)
    for name, value in (changes or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = _text(value)
    ordered = {name: merged[name] for name in FILTER_PARAMS if name in merged}
    if sort and sort != "relevance":
        ordered["sort"] = sort
    if page > 1:
        ordered["page"] = str(page)
    return url_for("web.search") + (f"?{urlencode(ordered)}" if ordered else "")


def absolute(path: str, params: dict[str, str] | None = None) -> str:
    """``path`` on the public site (PUBLIC_BASE_URL), with ``params`` in their given order."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return base + path + (f"?{urlencode(params)}" if params else "")


def canonical(endpoint: str, page: int = 1, params: dict[str, str] | None = None, **values: Any) -> str:
    """The canonical address of a page: the site's base, the path, the filters in their stable order, the page."""
    query = dict(params or {})
    if page > 1:
        query["page"] = str(page)
    return absolute(url_for(endpoint, **values), query)


def pages_of(total: int, per_page: int) -> int:
    """How many pages ``total`` results fill (at least one)."""
    return max(1, -(-total // per_page))


def render_page(template: str, http_status: int = 200, **context: Any) -> Response:
    """Render a public page. A page that answered 200 may be cached for a minute by anyone when the visitor is
    anonymous, by the browser only when someone is signed in; it varies by language and session."""
    response = make_response(render_template(template, **context), http_status)
    if http_status == 200:
        signed_in = bool(current_user.is_authenticated)
        response.headers["Cache-Control"] = "private, no-cache" if signed_in else "public, max-age=60"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


# --- words for codes ----------------------------------------------------------------------------------------------

def taxonomy_index() -> dict[str, tuple[int, str]]:
    """Every direction and field code → (its place in the published order, its name in the page's language)."""
    names: dict[str, tuple[int, str]] = {}
    for d_index, direction in enumerate(hall.taxonomy()):
        names[direction.code] = (d_index * 1000, direction.name_en if lang() == "en" else direction.name_zh)
        for f_index, item in enumerate(direction.fields):
            names[item.code] = (d_index * 1000 + f_index + 1, item.name_en if lang() == "en" else item.name_zh)
    return names


def province_name(code: str | None) -> str | None:
    """The province (or municipality) a region code lies in, by name; the region list names no smaller division."""
    return region_name(f"{code[:2]}0000") if code else None


def price_text(price_mode: str | None, amount: int | None, currency: str) -> str:
    """A listing's price in words: negotiable (面议), a starting price, a fixed price, or a dash."""
    if price_mode == "negotiable":
        return _("negotiable")
    if amount is None:
        return "—"
    return f"{_('starting')} {money(amount, currency)}" if price_mode == "starting" else money(amount, currency)


def org_name(org: Any) -> str:
    """An institution's name in the page's language (the Chinese name when there is no English one)."""
    if org is None:
        return "—"
    return str(org.name_en) if lang() == "en" and org.name_en else str(org.name_zh)


def trl_words(args: dict[str, Any]) -> str:
    """The TRL filter in words: TRL 5, TRL 3–6, TRL ≥ 4, TRL ≤ 6."""
    low, high = args.get("trl_min"), args.get("trl_max")
    if low is not None and low == high:
        return f"TRL {low}"
    if low is not None and high is not None:
        return f"TRL {low}–{high}"
    return f"TRL ≥ {low}" if low is not None else f"TRL ≤ {high}"


def value_words(name: str, value: Any, names: dict[str, tuple[int, str]], args: dict[str, Any]) -> str:
    """A filter's value in words (never its code)."""
    if name in ("direction", "field"):
        return names.get(value, (0, _("Unknown field")))[1]
    if name == "region":
        return region_name(value)
    if name == "state_funded":
        return _("yes") if value else _("no")
    if name in ("price_min", "price_max"):
        return money(value, args.get("currency") or "CNY")
    if name == "institution":
        return org_name(hall_pages.institution_names([value]).get(value)) if value else "—"
    if name in ("kind", "deal_mode", "product_kind", "recognition_level"):
        return _(value)
    return str(value)


def _in_force(params: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Each filter in force once (the two TRL bounds are one): (its name, the changes that remove it)."""
    found = []
    for name in FILTER_PARAMS:
        if name not in params or (name == "trl_max" and "trl_min" in params):
            continue
        found.append((name, {"trl_min": None, "trl_max": None} if name in ("trl_min", "trl_max") else {name: None}))
    return found


def active_filters(args: dict[str, Any], names: dict[str, tuple[int, str]]) -> list[tuple[str, str, str]]:
    """(what, value in words, link without it) for every filter in force."""
    params = search_params(args)
    found = []
    for name, removal in _in_force(params):
        if name in ("trl_min", "trl_max"):
            what, words = str(_("TRL")), trl_words(args)
        else:
            what, words = str(PARAM_WORDS[name]), value_words(name, args[name], names, args)
        found.append((what, words, search_url(params, removal, sort=args.get("sort"))))
    return found


# --- facets -------------------------------------------------------------------------------------------------------

def facet_groups(counts: dict[str, dict[str, int]], args: dict[str, Any],
                 names: dict[str, tuple[int, str]]) -> list[FacetGroup]:
    """The facets of a search as links that add (or, when on, remove) one filter, with readable labels."""
    params = search_params(args)
    sort = args.get("sort")

    def group(facet: str, param: str, label: Any, order: list[str], words: Any, to_value: Any = None,
              is_active: Any = None) -> FacetGroup:
        values = counts.get(facet, {})
        built = FacetGroup(param, str(label))
        for code in [c for c in order if c in values] + sorted(c for c in values if c not in order):
            value = to_value(code) if to_value else code
            active = is_active(code) if is_active else params.get(param) == _text(value)
            changes: dict[str, Any] = {param: None if active else value}
            if param == "direction":
                changes["field"] = None  # a field of another direction would match nothing
            built.items.append(FacetItem(words(code), values[code], search_url(params, changes, sort=sort), active))
        if param in params:
            built.remove_url = search_url(params, {param: None}, sort=sort)
        return built

    by_place = sorted(names, key=lambda code: names[code][0])
    groups = [
        group("kind", "kind", _l("Kind"), list(LISTING_KINDS), _),
        group("direction_code", "direction", _l("Direction"), by_place, lambda c: names.get(c, (0, c))[1]),
        group("field_code", "field", _l("Field"), by_place, lambda c: names.get(c, (0, c))[1]),
        group("province", "region", _l("Region"), sorted(counts.get("province", {}),
                                                        key=lambda c: -counts["province"][c]),
              lambda c: region_name(f"{c}0000"), lambda c: f"{c}0000"),
        group("deal_mode", "deal_mode", _l("Deal mode"), list(DEAL_MODES), _),
        group("price_mode", "price_mode", _l("Price"), list(PRICE_MODES), _),
        group("product_kind", "product_kind", _l("Product kind"), list(PRODUCT_KINDS), _),
        group("recognition_level", "recognition_level", _l("Recognition level"), list(RECOGNITION_LEVELS), _),
        group("state_funded", "state_funded", _l("State funded"), ["true", "false"],
              lambda c: _("yes") if c == "true" else _("no"), lambda c: c == "true"),
    ]
    trl = FacetGroup("trl", "TRL")
    for code in sorted(counts.get("trl", {}), key=int):
        level = int(code)
        active = args.get("trl_min") == level and args.get("trl_max") == level
        change = None if active else level
        trl.items.append(FacetItem(f"TRL {level}", counts["trl"][code],
                                   search_url(params, {"trl_min": change, "trl_max": change}, sort=sort), active))
    if "trl_min" in params or "trl_max" in params:
        trl.remove_url = search_url(params, {"trl_min": None, "trl_max": None}, sort=sort)
    groups.insert(4, trl)
    return [g for g in groups if g.items or g.remove_url]


def relaxations(args: dict[str, Any], names: dict[str, tuple[int, str]]) -> list[tuple[str, str, int]]:
    """For a search with no results: (the filter to remove in words, the link, how many results that finds) for
    each filter in force, then the words alone without any filter; the ones that find something, if any do."""
    params = search_params(args)
    found = []
    for (_name, removal), (what, words, url) in zip(_in_force(params), active_filters(args, names)):
        found.append((_("Without %(what)s: %(value)s", what=what, value=words), url, _count({**args, **removal})))
    if args.get("q") and len(params) > 1:
        words_only = {"q": args["q"]}
        found.append((_("Only the words “%(q)s”, without filters", q=args["q"]), search_url(words_only),
                      _count(words_only)))
    return [entry for entry in found if entry[2] > 0] or found


def _count(args: dict[str, Any]) -> int:
    return hall.search_hall(hall_filter(args), per_page=1, with_facets=False).total


# --- result cards -------------------------------------------------------------------------------------------------

def cards(rows: list[tuple[HallIndexEntry, ListingVersion, float | None]],
          terms: list[str] | None = None) -> list[dict[str, Any]]:
    """Search rows as the cards the templates show: the text in the page's language (highlighted when there are
    terms), the publisher's name, the price in words."""
    orgs = hall_pages.institution_names(entry.institution_id for entry, _version, _score in rows)
    items = []
    for entry, version, _score in rows:
        item = present_version(version, lang(), terms)
        item.update(id=entry.listing_id, kind=entry.kind, institution_id=entry.institution_id,
                    institution=org_name(orgs.get(entry.institution_id)), published_at=entry.published_at,
                    region=province_name(version.region_code),
                    price=price_text(version.price_mode, version.price_amount, version.currency))
        items.append(item)
    return items
