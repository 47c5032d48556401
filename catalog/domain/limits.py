"""The catalog's resource limits in one place: each a setting with a unit and a sane default.

Every limit is read from Django settings when it is used (``getattr`` with the default
below), so ``override_settings`` and environment-driven settings both apply. Code that
enforces a limit should call the getter here rather than keep its own constant.

| limit | setting | default | enforced by |
| --- | --- | --- | --- |
| SQL++ time limit | CATALOG_QUERY_TIMEOUT_S | 10 s | workbench page, ``/api/query`` (400) |
| SQL++ rows returned | CATALOG_QUERY_MAX_ROWS | 1000 rows | workbench (``truncated``) |
| SQL++ statement length | CATALOG_QUERY_MAX_CHARS | 20,000 chars | workbench form (400) |
| prediction time limit | CATALOG_PREDICT_TIMEOUT_S | 30 s | ``inference.predict.run`` (503) |
| rows per prediction | CATALOG_MAX_BATCH | 10,000 rows | OIP infer, batch CSV (400) |
| model upload size | CATALOG_MAX_UPLOAD_MB | 200 MB | upload page and API (400/413) |
| JSON/form body size | DATA_UPLOAD_MAX_MEMORY_SIZE | 10 MiB | Django, API bodies (413/400) |
| session cache memory | CATALOG_SESSION_CACHE_MB | 512 MB | ``inference.sessions`` (LRU) |
| onnxruntime threads | CATALOG_ORT_THREADS | 1 per session (0: ORT's pool) | ``inference.sessions`` |
| prediction log lifetime | CATALOG_PREDICTION_TTL_S | 30 days (0: forever) | ``inference.prediction_log`` |

Switches (on/off) are read here too: ``public_reads()`` (CATALOG_PUBLIC_READS, default on)
and ``prediction_log_on()`` (CATALOG_PREDICTION_LOG, default off).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

MIB = 2**20


@dataclass(frozen=True)
class Limit:
    """One named limit: the setting that overrides it, its default and its unit."""

    setting: str
    default: float
    unit: str
    doc: str

    def value(self) -> float:
        """Return the limit in force (the setting if present, else the default)."""
        raw = getattr(settings, self.setting, None)
        return self.default if raw is None or raw == "" else float(raw)


# Seconds one SQL++ statement of the workbench or /api/query may run.
QUERY_TIMEOUT = Limit("CATALOG_QUERY_TIMEOUT_S", 10.0, "s", "SQL++ statement time limit")
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

ALL: tuple[Limit, ...] = (
    QUERY_TIMEOUT,
    QUERY_MAX_ROWS,
    QUERY_MAX_CHARS,
    PREDICT_TIMEOUT,
    MAX_BATCH,
    MAX_UPLOAD,
    MAX_BODY,
    SESSION_CACHE,
    ORT_THREADS,
    PREDICTION_TTL,
)


def _switch(setting: str, default: bool) -> bool:
    value = getattr(settings, setting, None)
    return default if value is None else bool(value)


def public_reads() -> bool:
    """Return True when anonymous visitors may read the catalog (CATALOG_PUBLIC_READS)."""
    return _switch("CATALOG_PUBLIC_READS", True)


def prediction_log_on() -> bool:
    """Return True when every prediction is logged (CATALOG_PREDICTION_LOG)."""
    return _switch("CATALOG_PREDICTION_LOG", False)


def ort_threads() -> int:
    """Return the onnxruntime intra-op threads of a session (0: onnxruntime's default)."""
    return int(ORT_THREADS.value())


def prediction_ttl_s() -> int:
    """Return how long a logged prediction is kept, in seconds (0: forever)."""
    return int(PREDICTION_TTL.value())


def query_timeout_s() -> float:
    """Return the SQL++ time limit of the workbench, in seconds."""
    return QUERY_TIMEOUT.value()


def query_max_rows() -> int:
    """Return the most rows a workbench statement returns."""
    return int(QUERY_MAX_ROWS.value())


def query_max_chars() -> int:
    """Return the longest workbench statement, in characters."""
    return int(QUERY_MAX_CHARS.value())


def predict_timeout_s() -> float:
    """Return the time limit of one model run, in seconds (0: none)."""
    return PREDICT_TIMEOUT.value()


def max_batch() -> int:
    """Return the most rows one prediction request may carry."""
    return int(MAX_BATCH.value())


def max_upload_bytes() -> int:
    """Return the largest .onnx upload, in bytes."""
    return int(MAX_UPLOAD.value() * MIB)


def max_body_bytes() -> int:
    """Return the largest request body Django reads, in bytes."""
    return int(MAX_BODY.value())


def session_cache_bytes() -> int:
    """Return the memory budget of the session cache, in bytes."""
    return int(SESSION_CACHE.value() * MIB)


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
