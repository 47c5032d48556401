"""WAL checkpoints off the write path: one thread per database file per process.

A checkpoint copies the pages the WAL holds back into the database file and syncs both. SQLite
runs it on the connection whose commit takes the WAL past ``wal_autocheckpoint`` pages, so
that writer waits for the copy and the two fsyncs: 50-100 ms for 4,000 pages of a 1.4 GB
catalog, once every 47 publishes. Here a writer that finds, after its commit, that
``WAL_CHECKPOINT_PAGES`` frames are not yet copied asks this thread to copy them (``nudge``).
The thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its own: a passive
checkpoint waits for no reader or writer, and writers go on appending to the WAL meanwhile.

SQLite starts the WAL again from its beginning only when every frame has been copied and a
write begins, which a busy writer rarely leaves time for. So SQLite's own autocheckpoint stays
on at a higher mark (``WAL_RESTART_PAGES`` in embedded.py): there the committing writer copies
what the thread has not copied yet (a few hundred pages), and the next write starts the WAL
again. The WAL stays near that mark whether or not this thread keeps up: past it, every commit
tries again (one made while the thread holds the checkpoint lock cannot copy), and the
first that copies everything lets the next write start the WAL again.

The thread opens a connection for each checkpoint and closes it after, and ``EmbeddedStore.close``
waits for a checkpoint under way (``paused``): the store's last connection to close still folds
the WAL into the database file. The thread ends after ``IDLE_S`` without a nudge and starts
again on the next one. A forked child starts its own: threads do not survive ``fork``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Seconds without a nudge before the thread ends.
IDLE_S = 5.0


class Checkpointer:
    """The checkpoint thread of one database file in this process."""

    def __init__(self, path: Path):
        self.path = path
        self.runs = 0  # checkpoints run (tests read it)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.running = threading.Lock()  # held while a checkpoint runs

    def nudge(self) -> None:
        """Ask for a checkpoint soon (returns at once; repeated asks while one runs make one
        more run after it)."""
        self._wake.set()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name=f"wal-checkpoint {self.path.name}", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            if not self._wake.wait(IDLE_S):
                with self._lock:
                    if not self._wake.is_set():  # else a nudge came as the wait ended
                        self._thread = None
                        return
            self._wake.clear()
            with self.running:
                self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy what the WAL holds into the file, on a connection opened for it: between runs
        the thread holds no connection, so a store's ``close`` stays the last one, which
        folds the WAL into the file (a closed catalog is one file to copy)."""
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.runs += 1
        except sqlite3.Error:
            pass  # busy, locked or gone: the writers' own autocheckpoint bounds the WAL
        finally:
            conn.close()


@contextmanager
def paused(path: Path) -> Iterator[None]:
    """Hold off this process's checkpoint thread of ``path`` (waiting for a run under way),
    for a connection's close to be the last."""
    with _lock:
        found = _checkpointers.get(os.path.realpath(path))
    if found is None:
        yield
        return
    with found.running:
        yield


_lock = threading.Lock()
_checkpointers: dict[str, Checkpointer] = {}


def of(path: Path) -> Checkpointer:
    """Return this process's checkpoint thread of the database ``path``."""
    key = os.path.realpath(path)
    with _lock:
        found = _checkpointers.get(key)
        if found is None:
            found = _checkpointers[key] = Checkpointer(Path(key))
        return found


def _forget_inherited() -> None:
    """In a forked child: the parent's threads did not come along."""
    global _lock
    _lock = threading.Lock()
    _checkpointers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited)
