"""SQLite's WAL-index header, read with one ``pread``: has anything been committed?

In WAL mode SQLite keeps the header of its WAL index in the first 48 bytes of the
database's ``-shm`` file (https://www.sqlite.org/walformat.html, "The WAL-Index Header"):
``iVersion``, an unused word, ``iChange`` ("counter incremented each transaction"),
``isInit``, the checksum byte order, the page size, ``mxFrame`` (the last valid frame),
``nPage``, the last frame's checksum, the WAL salts and the header's own checksum. A commit,
by any connection of any process, rewrites it before its writer lets go of the write lock;
that is how every reader finds the newest commit. So if two reads of the header give the
same bytes, nothing was committed in between.

Reading it costs one ``pread`` (about 1 µs). ``PRAGMA data_version`` asks the same question
through SQLite, which starts a read transaction and takes and drops a lock on the file: on
the prediction route it cost 30-65 µs a request, cache misses included (bench_serving.py).

A header read outside SQLite's locks may be torn while a commit is under way: that only
makes it differ from the last one, and the caller reads again. It says nothing about what a
connection holding an older read snapshot sees (a paused scan): ``EmbeddedStore`` uses it
only when its connection holds no transaction and no open scan.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

HEADER_BYTES = 48
_IS_INIT = 12  # byte offset of isInit: 1 once the header is written


class WalHeader:
    """A read-only descriptor of one database's ``-shm`` file (closed with this object)."""

    def __init__(self, fd: int):
        self._fd = fd
        self._finalizer = weakref.finalize(self, os.close, fd)

    def read(self) -> bytes | None:
        """Return the header's bytes, or None if there is no initialised header to read."""
        try:
            header = os.pread(self._fd, HEADER_BYTES, 0)
        except OSError:
            return None
        if len(header) != HEADER_BYTES or header[_IS_INIT] != 1:
            return None
        return header

    def close(self) -> None:
        """Close the descriptor (once; later calls do nothing)."""
        self._finalizer()


def open_header(database: Path) -> WalHeader | None:
    """Return the WAL-index header of ``database``, or None when it has none to read.

    Call it once a connection in WAL mode has read the database: the connection then holds
    SQLite's lock on the ``-shm`` file, so no other process can delete or truncate it (only
    the last connection to close does) while the connection stays open.
    """
    if not hasattr(os, "pread"):  # Windows: SQLite's PRAGMA answers instead
        return None
    try:
        fd = os.open(f"{database}-shm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    return WalHeader(fd)
