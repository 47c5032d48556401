"""A model's history: versions with their training lineage, and the audit log of aliases.

``inference.learning_history.learning_history`` is the source when it exists (online learning
writes the lineage it reads); until then the same rows are built here from the version
documents.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from catalog.registry import Registry
from catalog.store import QueryError

AUDIT_QUERY = "SELECT a.* FROM audit a WHERE a.name = $name ORDER BY a.`at` DESC"
VERSIONS_QUERY = (
    "SELECT m.version, m.metadata.metrics AS metrics, m.lineage FROM models m WHERE m.name = $name"
)
# Metrics preferred for the learning curve when a version records several.
PREFERRED_METRICS = ("accuracy", "score", "r2", "f1", "auc", "loss", "rmse", "mae")


def _metric_name(metric_sets: list[dict[str, Any]]) -> str | None:
    counts = Counter(k for m in metric_sets for k, v in m.items() if isinstance(v, (int, float)))
    for name in PREFERRED_METRICS:
        if name in counts:
            return name
    return counts.most_common(1)[0][0] if counts else None


def learning_history(reg: Registry, name: str) -> list[dict[str, Any]]:
    """Return one row per version, oldest first: version, createdAt, metric (a number),
    metricName, metrics, rowsSeen, parent, batchId, aliases."""
    try:
        from inference.learning_history import learning_history as source
    except ImportError:
        source = _history_from_documents
    rows = sorted((dict(r) for r in source(reg, name)), key=lambda r: r.get("version") or 0)
    return _with_metric(rows)


def _with_metric(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each row one number to plot: its learner's primary metric, else a common one."""
    fallback = _metric_name([r["metrics"] for r in rows if isinstance(r.get("metrics"), dict)])
    for r in rows:
        primary = r.get("metric")
        metrics = r.get("metrics") if isinstance(r.get("metrics"), dict) else {}
        name, value = fallback, metrics.get(fallback) if fallback else None
        if isinstance(primary, dict) and primary:
            # Online learning records {"accuracy": 0.93}: the metric its policy compares.
            name, value = next(iter(primary.items()))
        elif isinstance(primary, (int, float)):
            value = primary
        r["metricName"] = name
        r["metric"] = value if isinstance(value, (int, float)) else None
    return rows


def _history_from_documents(reg: Registry, name: str) -> list[dict[str, Any]]:
    versions = {v["version"]: v for v in reg.list_versions(name)}
    rows = reg.store.query(VERSIONS_QUERY, {"name": name}, query_context=reg.ks.query_context)
    out = []
    for r in rows:
        v = versions.get(r.get("version"))
        if v is None:
            continue
        lineage = r.get("lineage") if isinstance(r.get("lineage"), dict) else {}
        batches = lineage.get("batches")
        out.append(
            {
                "version": v["version"],
                "createdAt": v["createdAt"],
                "metric": lineage.get("metric"),
                "metrics": r.get("metrics") if isinstance(r.get("metrics"), dict) else {},
                "rowsSeen": lineage.get("rowsSeen"),
                "parent": lineage.get("parent"),
                "batchId": lineage.get("batchId")
                or (batches[-1] if isinstance(batches, list) and batches else None),
                "aliases": v["aliases"],
            }
        )
    return out


def audit_log(reg: Registry, name: str) -> list[dict[str, Any]]:
    """Return the alias moves of a model, newest first (empty before the first move)."""
    try:
        return reg.store.query(AUDIT_QUERY, {"name": name}, query_context=reg.ks.query_context)
    except QueryError as e:
        # A catalog where no alias ever moved has no audit collection yet.
        if "not found" in str(e).lower():
            return []
        raise


def rollback_target(audit: list[dict[str, Any]], alias: str, current: int | None) -> int | None:
    """Return the version ``alias`` pointed at before its last move (None if there is none)."""
    for row in audit:
        if row.get("alias") != alias:
            continue
        if row.get("to") == current and isinstance(row.get("from"), int):
            return row["from"]
        return None
    return None
