"""Per-statement limits checked inside evaluation: a deadline and a memory quota.

``execute()`` makes one :class:`Budget` current for the statement (a context variable, so
each thread and each nested statement sees its own). The engine calls it from inside
evaluation, not only between rows:

- ``tick(n)`` in every loop that may run long (comprehensions, ANY/EVERY, joins, UNNEST,
  GROUP BY, ORDER BY, array and regex functions; ``n`` is the work done, in items or 4 KiB
  blocks): every ``CHECK_EVERY`` units it compares the clock with the deadline;
- ``reserve(what, size, held)`` BEFORE a function builds a value: refuses it when one value
  would pass ``value_limit`` (Couchbase's 20 MiB limit on the result of REPEAT, ARRAY_RANGE,
  ``||`` ..., error 5037, sized as Couchbase sizes it: bytes of a string, 8 per array
  element), then charges ``held`` (what CPython holds, estimated) to the statement's memory
  quota (Couchbase's ``memory_quota`` request parameter, error 5500) and checks the clock;
- ``charge(held)`` for values built a piece at a time (comprehensions, constructors).

The quota counts every value built, never what was freed, so it bounds the peak; as a
backstop for allocations nobody charged (projected rows, environments), the growth of the
process's resident memory since the statement started is checked with the clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from catalog.sqlpp.errors import SqlppLimitExceeded, SqlppTimeout

MIB = 2**20
# Largest value one function may build, as Couchbase sizes it (its execution.size_error).
MAX_VALUE_BYTES = 20 * MIB
# Work units (loop iterations, 4 KiB blocks) between two looks at the clock.
CHECK_EVERY = 256
# Clock checks between two looks at the resident memory (one read of /proc/self/statm).
RSS_EVERY = 4
# CPython's cost of an array slot and of a small boxed number, for the memory quota.
SLOT_BYTES = 8
NUMBER_BYTES = 32
OBJECT_BYTES = 64

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """Return this process's resident memory in bytes (None where /proc is absent)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _fmt_seconds(s: float) -> str:
    """Return a duration as Go prints it in Couchbase's message ("10s", "200ms")."""
    return f"{s:.3g}s" if s >= 1 else f"{s * 1000:.3g}ms"


class Budget:
    """The limits of one statement and what it has used of them."""

    __slots__ = ("deadline", "timeout_s", "quota", "used", "value_limit", "_n", "_k", "_rss0")

    def __init__(self, deadline: float | None = None, memory_mb: float | None = None) -> None:
        self.deadline = deadline
        self.timeout_s = None if deadline is None else max(0.0, deadline - time.monotonic())
        self.quota = None if not memory_mb or memory_mb <= 0 else int(memory_mb * MIB)
        self.used = 0
        # Couchbase lowers the size limit of one value to the request's quota when smaller.
        self.value_limit = (
            MAX_VALUE_BYTES if self.quota is None else min(MAX_VALUE_BYTES, self.quota)
        )
        self._n = CHECK_EVERY
        self._k = RSS_EVERY
        self._rss0 = resident_bytes() if self.quota is not None else None

    def tick(self, n: int = 1) -> None:
        """Count n units of work; look at the clock every CHECK_EVERY units."""
        self._n -= n
        if self._n <= 0:
            self._n = CHECK_EVERY
            self.check()

    def check(self) -> None:
        """Raise if the deadline has passed or the process grew past the quota."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SqlppTimeout(
                f"Timeout {_fmt_seconds(self.timeout_s or 0)} exceeded: the query timed out"
            )

        if self._rss0 is not None:
            self._k -= 1
            if self._k <= 0:
                self._k = RSS_EVERY
                rss = resident_bytes()
                if rss is not None and rss - self._rss0 > self.quota:  # type: ignore[operator]
                    self._over_quota(rss - self._rss0)

    def reserve(self, what: str, size: int, held: int | None = None) -> None:
        """Refuse a value of ``size`` bytes over the value limit; charge ``held`` bytes."""
        if size > self.value_limit:
            raise SqlppLimitExceeded(
                f"Size of {what} result exceeds limit ({size} > {self.value_limit}).",
                "memory",
                5037,
            )
        self.charge(size if held is None else held)
        self.check()

    def charge(self, held: int) -> None:
        """Add ``held`` bytes to what the statement built; raise once over the quota.

        Building costs time too: every 64 KiB charged counts as a unit of work.
        """
        self.tick(1 + (held >> 16))
        self.used += held
        if self.quota is not None and self.used > self.quota:
            self._over_quota(self.used)

    def charge_result(self, rows: list[Any]) -> None:
        """Charge the result rows as the JSON they will be written as (quota set only)."""
        if self.quota is not None:
            self.charge(json_size(rows, self.quota - self.used + 1))

    def _over_quota(self, used: int) -> None:
        raise SqlppLimitExceeded(
            f"Request has exceeded memory quota ({used // MIB} MB used, "
            f"quota {self.quota // MIB if self.quota else 0} MB)",
            "memory",
            5500,
        )


# Outside a statement (functions called directly) only the size of one value is limited.
_UNLIMITED = Budget()
_current: ContextVar[Budget] = ContextVar("sqlpp_budget", default=_UNLIMITED)


def current() -> Budget:
    """Return the budget of the statement being evaluated."""
    return _current.get()


@contextmanager
def active(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the current one for the block."""
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def tick(n: int = 1) -> None:
    """Count n units of work against the current statement's deadline."""
    _current.get().tick(n)


def reserve(what: str, size: int, held: int | None = None) -> None:
    """Check and charge a value about to be built (see Budget.reserve)."""
    _current.get().reserve(what, size, held)


def charge(held: int) -> None:
    """Charge bytes held by a value built piecewise to the current statement."""
    _current.get().charge(held)


def str_bytes(s: str) -> int:
    """Return the bytes a string takes in CPython, estimated in O(1)."""
    return len(s) * (1 if s.isascii() else 4) + 49


def value_bytes(v: Any, depth: int = 1) -> int:
    """Return a cheap estimate of the bytes a JSON value holds (nested levels up to depth)."""
    t = type(v)
    if t is str:
        return str_bytes(v)
    if t is list:
        n = 56 + SLOT_BYTES * len(v)
        if depth > 0 and v:
            n += len(v) * value_bytes(v[0], depth - 1)
        return n
    if t is dict:
        n = OBJECT_BYTES + 100 * len(v)
        if depth > 0:
            for x in v.values():
                n += value_bytes(x, depth - 1)
        return n
    return NUMBER_BYTES


def work_units(n_chars: int) -> int:
    """Return the work units of scanning n characters (one per 4 KiB)."""
    return 1 + (n_chars >> 12)


def json_size(v: Any, limit: int) -> int:
    """Return the length of v written as JSON, roughly; stop counting once past ``limit``.

    Shared references count every time they appear (as they would be written), so a value
    built by nesting one big string many times is measured as what serialising it costs.
    """
    total, stack = 0, [v]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is str:
            total += len(x) + 2
        elif t is list:
            total += 2 + len(x)
            stack.extend(x)
        elif t is dict:
            total += 2 + len(x)
            for k, y in x.items():
                total += len(k) + 3
                stack.append(y)
        else:
            total += 8
        if total > limit:
            return total
    return total


__all__ = [
    "Budget",
    "json_size",
    "MAX_VALUE_BYTES",
    "active",
    "charge",
    "current",
    "reserve",
    "resident_bytes",
    "str_bytes",
    "tick",
    "value_bytes",
    "work_units",
]
