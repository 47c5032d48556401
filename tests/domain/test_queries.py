"""The catalog's own SQL++: every statement is in catalog/domain/queries.py, each runs on the
demo catalog, and the named operations built on them page with cursors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.domain import queries
from catalog.domain.queries import InvalidCursor, decode_cursor, encode_cursor
from catalog.store.indexes import index_statements
from inference.learning_history import all_history, learning_history
from inference.prediction_log import labelled_predictions

ROOT = Path(__file__).resolve().parents[2]
# The only modules that hand SQL++ text to a store: the named statements, and the workbench
# (the one door for a user's own statements).
QUERY_DOORS = {"catalog/domain/queries.py", "catalog/web/workbench.py"}


def test_only_the_query_module_and_the_workbench_send_sql():
    callers = []
    for package in ("catalog", "inference"):
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("catalog/store/") or rel in QUERY_DOORS:
                continue
            if re.search(r"\bstore\.query\(", path.read_text()):
                callers.append(rel)
    assert callers == []


@pytest.mark.parametrize("query", queries.ALL, ids=lambda q: q.name)
def test_each_statement_runs_on_the_demo_catalog(demo_registry, query):
    reg = demo_registry
    rows = queries.run(reg.store, reg.ks.query_context, query, dict(query.example_params))
    assert isinstance(rows, list)
    # The statement is written as users would write it in Couchbase's workbench.
    assert "FROM " in query.statement
    # Values reach it as parameters, each named in the example (none glued into the text).
    assert set(re.findall(r"\$(\w+)", query.statement)) == set(query.example_params)
    assert not re.search(r"\.at\b", query.statement), "AT is reserved in Couchbase: escape it"


def test_version_numbers_are_the_newest_oldest_first(demo_registry):
    reg = demo_registry
    assert reg.version_numbers("breast-cancer-online") == [1, 2, 3, 4, 5, 6]
    assert reg.version_numbers("breast-cancer-online", limit=2) == [5, 6]
    assert reg.version_numbers("iris-svc") == [1]


def test_learning_history_pages_with_a_cursor(demo_registry):
    reg = demo_registry
    first = learning_history(reg, "breast-cancer-online", limit=4)
    assert [r["version"] for r in first.items] == [1, 2, 3, 4]
    assert first.next is not None
    second = learning_history(reg, "breast-cancer-online", cursor=first.next, limit=4)
    assert [r["version"] for r in second.items] == [5, 6]
    assert second.next is None
    rows = all_history(reg, "breast-cancer-online")
    assert [r["version"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(r["rowsSeen"] for r in rows) and rows[1]["parent"] == 1


def test_alias_history_is_newest_first_and_pages(demo_registry):
    reg = demo_registry
    for version in (1, 2, 3):
        reg.set_alias("breast-cancer-online", "staging", version)
    everything = reg.alias_history("breast-cancer-online", limit=1000).items
    stamps = [a["at"] for a in everything]
    assert stamps == sorted(stamps, reverse=True)
    assert [(a["alias"], a["to"]) for a in everything[:3]] == [
        ("staging", 3),
        ("staging", 2),
        ("staging", 1),
    ]
    paged, cursor = [], None
    while True:
        page = reg.alias_history("breast-cancer-online", cursor=cursor, limit=2)
        paged.extend(page.items)
        if page.next is None:
            break
        cursor = page.next
    assert paged == everything
    assert reg.rollback_target("breast-cancer-online", "staging", 3) == 2


def test_a_model_with_no_alias_moves_has_an_empty_history(demo_registry):
    assert [a["alias"] for a in demo_registry.alias_history("iris-svc").items] == ["production"]
    page = demo_registry.alias_history("never-published")
    assert page.items == [] and page.next is None


def test_labelled_predictions_start_after_the_cursor(demo_registry):
    reg = demo_registry
    reg.store.ensure_keyspace(reg.ks.predictions)
    for i, at in enumerate(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"]):
        reg.store.insert(
            reg.ks.predictions,
            f"p{i}",
            {"id": f"p{i}", "model": "m", "inputs": [], "feedback": {"label": i, "at": at}},
        )
    reg.store.insert(reg.ks.predictions, "p9", {"id": "p9", "model": "m", "inputs": []})
    rows = labelled_predictions(reg, "m", "", "", 10)
    assert [r["id"] for r in rows] == ["p0", "p1"]
    rows = labelled_predictions(reg, "m", "2026-01-01T00:00:01Z", "p0", 10)
    assert [r["id"] for r in rows] == ["p1"]


def test_cursors_are_opaque_and_checked():
    cursor = encode_cursor(["2026-01-01T00:00:00Z", "alias::1"])
    assert decode_cursor(cursor, ["", ""]) == ["2026-01-01T00:00:00Z", "alias::1"]
    assert decode_cursor(None, [0]) == [0]
    for bad in ("!!", encode_cursor([1, 2]), encode_cursor(["x"]), encode_cursor({"a": 1})):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, ["", ""])


@pytest.mark.parametrize("query", queries.ALL, ids=lambda q: q.name)
def test_each_statement_is_served_by_the_index_it_names(demo_registry, query):
    reg = demo_registry
    plan = reg.store.query(
        "EXPLAIN " + query.statement, dict(query.example_params), reg.ks.query_context
    )[0]["plan"]
    scan = plan["~children"][0]
    if query.index == "#primary":
        # Keys named (USE KEYS) or a range of keys (META().id > $after): the primary index.
        if "USE KEYS" in query.statement:
            assert scan["#operator"] == "KeyScan"
        else:
            assert "META(" in query.statement
            assert (scan["#operator"], scan["index"]) == ("IndexScan3", "#primary")
        return
    assert scan["#operator"] in ("IndexScan3", "IndexCountScan2")
    assert scan["index"] == query.index
    assert query.index in "\n".join(index_statements()), (
        "list the index in catalog/store/indexes.py"
    )
