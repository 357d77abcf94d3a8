"""Word lists that widen what a query finds: British spellings folded to American (before stemming, on both sides
of the index), and groups of equivalent names (acronyms, Chinese and English names) that a query expands to."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

_SUFFIXES = ("ations", "ation", "ers", "ing", "er", "ed", "es", "e")


def _data_lines(name: str) -> list[str]:
    text = resources.files("hall").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def _spelling() -> tuple[dict[str, str], re.Pattern[str] | None]:
    words: dict[str, str] = {}
    stems: list[str] = []
    for line in _data_lines("spelling.txt"):
        if line.startswith("stem:"):
            stems.append(line.removeprefix("stem:").strip())
        else:
            british, american = line.split()
            words[british] = american
    pattern = (re.compile(r"(" + "|".join(map(re.escape, sorted(stems, key=len, reverse=True))) + r")is("
                          + "|".join(_SUFFIXES) + r")") if stems else None)
    return words, pattern


def american(word: str) -> str:
    """``word`` (lower case) in American spelling: fibre → fiber, optimisation → optimization; others unchanged."""
    words, pattern = _spelling()
    folded = words.get(word)
    if folded is not None:
        return folded
    if pattern is not None and "is" in word:
        match = pattern.fullmatch(word)
        if match is not None:
            return f"{match.group(1)}iz{match.group(2)}"
    return word


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The groups of equivalent names, as written in ``synonyms.txt``."""
    lines = _data_lines("synonyms.txt")
    return tuple(tuple(form.strip() for form in line.split("|") if form.strip()) for line in lines)
