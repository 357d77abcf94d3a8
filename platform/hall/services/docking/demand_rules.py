"""What a demand holds and must hold before review: its content as a dict (for revisions), the checks of an edit,
and the completeness check of a submission (services raise InvalidInput)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from hall.extensions import db
from hall.models import Demand, Direction, IndustryField
from hall.models.demands import DEMAND_CONTENT_FIELDS
from hall.models.listings import LANGUAGES
from hall.services.core.errors import InvalidInput


def content_of(demand: Demand) -> dict[str, Any]:
    """The demand's current (published or draft) content, JSON-safe (the deadline as an ISO date)."""
    content = {name: getattr(demand, name) for name in DEMAND_CONTENT_FIELDS}
    content["deadline"] = demand.deadline.isoformat() if demand.deadline else None
    for name in ("field_codes", "deal_modes", "keywords"):
        content[name] = list(content[name] or [])
    return content


def jsonable_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Changes as they are stored in a revision (dates as ISO strings)."""
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in changes.items()}


def deadline_of(content: dict[str, Any]) -> date | None:
    """The deadline of a content dict (a date or an ISO string)."""
    value = content.get("deadline")
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def check_content(content: dict[str, Any]) -> None:
    """The checks every edit passes (a draft may be incomplete, but never wrong): the taxonomy, the TRL window,
    the budget range."""
    direction = content.get("direction_code")
    if direction is not None and db.session.get(Direction, direction) is None:
        raise InvalidInput.field("direction_code",
                                 _("%(code)s is not a direction; see GET /api/v1/hall/taxonomy", code=direction))
    for code in content.get("field_codes") or []:
        field = db.session.get(IndustryField, code)
        if field is None:
            raise InvalidInput.field("field_codes", _("%(code)s is not in the taxonomy; see GET /api/v1/hall/taxonomy",
                                                      code=code))
        if direction is None or field.direction_code != direction:
            raise InvalidInput.field("field_codes", _("%(code)s belongs to direction %(direction)s, not %(given)s",
                                                      code=code, direction=field.direction_code,
                                                      given=direction or "—"))
    trl_min, trl_max = content.get("trl_min"), content.get("trl_max")
    if trl_min is not None and trl_max is not None and trl_min > trl_max:
        raise InvalidInput.field("trl_max", _("must be at least trl_min"))
    budget_min, budget_max = content.get("budget_min"), content.get("budget_max")
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise InvalidInput.field("budget_max", _("must be at least budget_min"))


def missing_for_submission(content: dict[str, Any], today: date) -> dict[str, list[str]]:
    """Field → what is missing or wrong, for everything a reviewer needs; empty when the demand can be submitted."""
    missing: dict[str, list[str]] = {}
    if not any(content.get(f"title_{lang}") and content.get(f"description_{lang}") for lang in LANGUAGES):
        for lang in LANGUAGES:
            for name in ("title", "description"):
                if not content.get(f"{name}_{lang}"):
                    missing[f"{name}_{lang}"] = [_("a title and a description are required in at least one "
                                                   "language")]
    if not content.get("direction_code"):
        missing["direction_code"] = [_("required before submission")]
    deadline = deadline_of(content)
    if deadline is None:
        missing["deadline"] = [_("required before submission")]
    elif deadline <= today:
        missing["deadline"] = [_("must be in the future")]
    if not content.get("budget_negotiable") and content.get("budget_min") is None \
            and content.get("budget_max") is None:
        missing["budget_max"] = [_("give a budget, or mark it negotiable")]
    return missing
