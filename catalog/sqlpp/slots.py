"""A cap on user statements running at once in the whole server, across worker processes.

The deadline and the memory quota bound what one statement costs; they do not stop a few
clients from keeping every web worker busy with statements that each run to their limit,
so that pages wait behind them. ``StatementSlots`` holds one of ``count`` lock files
(``flock``, released by the kernel even when a worker dies) while a statement runs; when
none is free the statement is refused at once with ``StatementsBusy`` (the web answers
429), so the other workers stay free for pages.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StatementsBusy(Exception):
    """Every statement slot is taken: try again shortly."""


class StatementSlots:
    """``count`` slots shared by every process that uses the same directory."""

    def __init__(self, directory: str | os.PathLike[str], count: int) -> None:
        self.directory = Path(directory)
        self.count = max(1, int(count))

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Hold a free slot for the block (yield its number); raise StatementsBusy if none."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for i in range(self.count):
            fd = os.open(self.directory / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield i
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        raise StatementsBusy(
            f"the query service is busy ({self.count} statement(s) running at once at most); "
            "try again in a moment"
        )


__all__ = ["StatementSlots", "StatementsBusy"]
