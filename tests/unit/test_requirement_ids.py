"""Every requirement id the repository cites (TXN-01, PAY-03, AUTHZ-01, ...) is defined in docs/requirements.md, and
every id defined there is well-formed and defined once.

The families are read from docs/requirements.md itself, so a new family only needs its first id defined there.
Any other token of the same shape (2-6 capitals, a hyphen, two digits) is reported too, so that a new family cited
before it is defined is caught as well. Plain file reading, no subprocess."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "docs" / "requirements.md"

# Where ids are cited: the production code, migrations, tests, benchmarks, other docs, CI, and the top-level files.
SCANNED_DIRS = ("platform", "blueprints", "schemas", "migrations", "tests", "bench", "docs", ".ci")
SCANNED_FILES = ("README.md", "Makefile", "wsgi.py", "pyproject.toml", "babel.cfg")
TEXT_SUFFIXES = frozenset({"", ".py", ".html", ".jinja", ".j2", ".txt", ".md", ".rst", ".toml", ".cfg", ".ini",
                           ".sh", ".yml", ".yaml", ".json", ".po", ".pot", ".js", ".css", ".sql"})
SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "node_modules", ".pytest_cache", ".ruff_cache", ".mypy_cache"})

# A well-formed id: a family of 2-6 capitals, a hyphen, then two digits or a three-capital tag (API-INV).
WELL_FORMED = re.compile(r"[A-Z]{2,6}-(?:[0-9]{2}|[A-Z]{3})")
# A definition: an id-like token opening a Markdown heading or a table row.
DEFINITION = re.compile(r"^(?:#{2,6}[ \t]+|\|[ \t]*)(?P<id>[A-Z][A-Za-z0-9]*-[A-Za-z0-9]+)(?![\w-])", re.MULTILINE)
# Two-digit tokens of the id shape that are not requirement ids.
NOT_IDS = frozenset({"UTF-16", "UTF-32"})


def defined_ids() -> list[str]:
    """Every id defined in docs/requirements.md, in order, repeats included."""
    return [match.group("id") for match in DEFINITION.finditer(REQUIREMENTS.read_text(encoding="utf-8"))]


def citation_pattern(families: set[str]) -> re.Pattern[str]:
    """An id of a known family (any number or tag, so that a typo is caught), or any two-digit id of the id shape;
    never part of a longer hyphenated code such as a bank reference."""
    known = "|".join(sorted(families, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:(?:{known})-(?:[0-9]{{1,3}}|[A-Z]{{2,4}})|[A-Z]{{2,6}}-[0-9]{{2}})(?![\w-])")


def scanned_files() -> Iterator[Path]:
    """The text files that may cite ids, docs/requirements.md excepted."""
    for name in SCANNED_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name
    for folder in SCANNED_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT)
            if SKIPPED_DIRS.intersection(relative.parts) or not path.is_file() or path == REQUIREMENTS:
                continue
            if path.suffix in TEXT_SUFFIXES:
                yield path


def test_defined_ids_are_well_formed_and_unique() -> None:
    ids = defined_ids()
    assert len(ids) >= 3, f"{REQUIREMENTS.relative_to(ROOT)} defines almost no ids; is the format still '### ID — …'?"
    malformed = [identifier for identifier in ids if not WELL_FORMED.fullmatch(identifier)]
    assert not malformed, f"malformed ids in docs/requirements.md (want e.g. TXN-01 or API-INV): {malformed}"
    repeated = sorted(identifier for identifier, count in Counter(ids).items() if count > 1)
    assert not repeated, f"ids defined more than once in docs/requirements.md: {repeated}"


def test_every_cited_id_is_defined() -> None:
    defined = set(defined_ids())
    pattern = citation_pattern({identifier.split("-")[0] for identifier in defined})
    undefined = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in pattern.finditer(line):
                if match.group() not in defined and match.group() not in NOT_IDS:
                    undefined.append(f"{path.relative_to(ROOT)}:{number}: {match.group()}")
    assert not undefined, ("these files cite requirement ids that docs/requirements.md does not define (define "
                           "them there, from the shared reliability-checks.md, or fix the citation):\n"
                           + "\n".join(undefined))
