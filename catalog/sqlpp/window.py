"""Window functions: ranking, navigation and aggregates OVER (PARTITION BY ... ORDER BY ...).

They run after grouping and HAVING, on the rows the SELECT block projects: each call's value
is computed for every row of its partition (sorted by the window's ORDER BY) and stored in
the row's environment under ``win_key(i)``, which the compiled expression reads.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.aggregates import AGGREGATES, Accumulator
from catalog.sqlpp.errors import SqlppError
from catalog.sqlpp.ordering import cmp_keys
from catalog.sqlpp.values import MISSING, collate, hkey, is_num, truth

Env = dict
Fn = Callable[[Env], Any]

RANKING = frozenset(["row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile"])
NAVIGATION = frozenset(["lag", "lead"])
VALUE = frozenset(["first_value", "last_value", "nth_value", "ratio_to_report"])
WINDOW_FUNCTIONS = RANKING | NAVIGATION | VALUE


def win_key(i: int) -> tuple[str, int]:
    """Return the env key holding the value of window call number i."""
    return ("\x00win", i)


def collect_windows(nodes: list[Any]) -> list[A.Call]:
    """Return the window calls under nodes, not descending into subqueries."""
    out: list[A.Call] = []
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, (str, int, float, bool, A.Subquery)):
            continue
        if isinstance(n, A.Call) and n.over is not None:
            out.append(n)
            continue
        stack.extend(A.children(n))
    return out


def _resolve(w: A.Window, named: dict[str, A.Window]) -> A.Window:
    if w.ref is None:
        return w
    base = named.get(w.ref)
    if base is None:
        raise SqlppError(f"window {w.ref} is not defined")
    base = _resolve(base, named)
    if w.partition:
        raise SqlppError(f"a window refining {w.ref} cannot have its own PARTITION BY")
    return A.Window(None, base.partition, w.order or base.order, w.frame or base.frame)


class _Call:
    """One compiled window call."""

    def __init__(self, c: A.Call, w: A.Window, comp: Any) -> None:
        self.name = c.name
        if c.name not in RANKING | NAVIGATION | VALUE and c.name not in AGGREGATES:
            raise SqlppError(f"{c.name.upper()}() is not a window function")
        self.call = c
        self.partition = [comp.compile(e) for e in w.partition]
        self.order = [(comp.compile(o.expr), o.desc, o.nulls_first) for o in w.order]
        self.args = [comp.compile(a) for a in c.args]
        self.filter = comp.compile(c.filter) if c.filter is not None else None
        self.frame = w.frame
        self.bounds = {}
        if w.frame is not None:
            for side in (w.frame.start, w.frame.end):
                if side[1] is not None:
                    self.bounds[id(side)] = comp.compile(side[1])
        if c.name in ("rank", "dense_rank", "percent_rank", "cume_dist") and not w.order:
            raise SqlppError(f"{c.name.upper()}() needs an ORDER BY in its window")


class WindowPlan:
    """Compute every window call of a SELECT block over its rows."""

    def __init__(self, calls: list[A.Call], comp: Any, named: dict[str, A.Window]) -> None:
        self.calls = [_Call(c, _resolve(c.over, named), comp) for c in calls]  # type: ignore[arg-type]

    def apply(self, envs: list[Env]) -> list[Env]:
        for i, wc in enumerate(self.calls):
            k = win_key(i)
            parts: dict[Any, list[Env]] = {}
            for e in envs:
                parts.setdefault(tuple(hkey(f(e)) for f in wc.partition), []).append(e)
            for rows in parts.values():
                for e, v in zip(rows_sorted := _sort(rows, wc), _values(rows_sorted, wc),
                                strict=True):  # fmt: skip
                    e[k] = v
        return envs


def _sort(rows: list[Env], wc: _Call) -> list[Env]:
    if not wc.order:
        return rows
    keyed = [([f(e) for f, _, _ in wc.order], e) for e in rows]
    keyed.sort(key=cmp_to_key(cmp_keys(wc.order)))
    return [e for _, e in keyed]


def _peers(rows: list[Env], wc: _Call) -> tuple[list[int], list[int], list[int]]:
    """Return, per row: peer group number, first and last index of its peer group."""
    n = len(rows)
    if not wc.order:
        return [0] * n, [0] * n, [n - 1] * n
    cmp = cmp_keys(wc.order)
    keys = [([f(e) for f, _, _ in wc.order], None) for e in rows]
    gid, first = [0] * n, [0] * n
    g, start = 0, 0
    for j in range(n):
        if j and cmp(keys[j - 1], keys[j]) != 0:
            g, start = g + 1, j
        gid[j], first[j] = g, start
    last = [0] * n
    end = n - 1
    for j in range(n - 1, -1, -1):
        if j < n - 1 and gid[j + 1] != gid[j]:
            end = j
        last[j] = end
    return gid, first, last


def _offset(wc: _Call, side: tuple[str, Any], env: Env) -> Any:
    v = wc.bounds[id(side)](env)
    if not is_num(v) or v < 0:
        raise SqlppError("a window frame offset must be a non-negative number")
    return v


def _frame(j: int, rows: list[Env], wc: _Call, peers: Any) -> list[int]:
    """Return the indexes of row j's frame."""
    gid, first, last = peers
    n = len(rows)
    f = wc.frame
    if f is None:
        return list(range(0, last[j] + 1)) if wc.order else list(range(n))
    lo = _bound(j, f.start, f, rows, wc, peers, True)
    hi = _bound(j, f.end, f, rows, wc, peers, False)
    idx = [i for i in range(max(lo, 0), min(hi, n - 1) + 1)]
    if f.exclude == "current row":
        idx = [i for i in idx if i != j]
    elif f.exclude == "group":
        idx = [i for i in idx if gid[i] != gid[j]]
    elif f.exclude == "ties":
        idx = [i for i in idx if i == j or gid[i] != gid[j]]
    return idx


def _bound(j: int, side: tuple[str, Any], f: A.Frame, rows: list[Env], wc: _Call,
           peers: Any, is_start: bool) -> int:  # fmt: skip
    gid, first, last = peers
    n = len(rows)
    kind = side[0]
    if kind == "unbounded preceding":
        return 0
    if kind == "unbounded following":
        return n - 1
    if kind == "current":
        if f.unit == "rows":
            return j
        return first[j] if is_start else last[j]
    off = _offset(wc, side, rows[j])
    sign = -1 if kind == "preceding" else 1
    if f.unit == "rows":
        return j + sign * int(off)
    if f.unit == "groups":
        g = gid[j] + sign * int(off)
        if g < 0:
            return 0 if is_start else -1
        if g > gid[-1]:
            return n if is_start else n - 1
        members = [i for i in range(n) if gid[i] == g]
        return members[0] if is_start else members[-1]
    # RANGE with an offset: by the value of the (single) ORDER BY key
    if len(wc.order) != 1:
        raise SqlppError("RANGE with an offset needs exactly one ORDER BY term")
    key, desc, _ = wc.order[0]
    here = key(rows[j])
    if here is None or here is MISSING:
        return first[j] if is_start else last[j]  # NULL/MISSING keys: their peers
    if not is_num(here):
        return n if is_start else -1  # a value offset from another non-number: empty
    target = here + (-sign if desc else sign) * off
    # keys in collation order: non-numbers sort around the numbers, as Couchbase compares them
    cmp = [collate(key(e), target) for e in rows]
    if desc:
        cmp = [-c for c in cmp]
    if is_start:
        return next((i for i in range(n) if cmp[i] >= 0), n)
    return next((i for i in range(n - 1, -1, -1) if cmp[i] <= 0), -1)


def _values(rows: list[Env], wc: _Call) -> list[Any]:
    n, name = len(rows), wc.name
    peers = _peers(rows, wc)
    gid, first, last = peers
    out: list[Any] = []
    if name == "row_number":
        return list(range(1, n + 1))
    if name == "rank":
        return [first[j] + 1 for j in range(n)]
    if name == "dense_rank":
        return [gid[j] + 1 for j in range(n)]
    if name == "percent_rank":
        return [(first[j]) / (n - 1) if n > 1 else 0 for j in range(n)]
    if name == "cume_dist":
        return [(last[j] + 1) / n for j in range(n)]
    if name == "ntile":
        k = wc.args[0](rows[0]) if wc.args else None
        if not is_num(k) or k < 1 or k != int(k):
            raise SqlppError("NTILE() needs a positive integer")
        q, r = divmod(n, int(k))
        big = r * (q + 1)
        return [j // (q + 1) + 1 if j < big else r + (j - big) // q + 1 for j in range(n)]
    if name in NAVIGATION:
        return _navigate(rows, wc)
    for j in range(n):
        idx = _frame(j, rows, wc, peers)
        out.append(_frame_value(j, idx, rows, wc))
    return out


def _navigate(rows: list[Env], wc: _Call) -> list[Any]:
    n = len(rows)
    out = []
    step = -1 if wc.name == "lag" else 1
    for j, e in enumerate(rows):
        off = wc.args[1](e) if len(wc.args) > 1 else 1
        if not is_num(off) or off < 0 or off != int(off):
            raise SqlppError(f"{wc.name.upper()}() offset must be a non-negative integer")
        default = wc.args[2](e) if len(wc.args) > 2 else None
        i, left = j, int(off)
        found: Any = default
        while left > 0:
            i += step
            if not 0 <= i < n:
                break
            v = wc.args[0](rows[i])
            if wc.call.ignore_nulls and (v is None or v is MISSING):
                continue
            left -= 1
            if left == 0:
                found = v
        if int(off) == 0:
            found = wc.args[0](e)
        out.append(None if found is MISSING else found)
    return out


def _frame_value(j: int, idx: list[int], rows: list[Env], wc: _Call) -> Any:
    name = wc.name
    if name in AGGREGATES:
        c = wc.call
        acc = Accumulator(name, c.distinct, c.star)
        for i in idx:
            e = rows[i]
            if wc.filter is not None and not truth(wc.filter(e)):
                continue
            acc.add(None if c.star else wc.args[0](e))
        return acc.result()
    if name == "ratio_to_report":
        v = wc.args[0](rows[j])
        total = sum(x for x in (wc.args[0](rows[i]) for i in idx) if is_num(x))
        if not is_num(v) or total == 0:
            return None
        return v / total
    vals = [wc.args[0](rows[i]) for i in idx]
    vals = [None if v is MISSING else v for v in vals]
    if wc.call.ignore_nulls:
        vals = [v for v in vals if v is not None]
    if name == "first_value":
        return vals[0] if vals else None
    if name == "last_value":
        return vals[-1] if vals else None
    nth = wc.args[1](rows[j]) if len(wc.args) > 1 else None
    if not is_num(nth) or nth < 1 or nth != int(nth):
        raise SqlppError("NTH_VALUE() needs a positive integer")
    k = int(nth) - 1
    if wc.call.from_last:
        vals = vals[::-1]
    return vals[k] if k < len(vals) else None
