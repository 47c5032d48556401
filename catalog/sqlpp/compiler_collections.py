"""Compilation of collection expressions: ANY/EVERY, ARRAY/FIRST/OBJECT comprehensions,
constructors, EXISTS and subqueries (a mixin of the expression compiler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp import budget
from catalog.sqlpp.errors import SqlppError
from catalog.sqlpp.scope import DEFAULT, idents
from catalog.sqlpp.values import MISSING, truth

Env = dict
Fn = Callable[[Env], Any]


class CollectionsMixin:
    """Compile methods for expressions that bind variables or build values."""

    ctx: Any
    aggs: dict[int, int]
    varying: frozenset[str]

    def compile(self, n: A.Node) -> Fn:  # provided by Compiler
        raise NotImplementedError

    def child(self, names: set[str]) -> Any:
        """Return a compiler for a scope that also binds `names` (row-varying)."""
        return type(self)(self.ctx, self.aggs, self.varying | frozenset(names))  # type: ignore[call-arg]

    def _bindings(self, binds: list[A.Binding]) -> Callable[[Env], Any]:
        """Return env -> list of per-iteration (var, value) tuples, or MISSING/None."""
        srcs = [(b.var, b.pos_var, b.within, self.compile(b.expr)) for b in binds]

        def run(env: Env) -> Any:
            cols = []
            for var, pos_var, within, fn in srcs:
                v = fn(env)
                if v is MISSING:
                    return MISSING
                if type(v) is not list:
                    if within and type(v) is dict:
                        v = _descendants(v)
                    else:
                        return None
                elif within:
                    v = _descendants(v)
                cols.append((var, pos_var, v))
            budget.charge(72 * max(len(c[2]) for c in cols))  # one binding tuple per item
            if len(cols) == 1:
                var, pos_var, v = cols[0]
                if pos_var:
                    return [((var, x), (pos_var, i)) for i, x in enumerate(v)]
                return [((var, x),) for x in v]
            n = max(len(c[2]) for c in cols)
            out = []
            for i in range(n):
                budget.tick()
                row: list[tuple[str, Any]] = []
                for var, pos_var, v in cols:
                    row.append((var, v[i] if i < len(v) else MISSING))
                    if pos_var:
                        row.append((pos_var, i))
                out.append(tuple(row))
            return out

        return run

    def c_Quantified(self, n: A.Quantified) -> Fn:
        inner = self.child(
            {b.var for b in n.bindings} | {b.pos_var for b in n.bindings if b.pos_var}
        )
        binds, cond, kind = self._bindings(n.bindings), inner.compile(n.cond), n.kind

        def f(env: Env) -> Any:
            rows = binds(env)
            if rows is MISSING or rows is None:
                return rows
            if kind == "anyevery" and not rows:
                return False
            e2 = dict(env)
            b = budget.current()
            for row in rows:
                b.tick()
                for k, v in row:
                    e2[k] = v
                t = truth(cond(e2))
                if kind == "any" and t:
                    return True
                if kind != "any" and not t:
                    return False
            return kind != "any"

        return f

    def c_Comprehension(self, n: A.Comprehension) -> Fn:
        inner = self.child(
            {b.var for b in n.bindings} | {b.pos_var for b in n.bindings if b.pos_var}
        )
        binds, expr, kind = self._bindings(n.bindings), inner.compile(n.expr), n.kind
        when = inner.compile(n.when) if n.when else None
        key = inner.compile(n.key) if n.key else None

        def f(env: Env) -> Any:
            rows = binds(env)
            if rows is MISSING or rows is None:
                return rows if kind == "array" else MISSING
            e2 = dict(env)
            out: Any = {} if kind == "object" else []
            b = budget.current()
            for row in rows:
                b.tick()
                for k, v in row:
                    e2[k] = v
                if when is not None and not truth(when(e2)):
                    continue
                v = expr(e2)
                if kind == "first":
                    return v
                if v is MISSING:
                    continue
                if kind == "object":
                    k = key(e2)  # type: ignore[misc]
                    if isinstance(k, str):
                        out[k] = v
                else:
                    out.append(v)
            b.charge(56 + 40 * len(out))  # the slots and, at most, a new number each
            return MISSING if kind == "first" else out

        return f

    def c_ArrayCons(self, n: A.ArrayCons) -> Fn:
        items = [self.compile(i) for i in n.items]

        def f(env: Env) -> Any:
            budget.charge(56 + 8 * len(items))
            return [i(env) for i in items]  # Couchbase keeps MISSING elements (printed as null)

        return f

    def c_ObjectCons(self, n: A.ObjectCons) -> Fn:
        pairs = [(self.compile(k), self.compile(v)) for k, v in n.pairs]

        def f(env: Env) -> Any:
            budget.charge(64 + 100 * len(pairs))
            out = {}
            for k, v in pairs:
                kv = k(env)
                if not isinstance(kv, str):
                    if kv is MISSING:
                        continue
                    raise SqlppError(f"object member name must be a string, not {kv!r}")
                x = v(env)
                if x is not MISSING:
                    out[kv] = x
            return out

        return f

    def c_Exists(self, n: A.Exists) -> Fn:
        x = self.compile(n.operand)

        def f(env: Env) -> Any:
            v = x(env)
            return type(v) is list and len(v) > 0

        return f

    def c_Subquery(self, n: A.Subquery) -> Fn:
        run = self.ctx.compile_select(n.query, self.ctx, self.varying)
        from_names: set[str] = set()
        correlated = (
            bool(idents(n.query, from_names) & self.varying)
            or bool((from_names & self.varying) - self.ctx.keyspace_aliases)
            or _uses_meta(n.query)
            or (DEFAULT in self.varying and _has_fromless_block(n.query))
        )
        if correlated:
            return lambda env: run(env)
        cache: list[Any] = []

        def once(env: Env) -> Any:
            if not cache:
                cache.append(run(env))
            return cache[0]

        return once


def _uses_meta(q: Any) -> bool:
    stack = [q]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Call) and n.name == "meta":
            return True
        stack.extend(A.children(n))
    return False


def _descendants(v: Any) -> list[Any]:
    out: list[Any] = []
    stack = list(reversed(v if type(v) is list else list(v.values())))
    while stack:
        x = stack.pop()
        out.append(x)
        if type(x) is list:
            stack.extend(reversed(x))
        elif type(x) is dict:
            stack.extend(reversed(list(x.values())))
    return out


def _has_fromless_block(q: Any) -> bool:
    """Return True if a SELECT block without FROM (which reads the outer row) is under q."""
    stack = [q]
    while stack:
        n = stack.pop()
        if isinstance(n, A.SubSelect) and n.from_ is None:
            return True
        stack.extend(A.children(n))
    return False
