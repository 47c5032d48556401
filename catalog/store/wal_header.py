"""SQLite's WAL-index header, read with one ``pread``: has anything been committed?

In WAL mode SQLite keeps the header of its WAL index in the first 48 bytes of the
database's ``-shm`` file (https://www.sqlite.org/walformat.html, "The WAL-Index Header"):
``iVersion``, an unused word, ``iChange`` ("counter incremented each transaction"),
``isInit``, the checksum byte order, the page size, ``mxFrame`` (the last valid frame),
``nPage``, the last frame's checksum, the WAL salts and the header's own checksum. A commit,
by any connection of any process, rewrites it before its writer lets go of the write lock;
that is how every reader finds the newest commit. So if two reads of the header give the
same bytes, nothing was committed in between.

SQLite maps the ``-shm`` file into memory (MAP_SHARED) and writes the header there; we map
its first page read-only too, so reading the header is a 48-byte copy from memory every
process shares, without a system call. ``PRAGMA data_version`` asks the same question
through SQLite, which starts a read transaction and takes and drops a lock on the file: on
the prediction route it cost 30-65 µs a request, cache misses included (bench_serving.py);
a ``pread`` of the header cost about 1 µs alone but 4-10 µs in place (a system call on the
prediction route slows the model run after it).

**Never close a descriptor of the ``-shm`` file while a connection of this process uses it.**
SQLite's locks on it are POSIX record locks, which belong to the process: closing *any*
descriptor of the file drops all of them, those of every connection of the process. Another
process may then truncate the file (SIGBUS in whoever has it mapped) or checkpoint over
pages a reader still needs. So there is one header per file per process (``acquire``),
counted by the connections that use it, and its descriptor is closed only after the last of
them has closed (``release``); a forked child drops what it inherited before it opens any
connection (it inherits no locks).

A header read outside SQLite's locks may be torn while a commit is under way: that only
makes it differ from the last one, and the caller reads again. It says nothing about what a
connection holding an older read snapshot sees (a paused scan): ``EmbeddedStore`` uses it
only when its connection holds no transaction and no open scan.
"""

from __future__ import annotations

import mmap
import os
import sys
import threading
import weakref
from pathlib import Path

HEADER_BYTES = 48
_IS_INIT = 12  # byte offset of isInit: 1 once the header is written
_MX_FRAME = 16  # byte offset of mxFrame, the last valid frame of the WAL
# The checkpoint information follows the header's two copies; nBackfill, the number of
# frames copied into the database file, is its first word.
_N_BACKFILL = 2 * HEADER_BYTES
MAPPED_BYTES = _N_BACKFILL + 40


class WalHeader:
    """A read-only memory map of one database's ``-shm`` header, shared by the process's
    connections to that database (``acquire``/``release``)."""

    def __init__(self, key: tuple[int, int], fd: int):
        self.key = key
        self._fds = [fd]  # closed only when the last user is gone (see the module's notes)
        self._map = mmap.mmap(fd, MAPPED_BYTES, mmap.MAP_SHARED, mmap.PROT_READ)
        self.users = 0

    def read(self) -> bytes | None:
        """Return the header's bytes, or None if there is no initialised header to read."""
        return self._initialised(HEADER_BYTES)

    def frames(self) -> tuple[int, int] | None:
        """Return (frames in the WAL, frames already copied into the database file), or None
        if there is no initialised header. Read outside SQLite's locks: a hint, which a
        commit or checkpoint under way may make stale at once."""
        data = self._initialised(MAPPED_BYTES)
        if data is None:
            return None
        order = sys.byteorder  # SQLite writes the WAL index in the machine's byte order
        return (
            int.from_bytes(data[_MX_FRAME : _MX_FRAME + 4], order),
            int.from_bytes(data[_N_BACKFILL : _N_BACKFILL + 4], order),
        )

    def _initialised(self, size: int) -> bytes | None:
        """Return the first ``size`` bytes of the map, or None when it is unmapped or the
        header is not initialised."""
        try:
            data = self._map[:size]
        except ValueError:  # unmapped
            return None
        return data if data[_IS_INIT] == 1 else None

    def _close(self) -> None:
        self._map.close()
        for fd in self._fds:
            os.close(fd)
        self._fds = []


_lock = threading.Lock()
_headers: dict[tuple[int, int], WalHeader] = {}  # (st_dev, st_ino) of the -shm file -> header


def acquire(database: Path) -> WalHeader | None:
    """Return the WAL-index header of ``database`` for one more connection, or None when it
    has none to read. ``release`` it after that connection is closed.

    Call it once a connection in WAL mode has read the database: the connection then holds
    SQLite's lock on the ``-shm`` file, so no other process can truncate it (only the first
    connection to open it when no other has it open does) while the connection stays open.
    """
    if not hasattr(mmap, "MAP_SHARED") or not hasattr(mmap, "PROT_READ"):
        return None  # Windows: SQLite's PRAGMA answers instead
    path = f"{database}-shm"
    with _lock:
        try:
            st = os.stat(path)
        except OSError:
            return None
        header = _headers.get((st.st_dev, st.st_ino))
        if header is None:
            if st.st_size < MAPPED_BYTES:
                return None
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except OSError:
                return None
            fst = os.fstat(fd)
            key = (fst.st_dev, fst.st_ino)
            header = _headers.get(key)
            if header is not None:  # replaced between stat and open: keep the descriptor
                header._fds.append(fd)
            else:
                try:
                    header = WalHeader(key, fd)
                except (OSError, ValueError):
                    return None  # the descriptor stays open: see the module's notes
                _headers[key] = header
        header.users += 1
        return header


def release(header: WalHeader) -> None:
    """Say one connection using ``header`` is closed; unmap it after the last one."""
    with _lock:
        if _headers.get(header.key) is not header:
            return  # inherited from the parent process, already dropped
        header.users -= 1
        if header.users <= 0:
            del _headers[header.key]
            header._close()


class Lease:
    """One connection's use of a WalHeader: ``end()`` it after closing the connection; one
    dropped unended (a thread's connection and lease going together) ends itself."""

    def __init__(self, header: WalHeader):
        self.header = header
        self.end = weakref.finalize(self, release, header)


def lease(database: Path) -> Lease | None:
    """Return a Lease of ``database``'s header for one connection (see ``acquire``)."""
    header = acquire(database)
    return Lease(header) if header is not None else None


def _drop_inherited() -> None:
    """In a forked child, before it opens any connection: the parent's maps and descriptors
    are copies the child holds no lock through, so closing them is safe."""
    global _lock
    _lock = threading.Lock()
    for header in _headers.values():
        header._close()
    _headers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited)
