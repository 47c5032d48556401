"""Create what a catalog needs in its store: collections, and on Couchbase the indexes."""

from __future__ import annotations

from collections.abc import Iterator

from catalog.registry import Registry


def init_catalog(reg: Registry) -> Iterator[str]:
    """Create the catalog's keyspaces (and server-side indexes); yield progress lines."""
    store = reg.store
    init_server = getattr(store, "init_catalog", None)
    if init_server is not None:  # Couchbase: scope, collections, GSI and FTS indexes
        yield from init_server(reg.ks.bucket, reg.ks.scope)
        return
    for keyspace in reg.ks.all():
        store.ensure_keyspace(keyspace)
        yield f"keyspace {keyspace}: ready"
    yield f"catalog ready in {store.url}"
