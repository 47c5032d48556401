"""Create what a catalog needs in its store: collections and indexes (GSI on Couchbase)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from catalog.domain.indexing import ensure_catalog_indexes
from catalog.domain.registry import Registry


def init_catalog(reg: Registry, progress: Callable[[str], None] | None = None) -> Iterator[str]:
    """Create the catalog's keyspaces and indexes; yield a line per step (``progress`` gets
    the lines of an index build while it runs)."""
    from catalog.store.couchbase import CouchbaseStore, init_couchbase

    store = reg.store
    if isinstance(store, CouchbaseStore):  # scope, collections, GSI and FTS indexes
        from catalog.search.definition import load_definition

        bucket, scope = reg.ks.bucket, reg.ks.scope
        yield from init_couchbase(store, bucket, scope, load_definition(bucket, scope))
        return
    for keyspace in reg.ks.all():
        store.ensure_keyspace(keyspace)
        yield f"keyspace {keyspace}: ready"
    yield from ensure_catalog_indexes(reg, progress)
    yield f"catalog ready in {store.url}"
