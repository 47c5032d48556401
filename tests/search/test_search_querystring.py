"""The Couchbase (bleve) query-string parser: what each piece of syntax becomes."""

from __future__ import annotations

import pytest

from catalog.search.querystring import (
    Boolean,
    Match,
    Phrase,
    Range,
    Regexp,
    Wildcard,
    parse,
    parse_date,
    tokenize,
)
from catalog.store.base import SearchError


def test_plain_terms_are_optional_clauses():
    q = parse("iris svm")
    assert q.should == [Match("iris"), Match("svm")]
    assert q.must == [] and q.must_not == []


def test_plus_and_minus_make_required_and_excluded_clauses():
    q = parse("+iris -svm logistic")
    assert q.must == [Match("iris")]
    assert q.must_not == [Match("svm")]
    assert q.should == [Match("logistic")]


def test_a_field_scopes_a_term():
    assert parse("tags:iris").should == [Match("iris", "tags")]
    assert parse("metadata.tags:iris").should == [Match("iris", "metadata.tags")]


def test_phrases_with_and_without_field():
    assert parse('"iris data"').should == [Phrase("iris data")]
    assert parse('description:"data set"').should == [Phrase("data set", "description")]


def test_escaped_quote_inside_a_phrase():
    assert parse(r'"say \"hi\""').should == [Phrase('say "hi"')]


def test_wildcards_and_regexps():
    assert parse("conv*").should == [Wildcard("conv*")]
    assert parse("w?ne").should == [Wildcard("w?ne")]
    assert parse("opTypes:Max*").should == [Wildcard("Max*", "opTypes")]
    assert parse("/sent.*/").should == [Regexp("sent.*")]


def test_fuzzy_defaults_to_one_edit():
    assert parse("clasifier~").should == [Match("clasifier", fuzziness=1)]
    assert parse("clasifier~2").should == [Match("clasifier", fuzziness=2)]
    assert parse("name:irsi~1").should == [Match("irsi", "name", fuzziness=1)]


def test_numbers_match_text_and_numeric_equality():
    assert parse("version:3").should == [Match("3", "version", number=3.0)]
    assert parse("3.5").should == [Match("3.5", number=3.5)]
    assert parse("3a").should == [Match("3a")]


def test_numeric_ranges():
    assert parse("paramCount:>10").should == [Range("paramCount", low=10, low_inclusive=False)]
    assert parse("paramCount:>=10").should == [Range("paramCount", low=10)]
    assert parse("paramCount:<10").should == [Range("paramCount", high=10, high_inclusive=False)]
    assert parse("paramCount:<=10").should == [Range("paramCount", high=10)]
    assert parse("x:>-2.5").should == [Range("x", low=-2.5, low_inclusive=False)]


def test_date_ranges_take_quoted_dates():
    (q,) = parse('createdAt:>"2026-01-01"').should
    assert q == Range("createdAt", low=parse_date("2026-01-01"), low_inclusive=False, dates=True)
    assert parse_date("2026-01-01T00:00:00Z") == parse_date("2026-01-01")


def test_boosts():
    assert parse("iris^3").should == [Match("iris", boost=3.0)]
    assert parse('+"data set"^2').must == [Phrase("data set", boost=2.0)]
    assert parse("iris^").should == [Match("iris", boost=1.0)]


def test_escapes_keep_reserved_characters_literal():
    assert parse(r"a\:b").should == [Match("a:b")]
    assert parse(r"\+x").should == [Match("+x")]
    assert parse(r"a\b").should == [Match(r"a\b")]


def test_hyphens_inside_words_are_not_operators():
    assert parse("iris-svc").should == [Match("iris-svc")]


def test_empty_query_has_no_clause():
    assert parse("").is_empty()
    assert isinstance(parse(""), Boolean)


def test_blanks_and_lone_marks_are_refused_as_bleve_refuses_them():
    for query in ("   ", "\\", "/"):  # found by the differential suite's syntax fuzzing
        with pytest.raises(SearchError, match="invalid query string"):
            parse(query)


def test_a_backslash_that_ends_the_query_is_dropped_as_in_bleve():
    assert parse("iris\\").should == [Match("iris")]
    assert parse("iris^2\\").should == [Match("iris", boost=2.0)]
    assert parse("iris\\\\").should == [Match("iris\\")]  # an escaped backslash stays


def test_tokens_carry_positions():
    assert [(t.kind, t.pos) for t in tokenize("+a:b")] == [
        ("PLUS", 0),
        ("STRING", 1),
        ("COLON", 2),
        ("STRING", 3),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"iris data', "unterminated quote"),
        ('description:"data', "unterminated quote"),
        ("tags:", "'tags:' needs a word"),
        ("iris^x", "invalid boost 'x'"),
        ("iris^nan", "invalid boost"),
        ("iris~x", "invalid fuzziness 'x'"),
        ("iris~3", "over the maximum of 2"),
        ('"iris data"~2', "~ applies to a single word"),
        ("paramCount:>", "needs a number or a quoted date"),
        ("paramCount:>abc", "needs a number or a quoted date"),
        ("paramCount:=5", "needs a word"),
        ('createdAt:>"yesterday"', "invalid time 'yesterday'"),
        ("+", "a + or - needs a clause"),
        ("iris -", "a + or - needs a clause"),
        ("a:b:c", "unexpected ':'"),
        (":iris", "unexpected ':'"),
        ("^2", "unexpected '2'"),
    ],
)
def test_malformed_queries_raise_search_error_with_a_message(query, message):
    with pytest.raises(SearchError, match="invalid query string") as caught:
        parse(query)
    assert message in str(caught.value)


def test_errors_say_where():
    with pytest.raises(SearchError, match="at position 6"):
        parse('iris "data')


def test_non_strings_are_refused():
    with pytest.raises(SearchError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]


def test_a_space_after_the_colon_is_allowed_as_in_bleve():
    assert parse("tags: iris").should == [Match("iris", "tags")]
