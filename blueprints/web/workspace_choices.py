"""The choices of the workspace's forms in the page's language: directions and fields from the taxonomy tables,
the province-level regions, the deal modes a kind of listing offers, and the words for codes the shared labels
do not carry."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from blueprints.display import region_name
from hall.models.listings import DEAL_MODES
from hall.services.publishing.hall import taxonomy
from hall.services.publishing.listing_rules import ACHIEVEMENT_DEAL_MODES, PRODUCT_DEAL_MODES
from hall.services.trading.scope import region_names

STOCK_UNIT_LABELS = {"units": _l("units"), "batches": _l("batches"), "licenses": _l("licences")}
COMPENSATION_LABELS = {"qualification": _l("Qualified for compensation"),
                       "fund_application": _l("Compensation fund applied for"),
                       "granted": _l("Compensation granted"), "denied": _l("Compensation denied")}
ATTACHMENT_ROLE_LABELS = {"attachment": _l("Document or picture"), "cover": _l("Cover image")}
NO_CHOICE = "—"


def coded(codes: Iterable[str]) -> list[SelectChoice]:
    """Codes whose words are in the shared labels (``hall.labels``), each shown translated."""
    return [SelectChoice(code, _l(code)) for code in codes]


def labelled(words: dict[str, Any]) -> list[SelectChoice]:
    """Codes with their words (``{code: label}``) as choices."""
    return [SelectChoice(code, label) for code, label in words.items()]


def numbers(last: int) -> list[SelectChoice]:
    """The whole numbers 1 … ``last`` as choices."""
    return [SelectChoice(str(n), str(n)) for n in range(1, last + 1)]


def blank(choices: Iterable[SelectChoice]) -> list[SelectChoice]:
    """``choices`` after an empty choice (the field left unset)."""
    return [SelectChoice("", NO_CHOICE), *choices]


def _english() -> bool:
    return str(get_locale()) == "en"


def taxonomy_choices() -> tuple[list[SelectChoice], list[SelectChoice]]:
    """The directions, and the fields grouped under their direction, with their names in the page's language."""
    english = _english()
    directions, fields = [SelectChoice("", NO_CHOICE)], [SelectChoice("", NO_CHOICE)]
    for direction in taxonomy():
        group = direction.name_en if english else direction.name_zh
        directions.append(SelectChoice(direction.code, group))
        fields.extend(SelectChoice(item.code, item.name_en if english else item.name_zh, optgroup=group)
                      for item in direction.fields)
    return directions, fields


def region_choices(current: str | None) -> list[SelectChoice]:
    """The province-level divisions (GB/T 2260); a finer code the listing already holds (440305) stays offered."""
    english = _english()
    choices = [SelectChoice("", NO_CHOICE)]
    choices.extend(SelectChoice(code, f"{names[1] if english else names[0]} ({code})")
                   for code, names in region_names().items() if code.isdigit())
    if current and all(choice.value != current for choice in choices):
        choices.insert(1, SelectChoice(current, region_name(current)))
    return choices


def deal_mode_choices(kind: str) -> list[SelectChoice]:
    """The deal modes a listing of ``kind`` may offer, in the platform's order."""
    allowed = PRODUCT_DEAL_MODES if kind == "first_of_kind" else ACHIEVEMENT_DEAL_MODES
    return coded(mode for mode in DEAL_MODES if mode in allowed)


def configure_choices(form: Any, kind: str, current_region: str | None) -> None:
    """Give the listing form the choices that come from the database or depend on the kind."""
    form.direction_code.choices, form.field_code.choices = taxonomy_choices()
    form.region_code.choices = region_choices(current_region)
    form.deal_modes.choices = deal_mode_choices(kind)
