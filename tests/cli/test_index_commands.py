"""``catalog init`` builds the indexes; ``catalog index`` and ``catalog check`` manage them."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
from django.core.management import CommandError, call_command

from catalog.domain.registry import get_registry
from tests.models import matmul_model


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def explain_index(statement: str) -> str | None:
    reg = get_registry()
    plan = reg.store.query("EXPLAIN " + statement, None, reg.ks.query_context)
    return plan[0]["plan"]["~children"][0].get("index")


def test_init_builds_the_standard_indexes_from_the_documents_already_there(catalog_store):
    reg = get_registry()
    for _ in range(3):
        reg.publish("mm", matmul_model(4, 2))
    out = cli("init")
    assert "index idx_models_name_version: [####################] 3/3 documents" in out
    assert "index idx_models_name_version on models: ready" in out
    assert explain_index('SELECT RAW m.version FROM models m WHERE m.name = "mm"') == (
        "idx_models_name_version"
    )
    again = cli("init")  # idempotent: nothing is rebuilt
    assert "documents" not in again


def test_an_administrator_adds_lists_and_drops_an_index(catalog_store):
    reg = get_registry()
    cli("init")
    reg.publish("mm", matmul_model(4, 2))
    out = cli("index", "create", "CREATE INDEX idx_nodes ON models(summary.nodeCount)")
    assert "created index idx_nodes on ml.catalog.models" in out
    listing = cli("index", "list")
    assert "ml.catalog.models  idx_nodes  online  1 entries" in listing
    q = "SELECT RAW m.name FROM models m WHERE m.summary.nodeCount > 0"
    assert explain_index(q) == "idx_nodes"
    assert cli("index", "drop", "idx_nodes") == "dropped index idx_nodes on ml.catalog.models\n"
    assert explain_index(q) == "#primary"
    with pytest.raises(CommandError, match="index idx_nodes not found"):
        cli("index", "drop", "idx_nodes")
    with pytest.raises(CommandError, match="give a CREATE INDEX statement"):
        cli("index", "create", "DROP INDEX x ON models")
    with pytest.raises(CommandError, match="not a valid CREATE INDEX statement"):
        cli("index", "create", "CREATE INDEX x ON models(")


def test_check_says_which_index_differs_from_its_documents(catalog_store):
    reg = get_registry()
    cli("init")
    reg.publish("mm", matmul_model(4, 2))
    assert "every index matches its documents" in cli("check")
    with sqlite3.connect(catalog_store.path) as conn:  # damage the file behind the store's back
        conn.execute(
            "DELETE FROM index_entries WHERE ix ="
            " (SELECT id FROM index_defs WHERE name = 'idx_models_optypes')"
        )
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 index problem"):
        call_command("catalog", "check", stdout=out)
    assert (
        "index idx_models_optypes on ml.catalog.models: no entries for 1 document(s): 'mm::1'"
        in (out.getvalue())
    )
    with pytest.raises(CommandError, match="1 index problem"):
        cli("index", "check")
    cli("index", "drop", "idx_models_optypes")
    cli("init")  # rebuilds the dropped index from the documents
    assert "every index matches its documents" in cli("index", "check")


def test_list_pages_with_a_limit_and_the_cursor_it_prints(catalog_store):
    reg = get_registry()
    for _ in range(5):
        reg.publish("mm", matmul_model(4, 2))
    reg.publish("nn", matmul_model(4, 2))
    seen: list[int] = []
    cursor = None
    while True:
        args = ["list", "mm", "--json", "--limit", "2"] + (["--cursor", cursor] if cursor else [])
        page = json.loads(cli(*args))
        assert len(page["items"]) <= 2
        seen += [row["version"] for row in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]  # every version once, newest first
    out = cli("list", "--limit", "1")
    assert "mm" in out and "nn" not in out and "more: --cursor " in out
    following = out.split("more: --cursor ")[1].strip()
    assert "nn" in cli("list", "--limit", "1", "--cursor", following)
    assert [m["name"] for m in json.loads(cli("list", "--json"))] == ["mm", "nn"]
    with pytest.raises(CommandError, match="invalid cursor"):
        cli("list", "--cursor", "nonsense")
