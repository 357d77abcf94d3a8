"""Segment bilingual text into search tokens: rjieba with a domain dictionary for Chinese, Snowball stems for
English (British spellings folded to American first), stop words removed. Index and query use the same rules, so
both backends see identical tokens. Codes are kept both ways: "GX-3000" and "GX3000" each index gx3000, gx and 3000.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import rjieba
import snowballstemmer

from hall.search.lexicon import american, synonym_groups

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{CJK}]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_ANY_RUN = re.compile(f"[{CJK}]+|[a-z0-9]+(?:-[a-z0-9]+)*")
_ALNUM_PARTS = re.compile(r"[a-z]+|[0-9]+")


def _data_lines(name: str) -> list[str]:
    text = resources.files("hall").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def domain_terms() -> tuple[str, ...]:
    """The technical terms that stay whole (石墨烯, 锂离子电池, 钙钛矿, 脑机接口 …), with the Chinese names of the
    synonym list (激光雷达, 极紫外光刻 …)."""
    terms = dict.fromkeys(_data_lines("domain_terms.txt"))
    terms.update(dict.fromkeys(form for group in synonym_groups() for form in group if _CJK_RUN.fullmatch(form)))
    return tuple(terms)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Chinese and English words left out of the index and of queries."""
    return frozenset(_data_lines("stopwords.txt"))


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    jieba = rjieba.Jieba()
    for term in domain_terms():
        if _CJK_RUN.fullmatch(term):
            jieba.add_word(term, None, None)
    return jieba


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=1)
def _terms_by_length() -> dict[int, frozenset[str]]:
    chinese = [term for term in domain_terms() if _CJK_RUN.fullmatch(term)]
    return {length: frozenset(t for t in chinese if len(t) == length) for length in {len(t) for t in chinese}}


def is_domain_term(word: str) -> bool:
    """True when ``word`` is a Chinese domain term: the index holds it whole wherever its characters stand together
    in a text (``_embedded_terms``), however the segmenter cut them."""
    return word in _terms_by_length().get(len(word), frozenset())


def _embedded_terms(run: str) -> list[str]:
    """Every domain term that occurs inside ``run``."""
    return [run[i:i + length] for length, terms in _terms_by_length().items()
            for i in range(len(run) - length + 1) if run[i:i + length] in terms]


def is_cjk(token: str) -> bool:
    """True when ``token`` is Chinese (a run of CJK characters)."""
    return _CJK_RUN.fullmatch(token) is not None


def latin_token(word: str) -> str | None:
    """The index token of one lower-case Latin word: American spelling, Snowball stem; None for a stop word."""
    word = american(word)
    return None if word in stop_words() else _stemmer().stemWord(word)


def alnum_parts(word: str) -> list[str]:
    """The letter and digit parts of a code (gx3000 → gx, 3000); [] for a plain word or number."""
    parts = _ALNUM_PARTS.findall(word)
    return parts if len(parts) > 1 else []


def chinese_words(run: str, *, for_index: bool) -> list[str]:
    """The words of a Chinese run without stop words: every word and its parts for the index, the precise
    segmentation for a query."""
    jieba = _segmenter()
    pieces = jieba.cut_for_search(run, True) if for_index else jieba.cut(run, True)
    return [piece for piece in pieces if piece not in stop_words()]


def _latin_index_tokens(run: str) -> list[str]:
    words = run.split("-")
    tokens = [token for word in words for token in [latin_token(word)] if token]
    if len(words) > 1:  # solid-state, gx-3000: the joined form too, as a query for either spelling asks it
        tokens.append(_stemmer().stemWord("".join(words)))
    elif alnum_parts(run):  # gx3000: its parts too, as "GX 3000" is written
        tokens.extend(alnum_parts(run))
    return tokens


def _tokens(text: str | None, *, for_index: bool) -> list[str]:
    if not text:
        return []
    tokens: list[str] = []
    for run in _ANY_RUN.findall(text.lower()):
        if _CJK_RUN.fullmatch(run):
            pieces = chinese_words(run, for_index=for_index)
            tokens.extend(pieces)
            if for_index:  # a term the segmenter split differently (高安|全固态电池) is still indexed whole, once
                seen = set(pieces)
                tokens.extend(term for term in _embedded_terms(run) if term not in seen)
        elif for_index:
            tokens.extend(_latin_index_tokens(run))
        else:
            tokens.extend(token for word in run.split("-") for token in [latin_token(word)] if token)
    return tokens


def index_tokens(*texts: str | None) -> str:
    """Space-separated tokens for the index (search-engine segmentation: whole words and their parts)."""
    return " ".join(token for text in texts for token in _tokens(text, for_index=True))


def gram_tokens(*texts: str | None) -> str:
    """The CJK character bigrams of ``texts``, space-separated in reading order: a Chinese word of a query is found
    as the phrase of its bigrams wherever its characters stand together, however the text was segmented."""
    grams = [run[i:i + 2] for text in texts if text for run in _CJK_RUN.findall(text) if len(run) > 1
             for i in range(len(run) - 1)]
    return " ".join(grams)


def compound_parts(word: str) -> list[str]:
    """A long Chinese word as the shorter words it is made of, left to right, longest first (钙钛矿太阳能电池 →
    钙钛矿, 太阳能电池); [] when it is not made of two or more."""
    pieces = {piece for piece in _segmenter().cut_for_search(word, True) if 1 < len(piece) < len(word)}
    parts, i = [], 0
    while i < len(word):
        found = max((p for p in pieces if word.startswith(p, i)), key=len, default=None)
        if found is None:
            i += 1
            continue
        parts.append(found)
        i += len(found)
    return parts if len(parts) > 1 else []


def bigrams(word: str) -> list[str]:
    """The character bigrams of one Chinese word (its phrase in the gram column); [] for one character."""
    return [word[i:i + 2] for i in range(len(word) - 1)]


def query_runs(text: str) -> list[str]:
    """The lower-cased Chinese runs and Latin words (hyphenated compounds whole) of a query, in order."""
    return _ANY_RUN.findall(text.lower())


def query_terms(text: str) -> list[str]:
    """The distinct tokens of a query, in order (precise segmentation)."""
    seen: dict[str, None] = {}
    for token in _tokens(text, for_index=False):
        seen.setdefault(token, None)
    return list(seen)


def match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where ``terms`` occur in ``text``: Chinese terms as substrings, English words whose stem starts with a term."""
    lowered = text.lower()
    spans = [m.span() for term in terms if _CJK_RUN.search(term) for m in re.finditer(re.escape(term), lowered)]
    latin = [term for term in terms if _LATIN_WORD.fullmatch(term)]
    if latin:
        stem = _stemmer().stemWord
        spans += [m.span() for m in _LATIN_WORD.finditer(lowered)
                  if any(stem(american(m.group())).startswith(t) for t in latin)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str | None, terms: list[str], *, width: int = 120) -> str | None:
    """A window of ``text`` around the first match, HTML-escaped, with every match wrapped in <mark>…</mark>."""
    from markupsafe import escape

    if not text:
        return None
    spans = match_spans(text, terms)
    start = max(0, spans[0][0] - width // 3) if spans else 0
    end = min(len(text), start + width)
    out, cursor = [], start
    for span_start, span_end in spans:
        if span_start < cursor or span_end > end:
            continue
        out.append(str(escape(text[cursor:span_start])))
        out.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    out.append(str(escape(text[cursor:end])))
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else "")
