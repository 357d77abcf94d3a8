"""Checks of Chinese identifiers and of passwords, shared by schemas and services."""
from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import gettext as _

from hall.labels import state_word

# GB 32100-2015: the unified social credit code's alphabet (no I, O, S, V, Z) and the weights of positions 1–17.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Province-level prefixes of GB/T 2260 administrative division codes.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


def credit_code_check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a unified social credit code."""
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * weight for ch, weight in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return _("must be 18 characters long, not %(length)s", length=len(code))
    if code != code.upper():
        return _("must be written in capital letters")
    bad = sorted({ch for ch in code if ch not in CREDIT_CODE_ALPHABET})
    if bad:
        return _("contains characters not used in credit codes: %(characters)s (I, O, S, V and Z are never used)",
                 characters="".join(bad))
    if not re.fullmatch(r"\d{6}", code[2:8]):
        return _("characters 3–8 must be the administrative division code (six digits)")
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return _("the check character (the last one) is wrong: re-check the code for a typing error")
    return None


def region_code_problem(code: str) -> str | None:
    """Why ``code`` is not a six-digit administrative division code, or None when it is."""
    if not re.fullmatch(r"\d{6}", code):
        return _("must be a six-digit administrative division code, e.g. 110108")
    if code[:2] not in PROVINCE_PREFIXES:
        return _("%(prefix)s is not a province-level division code", prefix=code[:2])
    return None


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why ``password`` may not be used (AUTHN-02), or None when it may."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _("must be at least %(count)s characters long", count=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return _("must be at most %(count)s characters long", count=PASSWORD_MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) < 3:
        return _("is too common or too easy to guess; choose another")
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        return _("must not be your e-mail address")
    return None


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively: store them trimmed and in lower case."""
    return email.strip().lower()


# Chinese patent application numbers: CN + year (4) + type (1) + serial (7) + "." + check, or the pre-2003 form
# CN + 8 digits + "." + check. The check character is the weighted digit sum mod 11 (10 is written X).
_PATENT_APPLICATION = re.compile(r"^(?:CN|ZL)(\d{8}|\d{12})\.([0-9X])$")
_PATENT_PUBLICATION = re.compile(r"^CN\d{9}[ABCUSY]\d?$")
_PATENT_TYPE_DIGIT = {"invention_patent": "18", "utility_model": "29", "design": "3"}


def patent_check_character(digits: str) -> str:
    """The check character of a CN patent application number's digits (8 or 12 of them)."""
    weights = (2, 3, 4, 5, 6, 7, 8, 9) * 2
    remainder = sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return "X" if remainder == 10 else str(remainder)


def patent_number_problem(number: str, ip_type: str) -> str | None:
    """Why ``number`` is not a valid CN patent number of ``ip_type``, or None when it is.

    Accepts an application number (CN202310123456.7, ZL… for granted patents) whose check character must agree,
    or a publication number (CN115123456A).
    """
    if _PATENT_PUBLICATION.match(number):
        return None
    match = _PATENT_APPLICATION.match(number)
    if not match:
        return _("must look like CN202310123456.7 (application number) or CN115123456A (publication number)")
    digits, check = match.groups()
    if patent_check_character(digits) != check:
        return _("the check character after the dot is wrong: re-check the number for a typing error")
    if len(digits) == 12:
        allowed = _PATENT_TYPE_DIGIT.get(ip_type)
        if allowed and digits[4] not in allowed:
            return _("the fifth digit (%(digit)s) says another kind of patent than “%(kind)s”", digit=digits[4],
                     kind=state_word(ip_type))
    return None
