"""The scope of a transfer or licence and which deals may coexist: codes, overlap, and the compatibility matrix.

A scope is structured, never free text:
- field of use: a code of the future-industry taxonomy (``industry_directions`` / ``industry_fields``), either a
  field such as ``energy.storage`` or a whole direction such as ``energy``; None means every field;
- territory: ``WORLD``, ``CN`` (all of China: every GB/T 2260 code) or a GB/T 2260 six-digit code, hierarchical by
  its digits (440305 ⊂ 440300 ⊂ 440000 ⊂ CN ⊂ WORLD); None means worldwide (``WORLD`` is stored as None);
- term: a start and an end date, each optional (an open end is unbounded).

Two scopes overlap when their fields, their territories and their terms all overlap: fields when equal, when one
is unrestricted or when one is the direction of the other; territories when one contains the other; terms when
the date ranges intersect. Whether two overlapping deals may coexist is written once, in ``COMPATIBILITY``.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hall.extensions import db
from hall.models import Direction, IndustryField
from hall.models.orders import SCOPED_DEAL_MODES
from hall.services.core.errors import InvalidInput
from hall.services.core.validation import region_code_problem

WORLD: Final = "WORLD"
CHINA: Final = "CN"
SCOPE_FIELDS: Final = ("field_of_use", "territory", "term_start", "term_end")

# What a held deal and a requested deal may do when their scopes overlap (outside an overlap nothing conflicts).
CONFLICT: Final = "conflict"
COMPATIBLE: Final = "compatible"
SAME_LICENSEE: Final = "same licensee only"  # compatible when both deals go to the same buyer institution, else not
# The compatibility matrix, row = one deal, column = the other (symmetric):
# - a transfer sells the whole right: nothing else may exist beside it;
# - an exclusive licence (独占许可) excludes everyone, the licensor and its other licensees included;
# - a sole licence (排他许可) leaves use to its licensee and the licensor only: no third party's licence beside it;
# - non-exclusive licences (普通许可) coexist with one another.
COMPATIBILITY: Final[Mapping[str, Mapping[str, str]]] = {
    "transfer": {"transfer": CONFLICT, "exclusive_license": CONFLICT, "sole_license": CONFLICT,
                 "non_exclusive_license": CONFLICT},
    "exclusive_license": {"transfer": CONFLICT, "exclusive_license": CONFLICT, "sole_license": CONFLICT,
                          "non_exclusive_license": CONFLICT},
    "sole_license": {"transfer": CONFLICT, "exclusive_license": CONFLICT, "sole_license": SAME_LICENSEE,
                     "non_exclusive_license": SAME_LICENSEE},
    "non_exclusive_license": {"transfer": CONFLICT, "exclusive_license": CONFLICT, "sole_license": SAME_LICENSEE,
                              "non_exclusive_license": COMPATIBLE},
}

_REGION = re.compile(r"\d{6}")
_FIELD = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)?")
TERRITORY_HELP: Final = _l("a region code: WORLD (or leave it out) for worldwide, CN for all of China, or a GB/T "
                            "2260 six-digit code such as 440000 (Guangdong), 440300 (Shenzhen) or 440305 (Nanshan)")


@dataclass(frozen=True)
class Scope:
    """Field of use, territory and term of a deal, as codes (None = unrestricted)."""

    field_of_use: str | None = None
    territory: str | None = None
    term_start: date | None = None
    term_end: date | None = None


@dataclass(frozen=True)
class Deal:
    """A scoped deal: its mode, the buyer institution that holds it, its scope (and its order, when it has one)."""

    deal_mode: str
    holder_id: int
    scope: Scope
    order_id: int | None = None


# ----------------------------------------------------------------------------------------------------------- codes

def normalise_code(value: str | None) -> str | None:
    """Unicode-normalised (full-width letters and digits become ASCII) with every space removed; None if empty."""
    if value is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", value).split())
    return text or None


def field_chain(code: str | None) -> tuple[str | None, ...]:
    """The field, its direction, then None (every field): ``energy.storage`` → (energy.storage, energy, None)."""
    if code is None:
        return (None,)
    direction = code.split(".", 1)[0]
    return (code, direction, None) if direction != code else (code, None)


def territory_chain(code: str | None) -> tuple[str | None, ...]:
    """The territory and the regions containing it, ending in None (worldwide):
    ``440305`` → (440305, 440300, 440000, CN, None)."""
    if code is None or code == WORLD:
        return (None,)
    if code == CHINA:
        return (CHINA, None)
    chain = [code, f"{code[:4]}00", f"{code[:2]}0000"]
    return (*dict.fromkeys(chain), CHINA, None)  # dict.fromkeys: the chain without repeats, in order


def _contained(a: tuple[str | None, ...], b: tuple[str | None, ...]) -> bool:
    return a[0] in b or b[0] in a


def fields_overlap(a: str | None, b: str | None) -> bool:
    """Equal, one of them unrestricted, or one the direction of the other."""
    return _contained(field_chain(a), field_chain(b))


def territories_overlap(a: str | None, b: str | None) -> bool:
    """One contains the other (WORLD ⊃ CN ⊃ province ⊃ prefecture ⊃ county)."""
    return _contained(territory_chain(a), territory_chain(b))


def terms_overlap(a_start: date | None, a_end: date | None, b_start: date | None, b_end: date | None) -> bool:
    """The date ranges (both ends included; an open end is unbounded) share at least one day."""
    return (a_start is None or b_end is None or a_start <= b_end) and \
        (b_start is None or a_end is None or b_start <= a_end)


def scopes_overlap(a: Scope, b: Scope) -> bool:
    """Fields, territories and terms all overlap."""
    return fields_overlap(a.field_of_use, b.field_of_use) and territories_overlap(a.territory, b.territory) and \
        terms_overlap(a.term_start, a.term_end, b.term_start, b.term_end)


def modes_conflict(a: Deal, b: Deal) -> bool:
    """What the matrix says of the two deals' modes (their scopes assumed to overlap)."""
    verdict = COMPATIBILITY[a.deal_mode][b.deal_mode]
    return verdict == CONFLICT or (verdict == SAME_LICENSEE and a.holder_id != b.holder_id)


def modes_that_may_conflict(mode: str) -> tuple[str, ...]:
    """The modes a ``mode`` deal may conflict with: its row of the matrix without the always-compatible cells
    (a non-exclusive licence need not look at the other non-exclusive ones)."""
    return tuple(other for other, verdict in COMPATIBILITY[mode].items() if verdict != COMPATIBLE)


def deals_conflict(a: Deal, b: Deal) -> bool:
    """The two deals may not both exist: their scopes overlap and the matrix forbids the pair."""
    return scopes_overlap(a.scope, b.scope) and modes_conflict(a, b)


def first_conflict(wanted: Deal, held: Iterable[Deal], today: date) -> Deal | None:
    """The first held deal that ``wanted`` may not coexist with, or None. A held deal whose term ended before
    ``today`` blocks nothing any more."""
    for deal in held:
        if deal.scope.term_end is not None and deal.scope.term_end < today:
            continue
        if deals_conflict(wanted, deal):
            return deal
    return None


# ------------------------------------------------------------------------------------------------------ validation

def check_field_of_use(value: str | None, listing_field: str | None = None) -> str | None:
    """A taxonomy code (field or direction), normalised; InvalidInput naming ``field_of_use`` otherwise."""
    code = normalise_code(value)
    if code is None:
        return None
    code = code.lower()
    known = _FIELD.fullmatch(code) is not None and (
        db.session.get(IndustryField, code) is not None or db.session.get(Direction, code) is not None)
    if not known:
        if listing_field:
            message = _("must be a code of the future-industry taxonomy, e.g. this listing's field %(field)s or its "
                        "direction %(direction)s (every code: GET /api/v1/hall/taxonomy); leave it out for every "
                        "field", field=listing_field, direction=listing_field.split(".")[0])
        else:
            message = _("must be a code of the future-industry taxonomy, e.g. energy.storage, or a whole direction "
                        "such as energy (every code: GET /api/v1/hall/taxonomy); leave it out for every field")
        raise InvalidInput.field("field_of_use", message)
    return code


def territory_problem(code: str) -> str | None:
    """Why ``code`` (normalised) is not a territory code, or None when it is."""
    if code in (WORLD, CHINA):
        return None
    if not _REGION.fullmatch(code):
        return _("must be %(help)s", help=TERRITORY_HELP)
    problem = region_code_problem(code)
    if problem is None and code[2:4] == "00" and code[4:] != "00":
        problem = _("%(code)s is not a GB/T 2260 code: a county's code has its prefecture in digits 3–4", code=code)
    return _("%(problem)s; send %(help)s", problem=problem, help=TERRITORY_HELP) if problem else None


def check_territory(value: str | None) -> str | None:
    """A territory code, normalised (upper case; WORLD becomes None); InvalidInput naming ``territory``."""
    code = normalise_code(value)
    if code is None:
        return None
    code = code.upper()
    problem = territory_problem(code)
    if problem:
        raise InvalidInput.field("territory", problem)
    return None if code == WORLD else code


def check_term(start: date | None, end: date | None, today: date) -> None:
    """Refuse a term that ends before ``today`` or ends before it starts."""
    if start is not None and end is not None and end < start:
        raise InvalidInput.field("term_end", _("must not be before term_start"))
    if end is not None and end < today:
        raise InvalidInput.field("term_end", _("%(end)s is in the past: a licence's term must end today (%(today)s) "
                                               "or later, or be left open", end=end.isoformat(),
                                               today=today.isoformat()))


def check_scope(deal_mode: str, values: Mapping[str, Any], today: date, listing_field: str | None = None) -> Scope:
    """The structured scope of what a buyer asks for, or InvalidInput naming the field to fix.

    Only licences take a scope. A transfer sells the whole right (every field, territory and term), so sending
    any of them with a transfer is refused rather than silently ignored."""
    given = [name for name in SCOPE_FIELDS if values.get(name) not in (None, "")]
    if deal_mode not in SCOPED_DEAL_MODES:
        if given:
            raise InvalidInput.field("deal_mode", _("field of use, territory and term apply to licences only"))
        return Scope()
    if deal_mode == "transfer":
        if given:
            raise InvalidInput.field(given[0], _("a transfer sells the whole right (every field of use, territory "
                                                 "and term): leave field_of_use, territory and the term out"))
        return Scope()
    start, end = values.get("term_start"), values.get("term_end")
    check_term(start, end, today)
    return Scope(check_field_of_use(values.get("field_of_use"), listing_field),
                 check_territory(values.get("territory")), start, end)


# ---------------------------------------------------------------------------------------------------------- labels

@lru_cache(maxsize=1)
def region_names() -> dict[str, tuple[str, str]]:
    """WORLD, CN and the province-level codes with their (Chinese, English) names, from data/regions.txt."""
    text = resources.files("hall").joinpath("data", "regions.txt").read_text(encoding="utf-8")
    names = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            code, zh, en = line.split("\t")
            names[code] = (zh, en)
    return names


def territory_label(code: str | None) -> dict[str, str]:
    """The territory's name in Chinese and English; below a province, its province's name and its code."""
    names = region_names()
    if code is None or code in names:
        zh, en = names[code or WORLD]
        return {"zh": zh, "en": en}
    province = names.get(f"{code[:2]}0000")
    if province is None:
        return {"zh": code, "en": code}
    return {"zh": f"{province[0]} {code}", "en": f"{province[1]} {code}"}


def field_label(code: str | None) -> dict[str, str]:
    """The field's (or direction's) name in Chinese and English, from the taxonomy tables."""
    if code is None:
        return {"zh": "所有领域", "en": "All fields"}
    item = db.session.get(IndustryField, code) or db.session.get(Direction, code)
    if item is None:
        return {"zh": code, "en": code}
    return {"zh": item.name_zh, "en": item.name_en}
