"""Index administration on Couchbase (a mixin of ``CouchbaseStore``): SQL++ DDL via the SDK.

The same calls as on the embedded store (``create_index``, ``drop_index``, ``list_indexes``,
``has_index``, ``check_indexes``), carried out by Couchbase's index service: a CREATE INDEX
statement runs as given (a deferred one is built at once with BUILD INDEX), DROP INDEX
names the collection, and the list comes from ``system:indexes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.store.base import InvalidArgument, Keyspace

_LIST = (
    "SELECT i.bucket_id, i.scope_id, i.keyspace_id, i.name, i.state, i.index_key, i.`condition`"
    " FROM system:indexes AS i WHERE i.`using` = 'gsi'"
    " ORDER BY i.bucket_id, i.scope_id, i.keyspace_id, i.name"
)


class CouchbaseIndexMixin:
    """``create_index``, ``drop_index``, ``list_indexes`` of the Couchbase store."""

    query: Callable[..., list[Any]]

    def create_index(
        self,
        statement: str,
        query_context: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Run a CREATE INDEX statement (Couchbase builds the index; progress is not reported)."""
        if not statement.strip().upper().startswith("CREATE"):
            raise InvalidArgument("give a CREATE INDEX statement")
        self.query(statement, query_context=query_context)
        return {"keyspace": query_context or "", "name": "", "statement": statement.strip()}

    def drop_index(self, keyspace: str, name: str) -> None:
        """Drop an index of a collection (``#primary``: its primary index)."""
        ks = Keyspace.parse(keyspace)
        path = f"`{ks.bucket}`.`{ks.scope}`.`{ks.collection}`"
        target = (
            "PRIMARY INDEX" if name == "#primary" else "INDEX `" + name.replace("`", "``") + "`"
        )
        self.query(f"DROP {target} ON {path}")

    def list_indexes(self) -> list[dict[str, Any]]:
        """Return every GSI index: keyspace, name, state and its keys."""
        out = []
        for r in self.query(_LIST):
            ks = ".".join(
                p for p in (r.get("bucket_id"), r.get("scope_id"), r.get("keyspace_id")) if p
            )
            keys = ", ".join(r.get("index_key") or []) or "(primary)"
            where = f" WHERE {r['condition']}" if r.get("condition") else ""
            out.append({"keyspace": ks, "name": r["name"], "state": r.get("state", ""),
                        "statement": keys + where})  # fmt: skip
        return out

    def has_index(self, keyspace: str, name: str) -> bool:
        """Return whether the keyspace has an index of that name."""
        ks = str(Keyspace.parse(keyspace))
        return any(i["keyspace"] == ks and i["name"] == name for i in self.list_indexes())

    def check_indexes(self) -> list[str]:
        """Couchbase's index service keeps its indexes: nothing for the catalog to compare."""
        return []
