"""The rows refit learning has learned from: content-addressed chunks in ``datasets``.

A batch is cut into chunks of at most CHUNK_ROWS rows; each chunk is a JSON document
``{"type": "rows", "nFeatures", "rows", "X": [[...]], "y": [...]}`` keyed by the SHA-256
of its canonical JSON (like the registry's tensor chunks), so a batch sent twice, or the
same rows sent to two models, is stored once. Writes are idempotent upserts made before
the learning step commits, so a crash leaves at most unreferenced chunks, never a step
that names a chunk that is not there.

The learning state's head lists the batches a refit model trains on (``trainedOn``), and
every published version copies that list into its lineage, so SQL++ answers "which
versions were trained on batch X" (VERSIONS_TRAINED_ON below).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from catalog.domain import queries
from catalog.domain.registry import Registry
from catalog.store import NotFound
from inference.learning_input import LearningError

# Rows per chunk: 5,000 rows of 100 features is about 5 MB of JSON, well under the
# 20 MB document limit.
CHUNK_ROWS = 5_000

# "Which versions of NAME were trained on batch X" (X: a batch id, or a chunk key).
VERSIONS_TRAINED_ON = queries.VERSIONS_TRAINED_ON


def _canonical(X: list[list[float]], y: list[Any]) -> bytes:
    return json.dumps([X, y], separators=(",", ":"), sort_keys=True).encode()


def store_rows(reg: Registry, X: np.ndarray, y: np.ndarray) -> list[str]:
    """Write the rows (X float32, y labels) as chunks; return their keys, in order."""
    keys = []
    n_features = int(X.shape[1])
    for start in range(0, len(X), CHUNK_ROWS):
        rows = X[start : start + CHUNK_ROWS].astype(np.float32).tolist()
        labels = [_plain(v) for v in y[start : start + CHUNK_ROWS]]
        key = hashlib.sha256(_canonical(rows, labels)).hexdigest()
        doc = {"type": "rows", "nFeatures": n_features, "rows": len(rows), "X": rows, "y": labels}
        reg.store.upsert(reg.ks.datasets, key, doc)
        keys.append(key)
    return keys


def load_rows(
    reg: Registry, entries: list[dict[str, Any]], cache: dict[str, Any] | None = None
) -> tuple[np.ndarray, list[Any]]:
    """Return the rows of the batches ``entries`` name (``{"chunks": [...]}``), in order."""
    cache = {} if cache is None else cache
    parts: list[list[list[float]]] = []
    labels: list[Any] = []
    for entry in entries:
        for key in entry["chunks"]:
            if key not in cache:
                try:
                    cache[key], _ = reg.store.get(reg.ks.datasets, key)
                except NotFound:
                    raise LearningError(
                        f"the learned rows in chunk {key} are missing from datasets"
                    ) from None
            doc = cache[key]
            parts.append(doc["X"])
            labels.extend(doc["y"])
    rows = [row for part in parts for row in part]
    return np.asarray(rows, dtype=np.float32), labels


def window_entries(entries: list[dict[str, Any]], window: int | None) -> list[dict[str, Any]]:
    """Return the newest entries that hold the last ``window`` rows (all when None)."""
    if window is None:
        return list(entries)
    kept: list[dict[str, Any]] = []
    total = 0
    for entry in reversed(entries):
        if total >= window:
            break
        kept.append(entry)
        total += int(entry["rows"])
    return kept[::-1]


def versions_trained_on(reg: Registry, name: str, batch: str) -> list[int]:
    """Return the versions of ``name`` whose training rows include batch (id or chunk)."""
    params = {"name": name, "batch": batch}
    rows = queries.run(reg.store, reg.ks.query_context, VERSIONS_TRAINED_ON, params)
    return [int(v) for v in rows]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
