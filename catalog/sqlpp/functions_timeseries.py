"""_TIMESERIES(alias, options): a time-series document's data points as objects (func_timeseries.go).

Data points are ``[time, v0, v1, ...]`` arrays (irregular data) or plain values spaced
``ts_interval`` apart from ``ts_start`` (regular data). Each becomes ``{"_t": time, "_v0": ...}``;
``ts_ranges`` keeps the points inside ``[start, end]`` ranges, ``ts_project`` picks values,
``ts_data``/``ts_interval``/``ts_start``/``ts_end`` rename the document's fields.
"""

from __future__ import annotations

from typing import Any

from catalog.sqlpp.registry import fn
from catalog.sqlpp.values import MISSING, is_num

_PATHS = ("ts_data", "ts_interval", "ts_start", "ts_end")


def _int(v: Any) -> int | None:
    """Couchbase's IsIntValue: an integral number."""
    if is_num(v) and not isinstance(v, bool) and v == v and abs(v) != float("inf") and v == int(v):
        return int(v)
    return None


def _path(doc: Any, path: str) -> Any:
    for part in path.replace("`", "").split("."):
        if not isinstance(doc, dict) or part not in doc:
            return MISSING
        doc = doc[part]
    return doc


def _range(r: Any) -> tuple[int, int] | None:
    if not isinstance(r, list) or len(r) < 2:
        return None
    s, e = _int(r[0]), _int(r[1])
    return (s, e) if s is not None and e is not None and s <= e else None


def _ranges(v: Any) -> list[tuple[int, int]]:
    """GetTimeSeriesRanges: [] means all; no valid range means none ([(0, -1)])."""
    if v is MISSING:
        return []
    out: list[tuple[int, int]] = []
    if isinstance(v, list):
        for item in v:
            if is_num(item):
                r = _range(v)
                if r:
                    out.append(r)
                break
            if not isinstance(item, list):
                break
            r = _range(item)
            if r:
                out.append(r)
    return out or [(0, -1)]


def _project(v: Any) -> set[int] | None:
    """GetTimeSeriesProject: None projects every value."""
    if v is MISSING:
        return None
    items = v if isinstance(v, list) else [v]
    return {n for n in map(_int, items) if n is not None and n >= 0}


def _valid(ranges: list[tuple[int, int]], t: int) -> bool:
    return not ranges or any(s <= t <= e for s, e in ranges)


def _qualified(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    if end < start:
        return False
    if not ranges:
        return True
    return any(s <= e and (start <= s <= end or s <= start <= e) for s, e in ranges)


def _point(p: Any, idx: int, cfg: dict[str, Any]) -> dict[str, Any] | None:
    ranges, project, interval = cfg["ranges"], cfg["project"], cfg["interval"]
    if interval > 0:
        t = cfg["start"] + idx * interval
        if not _valid(ranges, t):
            return None
        m: dict[str, Any] = {"_t": t}
        if project is None:
            vals = p if isinstance(p, list) else [p]
            m.update({f"_v{i}": v for i, v in enumerate(vals)})
        elif not isinstance(p, list):
            if 0 in project:
                m["_v0"] = p
        else:
            m.update({f"_v{k}": p[k] for k in sorted(project) if k < len(p)})
        return m
    if not isinstance(p, list) or not p or not is_num(p[0]):
        return None
    t = _int(p[0])
    if t is None or not _valid(ranges, t):
        return None
    m = {"_t": t}
    if project is None:
        m.update({f"_v{i}": v for i, v in enumerate(p[1:])})
    else:
        m.update({f"_v{k}": p[k + 1] for k in sorted(project) if k + 1 < len(p)})
    return m


@fn("_timeseries", lo=1, hi=2)
def timeseries(doc: Any, options: Any = MISSING) -> Any:
    opts = options if isinstance(options, dict) else {}
    paths = {}
    for name in _PATHS:
        p = opts.get(name, name)
        if not isinstance(p, str) or not p:
            return None
        paths[name] = p
    data = _path(doc, paths["ts_data"])
    interval = _path(doc, paths["ts_interval"])
    start, end = _int(_path(doc, paths["ts_start"])), _int(_path(doc, paths["ts_end"]))
    interval = 0 if interval is MISSING else _int(interval)
    if (
        not isinstance(data, list)
        or interval is None
        or interval < 0
        or start is None
        or end is None
    ):
        return None
    cfg = {"ranges": _ranges(opts.get("ts_ranges", MISSING)), "interval": interval,
           "project": _project(opts.get("ts_project", MISSING)), "start": start}  # fmt: skip
    if not _qualified(cfg["ranges"], start, end):
        return None
    out = []
    for idx, p in enumerate(data):
        m = _point(p, idx, cfg)
        if m is not None:
            out.append(m)
    return out or None  # Couchbase's empty result is a nil slice: null


def check_operands(args: list[Any]) -> None:
    """Couchbase's ValidOperands (error 3100): an alias, then an object of constants."""
    from catalog.sqlpp import ast as A
    from catalog.sqlpp.errors import SqlppError

    bad = "_TIMESERIES() function operands are invalid: "
    if not isinstance(args[0], A.Ident):
        raise SqlppError(bad + "first argument must be keyspace alias")
    if len(args) < 2 or isinstance(args[1], A.Param):
        return
    opts = args[1]
    constant = isinstance(opts, A.Lit) and isinstance(opts.value, dict)
    if not constant and not isinstance(opts, A.ObjectCons):
        raise SqlppError(bad + "second argument must be OBJECT of constants or parameters")
    stack: list[Any] = [opts]
    while stack:  # Couchbase's Static(): no document paths (WITH names are static)
        node = stack.pop()
        if isinstance(node, (A.Field, A.Subquery)):
            raise SqlppError(bad + "second argument can only contain constants or parameters")
        stack.extend(A.children(node))
    for key, val in opts.pairs if isinstance(opts, A.ObjectCons) else []:
        name = key.value if isinstance(key, A.Lit) else None
        if name in _PATHS and not isinstance(val, A.Lit):
            raise SqlppError(bad + f"'{name}' in the second argument must be constant")
