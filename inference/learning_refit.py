"""What one learning step does to the estimator, in either mode.

- incremental: ``partial_fit`` on the batch (a StandardScaler the spec asked for learns
  too, with its own ``partial_fit``, before the estimator sees the batch);
- refit (estimators without ``partial_fit``, such as SVC): the batch's rows are written
  to ``datasets`` (content-addressed chunks), and a fresh copy of the estimator is fitted
  on every row learned so far, or on the last ``window`` rows. The head's ``trainedOn``
  lists the batches that copy was fitted on; the version's lineage repeats it.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from catalog.domain.registry import Registry
from inference.datasets import load_rows, store_rows, window_entries
from inference.learning_input import LearningError, coerce_labels
from inference.state import REFITTERS, learner_of, type_name
from inference.trainable import partial_fit, plain

INCREMENTAL = "incremental"
REFIT = "refit"


def mode_of(estimator: Any) -> str:
    """Return "refit" for the estimators refit on kept rows, else "incremental"."""
    return REFIT if type_name(learner_of(estimator)) in REFITTERS else INCREMENTAL


def natural_labels(labels: list[Any]) -> list[Any]:
    """Return class labels as whole numbers when every one is one ("1", 1.0), else text."""
    out: list[Any] = []
    for v in labels:
        number = _whole(v)
        if number is None:
            return [str(plain(x)) for x in labels]
        out.append(number)
    return out


def _whole(value: Any) -> int | None:
    value = plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


def batch_labels(labels: list[Any] | None, head: dict[str, Any]) -> np.ndarray:
    """Return a batch's labels for the model: known classes only, unless it refits."""
    task = head["task"]
    if head.get("mode") != REFIT or task != "classification":
        return coerce_labels(labels, task, head.get("classes"))
    if labels is None:
        raise LearningError("missing labels: name the label column (or send 'labels')")
    classes = head.get("classes") or []
    if classes and all(isinstance(c, int) for c in classes):
        out = []
        for i, v in enumerate(labels):
            number = _whole(v)
            if number is None:
                raise LearningError(f"label {i} ({v!r}) is not a whole number like the classes")
            out.append(number)
        return np.asarray(out)
    return np.asarray([str(plain(v)) for v in labels], dtype=object)


def fit_first(estimator: Any, X: np.ndarray, y: np.ndarray) -> None:
    """Fit a refit estimator on its first rows (LearningError if it cannot learn them)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X, y)
    except ValueError as e:
        raise LearningError(f"the first batch cannot be learned: {e}") from None


def first_entry(reg: Registry, X: np.ndarray, y: np.ndarray, batch_id: str) -> dict[str, Any]:
    """Store a refit model's first rows; return its ``trainedOn`` entry."""
    return {"batchId": batch_id, "rows": int(len(X)), "chunks": store_rows(reg, X, y)}


def train_batch(
    reg: Registry,
    head: dict[str, Any],
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    batch_id: str,
    cache: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    """Learn one batch; return the trained estimator and the head fields that change."""
    if head.get("mode") != REFIT:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                partial_fit(estimator, X, y, update_transformers=bool(head.get("scalerLearns")))
        except ValueError as e:
            raise LearningError(f"partial_fit refused the batch: {e}") from None
        return estimator, {}
    from sklearn.base import clone

    entry = {"batchId": batch_id, "rows": int(len(X)), "chunks": store_rows(reg, X, y)}
    window = head.get("window")
    entries = window_entries([*head.get("trainedOn", []), entry], window)
    rows, labels = load_rows(reg, entries, cache)
    if window is not None:
        rows, labels = rows[-window:], labels[-window:]
    fresh = clone(estimator)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fresh.fit(
                rows, np.asarray(labels, dtype=None if head["task"] != "regression" else float)
            )
    except ValueError as e:
        raise LearningError(f"refitting on {len(rows)} rows failed: {e}") from None
    updates: dict[str, Any] = {"trainedOn": entries, "trainingRows": int(len(rows))}
    if head["task"] == "classification":
        updates["classes"] = [plain(c) for c in learner_of(fresh).classes_]
    return fresh, updates
