"""The function registry: name -> (implementation, min args, max args)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.sqlpp.values import MISSING

FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {}


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


# The default of an optional argument that was not given: a MISSING argument given
# explicitly is not the same call (``SPLIT(s, MISSING)`` is MISSING, ``SPLIT(s)`` splits).
ABSENT: Any = _Absent()


def fn(*names: str, lo: int = 1, hi: int | None = -1) -> Callable[[Callable[..., Any]], Any]:
    """Register a function under one or more names; hi=-1 means hi=lo, None unbounded."""

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            FUNCTIONS[name] = (f, lo, lo if hi == -1 else hi)
        return f

    return deco


def unknown(*args: Any) -> Any:
    """Return MISSING if any argument is MISSING, else NULL if any is NULL, else False."""
    for a in args:
        if a is MISSING:
            return MISSING
    for a in args:
        if a is None:
            return None
    return False
