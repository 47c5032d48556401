"""The search index's queue: documents written to a models collection but not yet indexed.

A write records its document's key here, inside its own transaction, instead of indexing the
document there and then. At 100,000 versions indexing one small version on its own wrote
about 45 pages to the WAL (a leaf of each field's lengths, of its postings and numbers, an
FTS5 segment) and took 2.0 ms of a 4.8 ms publish; a queue row is one page.

The queue is indexed in one go (``SearchHook.catch_up``):
- by the commit that finds ``BATCH`` writes waiting, inside that same transaction;
- before every search (``EmbeddedStore.search``), so that a search sees every write committed
  before it, as when each write indexed its document;
- by ``EmbeddedStore.catch_up``, for a caller that wants the index current now.

Documents indexed together share their pages: 32 at a time cost about 0.8 ms each.
A row commits with its document or not at all, so a crash loses nothing: the next catch-up,
in any process, indexes what the queue holds. Indexing is the same whatever the order and
however many times a key was queued: each key is indexed once, from the document as it is
at the catch-up (or unindexed if it is gone), and a model's latest flag always goes to its
newest indexed version.
"""

from __future__ import annotations

import sqlite3

# Writes waiting when a commit indexes them. The commit that reaches it takes longer (about
# 0.8 ms a document); a search after fewer waits for their indexing (a single document: ~2 ms).
BATCH = 32

TABLE = "fts_queue"


def add_missing(conn: sqlite3.Connection) -> None:
    """Create the queue where the file has none (a table outside the layout's signature, so
    an existing file gains it without rebuilding its search index)."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (seq INTEGER PRIMARY KEY,"
        " keyspace TEXT NOT NULL, key TEXT NOT NULL)"
    )


def put(conn: sqlite3.Connection, keyspace: str, key: str) -> None:
    """Queue a written or removed document (a key queued twice is indexed once)."""
    conn.execute(f"INSERT INTO {TABLE} (keyspace, key) VALUES (?, ?)", (keyspace, key))


def waiting(conn: sqlite3.Connection) -> int:
    """Return how many writes wait (a key queued twice counts twice)."""
    (n,) = conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()
    return int(n)


def take(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Empty the queue; return its (keyspace, key) pairs, each once, in the order first
    queued. Call it inside the write transaction that indexes them."""
    rows = conn.execute(f"SELECT keyspace, key FROM {TABLE} ORDER BY seq").fetchall()
    conn.execute(f"DELETE FROM {TABLE}")
    return list(dict.fromkeys((str(ks), str(key)) for ks, key in rows))


def queued(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Return the (keyspace, key) pairs waiting."""
    return {(str(ks), str(key)) for ks, key in conn.execute(f"SELECT keyspace, key FROM {TABLE}")}


def clear(conn: sqlite3.Connection) -> None:
    """Empty the queue (the index is rebuilt from every document)."""
    conn.execute(f"DELETE FROM {TABLE}")
