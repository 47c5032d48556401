"""Every statement the catalog shows or sends gives the same answer on cbq-engine."""

from __future__ import annotations

import pytest

from catalog.domain import queries

from .compare import check, run_embedded
from .statements import (
    LINEAGE_EXAMPLE,
    LINEAGE_PARAMS,
    RANK_EXAMPLE,
    params_for,
    readme_statements,
)


def _assert_same(reference, statement, params=None):
    why = check(reference.store, reference.cbq, statement, params or params_for(statement))
    assert why is None, f"{why}\n{statement}"


# cbq-engine here is the Community Edition: it refuses every OVER with code 3230.
CE_REFUSES = "OVER ("


@pytest.mark.parametrize("statement", [s for s in readme_statements() if CE_REFUSES not in s])
def test_readme_statement(reference, statement):
    _assert_same(reference, statement)


def test_the_readme_has_statements():
    assert len(readme_statements()) >= 8


def _workbench_examples() -> list[tuple[str, str]]:
    from catalog.web.workbench import EXAMPLES

    return list(EXAMPLES)


@pytest.mark.parametrize("title,statement", _workbench_examples())
def test_workbench_example(reference, title, statement):
    _assert_same(reference, statement)


def test_every_domain_query(reference):
    assert queries.ALL
    for q in queries.ALL:
        why = check(reference.store, reference.cbq, q.statement, q.example_params or None)
        assert why is None, f"{q.name}: {why}\n{q.statement}"


def test_the_lineage_example_walks_to_the_first_ancestor(reference):
    _assert_same(reference, LINEAGE_EXAMPLE, LINEAGE_PARAMS)
    rows = run_embedded(reference.store, LINEAGE_EXAMPLE, LINEAGE_PARAMS).rows
    assert [r["version"] for r in rows] == [6, 5, 4, 3, 2, 1]
    assert rows[-1]["parent"] is None


def test_the_rank_example_ranks_as_couchbase_would(reference):
    """cbq-engine here is the Community Edition: it refuses window functions (3230), so the
    ranks are checked against RANK's definition over the rows Couchbase returns without it."""
    assert reference.cbq.query(RANK_EXAMPLE).code == 3230
    plain = reference.cbq.query(
        "SELECT m.name, m.version, m.metadata.metrics.accuracy FROM models m"
        " WHERE m.metadata.metrics.accuracy IS VALUED"
    ).rows
    want = {}
    for r in plain:
        better = [x for x in plain if x["name"] == r["name"] and x["accuracy"] > r["accuracy"]]
        want[(r["name"], r["version"])] = len(better) + 1
    got = run_embedded(reference.store, RANK_EXAMPLE).rows
    assert {(r["name"], r["version"]): r["accuracy_rank"] for r in got} == want
    assert [(r["name"], r["accuracy_rank"]) for r in got] == sorted(
        (r["name"], r["accuracy_rank"]) for r in got
    )
