"""SQL++ and index administration of the embedded store (a mixin of ``EmbeddedStore``).

Statements run on the embedded SQL++ engine (``catalog.sqlpp``) over one SQLite read
snapshot; the engine reads documents through ``QuerySource``: full scans, key fetches and,
when its planner picks one, scans of the file's secondary indexes
(``catalog.store.embedded_index``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from catalog import sqlpp
from catalog.sqlpp.covering import build_order, partial_document
from catalog.sqlpp.from_terms import resolve_keyspace
from catalog.sqlpp.index_defs import IndexDef, KeyEvaluator, parse_create_index
from catalog.sqlpp.values import MISSING
from catalog.store import embedded_index
from catalog.store.base import InvalidArgument, NotFound, QueryError, QueryLimitExceeded
from catalog.store.decode import loads
from catalog.store.embedded_index import (
    BUILD_BATCH,
    EXPIRED_KEYS,
    IndexMaintainer,
    StoredIndex,
)

# Default time limit of a SQL++ statement.
QUERY_TIMEOUT_S = 30.0


class QueryMixin:
    """``query``, ``create_index``, ``drop_index`` and ``list_indexes`` of the embedded store."""

    _indexes: IndexMaintainer
    # Provided by EmbeddedStore (the class this mixin is part of).
    _conn: Callable[[], sqlite3.Connection]
    _retry: Callable[..., Any]
    _run_write: Callable[..., Any]
    _register: Callable[[sqlite3.Connection, str], None]
    _ks: Callable[[str], str]

    def query(
        self,
        statement: str,
        params: dict | list | None = None,
        query_context: str | None = None,
        *,
        read_only: bool = False,
        timeout: float | None = None,
        memory_mb: float | None = None,
        use_indexes: bool = True,
    ) -> list[Any]:
        """Run a SQL++ statement on a consistent snapshot of the store.

        ``timeout`` (seconds, default QUERY_TIMEOUT_S) and ``memory_mb`` (the statement's
        memory quota in MiB; None: only the 20 MiB limit on one value) are enforced inside
        evaluation; going over either raises QueryLimitExceeded. ``use_indexes=False``
        makes every keyspace read a full scan (to compare plans).
        """
        deadline = time.monotonic() + (timeout if timeout is not None else QUERY_TIMEOUT_S)
        conn = self._conn()
        own_txn = not conn.in_transaction
        if own_txn:
            self._retry(lambda: conn.execute("BEGIN"))  # one snapshot for the whole statement
        try:
            return sqlpp.execute(
                statement,
                params,
                query_context,
                source=QuerySource(self, conn, use_indexes),
                read_only=read_only,
                deadline=deadline,
                memory_mb=memory_mb,
            )
        except sqlpp.SqlppLimitExceeded as e:
            message = str(e)
            if e.limit == "time":  # name the limit as given, not what was left of it at parse end
                message = (
                    f"Timeout {_seconds(timeout or QUERY_TIMEOUT_S)} exceeded: the query timed out"
                )
            raise QueryLimitExceeded(message, e.limit) from None
        except sqlpp.SqlppError as e:
            raise QueryError(str(e)) from None
        finally:
            if own_txn and conn.in_transaction:
                conn.execute("COMMIT")

    def create_index(
        self,
        statement: str,
        query_context: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Create an index from a CREATE INDEX statement and build it from the documents.

        The index is built in batches of BUILD_BATCH documents, one transaction each, while
        other processes keep writing (their writes keep its entries too); the planner uses
        it once it is online.

        Return ``{"keyspace", "name", "statement"}``; raise InvalidArgument for a statement
        that is not a valid CREATE INDEX, or an index name the keyspace already has.
        """
        d, ks = _definition(statement, query_context)

        def add(conn: sqlite3.Connection) -> StoredIndex:
            self._register(conn, ks)
            return self._indexes.add(conn, ks, d)

        try:
            ix = self._run_write(add)
        except ValueError as e:
            raise InvalidArgument(str(e)) from None
        if ix.state != "online":  # build in batches: other writers wait one batch at most
            total, done, after = self.count(ks), 0, ""
            while True:
                last, n = self._run_write(
                    lambda conn, a=after: self._indexes.build_part(conn, ix, a, BUILD_BATCH)
                )
                done += n
                if progress is not None and (n or not total):
                    progress(min(done, total), total)
                if last is None:
                    break
                after = last
            self._run_write(lambda conn: self._indexes.set_online(conn, ix))
        return {"keyspace": ix.keyspace, "name": ix.name, "statement": d.statement}

    def drop_index(self, keyspace: str, name: str) -> None:
        """Drop an index; raise NotFound if the keyspace has none by that name."""
        ks = self._ks(keyspace)
        try:
            self._run_write(lambda conn: self._indexes.drop(conn, ks, name))
        except LookupError as e:
            raise NotFound(str(e).strip("'\"")) from None

    def list_indexes(self) -> list[dict[str, Any]]:
        """Return every index: keyspace, name, statement, state and number of entries."""
        return self._retry(lambda: self._indexes.all(self._conn()))

    def check_indexes(self) -> list[str]:
        """Return how each index's entries differ from its documents (empty: consistent)."""
        return self._retry(lambda: self._indexes.check(self._conn()))

    def has_index(self, keyspace: str, name: str) -> bool:
        """Return whether the keyspace has an index of that name."""
        ks = self._ks(keyspace)
        return any(i["keyspace"] == ks and i["name"] == name for i in self.list_indexes())


def _definition(statement: str, query_context: str | None) -> tuple[IndexDef, str]:
    try:
        d = parse_create_index(statement)
        ks = resolve_keyspace(list(d.path), query_context)
        KeyEvaluator(d)  # compiles every key: refuse what could not be evaluated
    except sqlpp.SqlppError as e:
        raise InvalidArgument(f"not a valid CREATE INDEX statement: {e}") from None
    return d, ks


Paths = list[tuple[str, ...]]


def _fields_sql(paths: Paths, table: str = "") -> tuple[str, tuple[str, ...]]:
    """Return the SQL columns reading some fields of a document row's JSON (SQLite parses the
    text once for all of them, in C) and their arguments: NULL where a field is missing."""
    if not paths:  # no field read: a placeholder column
        return "NULL", ()
    prefix = f"{table}." if table else ""
    column = f"CASE WHEN {prefix}is_binary THEN NULL ELSE {prefix}value -> ? END"
    spelled = tuple("$" + "".join(f'."{name}"' for name in path) for path in paths)
    return ", ".join([column] * len(paths)), spelled


def _partial(paths: Paths, order: list[int], binary: int, texts: tuple[Any, ...]) -> Any:
    """Return the value a statement sees of a document of which it reads ``paths``: the
    fields read (a missing one left out), or b"" for a binary document (never read)."""
    if binary:
        return b""
    return partial_document(
        paths, order, [MISSING if text is None else loads(text) for text in texts]
    )


class QuerySource:
    """What the SQL++ engine reads from the store within one statement's snapshot.

    Where the engine names the fields a statement reads (``paths``), only those are read:
    SQLite extracts them from the stored JSON, and a document of 5.9 KB costs 23 µs to read
    instead of 86 for the whole of it (decoding, mostly building Python objects)."""

    reads_paths = True

    def __init__(self, store: Any, conn: sqlite3.Connection, use_indexes: bool):
        self.store, self.conn, self.use_indexes = store, conn, use_indexes

    def keyspace_exists(self, keyspace: str) -> bool:
        return self.store.keyspace_exists(keyspace)

    def scan(self, keyspace: str, paths: Paths | None = None) -> Iterator[tuple[str, Any, int]]:
        if paths is None:
            return self.store.scan(keyspace)
        columns, args = _fields_sql(paths)
        rows = self.conn.execute(
            f"SELECT key, cas, is_binary, {columns} FROM docs WHERE keyspace = ?"
            " AND (expiry IS NULL OR expiry > ?) ORDER BY key",
            (*args, self.store._ks(keyspace), self.store.now()),
        )
        return self._partials(rows, paths)

    def fetch(
        self, keyspace: str, keys: list[str], paths: Paths | None = None
    ) -> list[tuple[str, Any, int]]:
        if paths is None:
            return self.store.fetch(keyspace, keys)
        columns, args = _fields_sql(paths)
        rows = self.conn.execute(
            f"SELECT key, cas, is_binary, {columns} FROM docs WHERE keyspace = ?"
            " AND key IN (SELECT value FROM json_each(?)) AND (expiry IS NULL OR expiry > ?)",
            (*args, self.store._ks(keyspace), json.dumps(keys), self.store.now()),
        )
        found = {key: (value, cas) for key, value, cas in self._partials(rows, paths)}
        return [(k, *found[k]) for k in keys if k in found]  # in the order asked, repeats too

    @staticmethod
    def _partials(rows: Iterable[tuple[Any, ...]], paths: Paths) -> Iterator[tuple[str, Any, int]]:
        order = build_order(list(paths))
        for key, cas, binary, *texts in rows:
            yield key, _partial(paths, order, binary, texts), cas

    def indexes(self, keyspace: str) -> list[StoredIndex]:
        """Return the indexes the planner may use on a keyspace (none with use_indexes off)."""
        if not self.use_indexes:
            return []
        return self.store._indexes.indexes(self.conn, keyspace)

    def index_scan(
        self,
        index: StoredIndex,
        spans: list[tuple[bytes, bytes]],
        descending: bool,
        paths: Paths | None = None,
    ) -> Iterator[tuple[str, Any, int]]:
        """Yield (key, value, cas) of the documents with an entry in the spans, in order."""
        now = self.store.now()
        if paths is not None:
            value = _fields_sql(paths, "d")
            rows = self.store._indexes.scan(self.conn, index, spans, descending, now, value)
            yield from self._partials(rows, paths)
            return
        rows = self.store._indexes.scan(self.conn, index, spans, descending, now)
        for key, cas, binary, data in rows:
            yield key, bytes(data) if binary else loads(data), cas

    def index_entries(
        self, index: StoredIndex, spans: list[tuple[bytes, bytes]], descending: bool
    ) -> Iterator[tuple[str, bytes]]:
        """Yield (key, entry bytes) in the spans, in order, without reading the documents."""
        return embedded_index.entries(self.conn, index, spans, descending, self.store.now())

    def index_count(self, index: StoredIndex, spans: list[tuple[bytes, bytes]]) -> int:
        """Return the number of entries in the spans."""
        return embedded_index.count(self.conn, index, spans, self.store.now())

    def index_counts(self, index: StoredIndex, spans: list[tuple[bytes, bytes]]) -> list[int]:
        """Return the number of entries in each span."""
        return embedded_index.counts(self.conn, index, spans, self.store.now())

    def key_scan(
        self,
        keyspace: str,
        ranges: list[Any] | None,
        descending: bool,
        keys_only: bool,
        paths: Paths | None = None,
    ) -> Iterator[tuple[str, Any, int]]:
        """Yield (key, value, cas) of the documents whose keys are in the ranges, in key order
        (``keys_only``: an empty object for the value, which is never read)."""
        if ranges is None:
            ranges = [(None, True, None, True)]
        order = "DESC" if descending else ""
        for where, args in sorted_ranges(ranges, descending):
            if keys_only:  # the (keyspace, key) index alone: no document row is read
                rows = self.conn.execute(
                    f"SELECT key FROM docs WHERE keyspace = ?{where}"
                    f" AND key NOT IN ({EXPIRED_KEYS}) ORDER BY key {order}",
                    (keyspace, *args, self.store.now(), keyspace),
                )
                for (key,) in rows:
                    yield key, {}, 0
                continue
            if paths is not None:
                columns, spelled = _fields_sql(paths)
                yield from self._partials(
                    self.conn.execute(
                        f"SELECT key, cas, is_binary, {columns} FROM docs WHERE keyspace = ?"
                        f"{where} AND (expiry IS NULL OR expiry > ?) ORDER BY key {order}",
                        (*spelled, keyspace, *args, self.store.now()),
                    ),
                    paths,
                )
                continue
            rows = self.conn.execute(
                f"SELECT key, cas, is_binary, value FROM docs WHERE keyspace = ?{where}"
                f" AND (expiry IS NULL OR expiry > ?) ORDER BY key {order}",
                (keyspace, *args, self.store.now()),
            )
            for key, cas, binary, data in rows:
                yield key, bytes(data) if binary else loads(data), cas

    def key_count(self, keyspace: str, ranges: list[Any]) -> int:
        """Return the number of live documents whose keys are in the ranges."""
        now = self.store.now()
        return sum(live_count(self.conn, keyspace, now, where, args) for where, args in
                   sorted_ranges(ranges, False))  # fmt: skip


def live_count(conn: sqlite3.Connection, keyspace: str, now: float, where: str = "",
               args: tuple[Any, ...] = ()) -> int:  # fmt: skip
    """Return how many live documents of a keyspace match ``where`` on their keys, counted in
    the (keyspace, key) index minus the expired ones (no document row is read)."""
    (total,) = conn.execute(
        f"SELECT COUNT(*) FROM docs WHERE keyspace = ?{where}", (keyspace, *args)
    ).fetchone()
    (expired,) = conn.execute(
        f"SELECT COUNT(*) FROM docs INDEXED BY docs_expiry WHERE expiry IS NOT NULL"
        f" AND expiry <= ? AND keyspace = ?{where}",
        (now, keyspace, *args),
    ).fetchone()
    return int(total - expired)


def sorted_ranges(ranges: list[Any], descending: bool) -> list[tuple[str, tuple[Any, ...]]]:
    """Return the SQL condition and arguments of each key range, in scan order."""
    out = []
    for lo, lo_incl, hi, hi_incl in sorted(ranges, key=lambda r: r[0] or "", reverse=descending):
        where, args = "", []
        if lo is not None:
            where += " AND key >= ?" if lo_incl else " AND key > ?"
            args.append(lo)
        if hi is not None:
            where += " AND key <= ?" if hi_incl else " AND key < ?"
            args.append(hi)
        out.append((where, tuple(args)))
    return out


def _seconds(s: float) -> str:
    """Return a duration as Couchbase prints it in its timeout error ("10s", "200ms")."""
    return f"{s:g}s" if s >= 1 else f"{s * 1000:g}ms"
