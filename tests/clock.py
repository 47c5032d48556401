"""A wall clock the test moves forward: expiry checked without sleeping and without races."""

from __future__ import annotations

import time

import pytest


class ShiftedClock:
    """The time module, with ``time()`` ahead of the real one by ``offset`` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def __getattr__(self, name: str):
        return getattr(time, name)


def shift_store_clock(monkeypatch: pytest.MonkeyPatch) -> ShiftedClock:
    """Give the embedded store (its expiry times and reads) a clock the test moves."""
    from catalog.store import embedded

    clock = ShiftedClock()
    monkeypatch.setattr(embedded, "time", clock)
    return clock
