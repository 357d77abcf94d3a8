"""The API's URL rules as the route inventories see them: the prefix, the methods that change state, and a
concrete path for a rule."""
from __future__ import annotations

import re

API_PREFIX = "/api/v1"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_SAMPLE = {"int": "1", "float": "1.0", "uuid": "00000000-0000-0000-0000-000000000001"}


def sample_path(rule_text: str) -> str:
    """The rule with every argument filled: 1 for int converters, a plausible value for the others."""
    return _ARGUMENT.sub(lambda m: _SAMPLE.get(m.group("converter") or "", "x"), rule_text)
