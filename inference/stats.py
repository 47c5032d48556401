"""Inference statistics of this process (one gunicorn worker, or the gRPC server).

Counts and summed durations per model version, as Triton's statistics extension reports
them: successes with their request and compute (session run) time, failures per model.
They live in memory and are per process: with N web workers, each answers with its own
share, and a restart starts from zero. Recording costs one lock and a few additions.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field


@dataclass
class VersionStats:
    """Counters of one model version (durations in nanoseconds)."""

    success_count: int = 0
    success_ns: int = 0
    compute_ns: int = 0
    inference_count: int = 0  # rows (the first dimension), as Triton counts inferences
    last_inference_ms: int = 0


@dataclass
class ModelStats:
    """Counters of one model: per version, and failures (whose version may be unknown)."""

    versions: dict[int, VersionStats] = field(default_factory=dict)
    fail_count: int = 0
    fail_ns: int = 0


_lock = threading.Lock()
_models: dict[str, ModelStats] = {}
# How many model names the table keeps: failed requests for random names must not grow it.
MAX_MODELS = 10_000


def record_success(name: str, version: int, request_ns: int, compute_ns: int, rows: int) -> None:
    """Count one successful request of a model version."""
    now_ms = int(time.time() * 1000)
    with _lock:
        model = _models.get(name)
        if model is None:
            if len(_models) >= MAX_MODELS:
                return
            model = _models[name] = ModelStats()
        stats = model.versions.get(version)
        if stats is None:
            stats = model.versions[version] = VersionStats()
        stats.success_count += 1
        stats.success_ns += request_ns
        stats.compute_ns += compute_ns
        stats.inference_count += rows
        stats.last_inference_ms = now_ms


def record_failure(name: str, request_ns: int) -> None:
    """Count one failed request of a model that exists (any version)."""
    with _lock:
        model = _models.get(name)
        if model is None:
            if len(_models) >= MAX_MODELS:
                return
            model = _models[name] = ModelStats()
        model.fail_count += 1
        model.fail_ns += request_ns


def snapshot(name: str) -> ModelStats:
    """Return a copy of a model's counters (empty if it has served nothing here)."""
    with _lock:
        model = _models.get(name)
        if model is None:
            return ModelStats()
        return ModelStats(
            {v: VersionStats(**vars(s)) for v, s in model.versions.items()},
            model.fail_count,
            model.fail_ns,
        )


def statistics(name: str, versions: list[int]) -> dict:
    """Return Triton-style statistics of the given versions of a model, for this process."""
    model = snapshot(name)
    rows = []
    for version in versions:
        s = model.versions.get(version, VersionStats())
        rows.append(
            {
                "name": name,
                "version": str(version),
                "last_inference": s.last_inference_ms,
                "inference_count": s.inference_count,
                "execution_count": s.success_count,
                "inference_stats": {
                    "success": {"count": s.success_count, "ns": s.success_ns},
                    "fail": {"count": model.fail_count, "ns": model.fail_ns},
                    "queue": {"count": s.success_count, "ns": 0},
                    "compute_input": {"count": s.success_count, "ns": 0},
                    "compute_infer": {"count": s.success_count, "ns": s.compute_ns},
                    "compute_output": {"count": s.success_count, "ns": 0},
                },
                "batch_stats": [],
            }
        )
    return {"model_stats": rows, "scope": "process", "pid": os.getpid()}


def reset() -> None:
    """Forget every counter (tests)."""
    with _lock:
        _models.clear()
