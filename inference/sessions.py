"""onnxruntime sessions cached per model version, bounded by memory, built once.

Building a session from a JSON document costs ~250x a run of a small model (docs/design.md),
so sessions are cached per (store, bucket, scope, name, version). Versions are immutable,
so a cached session never goes stale; aliases are resolved on every request instead
(one KV get of the aliases document), so moving ``production`` takes effect at once.

The cache is bounded by an estimate of the sessions' memory: the serialized model's size
times MEMORY_FACTOR plus a fixed overhead (measured: see MEMORY_FACTOR). Least recently
used entries are evicted first. Concurrent requests for the same cold version wait on one
build (a future per key) instead of building it several times.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import onnxruntime as ort

from catalog.domain import limits
from catalog.domain.registry import Registry

# Resident memory a session adds, measured on this machine (MatMul models, 8 sessions
# each, RSS after a first run): 12.6 MB model -> 22.2 MB per session (1.76x), 1 MB ->
# 2.1 MB (2.0x), 64 KB -> 275 KB, 151 bytes -> 194 KB. So about twice the serialized size
# (ORT copies the initializers out of the protobuf it parsed) plus a fixed overhead.
# Inside a gunicorn gthread worker under mixed load the fixed part is larger: the soak
# benchmark grew ~0.85 MB per cached tiny-model session (and was flat with the cache
# capped), so the overhead counted here is 1 MiB, the measured cost rounded up.
MEMORY_FACTOR = 2.0
SESSION_OVERHEAD_BYTES = 1024 * 1024

CacheKey = tuple[str, str, str, str, int]


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a session: OIP datatype (None if not a tensor) and shape."""

    name: str
    datatype: str | None
    shape: list[int | str | None] | None
    ort_type: str

    def oip_shape(self) -> list[int]:
        """Return the shape as OIP metadata writes it (-1 for a dynamic dimension)."""
        return [d if isinstance(d, int) else -1 for d in (self.shape or [])]


@dataclass
class LoadedModel:
    """A ready-to-run model version: session, signature and the metadata pages need."""

    name: str
    version: int
    session: ort.InferenceSession
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    metadata: dict[str, Any]
    memory_bytes: int
    build_ms: float
    format: str = "json"
    input_specs: dict[str, TensorSpec] = field(init=False)  # by name
    output_order: list[str] = field(init=False)  # the outputs' names, in the model's order

    def __post_init__(self) -> None:
        self.input_specs = {s.name: s for s in self.inputs}
        self.output_order = [s.name for s in self.outputs]

    def input(self, name: str) -> TensorSpec:
        """Return the spec of an input."""
        return self.input_specs[name]


@dataclass
class CacheStats:
    """Counters of one cache (for the server metadata and tests)."""

    hits: int = 0
    misses: int = 0
    builds: int = 0
    evictions: int = 0
    uncached: int = 0


class SessionCache:
    """An LRU cache of LoadedModels bounded by estimated memory, one build per cold key."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[CacheKey, LoadedModel] = OrderedDict()
        self._building: dict[CacheKey, Future[LoadedModel]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: CacheKey, build: Callable[[], LoadedModel]) -> LoadedModel:
        """Return the cached entry of ``key``, building it (once, whoever asks) if cold."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return entry
            self.stats.misses += 1
            future = self._building.get(key)
            owner = future is None
            if owner:
                future = self._building[key] = Future()
        if not owner:
            return future.result()
        try:
            entry = build()
        except BaseException as e:
            with self._lock:
                del self._building[key]
            future.set_exception(e)
            raise
        with self._lock:
            del self._building[key]
            self.stats.builds += 1
            self._keep(key, entry)
        future.set_result(entry)
        return entry

    def _keep(self, key: CacheKey, entry: LoadedModel) -> None:
        if entry.memory_bytes > self.max_bytes:
            # Serve it, but do not empty the cache for a model that cannot fit anyway.
            self.stats.uncached += 1
            return
        self._entries[key] = entry
        self._bytes += entry.memory_bytes
        self._evict()

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._entries:
            _, old = self._entries.popitem(last=False)
            self._bytes -= old.memory_bytes
            self.stats.evictions += 1

    def resize(self, max_bytes: int) -> None:
        """Change the budget, evicting what no longer fits."""
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def cached_keys(self) -> list[CacheKey]:
        """Return the cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    @property
    def used_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        """Drop every cached session."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_cache_lock = threading.Lock()
_cache: SessionCache | None = None


def get_session_cache() -> SessionCache:
    """Return the process-wide cache, sized by CATALOG_SESSION_CACHE_MB."""
    global _cache
    max_bytes = limits.session_cache_bytes()
    cache = _cache
    if cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = SessionCache(max_bytes)
            cache = _cache
    if cache.max_bytes != max_bytes:
        cache.resize(max_bytes)
    return cache


def cache_key(reg: Registry, name: str, version: int) -> CacheKey:
    """Return the cache key of a version in a registry's store."""
    return (reg.store.url, reg.ks.bucket, reg.ks.scope, name, version)


def load_model(reg: Registry, name: str, ref: int | str | None = None) -> LoadedModel:
    """Return the loaded model a name and ref (version, alias, None for latest) designate.

    A warm call costs one KV get (the aliases document) when ``ref`` is an alias and none
    when it is a number; no version document is read.
    """
    version = reg.resolve(name, ref)
    return get_session_cache().get(
        cache_key(reg, name, version), lambda: build_model(reg, name, version)
    )


def build_model(reg: Registry, name: str, version: int) -> LoadedModel:
    """Return a new LoadedModel for a version, read from its document (and chunks)."""
    started = time.perf_counter()
    doc = reg.document(name, version)
    if doc.get("format") == "binary":
        data = reg.load_bytes_document(doc)
    else:
        data = reg.load_document(doc).SerializeToString()
    session = new_session(data)
    return LoadedModel(
        name=name,
        version=version,
        session=session,
        inputs=[_spec(a) for a in session.get_inputs()],
        outputs=[_spec(a) for a in session.get_outputs()],
        metadata=dict(doc.get("metadata") or {}),
        memory_bytes=estimate_memory(len(data)),
        build_ms=(time.perf_counter() - started) * 1000,
        format=doc.get("format", "json"),
    )


def new_session(data: bytes) -> ort.InferenceSession:
    """Return an onnxruntime CPU session for serialized ONNX bytes."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # One thread per session by default: requests already run in parallel in the web
    # workers, and a per-session thread pool would leave an idle thread per cached model.
    threads = limits.ort_threads()
    if threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def estimate_memory(serialized_bytes: int) -> int:
    """Return the estimated resident size of a session for a model of this size."""
    return int(serialized_bytes * MEMORY_FACTOR) + SESSION_OVERHEAD_BYTES


def _spec(arg: Any) -> TensorSpec:
    from inference.oip import ORT_TYPES

    shape = arg.shape if isinstance(arg.shape, list) else None
    return TensorSpec(arg.name, ORT_TYPES.get(arg.type), shape, arg.type)
