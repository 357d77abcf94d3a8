"""The search tokenizer: rjieba with the domain dictionary keeps technical terms whole, the index also holds their
parts, stop words are dropped, English words are Snowball-stemmed, and ``highlight`` escapes HTML and wraps matches
(Chinese by substring, English by stem) in <mark>."""
from __future__ import annotations

import pytest

from hall.search.tokenizer import domain_terms, highlight, index_tokens, match_spans, query_terms, stop_words

DOMAIN_TERMS = ("石墨烯", "锂离子电池", "钙钛矿", "脑机接口", "固态电池", "碳纤维")


@pytest.mark.parametrize("term", DOMAIN_TERMS)
def test_domain_terms_stay_whole_in_queries(term: str) -> None:
    assert term in domain_terms()
    assert query_terms(term) == [term]
    for phrase in (f"新型{term}研究进展", f"高性能{term}的制备", f"一种{term}及其应用"):
        terms = query_terms(phrase)
        assert term in terms, (phrase, terms)
        assert not any(piece != term and piece in term for piece in terms), (phrase, terms)


@pytest.mark.parametrize(("term", "parts"), [("锂离子电池", {"电池", "锂离子"}), ("固态电池", {"固态", "电池"}),
                                             ("脑机接口", {"接口"}), ("碳纤维", {"纤维"}), ("石墨烯", {"石墨"})])
def test_index_tokens_hold_the_whole_term_and_its_parts(term: str, parts: set[str]) -> None:
    tokens = index_tokens(f"一种{term}的制备").split()
    assert term in tokens and parts <= set(tokens), tokens


@pytest.mark.parametrize(("text", "term"), [("高安全固态电池电解质", "固态电池"), ("新型锂离子电池", "锂离子电池"),
                                            ("柔性钙钛矿电池", "钙钛矿")])
def test_a_domain_term_inside_a_longer_phrase_is_indexed_whole(text: str, term: str) -> None:
    """Whatever the segmenter makes of the neighbouring characters, the index holds the domain term itself."""
    assert term in index_tokens(text).split(), index_tokens(text)


def test_a_two_character_query_matches_a_token_of_the_longer_term() -> None:
    assert query_terms("电池") == ["电池"]
    assert "电池" in index_tokens("高能量密度锂离子电池").split()
    assert "电池" in index_tokens("钙钛矿太阳能电池").split()


def test_stop_words_are_dropped_from_queries_and_index() -> None:
    assert {"的", "和", "the", "of"} <= stop_words()
    assert query_terms("石墨烯的制备和应用") == ["石墨烯", "制备", "应用"]
    assert query_terms("the battery of graphene") == ["batteri", "graphen"]
    tokens = index_tokens("石墨烯的制备和应用", "The Battery of the Future").split()
    assert not {"的", "和", "the", "of"} & set(tokens)
    assert query_terms("的 和 the of") == []


def test_english_words_are_stemmed_and_lowercased() -> None:
    assert query_terms("batteries") == query_terms("battery") == query_terms("Battery") == ["batteri"]
    assert index_tokens("Batteries") == index_tokens("battery") == "batteri"
    assert query_terms("charging charged charges") == ["charg"]


def test_query_terms_are_distinct_and_in_order() -> None:
    assert query_terms("电池 battery 电池 batteries") == ["电池", "batteri"]


@pytest.mark.parametrize(("text", "expected"), [
    ("石墨烯 battery", ["石墨烯", "batteri"]),
    ("石墨烯battery", ["石墨烯", "batteri"]),
    ("Graphene 锂离子电池 electrodes", ["graphen", "锂离子电池", "electrod"]),
    ("钙钛矿solar cells的效率", ["钙钛矿", "solar", "cell", "效率"]),
])
def test_mixed_chinese_and_english(text: str, expected: list[str]) -> None:
    assert query_terms(text) == expected


def test_index_and_query_agree_on_mixed_text() -> None:
    text = "石墨烯 enhanced Batteries 用于锂离子电池"
    tokens = set(index_tokens(text).split())
    assert set(query_terms(text)) <= tokens


def test_highlight_wraps_chinese_matches_in_mark() -> None:
    terms = query_terms("钙钛矿")
    expected = "<mark>钙钛矿</mark>叠层太阳能电池，<mark>钙钛矿</mark>稳定"
    assert highlight("钙钛矿叠层太阳能电池，钙钛矿稳定", terms) == expected


def test_highlight_escapes_html_in_the_text() -> None:
    out = highlight("<script>alert('钙钛矿')</script> & <b>电池</b>", query_terms("钙钛矿 电池"))
    assert out is not None
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;" in out and "&amp;" in out and "&lt;b&gt;" in out
    assert "<mark>钙钛矿</mark>" in out and "<mark>电池</mark>" in out
    assert out.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_highlight_escapes_html_inside_a_match_and_without_matches() -> None:
    assert highlight("<i>x</i>", ["石墨烯"]) == "&lt;i&gt;x&lt;/i&gt;"
    assert highlight(None, ["石墨烯"]) is None
    assert highlight("", ["石墨烯"]) is None


def test_highlight_marks_english_words_by_stem() -> None:
    terms = query_terms("battery")
    assert highlight("Graphene Batteries charge fast; one battery.", terms) == \
        "Graphene <mark>Batteries</mark> charge fast; one <mark>battery</mark>."
    assert highlight("Batteries", query_terms("batteries")) == "<mark>Batteries</mark>"
    assert highlight("A combattery is not a battery", terms) == "A combattery is not a <mark>battery</mark>"


def test_highlight_marks_mixed_terms() -> None:
    out = highlight("石墨烯 coated Batteries", query_terms("石墨烯 battery"))
    assert out == "<mark>石墨烯</mark> coated <mark>Batteries</mark>"


def test_highlight_shows_a_window_around_the_first_match() -> None:
    text = "前言" * 100 + "钙钛矿" + "结语" * 100
    out = highlight(text, ["钙钛矿"], width=60)
    assert out is not None and out.startswith("…") and out.endswith("…")
    assert "<mark>钙钛矿</mark>" in out
    assert len(out.replace("<mark>", "").replace("</mark>", "")) == 60 + 2


def test_match_spans_merge_overlapping_matches() -> None:
    assert match_spans("锂离子电池", ["锂离子电池", "电池"]) == [(0, 5)]
