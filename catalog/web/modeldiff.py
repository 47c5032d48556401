"""What changed between two versions of a model: graph, weights, metadata, signature.

Summaries (``doc["summary"]``) answer most questions without loading weights; the L2 norm
of the difference of same-shaped initializers needs both tensors, so it loads the models,
unless they are too large to compare on a request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from catalog.domain import weights
from catalog.domain.registry import Registry

# Statistics of an initializer compared between versions, in display order.
STATS = ("mean", "std", "min", "max", "l2", "zeroFraction")


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in items if isinstance(i, dict) and "name" in i}


def _signature_changes(old: list[Any], new: list[Any]) -> dict[str, list[Any]]:
    a, b = _by_name(old), _by_name(new)
    changed = [
        {"name": k, "before": a[k], "after": b[k]}
        for k in sorted(a.keys() & b.keys())
        if (a[k].get("dataType"), a[k].get("shape")) != (b[k].get("dataType"), b[k].get("shape"))
    ]
    return {
        "added": [b[k] for k in sorted(b.keys() - a.keys())],
        "removed": [a[k] for k in sorted(a.keys() - b.keys())],
        "changed": changed,
    }


def _metadata_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            kind = "added" if key not in old else "removed" if key not in new else "changed"
            out.append({"key": key, "kind": kind, "before": old.get(key), "after": new.get(key)})
    return out


def _count_change(old: Any, new: Any) -> dict[str, Any]:
    delta = new - old if isinstance(old, (int, float)) and isinstance(new, (int, float)) else None
    return {"before": old, "after": new, "delta": delta}


def compare(reg: Registry, name: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Return what changed from version document ``old`` to ``new`` (JSON-able)."""
    s_old, s_new = old.get("summary", {}), new.get("summary", {})
    ops_old, ops_new = set(s_old.get("opTypes", [])), set(s_new.get("opTypes", []))
    inits_old = _by_name(s_old.get("initializers", []))
    inits_new = _by_name(s_new.get("initializers", []))
    norms = weights.difference_norms(reg, name, old, new)
    changed, unchanged = [], 0
    for key in sorted(inits_old.keys() & inits_new.keys()):
        a, b = inits_old[key], inits_new[key]
        reshaped = a.get("dims") != b.get("dims") or a.get("dataType") != b.get("dataType")
        deltas = {}
        for stat in STATS:
            x, y = _finite(a.get("stats", {}).get(stat)), _finite(b.get("stats", {}).get(stat))
            deltas[stat] = {
                "before": x,
                "after": y,
                "delta": y - x if x is not None and y is not None else None,
            }
        l2 = None if norms is None else norms.get(key)
        same = not reshaped and (
            l2 == 0.0 if norms is not None else all(d["delta"] == 0 for d in deltas.values())
        )
        if same:
            unchanged += 1
            continue
        changed.append(
            {
                "name": key,
                "dimsBefore": a.get("dims"),
                "dimsAfter": b.get("dims"),
                "dataTypeBefore": a.get("dataType"),
                "dataTypeAfter": b.get("dataType"),
                "reshaped": reshaped,
                "stats": deltas,
                "diffL2": l2,
            }
        )
    changed.sort(key=lambda c: (not c["reshaped"], -(c["diffL2"] or 0.0), c["name"]))
    return {
        "a": old.get("version"),
        "b": new.get("version"),
        "operators": {
            "added": sorted(ops_new - ops_old),
            "removed": sorted(ops_old - ops_new),
            "kept": sorted(ops_old & ops_new),
        },
        "nodeCount": _count_change(s_old.get("nodeCount"), s_new.get("nodeCount")),
        "paramCount": _count_change(s_old.get("paramCount"), s_new.get("paramCount")),
        "sizeBytes": _count_change(s_old.get("sizeBytes"), s_new.get("sizeBytes")),
        "initializers": {
            "added": [inits_new[k] for k in sorted(inits_new.keys() - inits_old.keys())],
            "removed": [inits_old[k] for k in sorted(inits_old.keys() - inits_new.keys())],
            "changed": changed,
            "unchanged": unchanged,
            "weightsCompared": norms is not None,
        },
        "metadata": _metadata_changes(old.get("metadata", {}), new.get("metadata", {})),
        "inputs": _signature_changes(s_old.get("inputs", []), s_new.get("inputs", [])),
        "outputs": _signature_changes(s_old.get("outputs", []), s_new.get("outputs", [])),
        "opsets": _metadata_changes(s_old.get("opsets", {}), s_new.get("opsets", {})),
    }
