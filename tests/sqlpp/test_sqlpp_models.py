"""Model-internals queries over ONNX-JSON documents, as the workbench runs them."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.sqlpp import execute


def _model(name: str, version: int, ops: list[str], zero: float, tags: list[str]) -> dict:
    return {
        "name": name,
        "version": version,
        "format": "json",
        "onnx": {
            "irVersion": "8",
            "graph": {
                "node": [
                    {
                        "opType": op,
                        "name": f"n{i}",
                        "attribute": [{"name": "kernel_type", "s": "UkJG", "type": "STRING"}],
                    }
                    for i, op in enumerate(ops)
                ],  # fmt: skip
                "initializer": [],
                "input": [{"name": "X"}],
            },
        },
        "summary": {
            "opTypes": sorted(set(ops)),
            "nodeCount": len(ops),
            "paramCount": 120,
            "initializers": [
                {
                    "name": "coef",
                    "dims": [3, 4],
                    "dataType": "FLOAT",
                    "numel": 12,
                    "stats": {
                        "min": -1.0,
                        "max": 2.0,
                        "mean": 0.1,
                        "std": 0.5,
                        "l2": 3.2,
                        "zeroFraction": zero,
                        "nanCount": 0,
                    },
                },
                {
                    "name": "bias",
                    "dims": [3],
                    "dataType": "FLOAT",
                    "numel": 3,
                    "stats": {"zeroFraction": 0.0},
                },
            ],  # fmt: skip
        },
        "metadata": {"tags": tags, "task": "classification", "framework": "sklearn"},
    }


class ModelSource:
    """The ml.catalog.models collection in memory."""

    def __init__(self) -> None:
        self.docs = {
            "iris-svc::3": _model("iris-svc", 3, ["SVMClassifier", "ZipMap"], 0.0, ["iris"]),
            "iris-svc::4": _model("iris-svc", 4, ["SVMClassifier", "ZipMap"], 0.75, ["iris"]),
            "mlp::1": _model("mlp", 1, ["Gemm", "Relu", "Gemm"], 0.6, ["digits"]),
        }

    def keyspace_exists(self, keyspace: str) -> bool:
        return keyspace == "ml.catalog.models"

    def scan(self, keyspace: str):
        for k, v in self.docs.items():
            yield k, v, 1

    def fetch(self, keyspace: str, keys: list[str]):
        return [(k, self.docs[k], 1) for k in keys if k in self.docs]


def run(stmt: str, params: Any = None) -> list[Any]:
    return execute(stmt, params, "ml.catalog", ModelSource(), read_only=True)


def test_models_using_an_operator():
    rows = run("SELECT m.name, m.version FROM models m WHERE ANY n IN m.onnx.graph.node "
               "SATISFIES n.opType = \"SVMClassifier\" END")  # fmt: skip
    assert sorted(rows, key=lambda r: r["version"]) == [
        {"name": "iris-svc", "version": 3}, {"name": "iris-svc", "version": 4}]  # fmt: skip


def test_operator_usage_counts():
    rows = run("SELECT n.opType, COUNT(*) AS uses FROM models m UNNEST m.onnx.graph.node n "
               "GROUP BY n.opType ORDER BY uses DESC, n.opType")  # fmt: skip
    assert rows == [{"opType": "Gemm", "uses": 2}, {"opType": "SVMClassifier", "uses": 2},
                    {"opType": "ZipMap", "uses": 2}, {"opType": "Relu", "uses": 1}]  # fmt: skip


def test_mostly_zero_initializers():
    rows = run("SELECT m.name, i.name AS tensor, i.stats.zeroFraction FROM models m "
               "UNNEST m.summary.initializers i WHERE i.stats.zeroFraction > 0.5")  # fmt: skip
    assert sorted(rows, key=lambda r: r["name"]) == [
        {"name": "iris-svc", "tensor": "coef", "zeroFraction": 0.75},
        {"name": "mlp", "tensor": "coef", "zeroFraction": 0.6},
    ]


def test_models_by_tag():
    assert sorted(run("SELECT RAW m.name FROM models m WHERE \"iris\" IN m.metadata.tags")) == [
        "iris-svc", "iris-svc"]  # fmt: skip
    assert run("SELECT RAW m.name FROM models m WHERE $t IN m.metadata.tags", {"t": "digits"}) == [
        "mlp"]  # fmt: skip


def test_latest_version_per_model():
    rows = run("SELECT m.name, MAX(m.version) AS latest FROM models m GROUP BY m.name")
    assert sorted(rows, key=lambda r: r["name"]) == [
        {"name": "iris-svc", "latest": 4}, {"name": "mlp", "latest": 1}]  # fmt: skip


def test_attribute_lookup_and_meta_keys():
    rows = run("SELECT RAW META(m).id FROM models m USE KEYS ['iris-svc::3', 'mlp::1'] "
               "WHERE ANY n IN m.onnx.graph.node SATISFIES ANY a IN n.attribute SATISFIES "
               "a.name = 'kernel_type' END END ORDER BY META(m).id")  # fmt: skip
    assert rows == ["iris-svc::3", "mlp::1"]


def test_version_diff_of_summaries():
    rows = run("SELECT a.version AS va, b.version AS vb, ARRAY_EXCEPT(b.summary.opTypes, "
               "a.summary.opTypes) AS added FROM models a JOIN models b ON a.name = b.name "
               "AND b.version = a.version + 1")  # fmt: skip
    assert rows == [{"va": 3, "vb": 4, "added": []}]


@pytest.mark.parametrize("stmt", ["DELETE FROM models", "UPDATE models SET x = 1"])
def test_the_workbench_cannot_change_models(stmt):
    from catalog.sqlpp import SqlppError

    with pytest.raises(SqlppError, match="read-only"):
        run(stmt)
