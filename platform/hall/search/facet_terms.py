"""A listing's filter values as words of the full-text index (``hall_text.facet_tokens``), so that on SQLite a
search with text and filters is one FTS5 match: the text's doclists are intersected with the filter values' inside
the full-text index, where joining each of a common word's hundreds of thousands of matches to its ``hall_index``
row to test the filter cost 100–200 ms at 1M listings.

A facet word is ``φ<facet>φ<value>`` with any character but a–z and 0–9 written as ``φ`` and its hex code (so
``CNY`` and ``cny`` stay apart, as in SQL): the query side only ever makes words of a–z, 0–9 and CJK
(``tokenizer.query_runs``), so no text a visitor types can match one, and FTS5's unicode61 tokenizer keeps the
whole as one token (φ is a letter). The column weighs nothing in the ranking (``COLUMN_WEIGHTS``), and every row
has as many of its words (``entry_terms``).
"""
from __future__ import annotations

import re

from hall.models import HallIndexEntry
from hall.models.listings import DEAL_MODES
from hall.search.facet_counts import Key, entry_facets

MARK = "φ"
# one word per facet of hall_scopes.fts_facets at most, the deal modes one each: the words of a listing, padded
SLOTS = 13 + len(DEAL_MODES)
_OTHER = re.compile("[^a-z0-9]")


def facet_term(name: str, value: str) -> str:
    """The index word of one filter value (``direction_code``, ``energy`` → ``φdirectionφ5fcodeφenergy``)."""
    def encode(part: str) -> str:
        return _OTHER.sub(lambda m: f"{MARK}{ord(m.group()):x}", part)  # (FTS5 folds case: A is φ41)
    return f"{MARK}{encode(name)}{MARK}{encode(value)}"


def entry_keys(entry: HallIndexEntry) -> list[Key]:
    """Every (facet, value) a filter may ask of ``entry``: its facet counts' keys, and its city, county, currency
    and institution."""
    keys = entry_facets(entry)[1:]  # (without TOTAL)
    region = entry.region_code or ""
    if len(region) >= 4:
        keys.append(("city", region[:4]))
    if len(region) == 6:
        keys.append(("county", region))
    keys += [("currency", entry.currency or ""), ("institution", str(entry.institution_id))]
    return keys


def entry_terms(entry: HallIndexEntry) -> str:
    """``hall_text.facet_tokens`` of an index entry: its filter values as index words, and a filler word (``φ``)
    up to SLOTS words in all. FTS5's bm25 weighs a match by the length of the whole row, this column's included:
    with the same number of words in every row, every row is the same few words longer and the order the text
    alone would give is kept (a listing with more deal modes would otherwise rank below an equal one)."""
    words = [facet_term(name, value) for name, value in entry_keys(entry)]
    return " ".join(words + [MARK] * (SLOTS - len(words)))


def fts5_facets(required: list[Key], any_of: list[list[Key]]) -> str:
    """FTS5's expression for listings that have every key of ``required`` and, for each list of ``any_of``, one
    of its keys (a range of TRLs)."""
    parts = [f'"{facet_term(*key)}"' for key in required]
    parts += ["(" + " OR ".join(f'"{facet_term(*key)}"' for key in keys) + ")" for keys in any_of]
    return " AND ".join(parts)
