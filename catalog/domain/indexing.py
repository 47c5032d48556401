"""The catalog's indexes on either store: create the standard ones, add, list, drop, check.

The standard indexes are listed in ``catalog.store.indexes`` next to the statements they
serve (``catalog.domain.queries``). On the embedded store they live in the SQLite file and
are kept up to date in each write's transaction; on Couchbase they are GSI indexes, managed
with SQL++ DDL through the SDK (``catalog init`` creates them deferred and builds them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from catalog.domain.registry import Registry
from catalog.sqlpp import SqlppError
from catalog.sqlpp.index_defs import parse_create_index
from catalog.store.indexes import index_specs

# Progress lines while an index is built: one per this share of the documents.
PROGRESS_STEP = 0.1


def ensure_catalog_indexes(
    reg: Registry, progress: Callable[[str], None] | None = None
) -> Iterator[str]:
    """Create the standard indexes the store lacks, building each from the documents;
    ``progress`` gets a line as each build moves on (while it runs)."""
    for spec in index_specs(reg.ks.bucket, reg.ks.scope):
        keyspace = f"{reg.ks.bucket}.{reg.ks.scope}.{spec.collection}"
        if reg.store.has_index(keyspace, spec.name):
            continue
        reg.store.create_index(
            spec.statement, reg.ks.query_context, progress=_progress(spec.name, progress)
        )
        yield f"index {spec.name} on {spec.collection}: ready"


def _progress(name: str, emit: Callable[[str], None] | None) -> Callable[[int, int], None] | None:
    """Return a build progress callback writing a bar line every PROGRESS_STEP of the way."""
    if emit is None:
        return None
    shown = [-1.0]

    def report(done: int, total: int) -> None:
        share = done / total if total else 1.0
        if total and (share - shown[0] >= PROGRESS_STEP or done == total):
            bar = "#" * int(share * 20)
            emit(f"index {name}: [{bar:<20}] {done}/{total} documents")
            shown[0] = share

    return report


def create_index(reg: Registry, statement: str,
                 progress: Callable[[str], None] | None = None) -> str:  # fmt: skip
    """Create an index from a CREATE INDEX statement (names resolve in the catalog's scope)."""
    try:
        name = parse_create_index(statement).name
    except SqlppError:  # the store refuses it with its own message
        name = "?"
    made = reg.store.create_index(
        statement, reg.ks.query_context, progress=_progress(name, progress)
    )
    if not made["name"]:
        return "created index (the cluster builds it; see `catalog index list`)"
    return f"created index {made['name']} on {made['keyspace']}"


def drop_index(reg: Registry, name: str, collection: str) -> str:
    """Drop an index of a collection of the catalog."""
    keyspace = f"{reg.ks.bucket}.{reg.ks.scope}.{collection}"
    reg.store.drop_index(keyspace, name)
    return f"dropped index {name} on {keyspace}"


def list_indexes(reg: Registry) -> list[dict[str, Any]]:
    """Return the indexes of the store: keyspace, name, state, statement (entries: embedded)."""
    return reg.store.list_indexes()


def check_indexes(reg: Registry) -> list[str]:
    """Return how each index's entries differ from its documents (always [] on Couchbase)."""
    return reg.store.check_indexes()
