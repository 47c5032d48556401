"""Labelled predictions from the prediction log as a learning batch."""

from __future__ import annotations

from typing import Any

from catalog.domain import cas
from catalog.domain.registry import Registry
from inference.learning import Batch, StepResult, run_step
from inference.learning_input import MAX_BATCH_ROWS, as_matrix, coerce_labels
from inference.policy import Policy
from inference.prediction_log import labelled_predictions


def learn_from_feedback(
    reg: Registry,
    name: str,
    since: str | None = None,
    *,
    limit: int = MAX_BATCH_ROWS,
    policy: Policy | str | dict | None = None,
    user: str | None = None,
) -> StepResult | None:
    """Learn from logged predictions that got a feedback label; None when there are none.

    Reads the ``predictions`` collection (inference/prediction_log.py): documents with
    ``model`` = name, ``inputs`` (OIP tensors: name, datatype, shape, flat data) and
    ``feedback`` = {label, at}. The label is one value for a one-row prediction, or a list
    with one label per row. Without ``since`` the model's cursor (the last feedback
    learned, moved in the same CAS commit as the state) picks up where the previous call
    stopped, so each label is learned once; with ``since`` (ISO time) it starts there.
    """

    def make(head: dict[str, Any]) -> Batch:
        cursor = head.get("feedbackCursor") or {}
        at, pid = (since, "") if since is not None else (cursor.get("at", ""), cursor.get("id", ""))
        docs = labelled_predictions(reg, name, at or "", pid, limit)
        rows, labels, used, skipped = [], [], 0, 0
        for doc in docs:
            pair = _feedback_rows(doc, head["nFeatures"])
            if pair is None:
                skipped += 1
                continue
            rows.extend(pair[0])
            labels.extend(pair[1])
            used += 1
        if not docs:
            raise _NothingNew()
        last = docs[-1]
        updates = {"feedbackCursor": {"at": last["feedback"]["at"], "id": last["id"]}}
        extra = {"predictionsUsed": used, "predictionsSkipped": skipped}
        if not rows:  # only unusable documents: move the cursor past them all the same
            raise _NothingNew(updates)
        X = as_matrix(rows, head["nFeatures"])
        y = coerce_labels(labels, head["task"], head.get("classes"))
        batch_id = f"feedback:{last['feedback']['at']}:{last['id'][:12]}"
        return Batch(X, y, batch_id, updates, extra)

    try:
        return run_step(reg, name, make, policy, user)
    except _NothingNew as e:
        if e.updates and since is None:
            _update_head(reg, name, e.updates)
        return None


def _update_head(reg: Registry, name: str, updates: dict[str, Any]) -> None:
    """Apply ``updates`` to the head with CAS (the state it names is unchanged)."""
    cas.update(reg.store, reg.ks.states, name, lambda head: {**head, **updates})


class _NothingNew(Exception):
    def __init__(self, updates: dict[str, Any] | None = None):
        super().__init__("no new feedback")
        self.updates = updates


def _feedback_rows(doc: dict[str, Any], n_features: int) -> tuple[list, list] | None:
    """Return (rows, labels) of a logged prediction, or None if it cannot be used."""
    label = (doc.get("feedback") or {}).get("label")
    for tensor in doc.get("inputs") or []:
        shape = tensor.get("shape") or []
        data = tensor.get("data")
        if len(shape) != 2 or shape[1] != n_features or not isinstance(data, list):
            continue
        if len(data) != shape[0] * shape[1]:
            return None
        rows = [data[i * n_features : (i + 1) * n_features] for i in range(shape[0])]
        if isinstance(label, list):
            labels = label if len(label) == len(rows) else None
        else:
            labels = [label] * len(rows) if len(rows) == 1 else None
        if labels is None or any(v is None for v in labels):
            return None
        return rows, labels
    return None
