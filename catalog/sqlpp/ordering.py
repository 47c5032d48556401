"""ORDER BY: compare rows by their sort keys (ASC/DESC, NULLS FIRST/LAST, N1QL collation)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from catalog.sqlpp.budget import tick
from catalog.sqlpp.values import T_NULL, collate, rank


def cmp_keys(order: list[tuple[Any, bool, bool | None]]) -> Callable[[Any, Any], int]:
    spec = [(desc, nf) for _, desc, nf in order]

    def cmp(x: Any, y: Any) -> int:
        tick()
        for (desc, nf), a, b in zip(spec, x[0], y[0], strict=False):
            if nf is not None:
                ua, ub = rank(a) <= T_NULL, rank(b) <= T_NULL
                if ua != ub:
                    c = -1 if ua else 1
                    if not nf:
                        c = -c
                    return c
            c = collate(a, b)
            if c:
                return -c if desc else c
        return 0

    return cmp


def sort_keyed(items: list[Any], order: list[Any], top: int | None = None) -> list[Any]:
    """Sort (keys, payload) pairs by ORDER BY terms; keep the first `top` only if given."""
    key = cmp_to_key(cmp_keys(order))
    if top is not None and top < len(items) // 4:
        return heapq.nsmallest(top, items, key=key)
    return sorted(items, key=key)
