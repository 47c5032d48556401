"""Plan and run SELECT statements: FROM/JOIN/UNNEST streams, LET, WHERE, GROUP BY, projection,
ORDER BY, LIMIT/OFFSET, WITH and set operators."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.aggregates import AGGREGATES, Accumulator
from catalog.sqlpp.budget import tick
from catalog.sqlpp.compiler import Compiler
from catalog.sqlpp.errors import SqlppError, SqlppTimeout
from catalog.sqlpp.from_terms import FromPlan
from catalog.sqlpp.ordering import sort_keyed
from catalog.sqlpp.parser import implicit_name
from catalog.sqlpp.planner import IndexPlan, canon, exact_values
from catalog.sqlpp.planner_keys import KeyRangePlan
from catalog.sqlpp.projection import apply_exclude
from catalog.sqlpp.recursive import RecursivePlan
from catalog.sqlpp.scope import DEFAULT, META_DEFAULT, Context, agg_key
from catalog.sqlpp.values import MISSING, hkey, is_num, truth
from catalog.sqlpp.window import WindowPlan, collect_windows

Env = dict
Run = Callable[[Env], list[Any]]


def compile_select(q: A.Select, ctx: Context, varying: frozenset[str] = frozenset()) -> Run:
    """Return a function running the query for an outer environment."""
    return SelectPlan(q, ctx, varying).run


def check_deadline(ctx: Context) -> None:
    """Raise SqlppTimeout once the statement's deadline has passed."""
    if ctx.deadline is not None and time.monotonic() > ctx.deadline:
        raise SqlppTimeout("query timed out (deadline passed)")


class SelectPlan:
    """WITH + body (subselect, set operation or parenthesized select) + ORDER/LIMIT/OFFSET."""

    def __init__(self, q: A.Select, ctx: Context, varying: frozenset[str]) -> None:
        self.ctx = ctx
        self.with_: list[tuple[str, Callable[[Env], Any]]] = []
        ctx.with_names.update(name for name, _ in q.with_)
        for name, e in q.with_:
            c = Compiler(ctx, varying=varying)
            if isinstance(e, A.RecursiveWith):
                inner = varying | {name}
                plan = RecursivePlan(
                    name, _plan_term(e.anchor, ctx, varying).run,
                    _plan_term(e.step, ctx, inner).run, e.union_all,
                    [c.compile(x) for x in e.cycle],
                    c.compile(e.options) if e.options is not None else None, ctx,
                )  # fmt: skip
                self.with_.append((name, plan.run))
            else:
                self.with_.append((name, c.compile(e)))
            varying = varying | {name}
        self.q = q
        self.body: Any
        if isinstance(q.body, A.SubSelect):
            self.body = SubSelectPlan(q.body, ctx, varying, q.order, q.limit, q.offset)
            self.direct = True
        else:
            self.body = _plan_term(q.body, ctx, varying)
            self.direct = False
            c = Compiler(ctx, varying=varying)
            self.order = [(c.compile(o.expr), o.desc, o.nulls_first) for o in q.order]
            self.limit = c.compile(q.limit) if q.limit else None
            self.offset = c.compile(q.offset) if q.offset else None

    def run(self, outer: Env) -> list[Any]:
        env = outer
        if self.with_:
            env = dict(outer)
            for name, f in self.with_:
                env[name] = f(env)
        if self.direct:
            return self.body.run(env)
        rows = self.body.run(env)
        if self.order:
            keyed = []
            for r in rows:
                e = dict(env)
                e[DEFAULT] = r
                if type(r) is dict:
                    e.update(r)
                keyed.append(([f(e) for f, _, _ in self.order], r))
            rows = [r for _, r in sort_keyed(keyed, self.order)]
        lo, hi = limits(self.offset, self.limit, env)
        if lo or hi is not None:
            rows = rows[lo : None if hi is None else lo + hi]
        return rows


def _plan_term(t: Any, ctx: Context, varying: frozenset[str]) -> Any:
    if isinstance(t, A.SubSelect):
        return SubSelectPlan(t, ctx, varying, [], None, None)
    if isinstance(t, A.Select):
        return SelectPlan(t, ctx, varying)
    return SetOpPlan(t, ctx, varying)


class SetOpPlan:
    """UNION / INTERSECT / EXCEPT [ALL] of two query terms."""

    def __init__(self, s: A.SetOp, ctx: Context, varying: frozenset[str]) -> None:
        self.op, self.all = s.op, s.all
        self.left = _plan_term(s.left, ctx, varying)
        self.right = _plan_term(s.right, ctx, varying)

    def run(self, env: Env) -> list[Any]:
        a, b = self.left.run(env), self.right.run(env)
        if self.op == "union":
            return a + b if self.all else dedupe(a + b)
        bk = Counter(hkey(x) for x in b)
        out = []
        if self.op == "intersect":
            for x in a if self.all else dedupe(a):
                k = hkey(x)
                if bk[k] > 0:
                    out.append(x)
                    if self.all:
                        bk[k] -= 1
            return out
        for x in a if self.all else dedupe(a):
            k = hkey(x)
            if bk[k] > 0:
                if self.all:
                    bk[k] -= 1
                continue
            out.append(x)
        return out


def dedupe(rows: Iterable[Any]) -> list[Any]:
    """Return rows without duplicates (first occurrence kept)."""
    seen, out = set(), []
    for r in rows:
        k = hkey(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def limits(offset: Any, limit: Any, env: Env) -> tuple[int, int | None]:
    """Return (offset, limit or None) evaluated once for the statement."""
    lo, hi = 0, None
    if offset is not None:
        v = offset(env)
        if not is_num(v):
            raise SqlppError("OFFSET must be a number")
        lo = max(0, int(v))
    if limit is not None:
        v = limit(env)
        if not is_num(v):
            raise SqlppError("LIMIT must be a number")
        hi = max(0, int(v))
    return lo, hi


def _counts_entries(s: A.SubSelect, aggs: list[A.Call], plan: IndexPlan) -> bool:
    """Return whether the block is COUNT(*) over rows the index answers exactly."""
    if not plan.countable or s.group_by is not None or s.let or s.letting or s.having:
        return False
    if len(aggs) != 1 or not _count_star(aggs[0]):
        return False
    stack: list[Any] = [t.expr for t in s.terms]
    while stack:  # the projection may use the count, never a field of a row
        x = stack.pop()
        if x is None or isinstance(x, (A.Ident, A.Subquery)):
            return False
        if not (isinstance(x, A.Call) and x.name == "count"):
            stack.extend(A.children(x))
    return True


def _counts_groups(s: A.SubSelect, aggs: list[A.Call], plan: IndexPlan, alias: str) -> bool:
    """Return whether the block is ``GROUP BY <leading key>`` with COUNT(*) only, over one
    ``=`` or ``IN`` on that key that the index answers exactly (each value's span is a group)."""
    if isinstance(plan, KeyRangePlan) or not plan.countable or plan.descending:
        return False
    if len(plan.sargs) != 1 or plan.sargs[0].kind not in ("eq", "in"):
        return False
    d = plan.index.definition
    if not d.keys or d.keys[0].array or s.let or s.letting or s.having or s.group_as:
        return False
    if s.group_by is None or len(s.group_by) != 1:
        return False
    if not aggs or not all(_count_star(a) for a in aggs):
        return False
    key = canon(d.keys[0].expr, None, {}, True)
    return key is not None and canon(s.group_by[0][0], alias, {}, False) == key


def _count_star(a: A.Call) -> bool:
    """Return whether an aggregate is a plain COUNT(*) (no DISTINCT, FILTER or OVER)."""
    return a.name == "count" and a.star and not a.distinct and a.filter is None and a.over is None


def _collect_aggs(nodes: Iterable[Any]) -> list[A.Call]:
    """Return aggregate calls under nodes, not descending into subqueries or aggregates."""
    out: list[A.Call] = []
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, (str, int, float, bool, A.Subquery)):
            continue
        if isinstance(n, A.Call) and n.name in AGGREGATES and not n.over:
            out.append(n)
            continue
        stack.extend(A.children(n))
    return out


class SubSelectPlan:
    """One SELECT block, with the enclosing statement's ORDER BY / LIMIT / OFFSET."""

    def __init__(self, s: A.SubSelect, ctx: Context, varying: frozenset[str],
                 order: list[A.OrderTerm], limit: A.Node | None,
                 offset: A.Node | None) -> None:  # fmt: skip
        self.ctx = ctx
        self.s = s
        outer_c = Compiler(ctx, varying=varying)
        self.limit = outer_c.compile(limit) if limit else None
        self.offset = outer_c.compile(offset) if offset else None
        self.from_plan = FromPlan(s, ctx, varying, order) if s.from_ else None
        names = set(varying)
        if self.from_plan:
            names |= set(self.from_plan.aliases) | {DEFAULT}
        names |= {n for n, _ in s.let} | {n for n, _ in s.letting}
        if s.group_as:
            names.add(s.group_as)
        names |= {a for _, a in s.group_by or [] if a}
        names |= {t.alias for t in s.terms if t.alias}
        self.varying = frozenset(names)
        aggs = _collect_aggs(
            [t.expr for t in s.terms] + [s.having] + [e for _, e in s.letting]
            + [o.expr for o in order]
        )  # fmt: skip
        self.aggregating = bool(aggs) or s.group_by is not None
        slots = {id(a): i for i, a in enumerate(aggs)}
        pre = Compiler(ctx, varying=self.varying)
        post = Compiler(ctx, slots, self.varying)
        self.let = [(n, pre.compile(e)) for n, e in s.let]
        self.where = pre.compile(s.where) if s.where is not None else None
        self.group = [(pre.compile(e), a) for e, a in s.group_by or []]
        self.aggs = [
            (a.name, a.distinct, a.star, pre.compile(a.args[0]) if a.args else None,
             pre.compile(a.filter) if a.filter is not None else None)
            for a in aggs
        ]  # fmt: skip
        for a in aggs:
            if not a.star and len(a.args) != 1:
                raise SqlppError(f"aggregate {a.name.upper()}() takes one argument")
        self.letting = [(n, post.compile(e)) for n, e in s.letting]
        self.having = post.compile(s.having) if s.having is not None else None
        self.exclude = [post.compile(e) for e in s.exclude]
        self.exclude_nodes = s.exclude
        wins = collect_windows([t.expr for t in s.terms] + [o.expr for o in order])
        self.windows = (
            WindowPlan(wins, Compiler(ctx, slots, self.varying), s.windows) if wins else None
        )
        post.wins = {id(c): i for i, c in enumerate(wins)}
        self.proj = self._projection(post)
        self.order = [(post.compile(o.expr), o.desc, o.nulls_first) for o in order]
        plan = self.from_plan.plan if self.from_plan else None
        if plan is not None and plan.ordered and not self.aggregating and not self.windows:
            self.order = []  # the index scan yields rows in ORDER BY's order already
        elif plan is not None:
            plan.ordered = False
        # A covering scan whose spans answer WHERE exactly yields WHERE's rows as they are.
        exact = plan is not None and plan.unfiltered is not None and s.where is not None
        self.exact_plan = plan if exact else None
        # SELECT COUNT(*) answered by counting index entries (Couchbase's IndexCountScan).
        self.count_plan = plan if plan is not None and _counts_entries(s, aggs, plan) else None
        # GROUP BY the leading key with COUNT(*), one group per value of its = or IN: each
        # group counted in the index (Couchbase's index aggregation, ``index_group_aggs``).
        self.group_plan = (
            plan
            if plan is not None and self.from_plan and _counts_groups(s, aggs, plan,
                                                                      self.from_plan.aliases[0])
            else None
        )  # fmt: skip

    def _projection(self, c: Compiler) -> Callable[[Env], Any]:
        s = self.s
        self.names: list[str] = []
        if s.raw:
            return c.compile(s.terms[0].expr)  # type: ignore[arg-type]
        terms: list[tuple[str, Any, Any]] = []
        n = 0
        for t in s.terms:
            if t.star:
                terms.append(("*", None, c.compile(t.expr) if t.expr is not None else None))
                continue
            assert t.expr is not None
            name = t.alias or implicit_name(t.expr)
            if name is None:
                n += 1
                name = f"${n}"
            terms.append(("=", name, c.compile(t.expr)))
            self.names.append(name)
        aliases = self.from_plan.aliases if self.from_plan else []

        def project(env: Env) -> Any:
            out: dict[str, Any] = {}
            for kind, name, f in terms:
                if kind == "=":
                    v = f(env)
                    if v is not MISSING:
                        out[name] = v
                elif f is None:
                    for a in aliases:
                        v = env.get(a, MISSING)
                        if v is not MISSING:
                            out[a] = v
                else:
                    v = f(env)
                    if type(v) is dict:
                        out.update(v)
            return out

        return project

    def aliases_of(self, row: Any) -> dict[str, Any]:
        """Return projection aliases visible to ORDER BY for a projected row."""
        if self.s.raw or type(row) is not dict:
            return {}
        return row

    def rows(self, env: Env) -> Iterator[Env]:
        """Yield row environments after FROM, LET and WHERE."""
        let, where = self.let, self.where
        src: Iterable[Env] | None = None
        plan = self.exact_plan
        if plan is not None and exact_values(plan, env):
            spans = plan.spans(env)
            if spans is not None:  # the entries read are WHERE's rows: it is not evaluated
                assert self.from_plan is not None
                src, where = self.from_plan.envs(env, spans, unfiltered=True), None
        if src is None:
            src = self.from_plan.envs(env) if self.from_plan else [dict(env)]
        ctx, i = self.ctx, 0
        for e in src:
            i += 1
            if i & 255 == 0 and ctx.deadline is not None:
                check_deadline(ctx)
            for name, f in let:
                e[name] = f(e)
            if where is not None and not truth(where(e)):
                continue
            yield e

    def grouped(self, env: Env) -> Iterator[Env]:
        """Yield one environment per group, with aggregate values in their slots."""
        plan = self.count_plan
        if plan is not None and exact_values(plan, env):
            source = self.ctx.source
            if isinstance(plan, KeyRangePlan):
                n = source.key_count(plan.index.keyspace, plan.key_ranges(env))
            else:
                spans = plan.spans(env)
                n = None if spans is None else source.index_count(plan.index, spans)
            if n is not None:
                e = dict(env)
                e[agg_key(0)] = n
                yield e
                return
        if self.group_plan is not None and exact_values(self.group_plan, env):
            yield from self._counted_groups(env, self.group_plan)
            return
        groups: dict[Any, list[Any]] = {}
        aggs, group = self.aggs, self.group
        group_as = self.s.group_as
        aliases = self.from_plan.aliases if self.from_plan else []
        for e in self.rows(env):
            tick()
            key = tuple(hkey(f(e)) for f, _ in group) if group else ()
            g = groups.get(key)
            if g is None:
                accs = [Accumulator(n, d, st) for n, d, st, _, _ in aggs]
                g = groups[key] = [e, accs, [] if group_as else None]
            for acc, (_, _, star, arg, filt) in zip(g[1], aggs, strict=False):
                if filt is not None and not truth(filt(e)):
                    continue
                acc.add(None if star else arg(e))  # type: ignore[misc]
            if group_as:
                g[2].append({a: e[a] for a in aliases if e.get(a, MISSING) is not MISSING})
        if not groups and not group:
            groups[()] = [dict(env), [Accumulator(n, d, st) for n, d, st, _, _ in aggs], []]
        for g in groups.values():
            e = dict(g[0])
            for i, acc in enumerate(g[1]):
                e[agg_key(i)] = acc.grouped_result()
            for f, alias in group:
                if alias:
                    e[alias] = f(g[0])
            if group_as:
                e[group_as] = g[2]
            for name, f in self.letting:
                e[name] = f(e)
            if self.having is not None and not truth(self.having(e)):
                continue
            yield e

    def _counted_groups(self, env: Env, plan: IndexPlan) -> Iterator[Env]:
        """Yield one environment per key value with entries: its first row's, with the
        number of entries as COUNT(*) (the rows ``grouped`` would make of the full scan)."""
        assert self.from_plan is not None
        spans = plan.point_spans(env)
        for span, n in zip(spans, self.ctx.source.index_counts(plan.index, spans), strict=True):
            tick()
            if not n:
                continue
            first = next(self.from_plan.envs(env, [span]), None)
            if first is None:  # expired between the count and the read
                continue
            e = dict(first)
            for i in range(len(self.aggs)):  # every aggregate is COUNT(*)
                e[agg_key(i)] = n
            for f, alias in self.group:
                if alias:
                    e[alias] = f(first)
            yield e

    def run(self, env: Env) -> list[Any]:
        envs = self.grouped(env) if self.aggregating else self.rows(env)
        if not self.aggregating and (self.letting or self.having is not None):
            envs = self._post_filter(envs)
        if self.windows is not None:
            envs = self.windows.apply(list(envs))
        lo, hi = limits(self.offset, self.limit, env)
        proj, raw, order = self.proj, self.s.raw, self.order
        exclude = self.exclude
        if not order and not self.s.distinct:
            out = []
            if hi == 0:
                return out
            for e in envs:
                v = proj(e)
                if raw and v is MISSING:
                    v = None  # Couchbase returns a MISSING raw value as null
                if lo:
                    lo -= 1
                    continue
                out.append(self._exclude(v, e) if exclude else v)
                if hi is not None and len(out) >= hi:
                    break
            return out
        pairs: list[Any] = []
        seen: set[Any] | None = set() if self.s.distinct else None
        for e in envs:
            v = proj(e)
            if raw and v is MISSING:
                v = None
            if exclude:
                v = self._exclude(v, e)
            if seen is not None:
                k = hkey(v)
                if k in seen:
                    continue
                seen.add(k)
            pairs.append((v, e))
        if order:
            keyed = []
            for v, e in pairs:
                if self.names and type(v) is dict:
                    e2 = dict(e)
                    for name in self.names:
                        e2[name] = v.get(name, MISSING)
                else:
                    e2 = e
                keyed.append(([f(e2) for f, _, _ in order], v))
            top = None if hi is None else lo + hi
            rows = [v for _, v in sort_keyed(keyed, order, top)]
        else:
            rows = [v for v, _ in pairs]
        if lo or hi is not None:
            rows = rows[lo : None if hi is None else lo + hi]
        return rows

    def _post_filter(self, envs: Iterable[Env]) -> Iterator[Env]:
        for e in envs:
            for name, f in self.letting:
                e[name] = f(e)
            if self.having is not None and not truth(self.having(e)):
                continue
            yield e

    def _exclude(self, v: Any, env: Env) -> Any:
        return apply_exclude(v, self.exclude_nodes, self.exclude, env)


__all__ = ["compile_select", "check_deadline", "META_DEFAULT"]
