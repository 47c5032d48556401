"""The WAL-index header map never drops SQLite's locks on the ``-shm`` file.

SQLite's locks on the ``-shm`` file are POSIX record locks: closing any descriptor of the
file drops every lock the process holds on it. A connection holds a shared lock on the
"DMS" byte (offset 128) while it has the file open; without it, the next process to open
the database truncates the file under the live connections (SIGBUS in whoever has it
mapped). These tests look at that lock from another process, with F_GETLK, on the real
embedded store.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from catalog.store import wal_header
from catalog.store.embedded import EmbeddedStore

pytestmark = pytest.mark.skipif(not hasattr(fcntl, "F_GETLK"), reason="POSIX locks only")

DMS_BYTE = 128  # UNIX_SHM_BASE (120) + SQLITE_SHM_NLOCK (8), sqlite3's os_unix.c

_PROBE = r"""
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
# struct flock on Linux x86-64: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t
lock = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, int(sys.argv[2]), 1, 0)
got = fcntl.fcntl(fd, fcntl.F_GETLK, lock + b"\0" * 4)
l_type, _, _, _, pid = struct.unpack("hhqqi", got[:struct.calcsize("hhqqi")])
print(l_type, pid)
"""


def dms_holder(shm: Path) -> tuple[int, int]:
    """Return (lock type, pid) of who holds the DMS byte, as another process sees it."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(shm), str(DMS_BYTE)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    l_type, pid = out.stdout.split()
    return int(l_type), int(pid)


def open_store(path: Path) -> EmbeddedStore:
    """Return a store on ``path`` whose connection has written and leased the header."""
    store = EmbeddedStore(path)
    store.upsert("ml.catalog.models", "k", {"v": 1})
    assert isinstance(store.change_token()[1], bytes)  # read from the header
    return store


@pytest.mark.skipif(sys.platform != "linux", reason="struct flock layout of Linux x86-64")
def test_closing_one_connection_keeps_the_other_connections_locks(tmp_path: Path):
    db = tmp_path / "c.sqlite3"
    first, second = open_store(db), open_store(db)
    shm = Path(f"{db}-shm")
    assert dms_holder(shm) == (fcntl.F_RDLCK, os.getpid())
    first.close()
    # The second connection is still open: its lock must still be there. Closing a
    # descriptor of the -shm file when the first store closed would have dropped it.
    assert dms_holder(shm) == (fcntl.F_RDLCK, os.getpid())
    assert isinstance(second.change_token()[1], bytes)  # still read from the header
    second.close()  # the process's last connection: SQLite removes the -shm file
    assert not shm.exists() or dms_holder(shm)[0] == fcntl.F_UNLCK


def test_one_header_per_file_released_after_its_last_connection(tmp_path: Path):
    db = tmp_path / "c.sqlite3"
    stores = [open_store(db)]
    thread_tokens = []

    def in_thread() -> None:  # another thread: its own connection, the same header
        thread_tokens.append(stores[0].change_token())
        stores[0].close()

    key = next(k for k, h in wal_header._headers.items() if h.users and _is(db, k))
    assert wal_header._headers[key].users == 1
    stores.append(open_store(db))
    assert wal_header._headers[key].users == 2
    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert isinstance(thread_tokens[0][1], bytes)
    assert wal_header._headers[key].users == 2  # the thread's lease came and went
    for store in stores:
        store.close()
    assert key not in wal_header._headers


def _is(db: Path, key: tuple[int, int]) -> bool:
    st = os.stat(f"{db}-shm")
    return (st.st_dev, st.st_ino) == key
