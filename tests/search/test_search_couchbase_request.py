"""What the Couchbase backend sends for a query string: the parse tree, full field names.

Couchbase's own parser knows nothing of the catalog's short names (``tags:iris`` would find
nothing there), so the backend sends a structured query built from the same parse tree the
embedded store runs (catalog.search.couchbase_request).
"""

from __future__ import annotations

import json

import pytest

from catalog.search import couchbase_request
from catalog.search.results import SearchError
from catalog.store.couchbase_support import search_request
from tests.search_reference.corpus import readme_queries


def _should(*clauses):
    return {"should": {"disjuncts": list(clauses), "min": 1}}


# Every example of the README's search table -> the query the Couchbase backend sends.
README_REQUESTS = {
    "classifier": _should({"match": "classifier"}),
    "tags:iris": _should({"match": "iris", "field": "metadata.tags"}),
    "opTypes:Conv": _should({"match": "Conv", "field": "summary.opTypes"}),
    "+framework:scikit-learn -tags:medical": {
        "must": {"conjuncts": [{"match": "scikit-learn", "field": "metadata.framework"}]},
        "must_not": {"disjuncts": [{"match": "medical", "field": "metadata.tags"}]},
    },
    '"breast cancer"': _should({"match_phrase": "breast cancer"}),
    'description:"data set"': _should(
        {"match_phrase": "data set", "field": "metadata.description"}
    ),
    "conv*": _should({"wildcard": "conv*"}),
    "incep?ion": _should({"wildcard": "incep?ion"}),
    "clasifier~1": _should({"match": "clasifier", "fuzziness": 1}),
    "transfomer~2": _should({"match": "transfomer", "fuzziness": 2}),
    "paramCount:>1000000": _should(
        {"min": 1000000, "inclusive_min": False, "field": "summary.paramCount"}
    ),
    "version:>=3": _should({"min": 3, "inclusive_min": True, "field": "version"}),
    "sizeBytes:<1000": _should({"max": 1000, "inclusive_max": False, "field": "summary.sizeBytes"}),
    "name:iris^3 svm": _should({"match": "iris", "field": "name", "boost": 3}, {"match": "svm"}),
}


def _sent(query: str) -> dict:
    """Return the query of the SDK request body the backend would send."""
    from couchbase.logic.search import SearchQueryBuilder

    request, options = search_request(query, {"all_versions": True})
    body = SearchQueryBuilder.create_search_query_from_request(
        "ml.catalog.models-fts", request, options
    ).as_encodable()
    return json.loads(body["query"])


def test_every_readme_example_has_its_request_here():
    assert set(readme_queries()) == set(README_REQUESTS)


@pytest.mark.parametrize("query", sorted(README_REQUESTS))
def test_the_backend_sends_a_readme_example_with_full_field_names(query):
    assert _sent(query) == README_REQUESTS[query]


def test_the_same_tree_as_a_bleve_query_string():
    render = couchbase_request.query_string
    assert render("tags:iris op:Conv") == "metadata.tags:iris summary.opTypes:Conv"
    assert render("+framework:scikit-learn -tags:medical") == (
        r"+metadata.framework:scikit\-learn -metadata.tags:medical"  # reserved: escaped
    )
    assert render("paramCount:>1000000 name:iris^3") == "summary.paramCount:>1000000 name:iris^3"
    assert render('createdAt:>="2026-01-01"') == 'createdAt:>="2026-01-01T00:00:00Z"'
    assert render("clasifier~1  ^2") == "clasifier~1 ^2"  # bleve reads "~1^2" as one fuzziness
    assert render("Conv*") == "conv*"  # text terms are lower-cased: wildcards too
    assert render("opTypes:Conv*") == "summary.opTypes:Conv*"  # keywords keep their case
    assert render(r"a\:b") == r"a\:b"
    assert render("+doc:word") is None  # a required clause over three fields
    assert render("doc:word").split() == [
        "onnx.docString:word",
        "onnx.graph.docString:word",
        "onnx.graph.node.docString:word",
    ]


def test_a_name_over_several_fields_is_a_disjunction():
    assert _sent("+doc:relu") == {
        "must": {
            "conjuncts": [
                {
                    "disjuncts": [
                        {"match": "relu", "field": "onnx.docString"},
                        {"match": "relu", "field": "onnx.graph.docString"},
                        {"match": "relu", "field": "onnx.graph.node.docString"},
                    ],
                    "min": 1,
                }
            ]
        }
    }


def test_stop_word_clauses_are_dropped_as_bleve_drops_them():
    assert _sent("+the iris") == _should({"match": "iris"})
    assert _sent("-the") == {"match_none": {}}
    assert _sent("") == {"match_none": {}}
    assert _sent("*") == {"match_all": {}}
    assert _sent("tags:the") == _should({"match": "the", "field": "metadata.tags"})  # keyword


def test_dates_go_as_rfc3339():
    assert _sent('createdAt:<"2026-02-01T10:00:00+01:00"') == _should(
        {"end": "2026-02-01T09:00:00Z", "inclusive_end": False, "field": "createdAt"}
    )


def test_what_the_catalog_refuses_is_never_sent():
    for query, message in [
        ("tgs:iris", "unknown field 'tgs'"),
        ("name:>5", "has no ranges"),
        ('"open', "unterminated quote"),
    ]:
        with pytest.raises(SearchError, match=message):
            search_request(query, {})
