"""The one index definition: Couchbase's format, and what the embedded store derives from it."""

from __future__ import annotations

import json

import pytest

from catalog.search import definition
from catalog.search.definition import load_definition, parse_index_name, resolve, values
from catalog.search.embedded import columns, text_tables
from catalog.store.base import SearchError


def test_it_is_a_scope_level_fulltext_index_over_models():
    d = load_definition("ml", "catalog")
    assert d["type"] == "fulltext-index"
    assert d["name"] == "models-fts"
    assert d["sourceType"] in ("gocbcore", "couchbase")
    assert d["sourceName"] == "ml"
    params = d["params"]
    assert params["doc_config"]["mode"] == "scope.collection.type_field"
    mapping = params["mapping"]
    assert mapping["default_mapping"]["enabled"] is False
    assert list(mapping["types"]) == ["catalog.models"]
    assert mapping["types"]["catalog.models"]["enabled"] is True


def test_load_definition_fills_in_bucket_and_scope_on_a_copy():
    d = load_definition("prod", "team_a")
    assert d["sourceName"] == "prod"
    assert list(d["params"]["mapping"]["types"]) == ["team_a.models"]
    d["params"]["mapping"]["types"].clear()
    assert list(load_definition("ml", "catalog")["params"]["mapping"]["types"]) == [
        "catalog.models"
    ]


def test_the_file_is_plain_json():
    json.loads(definition.DEFINITION_PATH.read_text())


@pytest.mark.parametrize(
    ("name", "kind", "analyzer"),
    [
        ("name", "text", "standard"),
        ("metadata.description", "text", "en"),
        ("metadata.tags", "text", "keyword"),
        ("metadata.framework", "text", "keyword"),
        ("metadata.task", "text", "keyword"),
        ("summary.opTypes", "text", "keyword"),
        ("summary.producer.name", "text", "standard"),
        ("onnx.graph.node.name", "text", "standard"),
        ("summary.initializers.name", "text", "standard"),
        ("summary.inputs.name", "text", "standard"),
        ("summary.outputs.name", "text", "standard"),
        ("onnx.docString", "text", "en"),
        ("onnx.graph.docString", "text", "en"),
        ("onnx.graph.node.docString", "text", "en"),
        ("summary.metadataProps", "text", "standard"),
        ("summary.paramCount", "number", None),
        ("summary.sizeBytes", "number", None),
        ("version", "number", None),
        ("createdAt", "datetime", None),
    ],
)
def test_the_required_fields_are_indexed(name, kind, analyzer):
    f = definition.field_map()[name]
    assert f.type == kind
    if analyzer:
        assert f.analyzer == analyzer


def test_facet_fields_have_docvalues_and_text_fields_can_be_highlighted():
    fields = definition.field_map()
    for facet in definition.DEFAULT_FACETS.values():
        assert fields[facet].is_keyword and fields[facet].docvalues
    for f in definition.fields():
        if f.type == "text" and not f.is_keyword:
            assert f.store and f.term_vectors, f.name


def test_every_text_field_has_an_fts5_column_and_keywords_have_none():
    cols = columns()
    for f in definition.fields():
        assert (f.name in cols) == (f.type == "text" and not f.is_keyword), f.name
    assert set(text_tables()) == {"fts_text_standard", "fts_text_en"}


def test_aliases_resolve_to_fields():
    for alias in definition.ALIASES:
        assert resolve(alias)
    assert [f.name for f in resolve("tags")] == ["metadata.tags"]
    assert len(resolve("doc")) == 3
    assert all(f.include_in_all for f in resolve("_all"))
    assert [f.name for f in resolve("summary.metadataProps.owner")] == ["summary.metadataProps"]


def test_unknown_fields_are_refused_with_the_known_ones():
    with pytest.raises(SearchError, match="unknown field 'colour'.*tags"):
        resolve("colour")


def test_index_names():
    assert definition.index_name("ml", "catalog") == "ml.catalog.models-fts"
    assert parse_index_name("ml.catalog.models-fts") == "ml.catalog"
    for bad in ("models-fts", "ml.catalog.other", "ml..models-fts", None):
        with pytest.raises(SearchError, match="unknown search index"):
            parse_index_name(bad)  # type: ignore[arg-type]


def test_values_look_through_arrays():
    doc = {"onnx": {"graph": {"node": [{"name": "a"}, {"name": "b"}, {"opType": "X"}]}}}
    assert values(doc, ("onnx", "graph", "node", "name")) == ["a", "b"]
    assert values(
        {"summary": {"metadataProps": {"k": "v", "n": "w"}}}, ("summary", "metadataProps")
    ) == ["v", "w"]
    assert values({}, ("name",)) == []


def _messy_documents() -> list[object]:
    """Documents with every shape a path can meet: arrays of objects, nested arrays, nulls,
    scalars where objects were expected, dynamic objects holding arrays and objects."""
    node = {"name": "n", "opType": "Add", "docString": ["x", None, {"deep": ["y"]}]}
    return [
        {},
        {"name": None, "version": [1, [2, None]], "summary": "not an object"},
        {
            "name": ["a", ["b", {"c": "d"}]],
            "createdAt": "2026-01-01T00:00:00Z",
            "metadata": {"tags": ["t", None, 3, True], "description": {"x": "y"}},
            "summary": {
                "opTypes": [["Add"], "MatMul"],
                "initializers": [{"name": "w"}, None, [{"name": "b"}], {"dims": [1]}],
                "metadataProps": {"k": "v", "n": {"m": ["p", None, 2.5]}},
                "producer": [{"name": "skl2onnx"}, {"name": None}],
                "paramCount": 19,
            },
            "onnx": {"graph": {"node": [node, [node], "scalar"], "docString": "g"}},
        },
        [{"name": "in an array"}],
        "a string document",
    ]


def test_field_values_are_values_of_each_field_in_one_walk():
    from catalog.search.samples import model_doc

    docs = [*_messy_documents(), model_doc("iris-svc", 3, tags=["iris", "svm"])]
    for doc in docs:
        expected = [values(doc, f.path) for f in definition.fields()]
        assert definition.field_values(doc) == expected
