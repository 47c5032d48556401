"""The Couchbase Server backend, through the official Python SDK (couchbase 4.x).

``CouchbaseStore.from_url("couchbase://host?bucket=ml")`` reads the credentials from
Django settings when they are configured (COUCHBASE_USERNAME, COUCHBASE_PASSWORD,
CATALOG_BUCKET, CATALOG_SCOPE), else from the environment; the URL's own user info or
``username``/``password`` parameters win over both. The connection is opened on first
use, so building a store (and importing this module) never needs a server.

Writes keep the mutation tokens they get back, so ``scan`` and ``count`` (KV range scans,
Couchbase 7.6+) see this process's own writes; queries run with REQUEST_PLUS and
searches with request_plus consistency for the same reason. Where the cluster has no KV
range scan, ``scan`` and ``count`` list keys with SQL++ instead (couchbase_scan.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from catalog.store.base import (
    Keyspace,
    QueryError,
    SearchError,
    StoreError,
    StoreUnavailable,
    check_key,
)
from catalog.store.couchbase_config import StoreConfig, connect, parse_url
from catalog.store.couchbase_indexes import CouchbaseIndexMixin
from catalog.store.couchbase_init import init_couchbase
from catalog.store.couchbase_scan import (
    is_range_scan_unavailable,
    key_listing_query,
    range_scan_ids,
)
from catalog.store.couchbase_support import (
    encode_document,
    error_message,
    map_error,
    query_options,
    read_transcoder,
    search_request,
    search_result,
    ttl,
    write_transcoders,
)

__all__ = ["CouchbaseStore", "StoreConfig", "init_couchbase", "parse_url"]

T = TypeVar("T")
log = logging.getLogger(__name__)

# Keys per get_multi call when a scan reads documents back.
SCAN_BATCH = 500
# How long ensure_keyspace waits for a new collection to reach the data service.
COLLECTION_READY_S = 15.0


def _is_sdk_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("couchbase")


class CouchbaseStore(CouchbaseIndexMixin):
    """The store protocol on a Couchbase cluster."""

    def __init__(self, config: StoreConfig, url: str | None = None) -> None:
        self.config = config
        self.bucket_name = config.bucket
        self.scope_name = config.scope
        user = quote(config.username, safe="")
        host = config.connstr.split("://", 1)[1]
        scheme = config.connstr.split("://", 1)[0]
        # The password never goes into url: it is shown on pages and in logs.
        self.url = url or f"{scheme}://{user}@{host}"
        self._cluster: Any = None
        self._lock = threading.Lock()
        self._mutations: dict[str, Any] = {}  # bucket -> MutationState of our writes
        self._buckets: set[str] = {config.bucket}
        # False once the cluster said it has no KV range scan (then scans use SQL++).
        self._range_scan: bool | None = None

    @classmethod
    def from_url(cls, url: str) -> CouchbaseStore:
        """Return a store for ``couchbase://host?bucket=..&username=..&password=..``."""
        config = parse_url(url)
        return cls(config)

    # -- connection ---------------------------------------------------------------------

    def cluster(self) -> Any:
        """Return the SDK Cluster, connecting (and waiting for KV and Query) on first use."""
        if self._cluster is not None:
            return self._cluster
        with self._lock:
            if self._cluster is None:
                self._cluster = connect(self.config, self.url)
        return self._cluster

    def _call(
        self,
        fn: Callable[[], T],
        *,
        kind: str = "kv",
        key: str | None = None,
        keyspace: str | None = None,
    ) -> T:
        try:
            return fn()
        except Exception as e:
            if _is_sdk_error(e):
                raise map_error(e, kind=kind, key=key, keyspace=keyspace) from None
            raise

    def _collection(self, keyspace: str) -> tuple[Any, str]:
        ks = Keyspace.parse(keyspace)
        bucket = self.cluster().bucket(ks.bucket)
        self._buckets.add(ks.bucket)
        return bucket.scope(ks.scope).collection(ks.collection), str(ks)

    def _track(self, bucket: str, *results: Any) -> None:
        from couchbase.mutation_state import MutationState

        tokens = [r for r in results if r is not None and r.mutation_token() is not None]
        if not tokens:
            return
        with self._lock:
            state = self._mutations.setdefault(bucket, MutationState())
            state.add_results(*tokens)

    def change_token(self) -> None:
        """None: a cluster has no cheap "nothing changed" signal, so nothing is remembered."""
        return None

    # -- key-value operations -------------------------------------------------------------

    def get(self, keyspace: str, key: str) -> tuple[Any, int]:
        """Return (value, cas) of a document; raise NotFound if it does not exist."""
        from couchbase.options import GetOptions

        coll, ks = self._collection(keyspace)
        key = check_key(key)
        res = self._call(
            lambda: coll.get(key, GetOptions(transcoder=read_transcoder())), key=key, keyspace=ks
        )
        return res.value, int(res.cas)

    def get_many(self, keyspace: str, keys: list[str]) -> dict[str, tuple[Any, int]]:
        """Return {key: (value, cas)} for the keys that exist."""
        from couchbase.options import GetMultiOptions

        coll, ks = self._collection(keyspace)
        wanted = list(dict.fromkeys(check_key(k) for k in keys))
        out: dict[str, tuple[Any, int]] = {}
        for start in range(0, len(wanted), SCAN_BATCH):
            part = wanted[start : start + SCAN_BATCH]
            opts = GetMultiOptions(transcoder=read_transcoder(), return_exceptions=True)
            res = self._call(lambda p=part, o=opts: coll.get_multi(p, o), keyspace=ks)
            for key, exc in res.exceptions.items():
                if type(exc).__name__ != "DocumentNotFoundException":
                    raise map_error(exc, key=key, keyspace=ks)
            for key, result in res.results.items():
                out[key] = (result.value, int(result.cas))
        return out

    def fetch(self, keyspace: str, keys: list[str]) -> list[tuple[str, Any, int]]:
        """Return (key, value, cas) for the keys that exist, in the order asked."""
        found = self.get_many(keyspace, [k for k in keys if isinstance(k, str)])
        return [(k, *found[k]) for k in keys if isinstance(k, str) and k in found]

    def exists(self, keyspace: str, key: str) -> bool:
        """Return whether the document exists."""
        coll, ks = self._collection(keyspace)
        key = check_key(key)
        return bool(self._call(lambda: coll.exists(key), key=key, keyspace=ks).exists)

    def _write_options(self, cls: Any, value: Any, **kwargs: Any) -> tuple[bytes, Any]:
        data, binary = encode_document(value)
        json_tc, binary_tc = write_transcoders()
        kwargs["transcoder"] = binary_tc if binary else json_tc
        return data, cls(**{k: v for k, v in kwargs.items() if v is not None})

    def insert(self, keyspace: str, key: str, value: Any, *, expiry: float | None = None) -> int:
        """Create a document; raise Conflict if the key exists. Return the new CAS."""
        from couchbase.options import InsertOptions

        coll, ks = self._collection(keyspace)
        key = check_key(key)
        data, opts = self._write_options(InsertOptions, value, expiry=ttl(expiry))
        res = self._call(lambda: coll.insert(key, data, opts), key=key, keyspace=ks)
        self._track(Keyspace.parse(ks).bucket, res)
        return int(res.cas)

    def replace(
        self,
        keyspace: str,
        key: str,
        value: Any,
        *,
        cas: int | None = None,
        expiry: float | None = None,
    ) -> int:
        """Replace an existing document, checking its CAS when given. Return the new CAS."""
        from couchbase.options import ReplaceOptions

        coll, ks = self._collection(keyspace)
        key = check_key(key)
        data, opts = self._write_options(ReplaceOptions, value, cas=cas or None, expiry=ttl(expiry))
        res = self._call(lambda: coll.replace(key, data, opts), key=key, keyspace=ks)
        self._track(Keyspace.parse(ks).bucket, res)
        return int(res.cas)

    def upsert(self, keyspace: str, key: str, value: Any, *, expiry: float | None = None) -> int:
        """Create or overwrite a document. Return the new CAS."""
        from couchbase.options import UpsertOptions

        coll, ks = self._collection(keyspace)
        key = check_key(key)
        data, opts = self._write_options(UpsertOptions, value, expiry=ttl(expiry))
        res = self._call(lambda: coll.upsert(key, data, opts), key=key, keyspace=ks)
        self._track(Keyspace.parse(ks).bucket, res)
        return int(res.cas)

    def upsert_many(self, keyspace: str, items: Mapping[str, Any]) -> None:
        """Create or overwrite several documents (upsert_multi); raise on any failure.

        Not atomic, unlike the embedded store's transaction: a failure may leave some of
        the documents written. Callers write idempotent, content-addressed chunks here.
        """
        from couchbase.options import UpsertMultiOptions

        coll, ks = self._collection(keyspace)
        json_docs: dict[str, bytes] = {}
        binary_docs: dict[str, bytes] = {}
        for key, value in items.items():
            data, binary = encode_document(value)
            (binary_docs if binary else json_docs)[check_key(key)] = data
        json_tc, binary_tc = write_transcoders()
        for docs, transcoder in ((json_docs, json_tc), (binary_docs, binary_tc)):
            if not docs:
                continue
            opts = UpsertMultiOptions(transcoder=transcoder, return_exceptions=True)
            res = self._call(lambda d=docs, o=opts: coll.upsert_multi(d, o), keyspace=ks)
            self._track(Keyspace.parse(ks).bucket, *res.results.values())
            for key, exc in res.exceptions.items():
                raise map_error(exc, key=key, keyspace=ks)

    def remove(self, keyspace: str, key: str, *, cas: int | None = None) -> None:
        """Delete a document, checking its CAS when given; raise NotFound if missing."""
        from couchbase.options import RemoveOptions

        coll, ks = self._collection(keyspace)
        key = check_key(key)
        opts = RemoveOptions(cas=cas) if cas else RemoveOptions()
        res = self._call(lambda: coll.remove(key, opts), key=key, keyspace=ks)
        self._track(Keyspace.parse(ks).bucket, res)

    def remove_many(self, keyspace: str, keys: list[str]) -> None:
        """Delete the documents that exist among ``keys`` (remove_multi)."""
        from couchbase.options import RemoveMultiOptions

        coll, ks = self._collection(keyspace)
        wanted = list(dict.fromkeys(check_key(k) for k in keys))
        if not wanted:
            return
        opts = RemoveMultiOptions(return_exceptions=True)
        res = self._call(lambda: coll.remove_multi(wanted, opts), keyspace=ks)
        self._track(Keyspace.parse(ks).bucket, *res.results.values())
        for key, exc in res.exceptions.items():
            if type(exc).__name__ != "DocumentNotFoundException":
                raise map_error(exc, key=key, keyspace=ks)

    # -- keyspaces and scans --------------------------------------------------------------

    def _scan_ids(self, keyspace: str, prefix: str = "") -> list[str]:
        """Return the keys of a keyspace in order: KV range scan, else SQL++ (module doc)."""
        coll, ks = self._collection(keyspace)
        if self._range_scan is not False:
            with self._lock:
                state = self._mutations.get(Keyspace.parse(ks).bucket)
            try:
                ids = range_scan_ids(coll, prefix, state)
            except Exception as e:
                if not _is_sdk_error(e):
                    raise
                if not is_range_scan_unavailable(e):
                    raise map_error(e, keyspace=ks) from None
                log.debug("scan %s: no KV range scan (%s)", ks, error_message(e))
                self._range_scan = False
            else:
                self._range_scan = True
                log.debug("scan %s prefix %r: KV range scan, %d keys", ks, prefix, len(ids))
                return ids
        statement, params = key_listing_query(ks, prefix)
        log.debug("scan %s prefix %r: SQL++ over the primary index: %s", ks, prefix, statement)
        try:
            return [str(k) for k in self.query(statement, params)]
        except StoreError as e:
            raise StoreUnavailable(
                f"cannot list the keys of {ks}: the cluster has no KV range scan"
                f" (Couchbase 7.6+) and listing them with SQL++ failed: {e}"
            ) from None

    def scan(self, keyspace: str, prefix: str = "") -> Iterator[tuple[str, Any, int]]:
        """Yield (key, value, cas) of every live document of a keyspace, in key order.

        With ``prefix``, only the keys that start with it.
        """
        ids = self._scan_ids(keyspace, prefix)
        for start in range(0, len(ids), SCAN_BATCH):
            part = ids[start : start + SCAN_BATCH]
            found = self.get_many(keyspace, part)
            for key in part:
                if key in found:  # removed since the scan listed it
                    yield (key, *found[key])

    def count(self, keyspace: str) -> int:
        """Return the number of live documents in a keyspace."""
        return len(self._scan_ids(keyspace))

    def ensure_keyspace(self, keyspace: str) -> None:
        """Create the scope and collection if missing (the bucket must exist)."""
        ks = Keyspace.parse(keyspace)
        bucket = self.cluster().bucket(ks.bucket)
        self._buckets.add(ks.bucket)
        manager = bucket.collections()
        scopes = {
            s.name: {c.name for c in s.collections}
            for s in self._call(manager.get_all_scopes, kind="manage")
        }
        if ks.scope not in scopes:
            try:
                manager.create_scope(ks.scope)
            except Exception as e:
                if type(e).__name__ != "ScopeAlreadyExistsException":
                    raise map_error(e, kind="manage") from None
        if ks.collection in scopes.get(ks.scope, set()) or ks.collection == "_default":
            return
        try:
            manager.create_collection(ks.scope, ks.collection)
        except Exception as e:
            if type(e).__name__ != "CollectionAlreadyExistsException":
                raise map_error(e, kind="manage") from None
        self._wait_for_collection(str(ks))

    def _wait_for_collection(self, keyspace: str) -> None:
        """Wait until the data service knows a new collection (its manifest propagates)."""
        from couchbase.options import ExistsOptions

        coll, _ = self._collection(keyspace)
        deadline = time.monotonic() + COLLECTION_READY_S
        while True:
            try:
                coll.exists("__ensure_keyspace__", ExistsOptions(timeout=timedelta(seconds=2)))
                return
            except Exception as e:
                if not _is_sdk_error(e) or time.monotonic() > deadline:
                    raise map_error(e) from None
                time.sleep(0.2)

    def keyspaces(self) -> list[str]:
        """Return every ``bucket.scope.collection`` of the buckets this store uses."""
        out: list[str] = []
        for name in sorted(self._buckets):
            manager = self.cluster().bucket(name).collections()
            for scope in self._call(manager.get_all_scopes, kind="manage"):
                if scope.name.startswith("_system"):
                    continue
                out += [f"{name}.{scope.name}.{c.name}" for c in scope.collections]
        return sorted(out)

    # -- SQL++ and search -------------------------------------------------------------------

    def query(
        self,
        statement: str,
        params: dict | list | None = None,
        query_context: str | None = None,
        *,
        read_only: bool = False,
        timeout: float | None = None,
        memory_mb: float | None = None,
    ) -> list[Any]:
        """Run a SQL++ statement (REQUEST_PLUS) and return its rows.

        A statement that outlives the ``timeout`` its caller gave raises QueryError, as
        on the embedded store; without one, a timeout means the cluster did not answer
        (StoreUnavailable).
        """
        opts = query_options(
            params, query_context, read_only=read_only, timeout=timeout, memory_mb=memory_mb
        )
        cluster = self.cluster()
        try:
            return list(cluster.query(statement, opts).rows())
        except Exception as e:
            if not _is_sdk_error(e):
                raise
            if timeout is not None and "Timeout" in type(e).__name__:
                raise QueryError(
                    f"the statement did not finish within its time limit of {timeout:g} s"
                    f" ({type(e).__name__})"
                ) from None
            raise map_error(e, kind="query") from None

    def search(self, index: str, query: Any, **options: Any) -> Any:
        """Run a full-text search on a scope-level index; return a base.SearchResult.

        ``index`` is ``bucket.scope.name`` (catalog.search.index_name) or a bare name in
        the store's bucket.scope. Options as the embedded engine's (see
        couchbase_support.search_request).
        """
        bucket, scope, name = self._search_target(index)
        request, opts = search_request(query, options)  # checks the options before connecting
        if not options.get("all_versions", False):
            # Couchbase FTS has no notion of "newest per name": find those keys with SQL++.
            options = {
                **options,
                "latest_ids": self.query(
                    'SELECT RAW m.name || "::" || TOSTRING(MAX(m.version)) FROM models m'
                    " GROUP BY m.name",
                    query_context=f"{bucket}.{scope}",
                ),
            }
            request, opts = search_request(query, options)
        target = self.cluster().bucket(bucket).scope(scope)

        def run() -> Any:
            res = target.search(name, request, opts)
            rows = list(res.rows())
            return search_result(rows, res.facets(), res.metadata())

        return self._call(run, kind="search")

    def _search_target(self, index: str) -> tuple[str, str, str]:
        parts = index.split(".")
        if len(parts) == 1:
            return self.bucket_name, self.scope_name, index
        if len(parts) == 3 and all(parts):
            return parts[0], parts[1], parts[2]
        raise SearchError(f"invalid search index {index!r}: expected 'name' or 'bucket.scope.name'")

    def check_integrity(self) -> list[str]:
        """Return the services that do not answer a ping (empty when all is well)."""
        problems: list[str] = []
        try:
            report = self.cluster().ping()
        except StoreUnavailable as e:
            return [str(e)]
        except Exception as e:
            if not _is_sdk_error(e):
                raise
            return [str(map_error(e))]
        for service, endpoints in report.endpoints.items():
            for endpoint in endpoints:
                state = getattr(endpoint, "state", None)
                if state is not None and getattr(state, "value", state) != "ok":
                    problems.append(
                        f"{getattr(service, 'value', service)} at "
                        f"{getattr(endpoint, 'remote', '?')}: {state}"
                    )
        return problems

    def close(self) -> None:
        """Close the connection to the cluster (a later call reconnects)."""
        with self._lock:
            cluster, self._cluster = self._cluster, None
            self._range_scan = None
        if cluster is not None:
            try:
                cluster.close()
            except Exception as e:
                if not _is_sdk_error(e):
                    raise
