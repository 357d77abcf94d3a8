"""Which hall filters the kept facet counts (``hall.search.facet_counts``) answer without counting listings.

The counts hold, for the whole hall and for each facet value taken as a scope, how many listings have each value of
each facet. So a filter without text whose conditions are facet values — a kind, a direction, a field, a TRL or a
range of TRLs, a price mode, a product kind, a recognition level, state funding, a province, a deal mode — reads:

* with at most one condition, its total and every facet (``facet_scope``);
* with two, one of which may be a TRL range, its total alone (``kept_total``): the first condition's scope, the
  second condition's facet, summed over the values it accepts. Its facets would need a third dimension and are
  still counted.

Anything else (text, a price range, a currency, an institution, a city or county) is counted.

With text, on SQLite, every condition but a price range is also a word of the full-text index
(``hall.search.facet_terms``): ``fts_facets`` gives the filter as FTS5's expression, matched with the text.
"""
from __future__ import annotations

from collections.abc import Callable

from hall.search.facet_counts import TOTAL, Key, kept_values
from hall.search.facet_terms import fts5_facets
from hall.services.publishing.hall_filter import HallFilter, region_prefix

TrlRange = tuple[int, int]


def _value_keys(f: HallFilter) -> list[Key]:
    """``f``'s conditions that name one value of a facet of the kept counts, as (facet, value)."""
    keys: list[Key] = [(name, value) for name, value in (
        ("kind", f.kind), ("direction_code", f.direction), ("field_code", f.field), ("price_mode", f.price_mode),
        ("product_kind", f.product_kind), ("recognition_level", f.recognition_level), ("deal_mode", f.deal_mode))
        if value is not None]
    if f.state_funded is not None:
        keys.append(("state_funded", "true" if f.state_funded else "false"))
    return keys


def _facet_conditions(f: HallFilter) -> tuple[list[Key], TrlRange | None] | None:
    """``f``'s conditions as facet values, and a TRL range that is not one value; None when ``f`` has anything the
    kept counts cannot answer."""
    if f.q or any(value is not None for value in (f.price_min, f.price_max, f.currency, f.institution_id)):
        return None
    values = _value_keys(f)
    trl_range: TrlRange | None = None
    if f.trl_min is not None and f.trl_min == f.trl_max:
        values.append(("trl", str(f.trl_min)))
    elif f.trl_min is not None or f.trl_max is not None:
        trl_range = (f.trl_min if f.trl_min is not None else -1, f.trl_max if f.trl_max is not None else 99)
    if f.region:
        if len(f.region) != 6 or not f.region.endswith("0000"):
            return None
        values.append(("province", f.region[:2]))
    return values, trl_range


def facet_scope(f: HallFilter) -> Key | None:
    """The scope of the kept facet counts that is exactly ``f``'s listings: ``TOTAL`` for no filter, a facet's
    value for one facet filter; None for text, several filters or one that no facet value matches (a price
    range, a currency, an institution, a city, a range of TRLs)."""
    conditions = _facet_conditions(f)
    if conditions is None:
        return None
    values, trl_range = conditions
    if trl_range is not None or len(values) > 1:
        return None
    return values[0] if values else TOTAL


def kept_total(f: HallFilter) -> int | None:
    """How many listings meet ``f``, from the kept counts, for a filter of two facet conditions or of a TRL range
    with at most one other; None when they do not hold it (``facet_scope`` answers zero or one condition)."""
    conditions = _facet_conditions(f)
    if conditions is None:
        return None
    values, trl_range = conditions
    if trl_range is not None and len(values) <= 1:
        low, high = trl_range
        scope, facet = (values[0] if values else TOTAL), "trl"
        return _summed(scope, facet, lambda value: value.isdigit() and low <= int(value) <= high)
    if trl_range is None and len(values) == 2:
        scope, (facet, wanted) = values
        return _summed(scope, facet, lambda value: value == wanted)
    return None


def _summed(scope: Key, facet: str, accepts: Callable[[str], bool]) -> int:
    return sum(listings for value, listings in kept_values(scope, facet).items() if accepts(value))


TRLS = range(1, 10)  # the TRLs a listing may have (the check constraint trl_range)
_REGION_FACETS = {2: "province", 4: "city", 6: "county"}  # by the length of the filter's region prefix


def fts_facets(f: HallFilter) -> str | None:
    """``f``'s conditions but a price range as FTS5's expression over the facet words (``facet_terms``); None
    when it has no such condition, or a region that is not a province's, city's or county's code."""
    required = _value_keys(f)
    if f.currency is not None:
        required.append(("currency", f.currency))
    if f.institution_id is not None:
        required.append(("institution", str(f.institution_id)))
    if f.region:
        prefix = region_prefix(f.region)
        if len(prefix) not in _REGION_FACETS:
            return None  # not a region code: left to SQL's prefix match
        required.append((_REGION_FACETS[len(prefix)], prefix))
    any_of: list[list[Key]] = []
    if f.trl_min is not None or f.trl_max is not None:
        low = f.trl_min if f.trl_min is not None else TRLS[0]
        high = f.trl_max if f.trl_max is not None else TRLS[-1]
        any_of.append([("trl", str(trl)) for trl in TRLS if low <= trl <= high] or [("trl", "none")])
    if not required and not any_of:
        return None
    return fts5_facets(required, any_of)
