"""Set up the catalog's scope on a Couchbase cluster: collections, GSI and FTS indexes.

Idempotent: run it on every start (``python manage.py catalog init``). Collections that
exist are kept, indexes that exist are skipped, deferred ones are built and waited for,
and the FTS index definition is created or updated in place (its UUID carried over).
A cluster without a query (or search) service gets its collections, and the log says
that the indexes were not created and why, instead of init failing.

Takes any store with ``ensure_keyspace``, ``query`` and ``cluster`` (the CouchbaseStore):
this module does not import the store module, which imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from catalog.store.base import QueryError, StoreUnavailable
from catalog.store.couchbase_support import map_error
from catalog.store.indexes import COLLECTIONS, index_specs


class ClusterStore(Protocol):
    """What init needs of a store: keyspaces, SQL++ and the SDK cluster."""

    def ensure_keyspace(self, keyspace: str) -> None: ...

    def query(self, statement: str, params: Any = None, query_context: Any = None) -> Any: ...

    def cluster(self) -> Any: ...


# How long init waits for the deferred GSI indexes to come online (builds are per
# collection and cheap on an empty catalog; a large existing one takes longer).
INDEX_BUILD_TIMEOUT_S = 300.0


def _already_exists(error: Exception) -> bool:
    # The query service answers 4300 "The index ... already exists" (the SDK maps it to
    # QueryIndexAlreadyExistsException); we see it through QueryError's message.
    text = str(error).lower()
    return "already exist" in text or "code 4300" in text


def init_couchbase(
    store: ClusterStore,
    bucket: str,
    scope: str,
    fts_definition: Mapping[str, Any] | None,
    *,
    index_timeout: float = INDEX_BUILD_TIMEOUT_S,
) -> list[str]:
    """Create what the catalog needs in ``bucket``.``scope``; return what was done."""
    log: list[str] = []
    for collection in COLLECTIONS:
        store.ensure_keyspace(f"{bucket}.{scope}.{collection}")
    log.append(f"collections ready: {bucket}.{scope}.{{{','.join(COLLECTIONS)}}}")

    specs = index_specs(bucket, scope)
    try:
        for spec in specs:
            try:
                store.query(spec.statement)
                log.append(f"created index {spec.name} on {spec.collection}")
            except QueryError as e:
                if not _already_exists(e):
                    raise
        _build_and_wait(store, bucket, scope, specs, index_timeout, log)
    except StoreUnavailable as e:
        log.append(f"GSI indexes NOT created: the query service is unavailable ({e})")

    if fts_definition:
        try:
            log.append(upsert_search_index(store, bucket, scope, fts_definition))
        except StoreUnavailable as e:
            log.append(f"search index NOT created: the search service is unavailable ({e})")
    return log


def _build_and_wait(
    store: ClusterStore,
    bucket: str,
    scope: str,
    specs: list[Any],
    timeout: float,
    log: list[str],
) -> None:
    from couchbase.management.options import WatchQueryIndexOptions

    cluster = store.cluster()
    by_collection: dict[str, list[str]] = {}
    for spec in specs:
        by_collection.setdefault(spec.collection, []).append(spec.name)
    for collection, names in by_collection.items():
        manager = cluster.bucket(bucket).scope(scope).collection(collection).query_indexes()
        try:
            manager.build_deferred_indexes()
            manager.watch_indexes(names, WatchQueryIndexOptions(timeout=timedelta(seconds=timeout)))
        except Exception as e:
            if type(e).__name__ == "WatchQueryIndexTimeoutException":
                raise StoreUnavailable(
                    f"indexes on {bucket}.{scope}.{collection} not online after {timeout:.0f} s"
                ) from None
            if type(e).__module__.startswith("couchbase"):
                raise map_error(e, kind="manage") from None
            raise
        log.append(f"indexes online on {collection}: {', '.join(names)}")


def upsert_search_index(
    store: ClusterStore, bucket: str, scope: str, definition: Mapping[str, Any]
) -> str:
    """Create or update the scope-level FTS index described by ``definition`` (Couchbase JSON)."""
    from couchbase.management.search import SearchIndex

    manager = store.cluster().bucket(bucket).scope(scope).search_indexes()
    index = SearchIndex.from_json(dict(definition))
    if not index.source_name:
        index.source_name = bucket
    try:
        existing = manager.get_index(index.name)
    except Exception as e:
        if not type(e).__module__.startswith("couchbase"):
            raise
        missing = type(e).__name__ == "SearchIndexNotFoundException"
        if not missing and "not found" not in str(e).lower():
            raise map_error(e, kind="manage") from None
        existing = None
    if existing is not None:
        # An update must name the UUID of the index it replaces; from_json drops it.
        index.uuid = existing.uuid
    try:
        manager.upsert_index(index)
    except Exception as e:
        if type(e).__module__.startswith("couchbase"):
            raise map_error(e, kind="manage") from None
        raise
    return f"{'updated' if existing is not None else 'created'} search index {index.name}"
