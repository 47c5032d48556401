"""Warm sessions at start-up, so the first requests after a (re)start find them built.

Building a session costs milliseconds to seconds, and its first run allocates the
runtime's buffers: without warming, the first requests to each worker paid both (a p99
of 1.56 s right after start in issue 18). At start-up, before a worker takes requests,
``warm_up`` builds and runs once, within a time budget (CATALOG_WARM_SECONDS):

- the models named in CATALOG_WARM_MODELS (``name`` or ``name:ref`` entries), then
- the models most recently served, remembered across restarts in
  ``VAR_DIR/recent-models.json`` (each process rewrites it at most every
  RECENT_WRITE_EVERY_S seconds while it serves; up to RECENT_KEEP names).

Each model is warmed at ``production`` (when it has that alias) and ``latest``. Warming
stops when the budget is spent or the session cache is half full, so a large catalog
never delays start-up by more than the budget.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from django.conf import settings

from catalog.domain.registry import Registry, RegistryError
from inference.oip import NUMPY_TYPES
from inference.sessions import LoadedModel, get_session_cache, load_model

logger = logging.getLogger(__name__)

RECENT_FILE = "recent-models.json"
RECENT_KEEP = 16
RECENT_WRITE_EVERY_S = 30.0
DEFAULT_BUDGET_S = 10.0
REFS = ("production", "latest")

_lock = threading.Lock()
_used: dict[str, float] = {}
_last_write = 0.0


def recent_path() -> Path | None:
    """Return where the recently served models are remembered (None without a var dir)."""
    var = getattr(settings, "VAR_DIR", None)
    return Path(var) / RECENT_FILE if var else None


def note_use(name: str) -> None:
    """Remember that ``name`` served a request; persist the list now and then."""
    global _last_write
    now = time.time()
    with _lock:
        _used[name] = now
        if now - _last_write < RECENT_WRITE_EVERY_S:
            return
        _last_write = now
        used = dict(_used)
    _write_recent(used)


def _write_recent(used: dict[str, float]) -> None:
    path = recent_path()
    if path is None:
        return
    merged = {**read_recent_times(path), **used}
    keep = dict(sorted(merged.items(), key=lambda kv: -kv[1])[:RECENT_KEEP])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".recent-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(keep, f)
        os.replace(tmp, path)
    except OSError as e:  # warming is an optimisation: never fail a request for it
        logger.warning("cannot remember recently used models in %s: %s", path, e)


def read_recent_times(path: Path | None = None) -> dict[str, float]:
    """Return {model name: last use time} from the remembered list (empty if none)."""
    path = path or recent_path()
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}


def warm_targets() -> list[tuple[str, str]]:
    """Return the (name, ref) pairs to warm, configured ones first."""
    targets: list[tuple[str, str]] = []
    for entry in getattr(settings, "CATALOG_WARM_MODELS", []) or []:
        name, _, ref = entry.partition(":")
        targets += [(name, ref)] if ref else [(name, r) for r in REFS]
    recent = sorted(read_recent_times().items(), key=lambda kv: -kv[1])
    for name, _ in recent:
        targets += [(name, r) for r in REFS]
    seen: set[tuple[str, str]] = set()
    return [t for t in targets if not (t in seen or seen.add(t))]


def warm_up(reg: Registry, budget_s: float | None = None) -> list[tuple[str, int]]:
    """Build and run once the sessions of warm_targets(); return the versions warmed."""
    if budget_s is None:
        budget_s = float(getattr(settings, "CATALOG_WARM_SECONDS", DEFAULT_BUDGET_S))
    deadline = time.monotonic() + budget_s
    cache = get_session_cache()
    warmed: list[tuple[str, int]] = []
    for name, ref in warm_targets():
        if time.monotonic() > deadline or cache.used_bytes * 2 > cache.max_bytes:
            break
        try:
            model = load_model(reg, name, ref)
        except (RegistryError, ValueError):
            continue  # no such model or alias any more
        except Exception as e:  # a damaged model must not stop the server from starting
            logger.warning("cannot warm %s:%s: %s", name, ref, e)
            continue
        if (name, model.version) not in warmed:
            run_once(model)
            warmed.append((name, model.version))
    return warmed


def run_once(model: LoadedModel) -> None:
    """Run a model once on a one-row input of zeros (its first run allocates buffers)."""
    feeds = {}
    for spec in model.inputs:
        if spec.datatype is None:
            return
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in (spec.shape or [])]
        if spec.datatype == "BYTES":
            feeds[spec.name] = np.full(shape, "", dtype=object)
        else:
            feeds[spec.name] = np.zeros(shape, dtype=NUMPY_TYPES[spec.datatype])
    # Zeros may be outside a model's domain; a failed warm-up run is harmless.
    with contextlib.suppress(Exception):
        model.session.run(None, feeds)
