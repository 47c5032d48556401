"""FROM clause: keyspace scans and key lookups, expression terms, JOINs, NEST and UNNEST."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.budget import tick
from catalog.sqlpp.compiler import Compiler
from catalog.sqlpp.covering import build_order, key_path, partial_document, read_paths
from catalog.sqlpp.errors import SqlppError, SqlppTimeout
from catalog.sqlpp.index_keys import Inexact, decode
from catalog.sqlpp.planner import IndexPlan, choose
from catalog.sqlpp.planner_keys import KeyRangePlan, choose_primary
from catalog.sqlpp.scope import DEFAULT, META_DEFAULT, Context, idents, meta_key
from catalog.sqlpp.values import MISSING, hkey, truth

Env = dict


def resolve_keyspace(path: list[str], query_context: str | None) -> str:
    """Return the canonical bucket.scope.collection for a FROM path."""
    qc = query_context or ""
    if qc.startswith("default:"):
        qc = qc[len("default:") :]
    qc = qc.strip().strip(":")
    qparts = [p.strip("`") for p in qc.split(".")] if qc else []
    if len(path) == 3:
        return ".".join(path)
    if len(path) == 1:
        if len(qparts) == 2:
            return f"{qparts[0]}.{qparts[1]}.{path[0]}"
        return f"{path[0]}._default._default"
    if len(path) == 2 and len(qparts) >= 1:
        return f"{qparts[0]}.{path[0]}.{path[1]}"
    raise SqlppError(f"invalid keyspace path {'.'.join(path)}")


def _path(e: A.Node) -> list[str] | None:
    parts = key_path(e)
    return list(parts) if parts is not None and len(parts) <= 3 else None


def _meta(key: str, cas: int, value: Any) -> dict[str, Any]:
    binary = isinstance(value, (bytes, bytearray))
    return {"cas": cas, "expiration": 0, "flags": 0, "id": key,
            "type": "base64" if binary else "json"}  # fmt: skip


class _Keyspace:
    """A keyspace read by a FROM term (scan, or fetch with USE KEYS / ON KEYS)."""

    def __init__(self, name: str, ctx: Context) -> None:
        src = ctx.source
        if src is None or not src.keyspace_exists(name):
            raise SqlppError(f"Keyspace not found: {name}")
        self.name, self.ctx = name, ctx

    def scan(self, paths: list[tuple[str, ...]] | None = None) -> Iterator[tuple[str, Any, int]]:
        """Yield (key, value, cas) of every document (``paths``: the value holds those fields
        alone; the source reads them when it can)."""
        cache = getattr(self.ctx, "scans", {})
        if self.name in cache:
            yield from cache[self.name]
            return
        if paths is not None:
            yield from self.ctx.source.scan(self.name, paths=paths)
            return
        yield from self.ctx.source.scan(self.name)

    def materialize(self) -> list[tuple[str, Any, int]]:
        if not hasattr(self.ctx, "scans"):
            self.ctx.scans = {}  # type: ignore[attr-defined]
        cache = self.ctx.scans  # type: ignore[attr-defined]
        if self.name not in cache:
            cache[self.name] = list(self.ctx.source.scan(self.name))
        return cache[self.name]

    def fetch(
        self, keys: Any, paths: list[tuple[str, ...]] | None = None
    ) -> list[tuple[str, Any, int]]:
        if isinstance(keys, str):
            keys = [keys]
        if type(keys) is not list:
            return []
        keys = [k for k in keys if isinstance(k, str)]
        if not keys:
            return []
        if paths is not None:
            return list(self.ctx.source.fetch(self.name, keys, paths=paths))
        return list(self.ctx.source.fetch(self.name, keys))


# The planner's choices, by everything a choice depends on: the statement's syntax tree (a
# parsed statement is cached, so a repeated statement brings the same tree), the keyspace,
# the index objects in force (new ones after any index change), the ORDER BY terms, the
# names in scope and the USE INDEX hint; never the parameters' values (spans are worked out
# from them at each run). Choosing costs ~0.3 ms, more than a selective statement's run.
_CHOSEN: dict[tuple[Any, ...], tuple[Any, IndexPlan | None]] = {}
MAX_CHOSEN = 512


def _chosen(s: A.SubSelect, alias: str, keyspace: str, candidates: list[Any],
            order: list[A.OrderTerm], names: frozenset[str],
            hint: list[str] | None) -> IndexPlan | None:  # fmt: skip
    """Return the plan the planner picks (an index's or the primary keys'), remembered."""
    key = (id(s), alias, keyspace, tuple(map(id, candidates)), tuple(map(id, order)), names,
           tuple(hint) if hint is not None else None)  # fmt: skip
    seen = _CHOSEN.get(key)
    # The value holds the objects whose ids make the key, so no id is reused while it lives.
    if seen is not None and seen[0][0] is s:
        return seen[1]
    plan = choose(s, alias, candidates, order, names, hint)
    by_key = choose_primary(s, alias, keyspace, order, names, hint)
    if by_key is not None and (plan is None or by_key.score > plan.score):
        plan = by_key
    if len(_CHOSEN) >= MAX_CHOSEN:
        _CHOSEN.clear()
    _CHOSEN[key] = ((s, list(candidates), list(order)), plan)
    return plan


_READ: dict[tuple[Any, ...], tuple[Any, list[tuple[str, ...]] | None]] = {}


def _read_paths(s: A.SubSelect, alias: str, order: list[A.OrderTerm],
                names: frozenset[str]) -> list[tuple[str, ...]] | None:  # fmt: skip
    """Return ``read_paths`` of a block, remembered as the planner's choices are (working
    them out takes ~0.2 ms, as long as a selective statement's run)."""
    key = (id(s), alias, tuple(id(o) for o in order), names)
    seen = _READ.get(key)
    if seen is not None and seen[0][0] is s:
        return seen[1]
    paths = read_paths(s, alias, order, set(names))
    if len(_READ) >= MAX_CHOSEN:
        _READ.clear()
    _READ[key] = ((s, list(order)), paths)  # holds the objects whose ids make the key
    return paths


class FromPlan:
    """The FROM clause of one SELECT block, producing row environments."""

    def __init__(self, s: A.SubSelect, ctx: Context, varying: frozenset[str],
                 order: list[A.OrderTerm] | None = None) -> None:  # fmt: skip
        self.ctx = ctx
        self.plan: IndexPlan | None = None
        assert s.from_ is not None
        self.aliases: list[str] = []
        bound = set(varying)
        for t in [s.from_] + [j.term or j for j in s.joins]:
            alias = t.alias
            same = (
                isinstance(t, A.ExprTerm) and isinstance(t.expr, A.Ident) and t.expr.name == alias
            )
            if alias in ctx.with_names and not same:
                raise SqlppError(f"duplicate variable {alias}: it is already a WITH name")
        self.first = self._term(s.from_, bound)
        self.aliases.append(s.from_.alias)
        bound |= {s.from_.alias, DEFAULT}
        self.stages: list[Callable[[Iterable[Env]], Iterator[Env]]] = []
        for j in s.joins:
            self.stages.append(self._join(j, frozenset(bound)))
            alias = j.alias if j.kind == "unnest" else j.term.alias  # type: ignore[union-attr]
            self.aliases.append(alias)  # type: ignore[arg-type]
            bound.add(alias)  # type: ignore[arg-type]
        if "ks" in self.first and self.first["keys"] is None:
            self.plan = self._index_plan(s, order or [], bound)
        # the fields the block reads of the first term's documents, when the source can read
        # just those (None: whole documents)
        self.paths: list[tuple[str, ...]] | None = None
        uncovered = self.plan is None or self.plan.covering is None
        if "ks" in self.first and uncovered and getattr(ctx.source, "reads_paths", False):
            names = frozenset(bound | {n for n, _ in s.let} | ctx.with_names)
            self.paths = _read_paths(s, self.first["alias"], order or [], names)

    def _index_plan(self, s: A.SubSelect, order: list[A.OrderTerm],
                    bound: set[str]) -> IndexPlan | None:  # fmt: skip
        """Return the index scan the planner picks for the first term (None: a full scan)."""
        indexes = getattr(self.ctx.source, "indexes", None)
        hint = s.from_.use_index if s.from_ is not None else None
        if indexes is None or (hint is not None and "#primary" in hint):
            return None
        names = frozenset(bound | {n for n, _ in s.let} | self.ctx.with_names)
        alias, keyspace = self.first["alias"], self.first["ks"].name
        candidates = indexes(keyspace)
        plan = _chosen(s, alias, keyspace, candidates, order, names, hint)
        if plan is not None:
            plan = copy.copy(plan)  # the chosen plan is shared; its compiled functions are not
            plan.compile(Compiler(self.ctx, varying=names).compile)
        return plan

    def _term(self, t: A.KeyspaceTerm | A.ExprTerm, bound: set[str]) -> dict[str, Any]:
        c = Compiler(self.ctx, varying=frozenset(bound))
        keys = c.compile(t.use_keys) if t.use_keys is not None else None
        if isinstance(t, A.KeyspaceTerm):
            path = t.path
        else:
            path = _path(t.expr)
            # A bare name is a keyspace unless WITH defines it; a longer path is an expression
            # when it starts with a variable in scope (correlated FROM orders.lines).
            if path is not None and (
                (
                    len(path) == 1
                    and (
                        path[0] in self.ctx.with_names
                        or (path[0] in bound and path[0] not in self.ctx.keyspace_aliases)
                    )
                )
                or (len(path) > 1 and path[0] in bound)
            ):
                path = None
        if path is not None:
            ks = _Keyspace(resolve_keyspace(path, self.ctx.query_context), self.ctx)
            if t.alias == path[-1]:
                self.ctx.keyspace_aliases.add(t.alias)
            return {"ks": ks, "keys": keys, "alias": t.alias}
        assert isinstance(t, A.ExprTerm)
        return {"expr": c.compile(t.expr), "keys": keys, "alias": t.alias}

    def envs(self, outer: Env, spans: list[tuple[bytes, bytes]] | None = None,
             unfiltered: bool = False) -> Iterator[Env]:  # fmt: skip
        """Yield the row environments (``spans``: read these spans of the chosen index;
        ``unfiltered``: the rows will not meet WHERE, so a covering scan leaves out the keys
        only WHERE reads)."""
        out: Iterable[Env] = self._first(outer, spans, unfiltered)
        for st in self.stages:
            out = st(out)
        return iter(out)

    def _first(self, outer: Env, chosen: list[tuple[bytes, bytes]] | None,
               unfiltered: bool = False) -> Iterator[Env]:  # fmt: skip
        t = self.first
        alias = t["alias"]
        mk = meta_key(alias)
        if "ks" in t:
            ks: _Keyspace = t["ks"]
            docs: Iterable[tuple[str, Any, int]]
            paths = {} if self.paths is None else {"paths": self.paths}
            if t["keys"] is not None:
                docs = ks.fetch(t["keys"](outer), self.paths)
            elif isinstance(self.plan, KeyRangePlan):
                ranges = self.plan.key_ranges(outer)
                keys_only = self.plan.covering is not None
                docs = self.ctx.source.key_scan(
                    ks.name, ranges, self.plan.descending, keys_only, **paths
                )
            elif (
                self.plan is not None
                and (spans := chosen if chosen is not None else self.plan.spans(outer)) is not None
            ):
                if self.plan.covering is not None:
                    docs = self._covered(ks, spans, unfiltered)
                else:
                    docs = self.ctx.source.index_scan(
                        self.plan.index, spans, self.plan.descending, **paths
                    )
            else:
                docs = ks.scan(self.paths)
            deadline = self.ctx.deadline
            for i, (key, value, cas) in enumerate(docs, 1):
                if deadline is not None and i & 255 == 0 and time.monotonic() > deadline:
                    raise SqlppTimeout("query timed out (deadline passed)")
                m = _meta(key, cas, value)
                if isinstance(value, (bytes, bytearray)):
                    value = MISSING
                e = dict(outer)
                e[alias] = value
                e[DEFAULT] = value
                e[mk] = m
                e[META_DEFAULT] = m
                yield e
            return
        v = t["expr"](outer)
        items = v if type(v) is list else ([] if v is MISSING else [v])
        for x in items:
            tick()
            e = dict(outer)
            e[alias] = x
            e[DEFAULT] = x
            e.pop(META_DEFAULT, None)
            yield e

    def _covered(self, ks: _Keyspace, spans: list[tuple[bytes, bytes]],
                 unfiltered: bool = False) -> Iterator[Any]:  # fmt: skip
        """Yield (key, fields from the index entry, 0) for a covering scan."""
        plan = self.plan
        assert plan is not None and plan.covering is not None
        paths = plan.unfiltered if unfiltered and plan.unfiltered is not None else plan.covering
        order = build_order(paths)
        read = max(order, default=-1) + 1  # the keys up to the last one the block reads
        if not read:  # the rows need the document keys only
            for key, _ in self.ctx.source.index_entries(plan.index, spans, plan.descending):
                yield key, {}, 0
            return
        for key, entry in self.ctx.source.index_entries(plan.index, spans, plan.descending):
            try:
                yield key, partial_document(paths, order, decode(entry, read)), 0
            except Inexact:  # a number the entry cannot give back exactly: read the document
                yield from ks.fetch([key])

    def _join(
        self, j: A.JoinClause, bound: frozenset[str]
    ) -> Callable[[Iterable[Env]], Iterator[Env]]:
        c = Compiler(self.ctx, varying=bound)
        if j.kind == "unnest":
            f, alias, outer = c.compile(j.expr), j.alias, j.outer  # type: ignore[arg-type]

            def unnest(envs: Iterable[Env]) -> Iterator[Env]:
                for e in envs:
                    v = f(e)
                    if type(v) is list and v:
                        for x in v:
                            tick()
                            if x is MISSING:
                                continue
                            e2 = dict(e)
                            e2[alias] = x
                            yield e2
                    elif outer:
                        yield e

            return unnest
        assert j.term is not None
        term = self._term(j.term, set(bound))
        alias, outer, nest = j.term.alias, j.outer, j.kind == "nest"
        mk = meta_key(alias)
        c2 = Compiler(self.ctx, varying=bound | {alias})
        on = c2.compile(j.on) if j.on is not None else None
        if j.on_keys is not None:
            if "ks" not in term:
                raise SqlppError("ON KEYS needs a keyspace on the right-hand side")
            keys_f, ks = c.compile(j.on_keys), term["ks"]

            def right_for(e: Env) -> list[tuple[Any, Any]]:
                return [(v, _meta(k, cas, v)) for k, v, cas in ks.fetch(keys_f(e))]

        elif "ks" in term:
            ks = term["ks"]
            probe = self._hash_probe(j.on, alias, c, bound) if j.on is not None else None
            cache: dict[str, Any] = {}

            def right_all() -> list[tuple[Any, Any]]:
                if "all" not in cache:
                    cache["all"] = [(v, _meta(k, cas, v)) for k, v, cas in ks.materialize()]
                return cache["all"]

            if probe is not None:
                left_f, right_f = probe

                def right_for(e: Env) -> list[tuple[Any, Any]]:
                    if "idx" not in cache:
                        idx: dict[Any, list[tuple[Any, Any]]] = {}
                        for v, m in right_all():
                            k = right_f({alias: v, mk: m})
                            if k is not MISSING and k is not None:
                                idx.setdefault(hkey(k), []).append((v, m))
                        cache["idx"] = idx
                    k = left_f(e)
                    if k is MISSING or k is None:
                        return []
                    return cache["idx"].get(hkey(k), [])

            else:

                def right_for(e: Env) -> list[tuple[Any, Any]]:
                    return right_all()

        else:
            expr_f, keys = term["expr"], term["keys"]

            def right_for(e: Env) -> list[tuple[Any, Any]]:
                v = expr_f(e)
                items = v if type(v) is list else ([] if v is MISSING else [v])
                return [(x, None) for x in items]

            del keys

        def join(envs: Iterable[Env]) -> Iterator[Env]:
            for e in envs:
                matched: list[Any] = []
                for v, m in right_for(e):
                    tick()
                    if isinstance(v, (bytes, bytearray)):
                        v = MISSING
                    e2 = dict(e)
                    e2[alias] = v
                    if m is not None:
                        e2[mk] = m
                    if on is not None and not truth(on(e2)):
                        continue
                    if nest:
                        matched.append(v)
                    else:
                        matched.append(e2)
                if nest:
                    if matched or outer:
                        e2 = dict(e)
                        e2[alias] = matched
                        yield e2
                elif matched:
                    yield from matched
                elif outer:
                    yield e

        return join

    def _hash_probe(self, on: A.Node, alias: str, c: Compiler,
                    bound: frozenset[str]) -> tuple[Any, Any] | None:  # fmt: skip
        """Return (left key fn, right key fn) for an equality conjunct usable as a hash join."""
        conj = on.operands if isinstance(on, A.Logic) and on.op == "and" else [on]
        for t in conj:
            if not isinstance(t, A.Binary) or t.op != "=":
                continue
            for r, lft in ((t.left, t.right), (t.right, t.left)):
                ri, li = idents(r), idents(lft)
                if ri == {alias} and alias not in li and not _has_sub(r) and not _has_sub(lft):
                    rc = Compiler(self.ctx, varying=bound | {alias})
                    return c.compile(lft), rc.compile(r)
        return None


def _has_sub(n: Any) -> bool:
    stack = [n]
    while stack:
        x = stack.pop()
        if isinstance(x, (A.Subquery, A.Call)) and (isinstance(x, A.Subquery) or x.name == "meta"):
            return True
        stack.extend(A.children(x))
    return False
