"""How a model's weights changed between two versions (weight drift), computed once.

Weights are the initializers and the numeric tensor or float-list attributes of nodes
(ai.onnx.ml operators such as LinearClassifier keep their coefficients there). Tensors whose
shape changed, or that exist on one side only, are reported without a norm. Versions too large
to load on a request are not compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from catalog.domain.registry import ModelNotFound, Registry
from catalog.onnxdoc.walk import iter_graphs

# Largest parameter count (of each version) whose weights a request will load to compare.
MAX_COMPARE_PARAMS = 20_000_000


def named_weights(model: onnx.ModelProto) -> dict[str, tuple[str, np.ndarray]]:
    """Return {name: (kind, array)} of a model's initializers and weight attributes."""
    out: dict[str, tuple[str, np.ndarray]] = {}
    for _, graph in iter_graphs(model.graph, ""):
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


def comparable(doc: Mapping[str, Any]) -> bool:
    """Return True when a version is small enough to load its weights on a request."""
    count = (doc.get("summary") or {}).get("paramCount") or 0
    return isinstance(count, (int, float)) and count <= MAX_COMPARE_PARAMS


def l2_change(before: np.ndarray, after: np.ndarray) -> float | None:
    """Return the L2 norm of ``after - before`` (None: other shapes, not numbers, not finite)."""
    if (
        before.shape != after.shape
        or before.dtype.kind not in "biuf"
        or after.dtype.kind not in "biuf"
    ):
        return None
    value = float(np.linalg.norm((after.astype(np.float64) - before.astype(np.float64)).ravel()))
    return value if math.isfinite(value) else None


def weight_drift(reg: Registry, name: str, old: int, new: int) -> list[dict[str, Any]]:
    """Return, per weight of version ``new``, its change from version ``old``, largest first."""
    try:
        docs = reg.document(name, old), reg.document(name, new)
    except ModelNotFound:
        return []
    if not all(comparable(d) for d in docs):
        return []
    before = named_weights(reg.load_document(docs[0]))
    after = named_weights(reg.load_document(docs[1]))
    rows = [_row(key, kind, array, before.get(key), old) for key, (kind, array) in after.items()]
    for key, (kind, array) in before.items():
        if key not in after:
            rows.append(
                _blank(key, kind, old) | {"parentShape": list(array.shape), "status": "removed"}
            )
    rows.sort(key=lambda r: (r["l2"] is None, -(r["l2"] or 0.0), r["name"]))
    return rows


def difference_norms(
    reg: Registry, name: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, float | None] | None:
    """Return {initializer: L2 of new - old} for same-named tensors, or None if too large."""
    if not (comparable(old) and comparable(new)):
        return None
    rows = weight_drift(reg, name, old["version"], new["version"])
    return {
        r["name"]: r["l2"] for r in rows if r["kind"] == "initializer" and r["status"] != "added"
    }


def _blank(key: str, kind: str, parent: int) -> dict[str, Any]:
    return {
        "name": key,
        "kind": kind,
        "parent": parent,
        "shape": None,
        "parentShape": None,
        "l2": None,
        "relative": None,
        "maxAbs": None,
    }


def _row(
    key: str, kind: str, array: np.ndarray, old: tuple[str, np.ndarray] | None, parent: int
) -> dict[str, Any]:
    row = _blank(key, kind, parent) | {"shape": list(array.shape)}
    if old is None:
        return row | {"status": "added"}
    previous = old[1]
    row["parentShape"] = list(previous.shape)
    if previous.shape != array.shape:
        return row | {"status": "changed shape"}
    l2 = l2_change(previous, array)
    if l2 is None:
        return row | {"status": "unchanged" if np.array_equal(array, previous) else "changed"}
    base = float(np.linalg.norm(previous.astype(np.float64).ravel()))
    row["l2"] = l2
    row["relative"] = l2 / base if base > 0 else (0.0 if l2 == 0 else None)
    diff = array.astype(np.float64) - previous.astype(np.float64)
    row["maxAbs"] = float(np.max(np.abs(diff))) if diff.size else 0.0
    return row | {"status": "changed" if l2 > 0 else "unchanged"}
