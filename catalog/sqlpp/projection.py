"""SELECT ... EXCLUDE: remove fields (or array elements) from projected rows."""

from __future__ import annotations

import copy
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.values import MISSING, is_num


def _steps(e: A.Node) -> list[Any] | None:
    out: list[Any] = []
    while True:
        if isinstance(e, A.Field):
            out.append(e.name)
            e = e.base
        elif isinstance(e, A.Index) and isinstance(e.index, A.Lit) and is_num(e.index.value):
            out.append(int(e.index.value))
            e = e.base
        elif isinstance(e, A.Ident):
            out.append(e.name)
            out.reverse()
            return out
        else:
            return None


def _remove(obj: Any, steps: list[Any]) -> bool:
    cur = obj
    for s in steps[:-1]:
        if (
            type(cur) is dict
            and isinstance(s, str)
            and s in cur
            or type(cur) is list
            and isinstance(s, int)
            and -len(cur) <= s < len(cur)
        ):
            cur = cur[s]
        else:
            return False
    last = steps[-1]
    if type(cur) is dict and isinstance(last, str) and last in cur:
        del cur[last]
        return True
    if type(cur) is list and isinstance(last, int) and -len(cur) <= last < len(cur):
        del cur[last]
        return True
    return False


def _remove_anywhere(row: dict[str, Any], steps: list[Any]) -> None:
    if _remove(row, steps):
        return
    for v in row.values():
        if type(v) is dict and _remove(v, steps):
            return


def apply_exclude(row: Any, nodes: list[A.Node], fns: list[Any], env: dict) -> Any:
    """Return a copy of row without the fields named by the EXCLUDE expressions."""
    if type(row) is not dict:
        return row
    row = copy.deepcopy(row)
    for node, f in zip(nodes, fns, strict=False):
        steps = _steps(node)
        if steps is not None:
            _remove_anywhere(row, steps)
            continue
        v = f(env)
        names = v.split(",") if isinstance(v, str) else v if type(v) is list else []
        for name in names:
            if isinstance(name, str) and name.strip() and v is not MISSING:
                _remove_anywhere(row, [p for p in name.strip().split(".")])
    return row
