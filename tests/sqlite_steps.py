"""SQLite's VM steps of a piece of work: a cost independent of the machine's speed.

Counted with a progress handler called every thousand steps, so two amounts of work
(a publish into a model with 2 versions and one with 2,000) compare deterministically.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def thousand_steps(conn: sqlite3.Connection, work: Callable[[], object]) -> int:
    """Return the VM steps (in thousands) that ``conn`` runs while ``work()`` runs."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    conn.set_progress_handler(count, 1000)
    try:
        work()
    finally:
        conn.set_progress_handler(None, 1000)
    return steps
