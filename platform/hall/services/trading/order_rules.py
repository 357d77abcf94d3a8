"""Pricing and terms of an order: what may be bought how, the platform fee, the contract type (no I/O but reads)."""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from hall.labels import state_word
from hall.models import Listing, ListingVersion
from hall.models.types import utcnow
from hall.money import MAX_MINOR
from hall.services.core.errors import InvalidInput
from hall.services.trading.scope import check_scope

MAX_AMOUNT = MAX_MINOR  # minor units, as for listing prices
MAX_QUANTITY = 10_000
# Deal modes a fixed listing price buys at once; the others are always negotiated (request → quote → accept).
FIXED_PRICE_MODES = frozenset({"transfer", "exclusive_license", "sole_license", "non_exclusive_license", "purchase"})
# The technology-contract type (技术合同认定登记) each deal mode leads to, and which a buyer may choose instead.
CONTRACT_TYPES_BY_MODE: dict[str, tuple[str, ...]] = {
    "transfer": ("transfer",),
    "exclusive_license": ("license",),
    "sole_license": ("license",),
    "non_exclusive_license": ("license",),
    "equity": ("transfer",),
    "joint_development": ("development",),
    "technical_service": ("service", "consulting"),
    "purchase": (),
}
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed into bank forms


def fee_rate_bp() -> int:
    """The platform fee in basis points (1/100 of a percent), from PLATFORM_FEE_BP."""
    return int(current_app.config["PLATFORM_FEE_BP"])


def platform_fee(amount: int, rate_bp: int) -> int:
    """The fee on ``amount`` minor units at ``rate_bp``: integer arithmetic, rounded half up to the minor unit."""
    return (amount * rate_bp + 5_000) // 10_000


def new_reference() -> str:
    """A remittance reference: HT and ten characters a buyer can type into a bank transfer's memo."""
    return "HT" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def terms_key(deal_mode: str, quantity: int, scope: dict[str, Any]) -> str:
    """A digest of what is bought: two open orders of one buyer with the same key are the same order."""
    canonical = json.dumps({"mode": deal_mode, "quantity": quantity, **{k: str(v) if v else None
                                                                          for k, v in scope.items()}},
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _words(codes: Iterable[str], style: Literal["standard", "or"] = "standard") -> str:
    """Stored codes as a list of quoted words in the current language ("“Transfer” or “Licence”")."""
    return format_list([f"“{state_word(code)}”" for code in codes], style=style, locale=get_locale() or "en")


def check_terms(listing: Listing, version: ListingVersion, values: dict[str, Any]) -> dict[str, Any]:
    """Validate what the buyer asks for against the published version; returns the normalised terms."""
    mode = values["deal_mode"]
    if mode not in (version.deal_modes or []):
        raise InvalidInput.field("deal_mode", _("this listing offers %(modes)s",
                                                   modes=_words(version.deal_modes or [])))
    quantity = values.get("quantity") or 1
    if mode != "purchase" and quantity != 1:
        raise InvalidInput.field("quantity", _("only product purchases take a quantity; leave it out or send 1"))
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput.field("quantity", _("must be between 1 and %(max)s", max=MAX_QUANTITY))
    scope = asdict(check_scope(mode, values, utcnow().date(), version.field_code))
    if listing.kind == "first_of_kind" and mode == "purchase" and not values.get("end_user_declared"):
        raise InvalidInput.field("end_user_declared", _("first-of-kind products are sold to direct end users only: "
                                                        "declare that your institution is the end user (true)"))
    allowed_types = CONTRACT_TYPES_BY_MODE[mode]
    contract_type = values.get("contract_type") or (allowed_types[0] if allowed_types else None)
    if contract_type is not None and contract_type not in allowed_types:
        raise InvalidInput.field("contract_type", _("a “%(mode)s” deal is registered as %(types)s",
                                                    mode=state_word(mode), types=_words(allowed_types, "or"))
                                 if allowed_types else
                                 _("a “%(mode)s” deal is not registered as a technology contract",
                                   mode=state_word(mode)))
    return {"deal_mode": mode, "quantity": quantity, "contract_type": contract_type, **scope}


def fixed_price(version: ListingVersion, mode: str, quantity: int) -> int | None:
    """The amount the platform charges at once, or None when the deal goes through a quote."""
    if version.price_mode != "fixed" or mode not in FIXED_PRICE_MODES or version.price_amount is None:
        return None
    amount = version.price_amount * quantity
    if amount > MAX_AMOUNT:
        raise InvalidInput.field("quantity", _("the total exceeds what one order may carry"))
    return amount


def check_quote_amount(amount: int) -> int:
    """A seller's quote: a positive whole number of minor units within the platform's range."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput.field("amount", _("a quote must be more than zero and no larger than any order the "
                                              "platform carries"))
    return amount


def bank_today() -> date:
    """Today in the banks' calendar (Asia/Shanghai): between 00:00 and 08:00 there UTC is still on the day before."""
    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
