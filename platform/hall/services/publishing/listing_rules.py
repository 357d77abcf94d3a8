"""What a listing must hold before it can be submitted, and the taxonomy checks (services raise InvalidInput)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from hall.extensions import db
from hall.labels import state_word
from hall.models import Direction, IndustryField, Listing, ListingVersion
from hall.models.listings import LANGUAGES, TEXT_FIELDS
from hall.services.core.errors import InvalidInput

ACHIEVEMENT_DEAL_MODES = frozenset({"transfer", "exclusive_license", "sole_license", "non_exclusive_license", "equity",
                                    "joint_development", "technical_service"})
PRODUCT_DEAL_MODES = frozenset({"purchase", "technical_service", "joint_development"})
FIRST_OF_KIND_REQUIRED = ("product_kind", "recognition_level", "catalogue", "catalogue_edition", "authority",
                          "announcement_number", "announcement_date", "valid_from", "valid_until",
                          "certificate_number", "model", "specifications", "stock", "stock_unit", "lead_time_days")


def jsonable(value: Any) -> Any:
    """Dates and datetimes inside nested input become ISO strings so they can be stored in JSON columns."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def check_taxonomy(direction_code: str | None, field_code: str | None) -> None:
    """The direction and field must exist and the field belong to the direction (from the taxonomy table)."""
    if direction_code is not None and db.session.get(Direction, direction_code) is None:
        raise InvalidInput.field("direction_code",
                                 _("%(code)s is not a direction; see GET /api/v1/hall/taxonomy", code=direction_code))
    if field_code is None:
        return
    field = db.session.get(IndustryField, field_code)
    if field is None:
        raise InvalidInput.field("field_code", _("%(code)s is not in the taxonomy; see GET /api/v1/hall/taxonomy",
                                                 code=field_code))
    if direction_code is not None and field.direction_code != direction_code:
        raise InvalidInput.field("field_code", _("%(code)s belongs to direction %(direction)s, not %(given)s",
                                                 code=field_code, direction=field.direction_code,
                                                 given=direction_code))


def check_deal_modes(kind: str, modes: list[str]) -> None:
    """Achievements are transferred or licensed; first-of-kind products are purchased."""
    allowed = ACHIEVEMENT_DEAL_MODES if kind == "achievement" else PRODUCT_DEAL_MODES
    wrong = sorted(set(modes) - allowed)
    if wrong:
        raise InvalidInput.field("deal_modes", _("%(modes)s not offered for “%(kind)s” listings; choose from "
                                                 "%(choices)s", modes=", ".join(wrong), kind=state_word(kind),
                                                 choices=", ".join(sorted(allowed))))


def missing_for_submission(listing: Listing, version: ListingVersion) -> dict[str, list[str]]:
    """Field → what is missing, for everything a reviewer needs; empty when the version can be submitted."""
    missing: dict[str, list[str]] = {}
    complete = [lang for lang in LANGUAGES if all(version.text(name, lang) for name in TEXT_FIELDS)]
    if not complete:
        for lang in LANGUAGES:
            for name in TEXT_FIELDS:
                if not version.text(name, lang):
                    missing[f"{name}_{lang}"] = [_("required in at least one complete language (all of title, "
                                                   "summary, description, benefit, scenarios)")]
    for name in ("direction_code", "field_code", "region_code", "price_mode"):
        if getattr(version, name) is None:
            missing[name] = [_("required before submission")]
    if listing.kind == "achievement" and version.trl is None:
        missing["trl"] = [_("required before submission")]
    if not version.deal_modes:
        missing["deal_modes"] = [_("offer at least one deal mode")]
    if version.price_mode in ("fixed", "starting") and not version.price_amount:
        missing["price_amount"] = [_("required for a fixed price") if version.price_mode == "fixed"
                                   else _("required for a starting price")]
    if version.price_mode == "negotiable" and version.price_amount is not None:
        missing["price_amount"] = [_("a negotiable price has no amount")]
    if listing.kind == "first_of_kind":
        details = version.first_of_kind or {}
        for name in FIRST_OF_KIND_REQUIRED:
            if details.get(name) in (None, ""):
                missing[f"first_of_kind.{name}"] = [_("required for a first-of-kind product")]
        insurance = details.get("insurance")
        if insurance and version.price_amount and insurance.get("insured_amount", 0) < version.price_amount:
            missing["first_of_kind.insurance.insured_amount"] = [_("must be at least the unit price")]
    return missing
