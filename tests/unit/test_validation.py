"""Chinese identifiers and the password policy (AUTHN-02)."""
from __future__ import annotations

import pytest

from hall.services.core.validation import credit_code_problem, password_problem, region_code_problem

# Published codes of real organisations: the check character must agree with GB 32100-2015.
REAL_CODES = ["914403001922038216", "91330100716105852F", "9144030071526726XG", "12100000400000624D"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_are_valid(code: str) -> None:
    assert credit_code_problem(code) is None


def test_wrong_check_character_is_refused() -> None:
    assert "check character" in (credit_code_problem("914403001922038217") or "")
    assert "check character" in (credit_code_problem("91330100716105852G") or "")


@pytest.mark.parametrize("code", ["91440300192203821", "9144030019220382166", ""])
def test_wrong_length_is_refused(code: str) -> None:
    assert "18 characters" in (credit_code_problem(code) or "")


def test_lower_case_is_refused() -> None:
    assert "capital letters" in (credit_code_problem("91330100716105852f") or "")


def test_letters_never_used_in_credit_codes_are_refused() -> None:
    assert "never used" in (credit_code_problem("9133010071610585IO") or "")


def test_region_part_must_be_digits() -> None:
    assert "division code" in (credit_code_problem("91AB0100716105852F") or "")


@pytest.mark.parametrize("code,ok", [("110108", True), ("440305", True), ("990000", False), ("11010", False),
                                     ("11010a", False)])
def test_region_codes(code: str, ok: bool) -> None:
    assert (region_code_problem(code) is None) is ok


@pytest.mark.parametrize("password", ["short7!", "password", "Password1", "qwertyuiop", "aaaaaaaaaaa",
                                      "x" * 129])
def test_weak_passwords_are_refused(password: str) -> None:
    assert password_problem(password) is not None


def test_password_equal_to_the_email_is_refused() -> None:
    assert password_problem("wang.wei@ifm.cn", email="wang.wei@ifm.cn") is not None


def test_a_good_password_passes() -> None:
    assert password_problem("量子纠缠 tastes like 7 lemons") is None
