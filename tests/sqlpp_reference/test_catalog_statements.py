"""Every statement the catalog shows or sends gives the same answer on cbq-engine."""

from __future__ import annotations

import pytest

from .compare import check
from .statements import params_for, readme_statements


def _assert_same(reference, statement, params=None):
    why = check(reference.store, reference.cbq, statement, params or params_for(statement))
    assert why is None, f"{why}\n{statement}"


@pytest.mark.parametrize("statement", readme_statements())
def test_readme_statement(reference, statement):
    _assert_same(reference, statement)


def test_the_readme_has_statements():
    assert len(readme_statements()) >= 8


def _workbench_examples() -> list[tuple[str, str]]:
    try:
        from catalog.web.workbench import EXAMPLES
    except ImportError:  # pragma: no cover - moved by the layout work
        return []
    return list(EXAMPLES)


@pytest.mark.parametrize("title,statement", _workbench_examples())
def test_workbench_example(reference, title, statement):
    _assert_same(reference, statement)


def test_every_domain_query(reference):
    queries = pytest.importorskip("catalog.domain.queries")
    assert queries.ALL
    for q in queries.ALL:
        why = check(reference.store, reference.cbq, q.statement, q.example_params or None)
        assert why is None, f"{q.name}: {why}\n{q.statement}"


def test_the_history_page_queries(reference):
    history = pytest.importorskip("catalog.web.history")
    for statement in (history.AUDIT_QUERY, history.VERSIONS_QUERY):
        _assert_same(reference, statement, {"name": "iris-svc"})
