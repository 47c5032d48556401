"""The learning curve of the versions page: one number per version to plot.

The rows come from ``inference.learning_history``; this picks which metric to draw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

# Metrics preferred for the learning curve when a version records several.
PREFERRED_METRICS = ("accuracy", "score", "r2", "f1", "auc", "loss", "rmse", "mae")


def _metric_name(metric_sets: list[dict[str, Any]]) -> str | None:
    counts = Counter(k for m in metric_sets for k, v in m.items() if isinstance(v, (int, float)))
    for name in PREFERRED_METRICS:
        if name in counts:
            return name
    return counts.most_common(1)[0][0] if counts else None


def with_metric(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows, each with one number to plot (``metric``) and its name
    (``metricName``): its learner's primary metric, else a common one. The rows given are
    left as they are, so the same rows can be given again (the versions page gives its
    newest rows to the history table and to the curve)."""
    fallback = _metric_name([r["metrics"] for r in rows if isinstance(r.get("metrics"), dict)])
    out = []
    for r in rows:
        primary = r.get("metric")
        metrics = r.get("metrics") if isinstance(r.get("metrics"), dict) else {}
        name, value = fallback, metrics.get(fallback) if fallback else None
        if isinstance(primary, dict) and primary:
            # Online learning records {"accuracy": 0.93}: the metric its policy compares.
            name, value = next(iter(primary.items()))
        elif isinstance(primary, (int, float)):
            value = primary
        out.append(
            r | {"metricName": name, "metric": value if isinstance(value, (int, float)) else None}
        )
    return out


def listable_rows(
    rows: list[dict[str, Any]], name: str, on_damaged: Callable[[str, str], None]
) -> list[dict[str, Any]]:
    """Return the rows whose version is an integer, oldest first; pass the others (damaged
    documents) to ``on_damaged(key, problem)``."""
    out = []
    for row in rows:
        version = row.get("version")
        if type(version) is int:
            out.append(row)
        else:
            on_damaged(f"{name}::{version}", f"version {version!r} is not an integer")
    return sorted(out, key=lambda r: r["version"])
