"""Segment bilingual text into search tokens: rjieba with a domain dictionary for Chinese, Snowball stems for
English, stop words removed. Index and query use the same rules, so both backends see identical tokens."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import rjieba
import snowballstemmer

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_ANY_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")


def _data_lines(name: str) -> list[str]:
    text = resources.files("hall").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def domain_terms() -> tuple[str, ...]:
    """The technical terms that stay whole (石墨烯, 锂离子电池, 钙钛矿, 脑机接口 …)."""
    return tuple(_data_lines("domain_terms.txt"))


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


def _embedded_terms(run: str) -> list[str]:
    """Every domain term that occurs inside ``run``."""
    return [run[i:i + length] for length, terms in _terms_by_length().items()
            for i in range(len(run) - length + 1) if run[i:i + length] in terms]


def _latin_tokens(words: list[str]) -> list[str]:
    kept = [word for word in words if word not in stop_words()]
    return _stemmer().stemWords(kept)


def _tokens(text: str | None, *, for_index: bool) -> list[str]:
    if not text:
        return []
    tokens: list[str] = []
    jieba = _segmenter()
    for run in _ANY_RUN.findall(text.lower()):
        if _CJK_RUN.fullmatch(run):
            pieces = jieba.cut_for_search(run, True) if for_index else jieba.cut(run, True)
            tokens.extend(piece for piece in pieces if piece not in stop_words())
            if for_index:  # a term the segmenter split differently (高安|全固态电池) is still indexed whole
                tokens.extend(_embedded_terms(run))
        else:
            tokens.extend(_latin_tokens([run]))
    return tokens


def index_tokens(*texts: str | None) -> str:
    """Space-separated tokens for the index (search-engine segmentation: whole words and their parts)."""
    return " ".join(token for text in texts for token in _tokens(text, for_index=True))


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
        spans += [m.span() for m in _LATIN_WORD.finditer(lowered) if any(stem(m.group()).startswith(t) for t in latin)]
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
