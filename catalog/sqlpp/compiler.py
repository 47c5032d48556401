"""Compile expression trees into Python closures that evaluate against a row environment
(see ``scope`` for the environment's special keys and the per-execution context)."""

from __future__ import annotations

import math
import re
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.compiler_collections import CollectionsMixin, _descendants
from catalog.sqlpp.errors import SqlppError, SqlppNotSupported
from catalog.sqlpp.functions import AGGREGATES, FUNCTIONS, like_regex
from catalog.sqlpp.functions_timeseries import check_operands as check_timeseries_operands
from catalog.sqlpp.scope import (
    DEFAULT,
    META_DEFAULT,
    Context,
    Env,
    Fn,
    agg_key,
    field,
    field_ci,
    idents,
    lookup,
    meta_key,
)
from catalog.sqlpp.values import MISSING, collate, compare, equals, hkey, is_num, truth
from catalog.sqlpp.window import WINDOW_FUNCTIONS, win_key


class Compiler(CollectionsMixin):
    """Turn expression nodes into closures; aggregates map to precomputed env slots."""

    def __init__(self, ctx: Context, aggs: dict[int, int] | None = None,
                 varying: frozenset[str] = frozenset()) -> None:  # fmt: skip
        self.ctx = ctx
        self.aggs = aggs or {}  # id(Call node) -> aggregate slot
        self.varying = varying  # names whose value changes from row to row
        self.wins: dict[int, int] = {}  # id(window Call node) -> window slot

    def compile(self, n: A.Node) -> Fn:
        m = getattr(self, "c_" + type(n).__name__, None)
        if m is None:
            raise SqlppNotSupported(f"expression {type(n).__name__} is not supported")
        return m(n)

    def c_Lit(self, n: A.Lit) -> Fn:
        v = n.value
        return lambda env: v

    def c_Ident(self, n: A.Ident) -> Fn:
        name = n.name
        if n.ci:
            low = name.lower()

            def ci_lookup(env: Env) -> Any:
                for k in env:
                    if type(k) is str and k.lower() == low:
                        return env[k]
                return field_ci(env.get(DEFAULT, MISSING), name)

            return ci_lookup
        return lambda env: lookup(env, name)

    def c_Param(self, n: A.Param) -> Fn:
        params = self.ctx.params
        key = n.key
        if isinstance(key, int):
            if not isinstance(params, (list, tuple)) or not 0 < key <= len(params):
                raise SqlppError(f"no value for positional parameter ${key}")
            v = params[key - 1]
        else:
            if not isinstance(params, dict):
                raise SqlppError(f"no value for named parameter ${key}")
            if key in params:
                v = params[key]
            elif "$" + key in params:
                v = params["$" + key]
            else:
                raise SqlppError(f"no value for named parameter ${key}")
        return lambda env: v

    def c_Field(self, n: A.Field) -> Fn:
        base = self.compile(n.base)
        name = n.name
        get = field_ci if n.ci else field
        if _is_starred(n.base):

            def mapped(env: Env) -> Any:
                v = base(env)
                if type(v) is list:
                    out = [get(x, name) for x in v]
                    return [x for x in out if x is not MISSING]
                return get(v, name)

            return mapped
        if get is field:

            def f(env: Env) -> Any:
                v = base(env)
                if type(v) is dict:
                    return v.get(name, MISSING)
                return MISSING

            return f
        return lambda env: get(base(env), name)

    def c_DynField(self, n: A.DynField) -> Fn:
        base, name = self.compile(n.base), self.compile(n.name)

        def f(env: Env) -> Any:
            k = name(env)
            return field(base(env), k) if isinstance(k, str) else MISSING

        return f

    def c_ArrayStar(self, n: A.ArrayStar) -> Fn:
        base = self.compile(n.base)

        def f(env: Env) -> Any:
            v = base(env)
            return v if type(v) is list else MISSING

        return f

    def c_Index(self, n: A.Index) -> Fn:
        base, idx = self.compile(n.base), self.compile(n.index)

        def f(env: Env) -> Any:
            v, i = base(env), idx(env)
            if type(v) is list:
                if is_num(i):
                    if i != int(i):
                        return MISSING
                    i = int(i)
                    if i < 0:
                        i += len(v)
                    return v[i] if 0 <= i < len(v) else MISSING
                return MISSING if i is MISSING else None
            if type(v) is dict and isinstance(i, str):
                return v.get(i, MISSING)
            if v is MISSING or i is MISSING:
                return MISSING
            return MISSING if v is not None else None

        return f

    def c_Slice(self, n: A.Slice) -> Fn:
        base = self.compile(n.base)
        start = self.compile(n.start) if n.start else (lambda env: 0)
        end = self.compile(n.end) if n.end else None

        def f(env: Env) -> Any:
            v = base(env)
            s = start(env)
            e = end(env) if end else None
            if v is MISSING or s is MISSING or e is MISSING:
                return MISSING
            if type(v) is not list or not is_num(s) or (e is not None and not is_num(e)):
                return None
            ln = len(v)
            s = int(s) + ln if s < 0 else int(s)
            e = ln if e is None else (int(e) + ln if e < 0 else int(e))
            if s < 0 or e > ln or s > ln:
                return None
            return v[s:e] if e >= s else []

        return f

    def c_Unary(self, n: A.Unary) -> Fn:
        x = self.compile(n.operand)
        if n.op == "not":

            def not_(env: Env) -> Any:
                v = x(env)
                if v is MISSING or v is None:
                    return v
                return not truth(v)

            return not_

        def neg(env: Env) -> Any:
            v = x(env)
            if is_num(v):
                return -v
            return MISSING if v is MISSING else None

        return neg

    def c_Binary(self, n: A.Binary) -> Fn:
        left, right, op = self.compile(n.left), self.compile(n.right), n.op
        if op in ("+", "-", "*", "/", "%"):
            return _arith(op, left, right)
        if op == "=":
            return lambda env: equals(left(env), right(env))
        if op == "!=":

            def ne(env: Env) -> Any:
                r = equals(left(env), right(env))
                return r if r is MISSING or r is None else not r

            return ne
        test = {"<": lambda c: c < 0, "<=": lambda c: c <= 0, ">": lambda c: c > 0,
                ">=": lambda c: c >= 0}[op]  # fmt: skip

        def cmp(env: Env) -> Any:
            a, b = left(env), right(env)
            c = compare(a, b)
            return c if c is MISSING or c is None else test(c)

        return cmp

    def c_Logic(self, n: A.Logic) -> Fn:
        ops = [self.compile(o) for o in n.operands]
        if n.op == "and":

            def and_(env: Env) -> Any:
                missing = null = False
                for o in ops:
                    v = o(env)
                    if v is MISSING:
                        missing = True
                    elif v is None:
                        null = True
                    elif not truth(v):
                        return False
                return MISSING if missing else (None if null else True)

            return and_

        def or_(env: Env) -> Any:
            missing = null = False
            for o in ops:
                v = o(env)
                if v is MISSING:
                    missing = True
                elif v is None:
                    null = True
                elif truth(v):
                    return True
            return None if null else (MISSING if missing else False)

        return or_

    def c_Like(self, n: A.Like) -> Fn:
        x, pat = self.compile(n.operand), self.compile(n.pattern)
        esc = self.compile(n.escape) if n.escape else (lambda env: "\\")
        cache: dict[tuple[str, str], re.Pattern[str]] = {}
        negate = n.negate

        def f(env: Env) -> Any:
            v, p, e = x(env), pat(env), esc(env)
            if v is MISSING or p is MISSING:
                return MISSING
            if not isinstance(v, str) or not isinstance(p, str) or not isinstance(e, str):
                return None
            rx = cache.get((p, e))
            if rx is None:
                rx = cache[(p, e)] = like_regex(p, e)
            r = rx.fullmatch(v) is not None
            return not r if negate else r

        return f

    def c_Between(self, n: A.Between) -> Fn:
        x, lo, hi = self.compile(n.operand), self.compile(n.low), self.compile(n.high)
        negate = n.negate

        def f(env: Env) -> Any:
            v, a, b = x(env), lo(env), hi(env)
            if v is MISSING or a is MISSING or b is MISSING:
                return MISSING
            if v is None or a is None or b is None:
                return None
            r = collate(v, a) >= 0 and collate(v, b) <= 0
            return not r if negate else r

        return f

    def c_InList(self, n: A.InList) -> Fn:
        x, coll = self.compile(n.operand), self.compile(n.coll)
        negate, within = n.negate, n.within
        # The last list seen and, once it comes again (a constant or a parameter), the keys
        # of its plain scalars and what its NULL/MISSING items make of a miss.
        seen: list[Any] = [None, None, False]

        def f(env: Env) -> Any:
            v, c = x(env), coll(env)
            if v is MISSING or c is MISSING:
                return MISSING
            if type(c) is not list and not (within and type(c) is dict):
                return None
            if v is None:
                return None
            if not within and (key := _scalar_key(v)) is not None:
                if seen[0] is c:  # the same list again: keyed once for every row to come
                    if seen[1] is None:
                        seen[1], seen[2] = _keyed(c)
                    if key in seen[1]:
                        return not negate
                    return negate if seen[2] is False else seen[2]
                seen[0], seen[1] = c, None
            items = _descendants(c) if within else c
            unknown: Any = False  # a NULL element wins over a MISSING one, as in Couchbase
            for item in items:
                if item is None:
                    unknown = None
                elif item is MISSING:
                    unknown = MISSING if unknown is False else unknown
                elif equals(v, item) is True:  # Couchbase's Equals: [null] is not in [[null]]
                    return not negate
            return negate if unknown is False else unknown

        return f

    def c_Is(self, n: A.Is) -> Fn:
        x, what, negate = self.compile(n.operand), n.what, n.negate
        if what == "null":

            def is_null(env: Env) -> Any:
                v = x(env)
                if v is MISSING:
                    return MISSING
                return (v is not None) if negate else (v is None)

            return is_null
        if what == "missing":
            return lambda env: (x(env) is not MISSING) if negate else (x(env) is MISSING)
        if what == "unknown":
            negate = not negate

        def valued(env: Env) -> Any:
            v = x(env)
            r = v is not MISSING and v is not None
            return not r if negate else r

        return valued

    def c_Case(self, n: A.Case) -> Fn:
        whens = [(self.compile(c), self.compile(r)) for c, r in n.whens]
        default = self.compile(n.default) if n.default else (lambda env: None)
        if n.subject is None:

            def searched(env: Env) -> Any:
                for c, r in whens:
                    if truth(c(env)):
                        return r(env)
                return default(env)

            return searched
        subject = self.compile(n.subject)

        def simple(env: Env) -> Any:
            s = subject(env)
            for c, r in whens:
                if equals(s, c(env)) is True:
                    return r(env)
            return default(env)

        return simple

    def c_Call(self, n: A.Call) -> Fn:
        if n.over is not None:
            slot = self.wins.get(id(n))
            if slot is None:
                raise SqlppError(f"window function {n.name.upper()}() is not allowed here")
            k = win_key(slot)
            return lambda env: env.get(k, None)
        if n.name in WINDOW_FUNCTIONS:
            raise SqlppError(f"{n.name.upper()}() needs an OVER clause")
        if n.name in AGGREGATES:
            slot = self.aggs.get(id(n))
            if slot is None:
                raise SqlppError(f"aggregate {n.name.upper()}() is not allowed here")
            k = agg_key(slot)
            return lambda env: env.get(k, None)
        if n.name == "meta":
            return self._meta(n)
        if n.name in ("now_millis", "now_str", "now_utc", "now_local", "now_tz", "clock_millis",
                      "clock_str", "clock_utc", "clock_local", "clock_tz"):  # fmt: skip
            pass
        spec = FUNCTIONS.get(n.name)
        if spec is None:
            raise SqlppError(f"unknown function {n.name.upper()}()")
        fn, lo, hi = spec
        if len(n.args) < lo or (hi is not None and len(n.args) > hi):
            want = str(lo) if lo == hi else f"{lo} to {hi if hi is not None else 'any'}"
            raise SqlppError(
                f"function {n.name.upper()}() takes {want} arguments, got {len(n.args)}"
            )
        if n.star:
            raise SqlppError(f"function {n.name.upper()}(*) is not valid")
        if n.name == "_timeseries":
            check_timeseries_operands(n.args)
        args = [self.compile(a) for a in n.args]
        if len(args) == 1:
            a0 = args[0]
            return lambda env: fn(a0(env))
        if len(args) == 2:
            a0, a1 = args
            return lambda env: fn(a0(env), a1(env))
        return lambda env: fn(*[a(env) for a in args])

    def _meta(self, n: A.Call) -> Fn:
        if not n.args:
            return lambda env: env.get(META_DEFAULT, MISSING)
        a = n.args[0]
        if isinstance(a, A.Ident):
            k = meta_key(a.name)
            return lambda env: env.get(k, MISSING)
        return lambda env: MISSING


def _is_starred(n: A.Node) -> bool:
    while isinstance(n, A.Field):
        n = n.base
    return isinstance(n, A.ArrayStar)


def _arith(op: str, left: Fn, right: Fn) -> Fn:
    def f(env: Env) -> Any:
        a, b = left(env), right(env)
        if not (is_num(a) and is_num(b)):
            return MISSING if a is MISSING or b is MISSING else None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        if op == "/":
            if type(a) is int and type(b) is int and a % b == 0:
                return a // b
            return a / b
        r = math.fmod(a, b)
        return int(r) if type(a) is int and type(b) is int else r

    return f


__all__ = [
    "Compiler",
    "Context",
    "DEFAULT",
    "META_DEFAULT",
    "hkey",
    "idents",
    "meta_key",
    "agg_key",
]


_EXACT = 2**53


def _scalar_key(v: Any) -> Any:
    """Return a key that equal plain scalars share (a string, a boolean, a number below 2^53
    in magnitude), else None. Only such an item can equal such a value in N1QL."""
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return ("b", v)
    if (t is int or t is float) and -_EXACT < v < _EXACT:  # NaN fails the comparison
        return ("d", float(v))
    return None


def _keyed(items: list[Any]) -> tuple[frozenset[Any], Any]:
    """Return the keys of a list's plain scalars and what IN gives for a value not among
    them: NULL if it holds a NULL, else MISSING if it holds a MISSING, else FALSE."""
    keys = set()
    unknown: Any = False
    for item in items:
        if item is None:
            unknown = None
        elif item is MISSING:
            unknown = MISSING if unknown is False else unknown
        elif (key := _scalar_key(item)) is not None:
            keys.add(key)
    return frozenset(keys), unknown
