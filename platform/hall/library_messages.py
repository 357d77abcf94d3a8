"""The refusals that libraries write in English (marshmallow's field and validator messages, Flask-WTF's CSRF
messages), in the request's language.

Our own messages are translated where they are raised (``gettext`` with placeholders). A library's message arrives
already formatted ("Length must be between 1 and 200."), so it is matched here against the library's templates and
translated with the values it carried. A message no template matches is returned as it came."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext


def N_(message: str) -> str:  # noqa: N802 — the marker ``pybabel extract`` knows: the msgid is collected, not translated
    """Mark ``message`` for the catalog without translating it here."""
    return message


# Messages without values: looked up as they are.
FIXED = (
    N_("Missing data for required field."), N_("Field may not be null."), N_("Invalid value."), N_("Invalid type."),
    N_("Not a valid list."), N_("Not a valid tuple."), N_("Not a valid string."), N_("Not a valid UUID."),
    N_("Not a valid number."), N_("Number too large."), N_("Not a valid integer."), N_("Not a valid boolean."),
    N_("Special numeric values (nan or infinity) are not permitted."), N_("Not a valid datetime."),
    N_("Not a valid date."), N_("Not a valid time."), N_("Not a valid mapping type."), N_("Not a valid URL."),
    N_("Not a valid email address."), N_("Invalid input type."), N_("Unknown field."), N_("Invalid input."),
    N_("String does not match expected pattern."), N_("Not a valid aware datetime."),
    N_("Not a valid naive datetime."), N_("Invalid JSON body."),
    # Flask-WTF's CSRF refusals
    N_("The CSRF token is missing."), N_("The CSRF token is invalid."), N_("The CSRF token has expired."),
    N_("The CSRF session token is missing."), N_("The CSRF tokens do not match."),
    N_("The referrer header is missing."), N_("The referrer does not match the host."),
)

# Messages with values: the library's formatted text as a pattern, and our template for the same sentence.
_NUMBER = r"-?[0-9][0-9.,eE+-]*"
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), template) for pattern, template in (
    (rf"Length must be between (?P<min>{_NUMBER}) and (?P<max>{_NUMBER})\.",
     N_("Length must be between %(min)s and %(max)s.")),
    (rf"Shorter than minimum length (?P<min>{_NUMBER})\.", N_("Shorter than minimum length %(min)s.")),
    (rf"Longer than maximum length (?P<max>{_NUMBER})\.", N_("Longer than maximum length %(max)s.")),
    (rf"Length must be (?P<equal>{_NUMBER})\.", N_("Length must be %(equal)s.")),
    (rf"Must be greater than or equal to (?P<min>{_NUMBER}) and less than or equal to (?P<max>{_NUMBER})\.",
     N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s.")),
    (rf"Must be greater than (?P<min>{_NUMBER}) and less than (?P<max>{_NUMBER})\.",
     N_("Must be greater than %(min)s and less than %(max)s.")),
    (rf"Must be greater than or equal to (?P<min>{_NUMBER})\.", N_("Must be greater than or equal to %(min)s.")),
    (rf"Must be greater than (?P<min>{_NUMBER})\.", N_("Must be greater than %(min)s.")),
    (rf"Must be less than or equal to (?P<max>{_NUMBER})\.", N_("Must be less than or equal to %(max)s.")),
    (rf"Must be less than (?P<max>{_NUMBER})\.", N_("Must be less than %(max)s.")),
    (r"Must be one of: (?P<choices>.*)\.", N_("Must be one of: %(choices)s.")),
    (r"One or more of the choices you made was not in: (?P<choices>.*)\.",
     N_("One or more of the choices you made was not in: %(choices)s.")),
    (r"Must be equal to (?P<other>.*)\.", N_("Must be equal to %(other)s.")),
    (r'"(?P<input>.*)" cannot be formatted as a datetime\.', N_("“%(input)s” cannot be read as a date and time.")),
    (r'"(?P<input>.*)" cannot be formatted as a date\.', N_("“%(input)s” cannot be read as a date.")),
))


def translate_library_message(text: str) -> str:
    """``text`` in the request's language when it is one of the libraries' messages, else ``text`` unchanged."""
    found = gettext(text)
    if found != text:
        return str(found)
    for pattern, template in PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return str(gettext(template, **match.groupdict()))
    return text


def translate_messages(value: Any) -> Any:
    """A field → messages mapping (nested as marshmallow nests it) with every message translated."""
    if isinstance(value, dict):
        return {key: translate_messages(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [translate_messages(item) for item in value]
    return translate_library_message(str(value))
