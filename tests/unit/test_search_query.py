"""How a hall query becomes units (hall.search.query): synonyms and acronyms, codes written three ways, British
spellings, no prefix for short Latin tokens, Chinese words as bigram phrases and compounds as their words; and
what the index holds (each embedded dictionary term once, bigrams in the extras column)."""
from __future__ import annotations

import pytest

from hall.search.lexicon import american
from hall.search.query import build_query, fts5_expression, highlight_terms, tsquery_expression
from hall.search.tokenizer import compound_parts, gram_tokens, index_tokens, is_domain_term, query_terms


def alternatives(q: str) -> list[set[tuple[str, ...]]]:
    """Per unit, the token tuples of its one-phrase alternatives."""
    return [{alt[0].tokens for alt in unit.alternatives if len(alt) == 1} for unit in build_query(q)]


@pytest.mark.parametrize(("q", "names"), [
    ("LiDAR", {("lidar",), ("激光雷达",), ("laser", "radar")}),
    ("激光雷达", {("lidar",), ("激光雷达",), ("laser", "radar")}),
    ("laser radar", {("lidar",), ("激光雷达",), ("laser", "radar")}),
    ("EUV", {("euv",), ("极紫外光刻",), ("极紫外",)}),
    ("AGV", {("agv",), ("自动导引车",)}),
])
def test_a_name_of_the_synonym_list_is_one_unit_with_all_its_names(q: str, names: set[tuple[str, ...]]) -> None:
    units = alternatives(q)
    assert len(units) == 1 and names <= units[0], units


@pytest.mark.parametrize("q", ["GX-3000", "GX3000", "gx-3000"])
def test_a_code_matches_joined_or_as_its_parts(q: str) -> None:
    assert alternatives(q) == [{("gx", "3000"), ("gx3000",)}]


def test_the_index_holds_codes_joined_and_split_whichever_way_they_are_written() -> None:
    for text in ("GX-3000", "GX3000"):
        assert {"gx", "3000", "gx3000"} <= set(index_tokens(text).split()), text


@pytest.mark.parametrize(("british", "american_"), [("fibre", "fiber"), ("optimisation", "optimization"),
                                                     ("optimised", "optimized"), ("aluminium", "aluminum"),
                                                     ("electrolyser", "electrolyzer"), ("colour", "color")])
def test_british_spellings_fold_to_american_on_both_sides(british: str, american_: str) -> None:
    assert american(british) == american_
    assert query_terms(british) == query_terms(american_)
    assert index_tokens(british) == index_tokens(american_)


@pytest.mark.parametrize("word", ["precise", "noise", "synthesis", "rising", "analysis"])
def test_words_that_only_look_british_are_left_alone(word: str) -> None:
    assert american(word) == word


def test_latin_tokens_shorter_than_three_characters_are_not_prefixes() -> None:
    short = fts5_expression(build_query("AI"), "all")
    assert '"ai"' in short and '"ai"*' not in short
    assert "'ai':*" not in tsquery_expression(build_query("AI"), "all")
    assert '"graph"*' in fts5_expression(build_query("graph"), "all")


def test_a_chinese_word_is_also_its_bigram_phrase_in_the_extras_column() -> None:
    assert not is_domain_term("互联网")
    expression = fts5_expression(build_query("互联网"), "all")
    assert 'gram_tokens : "互联 联网"' in expression
    assert "('互联' & '联网')" in tsquery_expression(build_query("互联网"), "all")  # GIN alone: no re-read
    assert gram_tokens("高安全固态电池") == "高安 安全 全固 固态 态电 电池"


def test_a_domain_term_is_matched_as_its_word_alone() -> None:
    """The index holds a domain term whole wherever it stands, even where the segmenter cut it otherwise
    (高安|全固态电池): its bigram phrase would find nothing more, and would cost reading four bigrams' positions."""
    assert is_domain_term("固态电池") and "固态电池" in index_tokens("高安全固态电池").split()
    expression = fts5_expression(build_query("固态电池"), "all")
    assert "gram_tokens" not in expression and '"固态电池"' in expression
    assert "'态电'" not in tsquery_expression(build_query("固态电池"), "all")


def test_a_fragment_is_matched_as_its_bigrams() -> None:
    """钛矿 is no word of 钙钛矿电池's segmentation, but a bigram of its text; single characters go together."""
    assert "钛矿" not in index_tokens("钙钛矿电池").split() and "钛矿" in gram_tokens("钙钛矿电池").split()
    assert fts5_expression(build_query("钛矿"), "all") == '(("钛" AND "矿") OR "钛矿")'  # split in two: joined
    assert fts5_expression(build_query("电池"), "all") == '"电池"'  # a two-character word is its own bigram
    units = build_query("锂 铜")
    assert len(units) == 2 and all(len(unit.alternatives) == 1 for unit in units)  # lone characters: themselves


def test_a_long_compound_also_matches_its_words_anywhere() -> None:
    assert compound_parts("钙钛矿太阳能电池") == ["钙钛矿", "太阳能", "电池"]
    expression = fts5_expression(build_query("钙钛矿太阳能电池"), "all")
    assert '("钙钛矿" AND "太阳能" AND "电池")' in expression


def test_an_embedded_dictionary_term_is_indexed_once() -> None:
    tokens = index_tokens("高安全固态电池电解质").split()
    assert tokens.count("固态电池") == 1, tokens


def test_highlight_terms_are_the_query_s_own_then_its_synonyms() -> None:
    terms = highlight_terms(build_query("石墨烯 电池"))
    assert terms[:2] == ["石墨烯", "电池"] and "graphen" in terms[2:]
