"""A hall query as units of meaning, and its text for each backend (FTS5 MATCH, PostgreSQL tsquery).

A query is a list of units: a Latin word, a code, a Chinese word, or a name from the synonym list. A unit matches
when any of its alternatives does:
- the word itself in the title, keyword or body columns (an English word of 3 letters or more as a prefix);
- for a Chinese word, the phrase of its character bigrams in the bigram column (the word as a substring of the
  text, however the text was segmented; not for a domain term, which the index holds whole wherever it stands),
  and for a long compound its shorter words anywhere in the text;
- for a name of the synonym list, each of its other names (LiDAR, 激光雷达, laser radar);
- for a code, its joined form or the phrase of its parts (GX-3000, GX3000, GX 3000).
"All" asks every unit, "any" at least one; ``coverage`` counts how many a listing meets, for the any-word fallback.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from hall.search.lexicon import synonym_groups
from hall.search.tokenizer import (
    alnum_parts,
    bigrams,
    chinese_words,
    compound_parts,
    is_cjk,
    is_domain_term,
    latin_token,
    query_runs,
)

PREFIX_MIN = 3  # shorter Latin tokens are matched whole: "ai" must not find "aircraft"
SYNONYM_SPAN = 6  # the longest name of the synonym list, in tokens


@dataclass(frozen=True)
class Phrase:
    """Tokens that stand together; ``grams``: in the bigram column, else in any column."""

    tokens: tuple[str, ...]
    grams: bool = False

    @property
    def prefix(self) -> bool:
        """A single Latin token of 3 characters or more also matches the longer words it begins."""
        token = self.tokens[0]
        return not self.grams and len(self.tokens) == 1 and token.isascii() and len(token) >= PREFIX_MIN


Alternative = tuple[Phrase, ...]  # every phrase of it must match


@dataclass(frozen=True)
class Unit:
    """One unit of a query; it matches when any alternative does. ``tokens``: its own tokens, ``related``: its
    synonyms' (both for highlighting)."""

    alternatives: tuple[Alternative, ...]
    tokens: tuple[str, ...]
    related: tuple[str, ...] = ()


def _word_alternatives(tokens: tuple[str, ...]) -> list[Alternative]:
    """A word (or a name of several tokens) as written, and a Chinese one as the phrase of its bigrams."""
    out: list[Alternative] = [(Phrase(tokens),)]
    if len(tokens) == 1 and is_cjk(tokens[0]) and len(tokens[0]) > 2:  # (two characters: the word is its bigram)
        if not is_domain_term(tokens[0]):  # (a domain term's bigrams find nothing its word does not: less to read)
            out.append((Phrase(tuple(bigrams(tokens[0])), grams=True),))
        parts = compound_parts(tokens[0]) if len(tokens[0]) > 3 else []
        if parts:  # a compound the segmenter keeps whole: its words anywhere in the text
            out.append(tuple(Phrase((part,)) for part in parts))
    return out


@lru_cache(maxsize=1)
def _synonyms() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Each name's tokens → the token tuples of every name in its group."""
    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for group in synonym_groups():
        forms = tuple(dict.fromkeys(tuple(_plain_tokens(form)) for form in group))
        forms = tuple(form for form in forms if form)
        for form in forms:
            table.setdefault(form, forms)
    return table


def _plain_tokens(text: str) -> list[str]:
    """A name's tokens as a query makes them (no synonyms, codes as their parts)."""
    return [token for atom in _atoms(text) for token in atom[0]]


def _atoms(text: str) -> list[tuple[tuple[str, ...], list[Alternative]]]:
    """The query's atoms in order: (tokens, alternatives) per word, code or group of single Chinese characters."""
    atoms: list[tuple[tuple[str, ...], list[Alternative]]] = []
    for run in query_runs(text):
        if is_cjk(run):
            singles: list[str] = []
            for word in chinese_words(run, for_index=False) + [""]:
                if len(word) == 1:
                    singles.append(word)
                    continue
                if singles:  # single characters (a fragment such as 态电) together: their bigram phrase
                    joined = "".join(singles)
                    alternatives: list[Alternative] = [tuple(Phrase((c,)) for c in singles)]
                    if len(joined) > 1:
                        alternatives.append((Phrase(tuple(bigrams(joined)), grams=True),))
                    atoms.append((tuple(singles), alternatives))
                    singles = []
                if word:
                    atoms.append(((word,), _word_alternatives((word,))))
            continue
        words = [word for word in run.split("-") if word]
        parts = words if len(words) > 1 else alnum_parts(run)
        if parts:  # a code or compound: joined, or its parts side by side
            tokens = tuple(token for word in words for token in [latin_token(word)] if token)
            joined_token = latin_token("".join(words))
            split = tuple(token for part in parts for token in [latin_token(part) or part])
            code: list[Alternative] = [(Phrase(split),)]
            if joined_token:
                code.append((Phrase((joined_token,)),))
            atoms.append((tokens or split, code))
        else:
            token = latin_token(run)
            if token:
                atoms.append(((token,), _word_alternatives((token,))))
    return atoms


def build_query(text: str) -> list[Unit]:
    """The units of the query ``text``: atoms in order, names of the synonym list taken as one unit with all their
    names; a unit repeated later in the query is left out."""
    atoms = _atoms(text)
    synonyms = _synonyms()
    units: dict[tuple[str, ...], Unit] = {}
    i = 0
    while i < len(atoms):
        for span in range(min(SYNONYM_SPAN, len(atoms) - i), 0, -1):
            key = tuple(token for atom in atoms[i:i + span] for token in atom[0])
            forms = synonyms.get(key)
            if forms is not None:
                alternatives = [alt for form in forms for alt in _word_alternatives(form)]
                if span == 1:
                    alternatives = atoms[i][1] + [alt for alt in alternatives if alt not in atoms[i][1]]
                related = tuple(t for form in forms for t in form if t not in key)
                units.setdefault(key, Unit(tuple(alternatives), key, related))
                i += span
                break
        else:
            tokens, alternatives = atoms[i]
            units.setdefault(tokens, Unit(tuple(alternatives), tokens))
            i += 1
    return list(units.values())


def units_of_terms(terms: list[str]) -> list[Unit]:
    """Units for plain index tokens (the matching service's words): each token as itself, nothing added."""
    return [Unit(((Phrase((term,)),),), (term,)) for term in terms]


def highlight_terms(units: list[Unit]) -> list[str]:
    """The distinct tokens a result page marks: the query's, then its synonyms'."""
    return list(dict.fromkeys([token for unit in units for token in unit.tokens]
                              + [token for unit in units for token in unit.related]))


# --- each backend's text ---------------------------------------------------------------------------------------

GRAM_COLUMN = "gram_tokens"


def _fts5_phrase(phrase: Phrase) -> str:
    quoted = '"' + " ".join(token.replace('"', '""') for token in phrase.tokens) + '"'
    if phrase.prefix:
        quoted += "*"
    # one bigram needs no column: a two-character token is the same string wherever it stands
    return f"{GRAM_COLUMN} : {quoted}" if phrase.grams and len(phrase.tokens) > 1 else quoted


def _tsquery_phrase(phrase: Phrase) -> str:
    tokens = ["'" + token.replace("'", "''") + "'" for token in phrase.tokens]
    if phrase.prefix:
        tokens[0] += ":*"
    if phrase.grams:
        # Every bigram, without weights or positions: GIN answers that alone. A phrase (<->) or a weight (:D) would
        # make PostgreSQL re-read (and de-TOAST) the tsvector of every row holding the bigrams, seconds for a
        # common word at a million listings; bigrams of one word rarely meet in a text without standing together.
        return _join(tokens, "&")
    return " <-> ".join(tokens)


def _join(parts: list[str], operator: str) -> str:
    return parts[0] if len(parts) == 1 else "(" + f" {operator} ".join(parts) + ")"


def fts5_unit(unit: Unit) -> str:
    """FTS5's MATCH expression for one unit."""
    return _join([_join([_fts5_phrase(p) for p in alt], "AND") for alt in unit.alternatives], "OR")


def tsquery_unit(unit: Unit) -> str:
    """PostgreSQL's tsquery text for one unit."""
    return _join([_join([_tsquery_phrase(p) for p in alt], "&") for alt in unit.alternatives], "|")


def tsquery_unit_parts(unit: Unit) -> tuple[str | None, str | None]:
    """PostgreSQL's tsquery texts for one unit: its word alternatives (for ``search_vector``) and its bigram
    alternatives (for ``gram_vector``); None where it has none."""
    words = [_join([_tsquery_phrase(p) for p in alt], "&") for alt in unit.alternatives if not alt[0].grams]
    grams = [_tsquery_phrase(alt[0]) for alt in unit.alternatives if alt[0].grams]
    return (_join(words, "|") if words else None), (_join(grams, "|") if grams else None)


def fts5_expression(units: list[Unit], mode: str) -> str:
    """FTS5's MATCH expression: every unit (mode all) or any."""
    return _join([fts5_unit(u) for u in units], "AND" if mode == "all" else "OR")


def tsquery_expression(units: list[Unit], mode: str) -> str:
    """PostgreSQL's tsquery text: every unit (mode all) or any."""
    return _join([tsquery_unit(u) for u in units], "&" if mode == "all" else "|")
