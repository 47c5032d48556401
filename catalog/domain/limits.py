"""The catalog's resource limits in one place: each a setting with a unit and a sane default.

Every limit is read from Django settings when it is used (``setting()``: ``getattr`` with the
default below, remembered until Django says a setting changed), so ``override_settings`` and
environment-driven settings both apply. Code that enforces a limit should call the getter
here rather than keep its own constant.

| limit | setting | default | enforced by |
| --- | --- | --- | --- |
| SQL++ time limit | CATALOG_QUERY_TIMEOUT_S | 10 s | workbench page, ``/api/query`` (400) |
| SQL++ memory quota | CATALOG_QUERY_MEMORY_MB | 128 MB | workbench page, ``/api/query`` (400) |
| SQL++ statements at once | CATALOG_QUERY_CONCURRENCY | 1 | workbench page, ``/api/query`` (429) |
| SQL++ rows returned | CATALOG_QUERY_MAX_ROWS | 1000 rows | workbench (``truncated``) |
| all-versions searches at once | CATALOG_ALL_VERSIONS_SEARCHES | 1 | search page, ``/api/search`` (429) |
| SQL++ statement length | CATALOG_QUERY_MAX_CHARS | 20,000 chars | workbench form (400) |
| prediction time limit | CATALOG_PREDICT_TIMEOUT_S | 30 s | ``inference.predict.run`` (503) |
| rows per prediction | CATALOG_MAX_BATCH | 10,000 rows | OIP infer, batch CSV (400) |
| model upload size | CATALOG_MAX_UPLOAD_MB | 200 MB | upload page and API (400/413) |
| JSON/form body size | DATA_UPLOAD_MAX_MEMORY_SIZE | 10 MiB | Django, API bodies (413/400) |
| session cache memory | CATALOG_SESSION_CACHE_MB | 512 MB | ``inference.sessions`` (LRU) |
| onnxruntime threads | CATALOG_ORT_THREADS | 1 per session (0: ORT's pool) | ``inference.sessions`` |
| prediction log lifetime | CATALOG_PREDICTION_TTL_S | 30 days (0: forever) | ``inference.prediction_log`` |
| metadata nesting | CATALOG_METADATA_MAX_DEPTH | 32 levels | publish, import (400 / refused) |
| metadata size | CATALOG_METADATA_MAX_KB | 1024 KB | publish, import (400 / refused) |
| graph nodes | CATALOG_MAX_NODES | 50,000 nodes | publish, before validation (413) |

Switches (on/off) are read here too: ``public_reads()`` (CATALOG_PUBLIC_READS, default on)
and ``prediction_log_on()`` (CATALOG_PREDICTION_LOG, default off).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed

MIB = 2**20
_UNSET = object()
# Setting name -> value. A prediction reads a dozen settings, and each read through Django's
# lazy settings object costs about a microsecond; settings change only through
# override_settings (tests), which sends setting_changed.
_known: dict[str, Any] = {}
# Function -> its value, for values computed from settings (``derived``).
_derived: dict[Callable[[], Any], Any] = {}
T = TypeVar("T")


def setting(name: str, default: Any = None) -> Any:
    """Return a Django setting (``default`` when it is not set), remembered."""
    value = _known.get(name, _UNSET)
    if value is _UNSET:
        value = getattr(settings, name, _UNSET)
        _known[name] = value
    return default if value is _UNSET else value


def derived(fn: Callable[[], T]) -> Callable[[], T]:
    """Return ``fn`` (no arguments, computed from settings) remembered until a setting changes.

    For the prediction route, which would otherwise read and combine half a dozen settings
    on every request.
    """

    @functools.wraps(fn)
    def remembered() -> T:
        value = _derived.get(fn, _UNSET)
        if value is _UNSET:
            value = _derived[fn] = fn()
        return value  # type: ignore[no-any-return]

    return remembered


def _forget(**_: Any) -> None:
    _known.clear()
    _derived.clear()


setting_changed.connect(_forget, dispatch_uid="catalog.domain.limits")


@dataclass(frozen=True)
class Limit:
    """One named limit: the setting that overrides it, its default and its unit."""

    setting: str
    default: float
    unit: str
    doc: str

    def value(self) -> float:
        """Return the limit in force (the setting if present, else the default)."""
        raw = setting(self.setting)
        return self.default if raw is None or raw == "" else float(raw)


# Seconds one SQL++ statement of the workbench or /api/query may run.
QUERY_TIMEOUT = Limit("CATALOG_QUERY_TIMEOUT_S", 10.0, "s", "SQL++ statement time limit")
# Megabytes of values one SQL++ statement of the workbench or /api/query may build
# (Couchbase's memory_quota request parameter; one value is also held to 20 MiB).
QUERY_MEMORY = Limit("CATALOG_QUERY_MEMORY_MB", 128, "MB", "SQL++ statement memory quota")
# Workbench and /api/query statements running at once in the whole server (all workers);
# one more is refused at once with 429, so that pages never wait behind statements.
QUERY_CONCURRENCY = Limit("CATALOG_QUERY_CONCURRENCY", 1, "statements", "SQL++ statements at once")
# Searches over every version (the search page's "All versions") running at once in the
# whole server. Their cost grows with the matching versions (0.8 s for a quarter of 100,000
# versions) where a search of the latest versions does not; one more is refused at once with
# 429, so that pages never wait behind them.
ALL_VERSIONS_SEARCHES = Limit(
    "CATALOG_ALL_VERSIONS_SEARCHES", 1, "searches", "all-versions searches at once"
)
# Rows a workbench statement returns at most (one more is read to set "truncated").
QUERY_MAX_ROWS = Limit("CATALOG_QUERY_MAX_ROWS", 1000, "rows", "SQL++ rows returned")
# Characters of one workbench statement.
QUERY_MAX_CHARS = Limit("CATALOG_QUERY_MAX_CHARS", 20_000, "chars", "SQL++ statement length")
# Seconds one model run may take before it is stopped (0: no limit).
PREDICT_TIMEOUT = Limit("CATALOG_PREDICT_TIMEOUT_S", 30.0, "s", "prediction time limit")
# Rows (first dimension) of one prediction request or batch CSV.
MAX_BATCH = Limit("CATALOG_MAX_BATCH", 10_000, "rows", "rows per prediction request")
# Megabytes of one uploaded .onnx file.
MAX_UPLOAD = Limit("CATALOG_MAX_UPLOAD_MB", 200, "MB", "model upload size")
# Bytes of a request body Django reads into memory (JSON APIs, forms).
MAX_BODY = Limit("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * MIB, "bytes", "request body size")
# Megabytes the onnxruntime session cache may hold (least recently used evicted first).
SESSION_CACHE = Limit("CATALOG_SESSION_CACHE_MB", 512, "MB", "session cache memory")
# onnxruntime intra-op threads per session (0: onnxruntime's default, a pool per session).
ORT_THREADS = Limit("CATALOG_ORT_THREADS", 1, "threads", "onnxruntime threads per session")
# Seconds a logged prediction is kept (0: forever).
PREDICTION_TTL = Limit("CATALOG_PREDICTION_TTL_S", 30 * 24 * 3600, "s", "prediction log lifetime")

# Levels of nesting of a version's metadata object (the object itself is level 1).
METADATA_MAX_DEPTH = Limit("CATALOG_METADATA_MAX_DEPTH", 32, "levels", "metadata nesting")
# Kilobytes of a version's metadata, as compact JSON.
METADATA_MAX_KB = Limit("CATALOG_METADATA_MAX_KB", 1024, "KB", "metadata size")
# Nodes of a published graph, subgraphs included; checked before the ONNX checker runs.
# Validation grows faster than linearly (2 cores: 10k nodes 0.8 s, 50k 6.5 s, 100k 17 s).
MAX_NODES = Limit("CATALOG_MAX_NODES", 50_000, "nodes", "graph nodes per model")

ALL: tuple[Limit, ...] = (
    QUERY_TIMEOUT,
    QUERY_MEMORY,
    QUERY_CONCURRENCY,
    ALL_VERSIONS_SEARCHES,
    QUERY_MAX_ROWS,
    QUERY_MAX_CHARS,
    PREDICT_TIMEOUT,
    MAX_BATCH,
    MAX_UPLOAD,
    MAX_BODY,
    SESSION_CACHE,
    ORT_THREADS,
    PREDICTION_TTL,
    METADATA_MAX_DEPTH,
    METADATA_MAX_KB,
    MAX_NODES,
)


def _switch(name: str, default: bool) -> bool:
    value = setting(name)
    return default if value is None else bool(value)


@derived
def public_reads() -> bool:
    """Return True when anonymous visitors may read the catalog (CATALOG_PUBLIC_READS)."""
    return _switch("CATALOG_PUBLIC_READS", True)


@derived
def prediction_log_on() -> bool:
    """Return True when every prediction is logged (CATALOG_PREDICTION_LOG)."""
    return _switch("CATALOG_PREDICTION_LOG", False)


@derived
def ort_threads() -> int:
    """Return the onnxruntime intra-op threads of a session (0: onnxruntime's default)."""
    return int(ORT_THREADS.value())


def prediction_ttl_s() -> int:
    """Return how long a logged prediction is kept, in seconds (0: forever)."""
    return int(PREDICTION_TTL.value())


def query_timeout_s() -> float:
    """Return the SQL++ time limit of the workbench, in seconds."""
    return QUERY_TIMEOUT.value()


def query_memory_mb() -> float:
    """Return the SQL++ memory quota of the workbench, in MB."""
    return QUERY_MEMORY.value()


def query_concurrency() -> int:
    """Return how many workbench statements may run at once in the whole server."""
    return int(QUERY_CONCURRENCY.value())


def all_versions_searches() -> int:
    """Return how many all-versions searches may run at once in the whole server."""
    return int(ALL_VERSIONS_SEARCHES.value())


def query_max_rows() -> int:
    """Return the most rows a workbench statement returns."""
    return int(QUERY_MAX_ROWS.value())


def query_max_chars() -> int:
    """Return the longest workbench statement, in characters."""
    return int(QUERY_MAX_CHARS.value())


@derived
def predict_timeout_s() -> float:
    """Return the time limit of one model run, in seconds (0: none)."""
    return PREDICT_TIMEOUT.value()


@derived
def max_batch() -> int:
    """Return the most rows one prediction request may carry."""
    return int(MAX_BATCH.value())


def max_upload_bytes() -> int:
    """Return the largest .onnx upload, in bytes."""
    return int(MAX_UPLOAD.value() * MIB)


def max_body_bytes() -> int:
    """Return the largest request body Django reads, in bytes."""
    return int(MAX_BODY.value())


@derived
def session_cache_bytes() -> int:
    """Return the memory budget of the session cache, in bytes."""
    return int(SESSION_CACHE.value() * MIB)


def metadata_max_depth() -> int:
    """Return how deep a version's metadata may nest."""
    return int(METADATA_MAX_DEPTH.value())


def metadata_max_bytes() -> int:
    """Return the largest metadata object, in bytes of compact JSON."""
    return int(METADATA_MAX_KB.value() * 1024)


def max_nodes() -> int:
    """Return the most nodes (subgraphs included) a published model may have."""
    return int(MAX_NODES.value())


def describe() -> list[dict[str, object]]:
    """Return every limit with its setting, unit, default and value in force."""
    return [
        {
            "setting": lim.setting,
            "unit": lim.unit,
            "default": lim.default,
            "value": lim.value(),
            "doc": lim.doc,
        }
        for lim in ALL
    ]
