"""Object functions: OBJECT_ADD ... OBJECT_VALUES, OBJECT_PAIRS_NESTED, OBJECT_PATHS."""

from __future__ import annotations

import re
from typing import Any

from catalog.sqlpp.registry import ABSENT, fn
from catalog.sqlpp.values import MISSING, collate, hkey


def _obj(f: Any) -> Any:
    def g(o: Any, *rest: Any) -> Any:
        if o is MISSING:
            return MISSING
        if type(o) is not dict:
            return None
        return f(o, *rest)

    return g


fn("object_length", "object_len")(_obj(len))
fn("object_names", "object_keys")(_obj(lambda o: sorted(o)))
fn("object_values")(_obj(lambda o: [o[k] for k in sorted(o)]))
fn("object_pairs")(_obj(lambda o: [{"name": k, "val": o[k]} for k in sorted(o)]))
fn("object_inner_pairs")(
    _obj(lambda o: [{"name": k, "val": o[k]} for k in sorted(o) if o[k] is not None])
)
fn("object_inner_values")(_obj(lambda o: [o[k] for k in sorted(o) if o[k] is not None]))


@fn("object_add", lo=3)
def object_add(o: Any, k: Any, v: Any) -> Any:
    if o is MISSING or k is MISSING:
        return MISSING
    if type(o) is not dict or not isinstance(k, str):
        return None
    if k in o or v is MISSING:
        return o
    return {**o, k: v}


@fn("object_put", lo=3)
def object_put(o: Any, k: Any, v: Any) -> Any:
    if o is MISSING or k is MISSING:
        return MISSING
    if type(o) is not dict or not isinstance(k, str):
        return None
    out = dict(o)
    if v is MISSING:
        out.pop(k, None)
    else:
        out[k] = v
    return out


@fn("object_remove", lo=2, hi=None)
def object_remove(o: Any, *keys: Any) -> Any:
    # Couchbase: any MISSING argument gives MISSING, else any non-string name gives NULL
    if o is MISSING or any(k is MISSING for k in keys):
        return MISSING
    if type(o) is not dict or not all(isinstance(k, str) for k in keys):
        return None
    drop = set(keys)
    return {k: v for k, v in o.items() if k not in drop}


@fn("object_rename", lo=3)
def object_rename(o: Any, old: Any, new: Any) -> Any:
    if o is MISSING or old is MISSING or new is MISSING:
        return MISSING
    if type(o) is not dict or not isinstance(old, str) or not isinstance(new, str):
        return None
    return {(new if k == old else k): v for k, v in o.items()}


@fn("object_replace", lo=3)
def object_replace(o: Any, old: Any, new: Any) -> Any:
    if o is MISSING or old is MISSING:
        return MISSING
    if type(o) is not dict or old is None:
        return None
    return {k: (new if collate(v, old) == 0 else v) for k, v in o.items()}


@fn("object_unwrap")
def object_unwrap(o: Any) -> Any:
    if o is MISSING:
        return MISSING
    if type(o) is not dict or len(o) != 1:
        return None
    return next(iter(o.values()))


@fn("object_concat", lo=2, hi=None)
def object_concat(*objs: Any) -> Any:
    if any(o is MISSING for o in objs):
        return MISSING
    if any(type(o) is not dict for o in objs):
        return None
    out: dict[str, Any] = {}
    for o in objs:
        out.update(o)
    return out


def _walk(v: Any, prefix: str, out: list[tuple[str, Any]], arrays: bool) -> None:
    if type(v) is dict:
        for k in sorted(v):
            p = f"{prefix}.{k}" if prefix else k
            x = v[k]
            if type(x) in (dict, list) and (type(x) is dict or arrays):
                _walk(x, p, out, arrays)
            else:
                out.append((p, x))
    elif type(v) is list:
        for i, x in enumerate(v):
            p = f"{prefix}[{i}]"
            if type(x) in (dict, list):
                _walk(x, p, out, arrays)
            else:
                out.append((p, x))


@fn("object_pairs_nested", lo=1, hi=2)
def object_pairs_nested(o: Any, opts: Any = ABSENT) -> Any:
    if o is MISSING or opts is MISSING:
        return MISSING
    if type(o) is not dict:
        return None
    opts = opts if isinstance(opts, dict) else {}
    out: list[tuple[str, Any]] = []
    _walk(o, "", out, bool(opts.get("composites", False)) or True)
    pat = opts.get("pattern")
    rx = re.compile(pat) if isinstance(pat, str) else None
    rows = [{"name": k, "val": v} for k, v in out if rx is None or rx.search(k)]
    return rows


@fn("object_paths", lo=1, hi=2)
def object_paths(o: Any, opts: Any = ABSENT) -> Any:
    if o is MISSING or opts is MISSING:
        return MISSING
    if type(o) is not dict:
        return None
    paths: list[str] = []

    def rec(v: Any, prefix: str) -> None:
        if type(v) is dict:
            for k in sorted(v):
                p = f"{prefix}.{k}" if prefix else k
                paths.append(p)
                rec(v[k], p)
        elif type(v) is list:
            for i, x in enumerate(v):
                rec(x, f"{prefix}[{i}]")

    rec(o, "")
    return paths


@fn("object_field", lo=2)
def object_field(o: Any, path: Any) -> Any:
    if o is MISSING or path is MISSING:
        return MISSING
    if type(o) is not dict or not isinstance(path, str):
        return None
    v: Any = o
    for part in path.split("."):
        v = v.get(part, MISSING) if type(v) is dict else MISSING
    return v


__all__ = ["hkey"]
