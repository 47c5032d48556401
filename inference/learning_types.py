"""What online learning's modules share: its errors, the result of a step, a batch, the keys
of its documents in the ``states`` collection, and its limits (see ``inference.learning``)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from inference.learning_input import LearningError

PRODUCTION = "production"
# Batch ids remembered per model to refuse a batch sent twice (a client retrying).
RECENT_BATCHES = 256
# Generation -> version entries kept (enough to find the parent of concurrent steps).
RECENT_VERSIONS = 64
# Values (rows x features) a holdout set may hold: it lives in one JSON document.
MAX_HOLDOUT_VALUES = 500_000
MAX_BATCH_ID = 200
DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2", "clustering": "inertia"}


class NoLearningState(LearningError):
    """The model has no learning state (start it with start_learning)."""


NO_STATE = (
    "model {name!r} has no learning state; start it with"
    " `catalog learn start {name} --estimator ... --label ... first.csv`,"
    " POST /api/models/{name}/learning, or start_learning()"
)


class DuplicateBatch(LearningError):
    """A batch id already learned from (HTTP 409): the batch is not counted twice."""


class AlreadyLearning(LearningError):
    """Learning was started for a model that already learns (HTTP 409)."""

    status = 409


@dataclass
class StepResult:
    """The outcome of one learning step."""

    name: str
    version: int
    parent: int | None
    generation: int
    batch_id: str
    batch_size: int
    rows_seen: int
    metric: dict[str, float]
    metrics: dict[str, float]
    promoted: bool
    production: int | None
    reason: str
    retries: int = 0
    took_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as the API writes it (camelCase keys)."""
        out = asdict(self)
        return {
            "name": out["name"],
            "version": out["version"],
            "parent": out["parent"],
            "generation": out["generation"],
            "batchId": out["batch_id"],
            "batchSize": out["batch_size"],
            "rowsSeen": out["rows_seen"],
            "metric": out["metric"],
            "metrics": out["metrics"],
            "promoted": out["promoted"],
            "production": out["production"],
            "reason": out["reason"],
            "retries": out["retries"],
            "tookMs": round(out["took_ms"], 3),
            **out["extra"],
        }


@dataclass
class Batch:
    """One step's training rows, its id, and head fields to commit with it (a cursor)."""

    X: np.ndarray
    y: np.ndarray
    batch_id: str
    head_updates: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _holdout_key(name: str) -> str:
    return f"{name}::holdout"


def _versions_key(name: str) -> str:
    return f"{name}::versions"


def _new_state_key(name: str) -> str:
    # 12 hex digits keep the longest model name within Couchbase's 246-byte key limit.
    return f"{name}::{uuid.uuid4().hex[:12]}"
