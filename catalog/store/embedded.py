"""The embedded store: one SQLite file in WAL mode holding every keyspace.

Several processes (web workers, the CLI, learners) may open the same file. Every write
runs in a ``BEGIN IMMEDIATE`` transaction so that two writers never both read and then
fail to upgrade their lock; a writer that finds the file locked retries with backoff up
to ``BUSY_TIMEOUT_S``, so "database is locked" never reaches a caller.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from catalog.search import embedded as search_index
from catalog.search import engine as search_engine
from catalog.store import checkpointer, wal_header
from catalog.store.base import (
    MAX_VALUE_BYTES,
    Conflict,
    InvalidArgument,
    Keyspace,
    NotFound,
    SearchResult,
    StoreUnavailable,
    ValueTooLarge,
    check_key,
)
from catalog.store.decode import loads
from catalog.store.embedded_index import IndexMaintainer
from catalog.store.embedded_query import QueryMixin, live_count

# How long a caller waits, at most, for another process's write to finish.
BUSY_TIMEOUT_S = 30.0
# Page cache of each connection, in KiB.
CACHE_KIB = 32 * 1024
# A publish writes about 85 pages to the WAL (every index and the search index). Once a
# commit leaves this many of them not yet copied into the database file, the process's
# checkpoint thread copies them (checkpointer.py), off the write path.
WAL_CHECKPOINT_PAGES = 1000
# SQLite's own checkpoint, run by the committing writer (its ``wal_autocheckpoint``; SQLite's
# default is 1,000 pages): the bound on the WAL (64 MB of 4 KB pages), where the WAL starts
# again from its beginning. At 100,002 versions, publishing took 0.91x the wall time with
# 4,000 pages against 1,000 when the writers copied every page themselves, and 0.8x with
# the thread and 16,000 against 4,000 pages.
WAL_RESTART_PAGES = 16_000
# SQLite's own wait before it reports SQLITE_BUSY to us (we retry on top of it).
SQLITE_BUSY_MS = 2_000
# How long a search waits for the write lock to index the search index's queue first. A
# long write (an index build, a bulk load) may hold the lock for minutes: then the search
# answers from the index as it stands, without the few writes still queued, rather than
# hold a web worker until it ends.
SEARCH_CATCH_UP_WAIT_S = 2.0

T = TypeVar("T")

# This process's id, kept up to date across fork: a connection is never used by a child of
# the process that opened it. (os.getpid() is a system call on every read.)
_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keyspaces (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    keyspace  TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    cas       INTEGER NOT NULL,
    is_binary INTEGER NOT NULL,
    value     BLOB    NOT NULL,
    expiry    REAL,
    UNIQUE (keyspace, key)
);
CREATE INDEX IF NOT EXISTS docs_expiry ON docs (expiry) WHERE expiry IS NOT NULL;
"""


class WriteHook(Protocol):
    """Something kept in step with document writes (the indexes, the search index).

    ``on_write`` and ``on_remove`` run inside the write's transaction. A hook may apply them
    there and then (the indexes) or queue them (the search index): then ``before_commit`` runs
    in every transaction before it commits, and ``catch_up`` applies whatever is queued (the
    store calls it when ``behind``, before a read that needs it), reading each document with
    the store's reader.
    """

    def install(self, conn: sqlite3.Connection) -> None: ...

    def applies_to(self, keyspace: str) -> bool: ...

    def on_write(self, conn: sqlite3.Connection, keyspace: str, key: str, value: Any) -> None: ...

    def on_remove(self, conn: sqlite3.Connection, keyspace: str, key: str) -> None: ...

    def before_commit(
        self, conn: sqlite3.Connection, read: search_index.DocumentReader
    ) -> None: ...

    def behind(self, conn: sqlite3.Connection) -> bool: ...

    def catch_up(self, conn: sqlite3.Connection, read: search_index.DocumentReader) -> None: ...


def encode_value(value: Any) -> tuple[int, bytes | str]:
    """Return (is_binary, stored form) of a document value."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data: bytes | str = bytes(value)
        binary = 1
    else:
        try:
            data = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidArgument(f"value is not valid JSON: {e}") from None
        binary = 0
    try:
        size = len(data) if binary else len(data.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") that JSON text may carry
        raise InvalidArgument("value holds text that is not valid Unicode") from None
    if size > MAX_VALUE_BYTES:
        raise ValueTooLarge(f"value of {size} bytes is over the {MAX_VALUE_BYTES} byte limit")
    return binary, data


def decode_value(is_binary: int, data: bytes | str) -> Any:
    """Return the value a stored row holds."""
    return bytes(data) if is_binary else loads(data)


def _next_cas(old: int | None = None) -> int:
    now = time.time_ns()
    return now if old is None or now > old else old + 1


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


# A process-wide serial number for each connection (change_token names its connection).
_CONNECTIONS = itertools.count(1)
# Keyspace name as given -> canonical name (EmbeddedStore._ks); only valid names get in.
_CANONICAL: dict[str, str] = {}
MAX_CANONICAL = 1024


class EmbeddedStore(QueryMixin):
    """The store protocol on one SQLite file (SQL++ and indexes: ``QueryMixin``)."""

    def __init__(self, path: str | os.PathLike[str], hooks: list[WriteHook] | None = None):
        self.path = Path(path)
        self.url = f"embedded://{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._indexes = IndexMaintainer()
        hooks = list(hooks) if hooks is not None else _default_hooks()
        self._hooks: list[WriteHook] = [self._indexes, *hooks]
        conn = self._conn()
        self._retry(lambda: self._install(conn))

    # -- connections and transactions -------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != _pid:
            conn = sqlite3.connect(
                self.path,
                timeout=SQLITE_BUSY_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            (mode,) = self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            # NORMAL in WAL mode survives a crashed process (kill -9); only an OS crash
            # or power loss can drop the last transactions, never corrupt the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # Index and search-index pages of a large catalog stay in memory between writes
            # (SQLite's default cache is 2 MB per connection).
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_RESTART_PAGES}")
            conn.execute("PRAGMA data_version").fetchone()  # a read: the WAL index is open
            # The parent process's lease, if any, was dropped at fork (wal_header).
            self._local.wal_header = (
                wal_header.lease(self.path) if str(mode).lower() == "wal" else None
            )
            self._local.open_scans = 0
            self._local.conn, self._local.pid = conn, _pid
            self._local.serial = next(_CONNECTIONS)
        return conn

    def change_token(self) -> tuple[int, bytes | int, int]:
        """Return a value that differs whenever a document may have changed, as this thread sees
        the store: any connection's (or process's) commit changes SQLite's WAL-index header
        (``wal_header``, read from a memory map), a write of this thread's connection its
        total_changes.

        When this thread's connection holds a transaction or an open scan, its reads come
        from a snapshot that may be older than the header: then the token is SQLite's
        ``PRAGMA data_version``, which follows the connection's snapshot (30-65 µs on the
        prediction route against under 1 for the header). So is it without a WAL index.

        Read it *before* the reads it vouches for: a commit in between then only makes the
        next token differ.
        """
        conn = self._conn()
        local = self._local
        lease = local.wal_header
        if lease is not None and not local.open_scans and not conn.in_transaction:
            value = lease.header.read()
            if value is not None:
                return (local.serial, value, conn.total_changes)
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        return (local.serial, version, conn.total_changes)

    def _install(self, conn: sqlite3.Connection) -> None:
        with self._write(conn):
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for hook in self._hooks:
                hook.install(conn)

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if not _is_busy(e):
                    raise
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"the store stayed busy for {BUSY_TIMEOUT_S:.0f} s; try again"
                    ) from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.05)

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        if conn.in_transaction:  # nested inside batch(): the outer transaction commits
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            self._before_commit(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._committed()

    def _before_commit(self, conn: sqlite3.Connection) -> None:
        read = functools.partial(self._stored, conn)
        for hook in self._hooks:
            hook.before_commit(conn, read)

    def _stored(self, conn: sqlite3.Connection, ks: str, key: str) -> Any:
        """Return a document's value as the hooks see it: None when it is gone or binary
        (expired or not, as when it was written)."""
        row = conn.execute(
            "SELECT is_binary, value FROM docs WHERE keyspace = ? AND key = ?", (ks, key)
        ).fetchone()
        return None if row is None or row[0] else loads(row[1])

    def catch_up(self, *, wait_s: float | None = None) -> bool:
        """Apply now what the write hooks hold queued (the search index's queue); return
        whether nothing is left queued. ``wait_s``: give up (False) when another write holds
        the write lock that long; None: wait as long as any write would."""
        conn = self._conn()
        if not self._retry(lambda: any(hook.behind(conn) for hook in self._hooks)):
            return True

        def do(conn: sqlite3.Connection) -> None:
            read = functools.partial(self._stored, conn)
            for hook in self._hooks:
                hook.catch_up(conn, read)

        if wait_s is None or conn.in_transaction:
            self._run_write(do)
            return True
        conn.execute(f"PRAGMA busy_timeout = {max(round(wait_s * 1000), 0)}")
        try:
            with self._write(conn):
                do(conn)
        except sqlite3.OperationalError as e:
            if not _is_busy(e):
                raise
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        return True

    def _committed(self) -> None:
        """After a commit: ask the checkpoint thread to copy the WAL's pages into the file once
        ``WAL_CHECKPOINT_PAGES`` of them wait (a memory read of the WAL index)."""
        lease = self._local.wal_header
        if lease is None:
            return
        frames = lease.header.frames()
        if frames is not None and frames[0] - frames[1] >= WAL_CHECKPOINT_PAGES:
            checkpointer.of(self.path).nudge()

    def _run_write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn()

        def attempt() -> T:
            with self._write(conn):
                return fn(conn)

        if conn.in_transaction:
            return fn(conn)
        return self._retry(attempt)

    @contextmanager
    def batch(self) -> Iterator[EmbeddedStore]:
        """Group several writes of this thread into one transaction (all or nothing)."""
        conn = self._conn()
        if conn.in_transaction:
            yield self
            return
        self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield self
            self._before_commit(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._committed()

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def now() -> float:
        """Return the time documents expire against (one clock for every read)."""
        return time.time()

    @staticmethod
    def _ks(keyspace: str) -> str:
        """Return the canonical ``bucket.scope.collection`` of a keyspace name.

        Remembered per name (parsing costs ~20 µs, a tenth of a prediction's key-value
        read); bounded, since a name can come from a request.
        """
        known = _CANONICAL.get(keyspace) if isinstance(keyspace, str) else None
        if known is None:
            known = str(Keyspace.parse(keyspace))
            if len(_CANONICAL) < MAX_CANONICAL:
                _CANONICAL[keyspace] = known
        return known

    def _register(self, conn: sqlite3.Connection, ks: str) -> None:
        conn.execute("INSERT OR IGNORE INTO keyspaces (name) VALUES (?)", (ks,))

    def _row(self, conn: sqlite3.Connection, ks: str, key: str) -> tuple[int, int, Any] | None:
        row = conn.execute(
            "SELECT cas, is_binary, value FROM docs WHERE keyspace = ? AND key = ?"
            " AND (expiry IS NULL OR expiry > ?)",
            (ks, key, time.time()),
        ).fetchone()
        return row

    def _hooks_for(self, ks: str) -> list[WriteHook]:
        return [h for h in self._hooks if h.applies_to(ks)]

    def _put(
        self,
        conn: sqlite3.Connection,
        ks: str,
        key: str,
        value: Any,
        old_cas: int | None,
        expiry: float | None,
    ) -> int:
        binary, data = encode_value(value)
        cas = _next_cas(old_cas)
        conn.execute(
            "INSERT INTO docs (keyspace, key, cas, is_binary, value, expiry)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (keyspace, key) DO UPDATE SET"
            " cas = excluded.cas, is_binary = excluded.is_binary, value = excluded.value,"
            " expiry = excluded.expiry",
            (ks, key, cas, binary, data, _expiry_time(expiry)),
        )
        for hook in self._hooks_for(ks):
            hook.on_write(conn, ks, key, None if binary else value)
        return cas

    def _delete(self, conn: sqlite3.Connection, ks: str, key: str) -> None:
        conn.execute("DELETE FROM docs WHERE keyspace = ? AND key = ?", (ks, key))
        for hook in self._hooks_for(ks):
            hook.on_remove(conn, ks, key)

    # -- key-value operations -----------------------------------------------------------

    def get(self, keyspace: str, key: str) -> tuple[Any, int]:
        """Return (value, cas) of a document; raise NotFound if it does not exist."""
        ks = self._ks(keyspace)
        row = self._retry(lambda: self._row(self._conn(), ks, check_key(key)))
        if row is None:
            raise NotFound(f"document {key!r} not found in {ks}")
        cas, binary, data = row
        return decode_value(binary, data), cas

    def get_many(self, keyspace: str, keys: list[str]) -> dict[str, tuple[Any, int]]:
        """Return {key: (value, cas)} for the keys that exist."""
        ks = self._ks(keyspace)
        out: dict[str, tuple[Any, int]] = {}
        conn = self._conn()
        now = time.time()
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._retry(
                lambda p=part, m=marks: conn.execute(
                    f"SELECT key, cas, is_binary, value FROM docs WHERE keyspace = ?"
                    f" AND key IN ({m}) AND (expiry IS NULL OR expiry > ?)",
                    (ks, *p, now),
                ).fetchall()
            )
            for key, cas, binary, data in rows:
                out[key] = (decode_value(binary, data), cas)
        return out

    def exists(self, keyspace: str, key: str) -> bool:
        """Return whether the document exists."""
        ks = self._ks(keyspace)
        return self._retry(lambda: self._row(self._conn(), ks, check_key(key))) is not None

    def insert(self, keyspace: str, key: str, value: Any, *, expiry: float | None = None) -> int:
        """Create a document; raise Conflict if the key exists. Return the new CAS."""
        ks, key = self._ks(keyspace), check_key(key)

        def do(conn: sqlite3.Connection) -> int:
            if self._row(conn, ks, key) is not None:
                raise Conflict(f"document {key!r} already exists in {ks}")
            self._register(conn, ks)
            return self._put(conn, ks, key, value, None, expiry)

        return self._run_write(do)

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
        ks, key = self._ks(keyspace), check_key(key)

        def do(conn: sqlite3.Connection) -> int:
            row = self._row(conn, ks, key)
            if row is None:
                raise NotFound(f"document {key!r} not found in {ks}")
            if cas is not None and row[0] != cas:
                raise Conflict(f"document {key!r} in {ks} has changed (CAS mismatch)")
            return self._put(conn, ks, key, value, row[0], expiry)

        return self._run_write(do)

    def upsert(self, keyspace: str, key: str, value: Any, *, expiry: float | None = None) -> int:
        """Create or overwrite a document. Return the new CAS."""
        ks, key = self._ks(keyspace), check_key(key)

        def do(conn: sqlite3.Connection) -> int:
            row = self._row(conn, ks, key)
            self._register(conn, ks)
            return self._put(conn, ks, key, value, row[0] if row else None, expiry)

        return self._run_write(do)

    def upsert_many(self, keyspace: str, items: Mapping[str, Any]) -> None:
        """Create or overwrite several documents in one transaction."""
        ks = self._ks(keyspace)
        pairs = [(check_key(k), v) for k, v in items.items()]

        def do(conn: sqlite3.Connection) -> None:
            self._register(conn, ks)
            for key, value in pairs:
                row = self._row(conn, ks, key)
                self._put(conn, ks, key, value, row[0] if row else None, None)

        self._run_write(do)

    def remove(self, keyspace: str, key: str, *, cas: int | None = None) -> None:
        """Delete a document, checking its CAS when given; raise NotFound if missing."""
        ks, key = self._ks(keyspace), check_key(key)

        def do(conn: sqlite3.Connection) -> None:
            row = self._row(conn, ks, key)
            if row is None:
                raise NotFound(f"document {key!r} not found in {ks}")
            if cas is not None and row[0] != cas:
                raise Conflict(f"document {key!r} in {ks} has changed (CAS mismatch)")
            self._delete(conn, ks, key)

        self._run_write(do)

    def remove_many(self, keyspace: str, keys: list[str]) -> None:
        """Delete the documents that exist among ``keys``, in one transaction."""
        ks = self._ks(keyspace)

        def do(conn: sqlite3.Connection) -> None:
            for key in keys:
                self._delete(conn, ks, key)

        self._run_write(do)

    # -- keyspaces and scans --------------------------------------------------------------

    def ensure_keyspace(self, keyspace: str) -> None:
        """Make a keyspace exist, empty if new (as creating a collection does)."""
        ks = self._ks(keyspace)
        self._run_write(lambda conn: self._register(conn, ks))

    def keyspaces(self) -> list[str]:
        """Return the names of every keyspace, as ``bucket.scope.collection``."""
        rows = self._retry(
            lambda: self._conn().execute("SELECT name FROM keyspaces ORDER BY name").fetchall()
        )
        return [r[0] for r in rows]

    def keyspace_exists(self, keyspace: str) -> bool:
        """Return whether the keyspace exists."""
        ks = self._ks(keyspace)
        return bool(
            self._retry(
                lambda: (
                    self._conn().execute("SELECT 1 FROM keyspaces WHERE name = ?", (ks,)).fetchone()
                )
            )
        )

    def scan(self, keyspace: str, prefix: str = "") -> Iterator[tuple[str, Any, int]]:
        """Yield (key, value, cas) of the live documents of a keyspace, in key order.

        With ``prefix``, only the keys that start with it.
        """
        ks = self._ks(keyspace)
        conn = self._conn()
        bounds = "AND key >= ? AND key < ?" if prefix else ""
        args = (ks, time.time(), prefix, prefix + "\U0010ffff") if prefix else (ks, time.time())
        local = self._local
        local.open_scans += 1  # the cursor holds a read snapshot while the caller iterates
        try:
            cursor = self._retry(
                lambda: conn.execute(
                    "SELECT key, cas, is_binary, value FROM docs WHERE keyspace = ?"
                    f" AND (expiry IS NULL OR expiry > ?) {bounds} ORDER BY key",
                    args,
                )
            )
            for key, cas, binary, data in cursor:
                yield key, bytes(data) if binary else loads(data), cas
        finally:
            local.open_scans -= 1

    def fetch(self, keyspace: str, keys: list[str]) -> list[tuple[str, Any, int]]:
        """Return (key, value, cas) for the keys that exist, in the order asked."""
        found = self.get_many(keyspace, [k for k in keys if isinstance(k, str)])
        return [(k, *found[k]) for k in keys if isinstance(k, str) and k in found]

    def count(self, keyspace: str) -> int:
        """Return the number of live documents in a keyspace."""
        ks = self._ks(keyspace)
        return self._retry(lambda: live_count(self._conn(), ks, time.time()))

    def purge_expired(self) -> int:
        """Delete expired documents; return how many."""

        def do(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                "SELECT keyspace, key FROM docs WHERE expiry IS NOT NULL AND expiry <= ?",
                (time.time(),),
            ).fetchall()
            for ks, key in rows:
                self._delete(conn, ks, key)
            return len(rows)

        return self._run_write(do)

    # -- search and integrity ------------------------------------------------------------

    def search(self, index: str, query: Any, **options: Any) -> SearchResult:
        """Run a full-text search (see catalog.search)."""
        # the search index's queue first: a search sees every write committed before it
        # (unless a long write holds the lock past SEARCH_CATCH_UP_WAIT_S)
        self.catch_up(wait_s=SEARCH_CATCH_UP_WAIT_S)
        conn = self._conn()
        return self._retry(
            lambda: search_engine.run(conn, index, query, state=self.change_token(), **options)
        )

    def check_integrity(self) -> list[str]:
        """Return a list of problems found in the file (empty when it is sound)."""
        conn = self._conn()
        rows = self._retry(lambda: conn.execute("PRAGMA integrity_check").fetchall())
        problems = [r[0] for r in rows if r[0] != "ok"]
        for hook in self._hooks:
            check = getattr(hook, "check", None)
            if check is not None:
                problems += check(conn)
        return problems

    def close(self) -> None:
        """Close this thread's connection, then let go of its WAL-index header (after: see
        wal_header)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with checkpointer.paused(self.path):  # so that the last to close folds the WAL
                conn.close()
            self._local.conn = None
        lease = getattr(self._local, "wal_header", None)
        if lease is not None:
            lease.end()
            self._local.wal_header = None


def _expiry_time(expiry: float | None) -> float | None:
    """Return the absolute expiry time of a TTL in seconds (None: never expires)."""
    if expiry is None or expiry <= 0:
        return None
    return time.time() + expiry


def _default_hooks() -> list[WriteHook]:
    return list(search_index.default_hooks())
