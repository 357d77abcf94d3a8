"""hall.money, the one place for currencies and minor units: ISO 4217 exponents from Babel, exact conversions
between integer minor units and typed or exported decimal text (never through a float), refusals that say what to
type, and Babel's currency formatting."""
from __future__ import annotations

import pytest

from hall.money import (
    CURRENCIES,
    EXPONENTS,
    MAX_MINOR,
    AmountError,
    UnknownCurrency,
    format_money,
    minor_unit_exponent,
    parse_major,
    to_major_text,
)
from schemas.listings import CURRENCIES as ACCEPTED_BY_SCHEMAS


def test_the_accepted_currencies_and_their_exponents() -> None:
    assert CURRENCIES == ACCEPTED_BY_SCHEMAS
    assert EXPONENTS == {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2}
    assert minor_unit_exponent("JPY") == 0 and minor_unit_exponent("KWD") == 3
    for code in ("XYZ", "cny", "", "yuan"):
        with pytest.raises(UnknownCurrency):
            minor_unit_exponent(code)


@pytest.mark.parametrize("amount, currency, text", [
    (1_200_000_050, "CNY", "12000000.50"), (1234, "USD", "12.34"), (5, "EUR", "0.05"), (0, "HKD", "0.00"),
    (1200, "JPY", "1200"), (1234, "KWD", "1.234"), (-150, "CNY", "-1.50"), (MAX_MINOR, "CNY", "10000000000000.00"),
    (10**30 + 1, "USD", "10000000000000000000000000000.01"),  # exact beyond Decimal's default 28 digits
])
def test_minor_units_as_plain_decimal_text(amount: int, currency: str, text: str) -> None:
    assert to_major_text(amount, currency) == text


def test_only_integers_are_amounts() -> None:
    for amount in (12.34, True, "1234"):
        with pytest.raises(TypeError):
            to_major_text(amount, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("text, currency, minor", [
    ("12000000.00", "CNY", 1_200_000_000), ("12,000,000.5", "CNY", 1_200_000_050), ("1.15", "CNY", 115),
    ("0.29", "USD", 29), (" １２０００ ", "CNY", 1_200_000), ("12.34", "USD", 1234), ("1234", "JPY", 1234),
    ("1,234", "JPY", 1234), ("1.234", "KWD", 1234), ("10000000000000.00", "EUR", MAX_MINOR),
])
def test_typed_amounts_become_exact_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor


def test_round_trips() -> None:
    for currency in ("CNY", "USD", "JPY", "KWD"):
        for minor in (1, 29, 115, 1_200_000_050, MAX_MINOR):
            assert parse_major(to_major_text(minor, currency), currency) == minor


@pytest.mark.parametrize("text, currency", [
    ("12000000.001", "CNY"), ("12.345", "USD"), ("1.5", "JPY"), ("1.0", "JPY"), ("1.2345", "KWD"), ("-5", "CNY"),
    ("+5", "CNY"), ("abc", "CNY"), ("1e7", "CNY"), ("NaN", "CNY"), ("Infinity", "CNY"), ("12,00,000", "CNY"),
    ("1.", "CNY"), (".5", "CNY"), ("", "CNY"), ("0", "CNY"), ("0.00", "USD"), ("0", "JPY"),
    ("10000000000000.01", "CNY"), ("1000000000000001", "JPY"), ("9" * 80, "CNY"),
])
def test_refusals(text: str, currency: str) -> None:
    with pytest.raises(AmountError):
        parse_major(text, currency)


def test_refusals_say_what_to_type() -> None:
    with pytest.raises(AmountError, match=r"^Enter an amount in yuan with at most two decimals, e\.g\. 12000000\.00"
                                          r"\.$"):
        parse_major("1.001", "CNY")
    with pytest.raises(AmountError, match=r"^Enter an amount in US dollars with at most two decimals, e\.g\. 12000000"
                                          r"\.00\.$"):
        parse_major("-1", "USD")
    with pytest.raises(AmountError, match=r"^Enter a whole amount in JPY, without decimals, e\.g\. 12000000\.$"):
        parse_major("1.5", "JPY")
    with pytest.raises(AmountError, match=r"^Enter an amount in KWD with at most 3 decimals, e\.g\. 12000000\.000\.$"):
        parse_major("x", "KWD")
    with pytest.raises(AmountError, match="more than zero"):
        parse_major("0.00", "CNY")
    with pytest.raises(AmountError, match="larger than any order"):
        parse_major("10000000000000.01", "CNY")
    with pytest.raises(UnknownCurrency):
        parse_major("1.00", "XYZ")


def test_zero_when_allowed() -> None:
    assert parse_major("0.00", "CNY", allow_zero=True) == 0 and parse_major("0", "JPY", allow_zero=True) == 0


def test_formatting_for_people() -> None:
    assert format_money(1_234_550, "CNY", "zh_CN") == "¥12,345.50"
    assert format_money(1234, "USD", "en") == "$12.34"
    assert format_money(1234, "JPY", "en") == "¥1,234"  # not ¥12.34
    assert format_money(0, "EUR", "en") == "€0.00"
