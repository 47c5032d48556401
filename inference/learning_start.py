"""Start learning from an estimator specification and a first table of rows; report status.

The CLI (``catalog learn start``), ``POST /api/models/NAME/learning`` and the "New online
model" page all come here with a ``LearningSpec`` and the first rows (CSV text or JSON).
Everything is checked before anything is written: a bad specification, a missing label
column, a non-numeric feature or an empty table stores nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from catalog.domain import queries
from catalog.domain.registry import Registry, check_name
from inference.estimators import LearningSpec, build_estimator
from inference.learning import StepResult, learning_head, start_learning
from inference.learning_history import learning_history
from inference.learning_input import (
    LearningError,
    RawBatch,
    coerce_labels,
    parse_csv,
    parse_first_csv,
    parse_json,
)
from inference.learning_refit import natural_labels
from inference.state import UntrustedState
from inference.trainable import task_of

# Holdout fraction when the spec names neither a fraction nor a holdout table.
DEFAULT_HOLDOUT = 0.2
# Steps shown by ``learning_status``.
STATUS_STEPS = 10


def start_from_csv(
    reg: Registry,
    name: str,
    spec: LearningSpec,
    data: bytes,
    *,
    holdout_csv: bytes | None = None,
    batch_id: str | None = None,
    description: str | None = None,
    user: str | None = None,
) -> StepResult:
    """Start learning ``name`` from a first CSV (header row; ``spec.label`` names the label)."""
    check_name(name)
    estimator = build_estimator(spec)
    _need_label(spec, estimator)
    raw, features = parse_first_csv(data, spec.label)
    holdout = None
    if holdout_csv is not None:
        holdout = parse_csv(holdout_csv, spec.label, features, len(features))
    bid = batch_id or f"first:{hashlib.sha256(data).hexdigest()[:16]}"
    return start_from_table(
        reg, name, spec, raw, features, holdout, batch_id=bid, description=description, user=user
    )


def start_from_json(
    reg: Registry, name: str, spec: LearningSpec, body: dict[str, Any], *, user: str | None = None
) -> StepResult:
    """Start learning from a JSON body: ``rows`` (objects, or lists with ``featureNames``),
    ``labels`` or the spec's label field, optional ``holdoutRows`` / ``holdoutLabels``."""
    check_name(name)
    estimator = build_estimator(spec)
    _need_label(spec, estimator)
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise LearningError("'rows' must be a non-empty list")
    features = _json_features(body, rows, spec.label)
    raw = parse_json(
        {"rows": rows, "labels": body.get("labels")}, features, len(features), spec.label
    )
    holdout = None
    if body.get("holdoutRows") is not None:
        holdout = parse_json(
            {"rows": body.get("holdoutRows"), "labels": body.get("holdoutLabels")},
            features,
            len(features),
            spec.label,
        )
    batch_id = body.get("batchId")
    if batch_id is not None and (not isinstance(batch_id, str) or not batch_id.strip()):
        raise LearningError("'batchId' must be a non-empty string")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise LearningError("'description' must be a string")
    return start_from_table(
        reg,
        name,
        spec,
        raw,
        features,
        holdout,
        batch_id=batch_id or "first",
        description=description,
        user=user,
    )


def start_from_table(
    reg: Registry,
    name: str,
    spec: LearningSpec,
    raw: RawBatch,
    features: list[str],
    holdout: RawBatch | None,
    *,
    batch_id: str,
    description: str | None = None,
    user: str | None = None,
) -> StepResult:
    """Start learning from parsed rows: split a holdout if none was given, then start."""
    estimator = build_estimator(spec)
    task = task_of(estimator)
    X, labels = raw.X, raw.labels
    if holdout is None:
        X, labels, hold_X, hold_labels = _split(X, labels, spec.holdout or DEFAULT_HOLDOUT, task)
    else:
        hold_X, hold_labels = holdout.X, holdout.labels
    if task == "clustering":
        y = None
        hold_y: Any = None
    elif task == "classification":
        both = natural_labels([*(labels or []), *(hold_labels or [])])
        y, hold_y = both[: len(X)], both[len(X) :]
    else:
        y = coerce_labels(labels, task, None).tolist()
        hold_y = coerce_labels(hold_labels, task, None).tolist()
    classes = None
    if task == "classification" and spec.mode != "refit":
        classes = sorted(set(y) | set(hold_y))
    try:
        return start_learning(
            reg,
            name,
            estimator,
            X,
            y,
            holdout=(hold_X, hold_y) if len(hold_X) else None,
            classes=classes,
            metric=spec.metric,
            policy=spec.policy,
            batch_id=batch_id,
            feature_names=features,
            description=description
            or f"{spec.estimator} learning online ({spec.mode}), started from {len(X)} rows",
            tags=["online", spec.mode],
            user=user,
            window=spec.window,
            spec=spec.to_dict(),
        )
    except UntrustedState as e:  # parameters that make the state hold other types
        raise LearningError(f"this estimator cannot be kept as a learning state: {e}") from None


def learning_status(reg: Registry, name: str) -> dict[str, Any]:
    """Return what a learning model is: spec, rows, generation, aliases and recent steps."""
    head = learning_head(reg, name)
    aliases = reg.aliases(name)
    steps = recent_history(reg, name, STATUS_STEPS)
    return {
        "name": name,
        "estimator": head.get("estimator"),
        "mode": head.get("mode", "incremental"),
        "task": head.get("task"),
        "spec": head.get("spec"),
        "generation": head.get("generation"),
        "rowsSeen": head.get("rowsSeen"),
        "batches": head.get("batches"),
        "trainingRows": head.get("trainingRows"),
        "window": head.get("window"),
        "featureNames": head.get("featureNames"),
        "classes": head.get("classes"),
        "metric": head.get("metric"),
        "policy": head.get("policy"),
        "production": aliases.get("production"),
        "latest": aliases.get("latest"),
        "updatedAt": head.get("updatedAt"),
        "steps": [
            {
                "version": s["version"],
                "metric": s["metric"],
                "rowsSeen": s["rowsSeen"],
                "batchId": s["batchId"],
                "aliases": s["aliases"],
            }
            for s in steps
        ],
    }


def recent_history(reg: Registry, name: str, count: int) -> list[dict[str, Any]]:
    """Return the learning history of the newest ``count`` versions, oldest first.

    One keyset page after ``latest - count``: the cost does not grow with the versions.
    """
    latest = reg.aliases(name).get("latest")
    if latest is None:
        return []
    after = queries.encode_cursor([max(0, int(latest) - count)])
    return learning_history(reg, name, cursor=after, limit=count).items


def _need_label(spec: LearningSpec, estimator: Any) -> None:
    if spec.label is None and task_of(estimator) != "clustering":
        raise LearningError(f"name the label column: {spec.estimator} learns from labels")


def _json_features(body: dict[str, Any], rows: list[Any], label: str | None) -> list[str]:
    if isinstance(rows[0], dict):
        return [str(k) for k in rows[0] if k != label]
    names = body.get("featureNames")
    if names is None:
        return [f"x{i}" for i in range(len(rows[0]) if isinstance(rows[0], list) else 0)]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise LearningError("'featureNames' must be a list of strings")
    return names


def _split(
    X: np.ndarray, labels: list[Any] | None, fraction: float, task: str
) -> tuple[np.ndarray, list[Any] | None, np.ndarray, list[Any] | None]:
    """Return (train X, train labels, holdout X, holdout labels), stratified by class."""
    rng = np.random.default_rng(0)
    n = len(X)
    if task == "classification" and labels is not None:
        hold: list[int] = []
        by_class: dict[str, list[int]] = {}
        for i, v in enumerate(labels):
            by_class.setdefault(str(v), []).append(i)
        for members in by_class.values():
            take = int(round(len(members) * fraction))
            take = min(take, len(members) - 1)  # keep every class in the training rows
            hold.extend(rng.permutation(members)[:take].tolist())
    else:
        hold = rng.permutation(n)[: int(round(n * fraction))].tolist()
    if n - len(hold) < 2:
        raise LearningError(f"{n} rows are too few to keep a holdout of {fraction:g}")
    held = set(hold)
    train = [i for i in range(n) if i not in held]
    hold = sorted(hold)

    def pick(idx: list[int]) -> list[Any] | None:
        return None if labels is None else [labels[i] for i in idx]

    return X[train], pick(train), X[hold], pick(hold)
