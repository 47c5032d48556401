"""The WAL checkpoint thread (catalog/store/checkpointer.py), on real SQLite files."""

from __future__ import annotations

import sqlite3
import time

from catalog.store import checkpointer, wal_header


def _wal_file(tmp_path, pages: int) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "c.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (v BLOB)")
    for _ in range(pages):
        conn.execute("INSERT INTO t VALUES (?)", (b"x" * 4000,))
    return conn


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_nudge_copies_the_wal_then_the_idle_thread_ends_and_a_nudge_starts_it_again(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(checkpointer, "IDLE_S", 0.2)
    conn = _wal_file(tmp_path, 300)
    lease = wal_header.lease(tmp_path / "c.sqlite3")
    assert lease is not None
    frames, copied = lease.header.frames()
    assert frames >= 300 and copied == 0
    thread = checkpointer.of(tmp_path / "c.sqlite3")
    assert checkpointer.of(tmp_path / "." / "c.sqlite3") is thread  # one per file
    thread.nudge()
    assert _until(lambda: lease.header.frames()[1] == lease.header.frames()[0])
    # counted once SQLite's checkpoint call has returned, just after the header shows the copy
    assert _until(lambda: thread.runs >= 1)
    assert _until(lambda: thread._thread is None)  # idle: its connection closed, it ended
    for _ in range(50):
        conn.execute("INSERT INTO t VALUES (?)", (b"y" * 4000,))
    assert lease.header.frames()[1] < lease.header.frames()[0]
    runs = thread.runs
    thread.nudge()
    assert _until(lambda: thread.runs > runs)
    assert _until(lambda: lease.header.frames()[1] == lease.header.frames()[0])
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 350
    conn.close()
    lease.end()


def test_a_closed_store_is_one_file_while_the_thread_copies(tmp_path):
    """The store's close waits for a checkpoint under way, and the thread holds no connection
    between runs: the last connection to close folds the WAL into the file, so copying the
    file alone copies every write (the demo catalog's copies in the tests rely on it)."""
    from catalog.store.embedded import WAL_CHECKPOINT_PAGES, EmbeddedStore

    for round_ in range(3):
        path = tmp_path / f"s{round_}.sqlite3"
        store = EmbeddedStore(path)
        thread = checkpointer.of(path)
        for i in range(WAL_CHECKPOINT_PAGES // 2 + 50 * round_):  # past the mark: nudged
            store.upsert("ml.catalog.models", f"m::{i:05d}", {"i": i, "pad": "x" * 6000})
        assert thread.runs or thread._thread is not None
        store.close()
        assert not (tmp_path / f"s{round_}.sqlite3-wal").exists()
        copy = tmp_path / f"copy{round_}.sqlite3"
        copy.write_bytes(path.read_bytes())
        (n,) = sqlite3.connect(copy).execute("SELECT COUNT(*) FROM docs").fetchone()
        assert n == i + 1
