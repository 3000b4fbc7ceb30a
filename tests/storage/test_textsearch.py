"""The search tokenizer: the forms analysts type must find the forms outlets print."""

from __future__ import annotations

import pytest

from storage.textsearch import Term, index_text, matches, normalise, parse_query, tokenize


def test_chinese_runs_become_bigrams_plus_the_last_character() -> None:
    assert tokenize("中国军队") == ["中国", "国军", "军队", "队"]


def test_latin_and_digits_split_where_they_touch_chinese() -> None:
    assert tokenize("G20峰会上, Putin said") == ["g20", "峰会", "会上", "上", "putin", "said"]


def test_full_width_forms_case_and_traditional_characters_are_folded() -> None:
    assert normalise("ＰＵＴＩＮ 軍事") == "putin 军事"
    assert tokenize("軍事") == tokenize("军事")


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("普京", "俄罗斯总统普京与中国国家主席会谈", True),
        ("普京", "俄罗斯总统会谈", False),
        ("軍事", "中俄军事合作", True),  # traditional query, simplified text
        ("军事", "中俄軍事合作", True),  # and the other way round
        ("军事合作", "中俄军事合作深化", True),  # a longer word is a phrase of its bigrams
        ("军事合作", "军事方面的合作", False),  # both bigrams' characters, not together
        ("俄", "中俄", True),  # one character: found at the end of a run
        ("俄", "俄方表示", True),  # and at its start
        ("俄", "中方表示", False),
        ("普京 -演习", "普京出席军事演习", False),
        ("普京 -演习", "普京出席会谈", True),
        ('"joint exercise"', "a joint naval exercise", False),
        ('"joint exercise"', "the joint exercise began", True),
        ("PUTIN", "Putin met Xi", True),
        ("-普京", "普京", False),  # only exclusions: matches nothing
        ("", "普京", False),
    ],
)
def test_query_matches_like_an_analyst_expects(query: str, text: str, expected: bool) -> None:
    assert matches(parse_query(query), tokenize(text)) is expected


def test_hostile_query_input_is_parsed_not_interpreted() -> None:
    query = parse_query('普京 OR "* NEAR( ) \' ; DROP TABLE articles; -- "')
    assert [t.tokens for t in query.include][0] == ("普京",)
    assert all(isinstance(t, Term) for t in query.include)
    assert parse_query('""  -  "" ').empty


def test_index_text_joins_parts_and_skips_missing_ones() -> None:
    assert index_text("普京", None, "Xi").split() == ["普京", "京", "xi"]
