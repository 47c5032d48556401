"""Data for the versions page: the learning history of a model and weight drift per version.

Alias moves are in the registry's ``audit`` documents
(``SELECT a.* FROM audit a WHERE a.name = $name ORDER BY a.`at```).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from catalog.model_input import iter_graphs
from catalog.registry import ModelNotFound, Registry, check_name


def learning_history(reg: Registry, name: str) -> list[dict[str, Any]]:
    """Return one row per version, oldest first: metric, rows seen, parent, batch, aliases.

    A version published while another learner's step was still publishing has no
    ``parent`` in its lineage; it is filled in here from the generations.
    """
    check_name(name)
    rows = reg.store.query(
        "SELECT m.version, m.createdAt, m.lineage, m.metadata.metrics AS metrics"
        " FROM models m WHERE m.name = $name ORDER BY m.version",
        {"name": name},
        query_context=reg.ks.query_context,
    )
    by_generation = {
        r["lineage"]["generation"]: r["version"]
        for r in rows
        if isinstance(r.get("lineage"), dict) and r["lineage"].get("generation") is not None
    }
    aliases: dict[int, list[str]] = {}
    for alias, version in reg.aliases(name).items():
        aliases.setdefault(version, []).append(alias)
    out = []
    for r in rows:
        lineage = r.get("lineage") or {}
        parent = lineage.get("parent")
        generation = lineage.get("generation")
        if parent is None and generation is not None:
            parent = by_generation.get(generation - 1)
        out.append(
            {
                "version": r["version"],
                "createdAt": r.get("createdAt"),
                "metric": lineage.get("metric") or {},
                "metrics": r.get("metrics") or {},
                "rowsSeen": lineage.get("rowsSeen"),
                "batchSize": lineage.get("batchSize"),
                "parent": parent,
                "generation": generation,
                "batchId": lineage.get("batchId"),
                "aliases": sorted(aliases.get(r["version"], [])),
            }
        )
    return out


def drift_parent(reg: Registry, name: str, version: int) -> int | None:
    """Return the version ``version`` is compared with: its parent, else the one before."""
    doc = reg.document(name, version)
    lineage = doc.get("lineage") or {}
    parent = lineage.get("parent")
    if parent is None and lineage.get("generation") is not None:
        for row in learning_history(reg, name):
            if row["version"] == version:
                parent = row["parent"]
    if parent is not None:
        return int(parent)
    older = [v["version"] for v in reg.list_versions(name) if v["version"] < version]
    return max(older) if older else None


def weight_drift(reg: Registry, name: str, version: int) -> list[dict[str, Any]]:
    """Return, per weight tensor, the L2 norm of its change from the parent version.

    Weights are the initializers and the numeric tensor or float-list attributes of nodes
    (ai.onnx.ml operators such as LinearRegressor keep their coefficients there). Tensors
    whose shape changed, or that exist on one side only, are reported without a norm.
    """
    parent = drift_parent(reg, name, version)
    if parent is None:
        return []
    try:
        old = named_weights(reg.load(name, parent))
    except ModelNotFound:
        return []
    new = named_weights(reg.load(name, version))
    rows = []
    for key, (kind, array) in new.items():
        row: dict[str, Any] = {
            "name": key,
            "kind": kind,
            "parent": parent,
            "shape": list(array.shape),
            "l2": None,
            "relative": None,
            "maxAbs": None,
        }
        if key not in old:
            rows.append(row | {"status": "added", "parentShape": None})
            continue
        before = old[key][1]
        row["parentShape"] = list(before.shape)
        if before.shape != array.shape:
            rows.append(row | {"status": "changed shape"})
            continue
        if array.dtype.kind not in "biuf" or before.dtype.kind not in "biuf":
            same = bool(np.array_equal(array, before))
            rows.append(row | {"status": "unchanged" if same else "changed"})
            continue
        diff = array.astype(np.float64) - before.astype(np.float64)
        l2 = float(np.linalg.norm(diff.ravel()))
        base = float(np.linalg.norm(before.astype(np.float64).ravel()))
        row["l2"] = l2
        row["relative"] = l2 / base if base > 0 else (0.0 if l2 == 0 else None)
        row["maxAbs"] = float(np.max(np.abs(diff))) if diff.size else 0.0
        rows.append(row | {"status": "changed" if l2 > 0 else "unchanged"})
    for key, (kind, array) in old.items():
        if key not in new:
            rows.append(
                {
                    "name": key,
                    "kind": kind,
                    "parent": parent,
                    "shape": None,
                    "parentShape": list(array.shape),
                    "l2": None,
                    "relative": None,
                    "maxAbs": None,
                    "status": "removed",
                }
            )
    return rows


def named_weights(model: onnx.ModelProto) -> dict[str, tuple[str, np.ndarray]]:
    """Return {name: (kind, array)} of a model's initializers and weight attributes."""
    out: dict[str, tuple[str, np.ndarray]] = {}
    for graph in iter_graphs(model.graph):
        for tensor in graph.initializer:
            out[tensor.name] = ("initializer", numpy_helper.to_array(tensor))
        for index, node in enumerate(graph.node):
            owner = node.name or f"{node.op_type}#{index}"
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.FLOATS and len(attr.floats):
                    out[f"{owner}/{attr.name}"] = ("attribute", np.asarray(attr.floats))
                elif attr.type == onnx.AttributeProto.TENSOR:
                    out[f"{owner}/{attr.name}"] = ("attribute", numpy_helper.to_array(attr.t))
    return out
