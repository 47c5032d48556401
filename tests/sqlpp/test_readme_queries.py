"""The SQL++ examples in the README run, as written, on a real catalog."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from onnx import numpy_helper

from catalog.domain.registry import Registry
from tests.models import iris, iris_logreg, iris_svc, matmul_model

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", README.read_text(), re.S)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    from catalog.store import open_store

    store = open_store(f"embedded://{tmp_path_factory.mktemp('q') / 'c.sqlite3'}")
    reg = Registry(store)
    X, y = iris()
    svc = iris_svc()
    reg.publish(
        "iris-svc",
        svc,
        sample_input=X[:1],
        tags=["iris", "svm"],
        metadata={"metrics": {"accuracy": 0.97}},
    )
    reg.publish(
        "iris-svc",
        svc,
        sample_input=X[:1],
        tags=["iris", "svm"],
        metadata={"metrics": {"accuracy": 0.98}},
    )
    reg.publish(
        "iris-logreg",
        iris_logreg(),
        sample_input=X[:1],
        tags=["iris"],
        metadata={"metrics": {"accuracy": 0.95}},
    )
    sparse = matmul_model(40, 10)
    weights = np.zeros((40, 10), dtype=np.float32)
    weights[0] = 1.0  # 97.5% zeros
    sparse.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights, "W"))
    reg.publish("sparse-mm", sparse)
    reg.set_alias("iris-svc", "production", 1, user="alice")
    return reg


def run(reg: Registry, statement: str) -> list:
    return reg.store.query(
        statement, {"task": "classification"}, query_context=reg.ks.query_context
    )


def test_the_readme_has_the_model_internals_queries():
    assert len(readme_queries()) >= 8


def test_every_readme_query_runs(catalog):
    for statement in readme_queries():
        run(catalog, statement)


def test_readme_queries_give_the_expected_answers(catalog):
    q = readme_queries()
    assert {(r["name"], r["version"]) for r in run(catalog, q[0])} == {
        ("iris-svc", 1),
        ("iris-svc", 2),
    }
    uses = {r["opType"]: r["uses"] for r in run(catalog, q[1])}
    assert uses["SVMClassifier"] == 2 and uses["LinearClassifier"] == 1
    assert run(catalog, q[3]) == ["iris-logreg", "iris-svc", "iris-svc"]
    assert run(catalog, q[4]) == [
        {"name": "iris-logreg", "latest": 1},
        {"name": "iris-svc", "latest": 2},
        {"name": "sparse-mm", "latest": 1},
    ]
    zeros = run(catalog, q[2])
    assert ("sparse-mm", "W", 0.975) in [(r["name"], r["tensor"], r["zeroFraction"]) for r in zeros]
    fractions = [r["zeroFraction"] for r in zeros]
    assert all(f > 0.5 for f in fractions) and fractions == sorted(fractions, reverse=True)
    biggest = run(catalog, q[5])
    assert biggest[0]["inputs"] == ["X"]
    assert [r["accuracy"] for r in run(catalog, q[6])] == [0.98, 0.97, 0.95]
    moves = run(catalog, q[7])
    assert (moves[0]["alias"], moves[0]["from"], moves[0]["to"], moves[0]["user"]) == (
        "production",
        None,
        1,
        "alice",
    )


def test_the_readme_rank_example_ranks_by_its_definition(catalog):
    """cbq-engine (Community Edition) refuses window functions, so the ranks are checked
    against RANK's definition: 1 + the number of rows of the model with a higher accuracy."""
    (statement,) = [q for q in readme_queries() if "RANK() OVER" in q]
    rows = run(catalog, statement)
    assert len(rows) == 3
    for r in rows:
        better = [o for o in rows if o["name"] == r["name"] and o["accuracy"] > r["accuracy"]]
        assert r["accuracy_rank"] == 1 + len(better)
    assert [(r["name"], r["version"], r["accuracy_rank"]) for r in rows] == [
        ("iris-logreg", 1, 1),
        ("iris-svc", 2, 1),
        ("iris-svc", 1, 2),
    ]
