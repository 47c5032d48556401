"""Array functions: ARRAY_APPEND ... ARRAY_UNION, plus slice/element helpers.

A function that builds an array reserves its size with the statement's budget BEFORE
building it (Couchbase's size: 8 bytes an element, the element's own size for
ARRAY_REPEAT); loops over elements count as work against the deadline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from catalog.sqlpp import budget
from catalog.sqlpp.budget import NUMBER_BYTES, SLOT_BYTES, json_size
from catalog.sqlpp.registry import fn, unknown
from catalog.sqlpp.values import MISSING, T_NULL, collate, equals, hkey, is_num, rank


def _reserve(what: str, n: int, new_items: int = 0) -> None:
    """Reserve an array of n slots, new_items of them new boxed numbers."""
    budget.reserve(what, SLOT_BYTES * n, 56 + SLOT_BYTES * n + NUMBER_BYTES * new_items)


def _ticking(items: list[Any]) -> Any:
    """Iterate items, counting each as a unit of work against the deadline."""
    b = budget.current()
    for x in items:
        b.tick()
        yield x


def _sorted(a: list[Any]) -> list[Any]:
    b = budget.current()

    def cmp(x: Any, y: Any) -> int:
        b.tick()
        return collate(x, y)

    _reserve("array_sort()", len(a))
    return sorted(a, key=cmp_to_key(cmp))


def _arr(f: Any) -> Any:
    """Wrap a function whose first argument must be an array (MISSING/NULL propagate)."""

    def g(a: Any, *rest: Any) -> Any:
        if a is MISSING:
            return MISSING
        if type(a) is not list:
            return None
        return f(a, *rest)

    return g


def _int(v: Any) -> int | None:
    if is_num(v) and not math.isinf(v) and v == v and v == int(v):
        return int(v)
    return None


def _vals(a: Any, *xs: Any) -> Any:
    u = unknown(a, *[x for x in xs if x is MISSING])
    if u is MISSING:
        return MISSING
    if type(a) is not list:
        return None
    return a


@fn("array_append", lo=2, hi=None)
def array_append(a: Any, *xs: Any) -> Any:
    if a is MISSING or any(x is MISSING for x in xs):
        return MISSING
    if type(a) is not list:
        return None
    _reserve("array_append()", len(a) + len(xs))
    return a + list(xs)


@fn("array_prepend", lo=2, hi=None)
def array_prepend(*args: Any) -> Any:
    a, xs = args[-1], args[:-1]
    if a is MISSING or any(x is MISSING for x in xs):
        return MISSING
    if type(a) is not list:
        return None
    _reserve("array_prepend()", len(a) + len(xs))
    return list(xs) + a


@fn("array_concat", lo=2, hi=None)
def array_concat(*arrs: Any) -> Any:
    u = unknown(*arrs)
    if u is MISSING:
        return MISSING
    if any(type(a) is not list for a in arrs):
        return None
    _reserve("array_concat()", sum(len(a) for a in arrs))
    out: list[Any] = []
    for a in arrs:
        out.extend(a)
    return out


def _num_stats(a: list[Any]) -> list[Any]:
    return [x for x in a if is_num(x)]


fn("array_avg")(
    _arr(lambda a: (sum(_num_stats(a)) / len(_num_stats(a))) if _num_stats(a) else None)
)
fn("array_sum")(_arr(lambda a: sum(_num_stats(a))))
fn("array_count")(_arr(lambda a: sum(1 for x in a if x is not None and x is not MISSING)))
fn("array_length")(_arr(len))
fn("array_reverse")(_arr(lambda a: (_reserve("array_reverse()", len(a)), a[::-1])[1]))
fn("array_sort")(_arr(_sorted))
fn("array_ifnull")(_arr(lambda a: next((x for x in a if x is not None and x is not MISSING), None)))


def _minmax(a: list[Any], sign: int) -> Any:
    best: Any = None
    for x in _ticking(a):
        if rank(x) <= T_NULL:
            continue
        if best is None or collate(x, best) * sign > 0:
            best = x
    return best


fn("array_max")(_arr(lambda a: _minmax(a, 1)))
fn("array_min")(_arr(lambda a: _minmax(a, -1)))


def _distinct(a: list[Any]) -> list[Any]:
    seen, out = set(), []
    for x in _ticking(a):
        k = hkey(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    budget.charge(SLOT_BYTES * len(out) * 3)  # the list and the set of keys
    return out


fn("array_distinct")(_arr(_distinct))


@fn("array_contains", lo=2)
def array_contains(a: Any, v: Any) -> Any:
    if a is MISSING or v is MISSING:
        return MISSING
    if type(a) is not list:
        return None
    if v is None:
        return None
    return any(equals(x, v) is True for x in _ticking(a))


@fn("array_contains_all", lo=2)
def array_contains_all(a: Any, b: Any) -> Any:
    if a is MISSING or b is MISSING:
        return MISSING
    if type(a) is not list or type(b) is not list:
        return None
    keys = {hkey(x) for x in a}
    return all(hkey(x) in keys for x in b)


@fn("array_contains_any", lo=2)
def array_contains_any(a: Any, b: Any) -> Any:
    if a is MISSING or b is MISSING:
        return MISSING
    if type(a) is not list or type(b) is not list:
        return None
    keys = {hkey(x) for x in a}
    return any(hkey(x) in keys for x in b)


@fn("array_position", "array_pos", lo=2)
def array_position(a: Any, v: Any) -> Any:
    if a is MISSING or v is MISSING:
        return MISSING
    if type(a) is not list or v is None:
        return None
    for i, x in enumerate(_ticking(a)):
        if equals(x, v) is True:
            return i
    return -1


@fn("array_put", lo=2, hi=None)
def array_put(a: Any, *xs: Any) -> Any:
    # Couchbase: any MISSING argument gives MISSING, any NULL one NULL
    if a is MISSING or any(x is MISSING for x in xs):
        return MISSING
    if type(a) is not list or any(x is None for x in xs):
        return None
    _reserve("array_put()", len(a) + len(xs))
    out = list(a)
    for x in xs:  # Couchbase's Equals: a value holding a NULL is never already there
        if not any(equals(y, x) is True for y in _ticking(out)):
            out.append(x)
    return out


@fn("array_remove", lo=2, hi=None)
def array_remove(a: Any, *xs: Any) -> Any:
    # Couchbase: any MISSING argument gives MISSING, any NULL one NULL
    if a is MISSING or any(x is MISSING for x in xs):
        return MISSING
    if type(a) is not list or any(x is None for x in xs):
        return None
    _reserve("array_remove()", len(a))
    # Couchbase's Equals: an element holding a NULL is never equal, so never removed
    return [x for x in _ticking(a) if not any(equals(x, y) is True for y in xs)]


@fn("array_insert", lo=3, hi=None)
def array_insert(a: Any, pos: Any, *xs: Any) -> Any:
    if a is MISSING or pos is MISSING or any(x is MISSING for x in xs):
        return MISSING
    i = _int(pos)
    if type(a) is not list or i is None:
        return None
    if i < 0:
        i += len(a)
    if i < 0 or i > len(a):
        return None
    _reserve("array_insert()", len(a) + len(xs))
    return a[:i] + list(xs) + a[i:]


@fn("array_flatten", lo=2)
def array_flatten(a: Any, depth: Any) -> Any:
    if a is MISSING or depth is MISSING:
        return MISSING
    d = _int(depth)
    if type(a) is not list or d is None:
        return None

    def flat(x: list[Any], level: int) -> list[Any]:
        out: list[Any] = []
        for y in _ticking(x):
            if type(y) is list and (level < 0 or level > 0):
                out.extend(flat(y, level - 1))
            else:
                out.append(y)
        return out

    out = flat(a, d)
    _reserve("array_flatten()", len(out))
    return out


@fn("array_range", lo=2, hi=3)
def array_range(start: Any, end: Any, step: Any = 1) -> Any:
    u = unknown(start, end, step)
    if u is not False:
        return u
    if not (is_num(start) and is_num(end) and is_num(step)) or step == 0:
        return None
    try:
        count = (end - start) / step
    except OverflowError:
        count = math.inf
    if count != count:
        return None
    n = 2**62 if count > 2**62 else (0 if count <= 0 else math.ceil(count))  # -inf: none
    _reserve("array_range()", n, n)
    if all(type(v) is int for v in (start, end, step)):
        return list(range(start, end, step))
    out, x = [], start
    while (step > 0 and x < end) or (step < 0 and x > end):
        out.append(x)
        x += step
    return out


@fn("array_repeat", lo=2)
def array_repeat(v: Any, n: Any) -> Any:
    if v is MISSING or n is MISSING:
        return MISSING
    k = _int(n)
    if k is None or k < 0:
        return None
    # Couchbase sizes the result as count times the element's size: a big element
    # repeated is that big when written out.
    each = len(v) if type(v) is str else json_size(v, budget.MAX_VALUE_BYTES + 1)
    each = max(SLOT_BYTES, each) if k else 0
    budget.reserve("array_repeat()", each * k, 56 + SLOT_BYTES * k)
    return [v] * k


@fn("array_replace", lo=3, hi=4)
def array_replace(a: Any, old: Any, new: Any, n: Any = -1) -> Any:
    if a is MISSING or old is MISSING or new is MISSING or n is MISSING:
        return MISSING
    k = _int(n)
    if type(a) is not list or k is None or old is None:
        return None
    _reserve("array_replace()", len(a))
    out, done = [], 0
    for x in _ticking(a):
        if (k < 0 or done < k) and equals(x, old) is True:
            out.append(new)
            done += 1
        else:
            out.append(x)
    return out


def _set_op(kind: str) -> Any:
    def g(*arrs: Any) -> Any:
        if any(a is MISSING for a in arrs):
            return MISSING
        if any(type(a) is not list for a in arrs):
            return None
        if kind == "union":
            _reserve("array_union()", sum(len(a) for a in arrs))
            return _distinct([x for a in arrs for x in a])
        first = _distinct(arrs[0])
        sets = [{hkey(x) for x in a} for a in arrs[1:]]
        return [x for x in first if all(hkey(x) in s for s in sets)]

    return g


fn("array_union", lo=2, hi=None)(_set_op("union"))
fn("array_intersect", lo=2, hi=None)(_set_op("intersect"))


def _symdiff(arrs: tuple[Any, ...], keep: Callable[[int], bool]) -> Any:
    """Return the distinct elements whose number of arrays holding them passes ``keep``."""
    if any(a is MISSING for a in arrs):
        return MISSING
    if any(type(a) is not list for a in arrs):
        return None
    counts: dict[Any, int] = {}
    for a in arrs:
        for k in {hkey(x) for x in _ticking(a)}:
            counts[k] = counts.get(k, 0) + 1
    seen: set[Any] = set()
    out = []
    for a in arrs:
        for x in a:
            k = hkey(x)
            if keep(counts[k]) and k not in seen:
                seen.add(k)
                out.append(x)
    return out


@fn("array_symdiff", "array_symdiff1", lo=2, hi=None)
def array_symdiff(*arrs: Any) -> Any:
    return _symdiff(arrs, lambda n: n == 1)  # in exactly one array


@fn("array_symdiffn", lo=2, hi=None)
def array_symdiffn(*arrs: Any) -> Any:
    return _symdiff(arrs, lambda n: n % 2 == 1)  # in an odd number of arrays


@fn("array_except", lo=2)
def array_except(a: Any, b: Any) -> Any:
    if a is MISSING or b is MISSING:
        return MISSING
    if type(a) is not list or type(b) is not list:
        return None
    drop = {hkey(x) for x in _ticking(b)}
    return [x for x in _ticking(a) if hkey(x) not in drop]


@fn("array_star", lo=1)
def array_star(a: Any) -> Any:
    """An array of objects as one object of arrays (null where an element lacks the field)."""
    if a is MISSING or type(a) is not list:
        return MISSING if a is MISSING else None
    names = sorted({k for x in a if type(x) is dict for k in x})
    return {k: [x.get(k, None) if type(x) is dict else None for x in a] for k in names}


@fn("array_binary_search", lo=2)
def array_binary_search(a: Any, v: Any) -> Any:
    if a is MISSING:
        return MISSING
    if type(a) is not list:
        return None
    lo, hi = 0, len(a) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        c = collate(a[mid], v)
        if c == 0:
            while mid > 0 and collate(a[mid - 1], v) == 0:
                mid -= 1
            return mid
        if c < 0:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def _swap_move(a: Any, i: Any, j: Any, move: bool) -> Any:
    if a is MISSING or i is MISSING or j is MISSING:
        return MISSING
    x, y = _int(i), _int(j)
    if type(a) is not list or x is None or y is None:
        return None
    n = len(a)
    x, y = x + n if x < 0 else x, y + n if y < 0 else y
    if not (0 <= x < n and 0 <= y < n):
        return None
    out = list(a)
    if move:
        out.insert(y, out.pop(x))
    else:
        out[x], out[y] = out[y], out[x]
    return out


fn("array_swap", lo=3)(lambda a, i, j: _swap_move(a, i, j, False))
fn("array_move", lo=3)(lambda a, i, j: _swap_move(a, i, j, True))


@fn("slice", lo=2, hi=3)
def slice_(a: Any, start: Any, end: Any = MISSING) -> Any:
    if a is MISSING or start is MISSING:
        return MISSING
    s = _int(start)
    e = len(a) if end is MISSING and type(a) is list else _int(end)
    if type(a) is not list or s is None or e is None:
        return None
    n = len(a)
    s, e = s + n if s < 0 else s, e + n if e < 0 else e
    if s < 0 or e > n or s > e:
        return None
    return a[s:e]


@fn("element", lo=2)
def element(a: Any, i: Any) -> Any:
    if type(a) is list:
        k = _int(i)
        if k is None:
            return None
        k = k + len(a) if k < 0 else k
        return a[k] if 0 <= k < len(a) else MISSING
    if type(a) is dict and isinstance(i, str):
        return a.get(i, MISSING)
    return MISSING if a is MISSING or i is MISSING else None
