"""Money in one place: the currencies the platform accepts with their ISO 4217 minor-unit exponents, and the only
conversions between integer minor units and what people read and type (plain decimal text, formatted money).

Amounts are integers in the currency's minor unit (fen, cents); a float never comes near them. The exponents are
Babel's copy of ISO 4217 (CNY, USD, EUR, HKD 2; JPY 0; KWD 3)."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, is_currency
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

CURRENCIES = ("CNY", "USD", "EUR", "HKD")  # accepted for listings, orders and payments (schemas.listings)
MAX_MINOR = 10**15  # the largest amount the platform carries, in minor units (listing prices, orders)
_TEXT_MAX = 64  # characters of typed text considered at all
# The main unit's name in sentences ("an amount in yuan"); a currency without one is named by its code.
_UNIT_NAMES = {"CNY": _l("yuan"), "USD": _l("US dollars"), "EUR": _l("euros"), "HKD": _l("Hong Kong dollars")}


class UnknownCurrency(ValueError):
    """The code is not an ISO 4217 currency."""


class AmountError(ValueError):
    """The text is not an amount of money the platform accepts; the message says how to write one."""


def minor_unit_exponent(currency: str) -> int:
    """The number of decimals of ``currency``'s main unit (ISO 4217, from Babel): CNY 2, JPY 0, KWD 3."""
    if not isinstance(currency, str) or not is_currency(currency):
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency code")
    return int(get_currency_precision(currency))


EXPONENTS = {code: minor_unit_exponent(code) for code in CURRENCIES}


def _major(amount_minor: int, currency: str) -> Decimal:
    """``amount_minor`` as an exact Decimal in the main unit (no context rounding, however large)."""
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise TypeError(f"an amount of money is an int of minor units, not {type(amount_minor).__name__}")
    sign, digits, _exponent = Decimal(amount_minor).as_tuple()
    return Decimal((sign, digits, -minor_unit_exponent(currency)))


def to_major_text(amount_minor: int, currency: str) -> str:
    """Minor units as plain decimal text with the currency's decimals (``1200000050, "CNY"`` → ``"12000000.50"``,
    ``1200, "JPY"`` → ``"1200"``): for exports and for the amounts a form offers to type."""
    return f"{_major(amount_minor, currency):f}"


def unit_name(currency: str) -> str:
    """The main unit's name in the current language ("yuan", "元", "US dollars"), else the currency code."""
    name = _UNIT_NAMES.get(currency)
    return str(name) if name is not None else currency


def example(currency: str) -> str:
    """A sample amount as it is typed in ``currency`` (``"12000000.00"``, ``"12000000"`` for JPY)."""
    return to_major_text(12_000_000 * 10 ** minor_unit_exponent(currency), currency)


def _pattern(decimals: int) -> re.Pattern[str]:
    fraction = rf"(?:\.[0-9]{{1,{decimals}}})?" if decimals else ""
    return re.compile(rf"(?:[0-9]+|[0-9]{{1,3}}(?:,[0-9]{{3}})+){fraction}")


def _how_to_type(currency: str, decimals: int) -> str:
    unit, sample = unit_name(currency), example(currency)
    if decimals == 0:
        return _("Enter a whole amount in %(unit)s, without decimals, e.g. %(example)s.", unit=unit, example=sample)
    if decimals == 2:
        return _("Enter an amount in %(unit)s with at most two decimals, e.g. %(example)s.", unit=unit,
                 example=sample)
    return _("Enter an amount in %(unit)s with at most %(decimals)s decimals, e.g. %(example)s.", unit=unit,
             decimals=decimals, example=sample)


def parse_major(text: str, currency: str, *, allow_zero: bool = False) -> int:
    """A typed amount in ``currency``'s main unit as exact integer minor units (``"12,000,000.5", "CNY"`` →
    ``1200000050``; ``"1234", "JPY"`` → ``1234``).

    Full-width digits are read as digits and thousands separators are allowed only in their places. Refused with
    AmountError: anything but a plain decimal number (signs, exponents, NaN), more decimals than the currency has,
    zero (unless ``allow_zero``) and more than MAX_MINOR. UnknownCurrency when ``currency`` is not ISO 4217."""
    decimals = minor_unit_exponent(currency)
    value = unicodedata.normalize("NFKC", text or "").strip()
    if len(value) > _TEXT_MAX or not _pattern(decimals).fullmatch(value):
        raise AmountError(_how_to_type(currency, decimals))
    whole, _dot, fraction = value.replace(",", "").partition(".")
    minor = int(whole) * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    if minor == 0 and not allow_zero:
        raise AmountError(_("The amount must be more than zero."))
    if minor > MAX_MINOR:
        raise AmountError(_("The amount is larger than any order the platform carries."))
    return minor


def format_money(amount_minor: int, currency: str, locale: Locale | str | None) -> str:
    """Minor units as money for people in ``locale`` (``1234550, "CNY", "zh_CN"`` → ``"¥12,345.50"``), with
    Babel's currency formatting over an exact Decimal."""
    return str(format_currency(_major(amount_minor, currency), currency, locale=locale))



def money_text(amount_minor: int, currency: str) -> str:
    """An amount for a sentence shown now (a refusal, a notice): formatted in the current request's language
    (``¥500.00``), in English outside a request."""
    return format_money(amount_minor, currency, get_locale() or "en")
