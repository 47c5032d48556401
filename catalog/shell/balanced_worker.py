"""A gunicorn gthread worker that takes a new connection only when it holds no more than
its siblings: keep-alive connections end up spread over the workers.

gunicorn's gthread workers all wait on one listening socket, and whichever wakes first
accepts. A kept-alive connection then stays with that worker for its whole life, so a few
long-lived connections (a load balancer's upstream pool, tritonclient's, wrk's) often all
land in one process: it serves every request on one core while the other workers idle
(bench/results/serving.md, runs 13 and 18: 0+4 and 0+16 placements in up to half the rounds).

Here each worker publishes how many connections it holds in a small shared-memory table
made by the arbiter before it forks, and stops accepting while it holds more than the
least loaded live sibling; it starts again as soon as it is among the least loaded. A
worker looks at the table when it accepts and, while it refuses, every ``RECHECK_S``: one
that is accepting when a sibling's connections close may take one more before it stops.
The table is advisory. A worker that has refused for ``STALE_AFTER_S`` while a connection
waits at the listener accepts it anyway, so a table that is wrong (a sibling killed by
SIGKILL whose slot is not cleared yet, a sibling slow to look again) delays a new connection
by that much at most and never refuses service.

Use: ``gunicorn catalog.shell.wsgi --worker-class catalog.shell.balanced_worker.BalancedThreadWorker
--workers 2 --threads 2``. It relies on gunicorn 27's gthread internals (``accept``,
``set_accept_enabled``, ``wait_for_and_dispatch_events``); pyproject pins the major version.
"""

from __future__ import annotations

import mmap
import os
import select
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Workers a table can follow (gunicorn's --workers beyond it: the rest are not balanced).
SLOTS = 64
# How often a refusing worker looks at its siblings' counts again, in seconds.
RECHECK_S = 0.02
# A connection waiting this long at the listener is taken by a refusing worker anyway.
STALE_AFTER_S = 0.05

_PID, _CONNS = 0, 1  # the two 8-byte fields of a slot
_TOP = SLOTS * 2  # the cell after the slots: 1 + the highest slot ever claimed


class _Table:
    """Per-worker (pid, connections) pairs in anonymous shared memory, made before fork."""

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, SLOTS * 16 + 8)
        self.cells = memoryview(self._map).cast("q")

    def claim(self) -> int | None:
        """Reserve a free slot for a worker about to be forked (runs in the arbiter)."""
        me = os.getpid()
        for slot in range(SLOTS):
            pid = self.cells[slot * 2 + _PID]
            if pid == 0 or (pid != me and not _alive(pid)):
                self.cells[slot * 2 + _PID] = me  # the arbiter's pid: reserved, not started
                self.cells[slot * 2 + _CONNS] = 0
                self.cells[_TOP] = max(self.cells[_TOP], slot + 1)
                return slot
        return None

    def start(self, slot: int) -> None:
        self.cells[slot * 2 + _CONNS] = 0
        self.cells[slot * 2 + _PID] = os.getpid()

    def publish(self, slot: int, conns: int) -> None:
        self.cells[slot * 2 + _CONNS] = conns

    def release(self, slot: int, arbiter: int) -> None:
        """Free a worker's slot: started by it, or still reserved for it (it failed to boot)."""
        if self.cells[slot * 2 + _PID] in (os.getpid(), arbiter):
            self.cells[slot * 2 + _PID] = 0

    def holds_no_more(self, slot: int, conns: int, arbiter: int) -> bool:
        """Return whether no started sibling holds fewer connections than ``conns``. A sibling
        that died without releasing its slot (SIGKILL) is found out here and forgotten."""
        for other in range(self.cells[_TOP]):  # the arbiter claims the lowest free slot first
            pid = self.cells[other * 2 + _PID]
            if other == slot or pid in (0, arbiter) or self.cells[other * 2 + _CONNS] >= conns:
                continue
            if _alive(pid):
                return False
            if self.cells[other * 2 + _PID] == pid:
                self.cells[other * 2 + _PID] = 0
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Made when gunicorn's arbiter imports the worker class, so every forked worker shares it.
_table = _Table()


class BalancedThreadWorker(ThreadWorker):
    """gthread, accepting only while it holds no more connections than any live sibling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # in the arbiter, before the fork
        self._slot = _table.claim()
        self._refused_since: float | None = None
        self._seen_waiting = False

    def init_process(self) -> None:
        try:
            super().init_process()  # loads the app, then runs the loop until the worker exits
        finally:
            if self._slot is not None:
                _table.release(self._slot, self.ppid)

    def run(self) -> None:
        # In the table only from here: a worker still loading the app (Django, warming its
        # sessions: seconds) holds no connection, and its siblings must not wait for it.
        if self._slot is not None:
            _table.start(self._slot)
        super().run()

    def least_loaded(self) -> bool:
        """Return whether this worker holds no more connections than each live sibling."""
        if self._slot is None:
            return True
        _table.publish(self._slot, self.nr_conns)
        return _table.holds_no_more(self._slot, self.nr_conns, self.ppid)

    def set_accept_enabled(self, enabled: bool) -> None:
        # While it is under worker_connections and not accepting, the loop asks for True on
        # every turn: each turn looks at the siblings again.
        if enabled and not self.least_loaded() and not self._waited_too_long():
            enabled = False
        self._set_accepting(enabled)

    def accept(self, listener: Any) -> None:
        super().accept(listener)
        if not self.least_loaded():
            self._set_accepting(False)

    def _set_accepting(self, enabled: bool) -> None:
        if enabled:
            self._refused_since, self._seen_waiting = None, False
        elif self._refused_since is None:
            self._refused_since = time.monotonic()
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self._slot is not None:
            _table.publish(self._slot, self.nr_conns)
            if not self._accepting and self.alive:
                timeout = min(timeout, RECHECK_S)  # look at the siblings again soon
        super().wait_for_and_dispatch_events(timeout)

    def _waited_too_long(self) -> bool:
        """Return whether connections still wait at the listener after this worker has refused
        for ``STALE_AFTER_S``: the table is then not to be trusted, and this worker takes one."""
        since = self._refused_since
        if since is None or time.monotonic() - since < STALE_AFTER_S:
            return False
        waiting, _, _ = select.select(self.sockets, [], [], 0)
        # twice in a row, RECHECK_S apart: not a connection a sibling is just taking
        seen_before, self._seen_waiting = self._seen_waiting, bool(waiting)
        return seen_before and bool(waiting)
