"""Query trees as Couchbase search requests (what the Couchbase backend sends)."""

from __future__ import annotations

import pytest

from catalog.search.couchbase_query import result_from_response, search_request, tree_query
from catalog.search.querystring import parse
from catalog.store.base import SearchError


def test_plain_terms_are_a_should_disjunction_with_min_one():
    assert tree_query(parse("iris svm")) == {
        "should": {"disjuncts": [{"match": "iris"}, {"match": "svm"}], "min": 1}
    }


def test_musts_make_shoulds_optional_and_aliases_become_paths():
    q = tree_query(parse("+tags:iris -opTypes:Conv svm^2"))
    assert q["must"] == {"conjuncts": [{"match": "iris", "field": "metadata.tags"}]}
    assert q["should"] == {"disjuncts": [{"match": "svm", "boost": 2.0}], "min": 0}
    assert q["must_not"]["disjuncts"] == [{"match": "Conv", "field": "summary.opTypes"}]


def test_only_exclusions_match_all_else():
    q = tree_query(parse("-tags:iris"))
    assert q["must"] == {"conjuncts": [{"match_all": {}}]}


def test_each_clause_kind():
    (fuzzy, phrase, wild, regex) = tree_query(
        parse('clasifier~2 description:"data set" conv* /re.*/')
    )["should"]["disjuncts"]
    assert fuzzy == {"match": "clasifier", "fuzziness": 2}
    assert phrase == {"match_phrase": "data set", "field": "metadata.description"}
    assert wild == {"wildcard": "conv*"}
    assert regex == {"regexp": "re.*"}


def test_ranges_numbers_and_dates():
    (num, date, eq) = tree_query(parse('paramCount:>=10 createdAt:<"2026-01-02" version:3'))[
        "should"
    ]["disjuncts"]
    assert num == {"min": 10.0, "inclusive_min": True, "field": "summary.paramCount"}
    assert date == {"end": "2026-01-02T00:00:00Z", "inclusive_end": False, "field": "createdAt"}
    assert eq["disjuncts"][1] == {
        "min": 3.0,
        "max": 3.0,
        "inclusive_min": True,
        "inclusive_max": True,
        "field": "version",
    }


def test_an_alias_for_several_fields_is_a_disjunction():
    (q,) = tree_query(parse("doc:export"))["should"]["disjuncts"]
    assert q["min"] == 1 and len(q["disjuncts"]) == 3


def test_a_range_on_a_text_field_is_refused():
    with pytest.raises(SearchError):
        tree_query(parse("description:>3"))


def test_the_request_has_page_facets_filters_highlight_and_latest_ids():
    body = search_request(
        "iris", limit=5, offset=10, filters={"tags": ["iris", "svm"]}, latest_ids=["a::2"]
    )
    assert body["size"] == 5 and body["from"] == 10
    assert body["facets"]["opTypes"] == {"field": "summary.opTypes", "size": 10}
    assert body["highlight"] == {"style": "html"}
    conjuncts = body["query"]["conjuncts"]
    assert conjuncts[1]["disjuncts"] == [
        {"term": "iris", "field": "metadata.tags"},
        {"term": "svm", "field": "metadata.tags"},
    ]
    assert conjuncts[2] == {"ids": ["a::2"]}
    assert "metadata.tags" in body["fields"]


def test_a_response_becomes_a_search_result():
    result = result_from_response(
        {
            "total_hits": 12,
            "took": 2_500_000,
            "hits": [
                {
                    "id": "iris-svc::3",
                    "score": 1.5,
                    "fields": {"name": "iris-svc"},
                    "fragments": {"metadata.description": ["<mark>iris</mark>"]},
                }
            ],
            "facets": {
                "tags": {
                    "field": "metadata.tags",
                    "total": 3,
                    "missing": 0,
                    "other": 1,
                    "terms": [{"term": "iris", "count": 2}],
                }
            },
        }
    )
    assert result.total == 12 and result.took_ms == 2.5
    assert result.hits[0].fragments["metadata.description"] == ["<mark>iris</mark>"]
    assert result.facets["tags"].terms == [("iris", 2)]
