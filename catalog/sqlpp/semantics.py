"""Couchbase's semantic checks on a parsed statement, before planning.

- 4210: in a query that groups (GROUP BY or aggregates), the projection, HAVING, LETTING and
  ORDER BY may use a FROM/LET name only inside a group key or an aggregate.
- 4020: a subquery's FROM alias may not repeat a FROM alias of an enclosing query.
- 4310: META() without an argument needs exactly one FROM term.
- 3000: two result terms with the same name (alias or implicit name).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.aggregates import AGGREGATES
from catalog.sqlpp.errors import SqlppError, SqlppSyntaxError

Block = A.SubSelect | A.Select | A.SetOp


def canon(n: Any) -> Any:
    """A comparable form of a tree, without source positions."""
    if isinstance(n, (list, tuple)):
        return tuple(canon(x) for x in n)
    if isinstance(n, dict):
        return tuple(sorted((k, canon(v)) for k, v in n.items()))
    if not hasattr(type(n), "__slots__"):
        return n
    slots = [s for s in type(n).__slots__ if s != "pos"]
    return (type(n).__name__, *(canon(getattr(n, s, None)) for s in slots))


def _is_aggregate(n: Any) -> bool:
    return isinstance(n, A.Call) and n.name in AGGREGATES and n.over is None


def _aggregates(nodes: list[Any]) -> bool:
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, A.Subquery):
            continue
        if _is_aggregate(n):
            return True
        stack.extend(A.children(n))
    return False


def from_aliases(s: A.SubSelect) -> list[str]:
    """The names a SELECT block's FROM clause binds (terms, joins, nests, unnests)."""
    out = [s.from_.alias] if s.from_ is not None else []
    for j in s.joins:
        alias = j.alias if j.term is None else j.term.alias
        if alias:
            out.append(alias)
    return out


def _subselects(b: Block) -> Iterator[tuple[A.SubSelect, list[A.OrderTerm]]]:
    """The SELECT blocks of a query body, each with the ORDER BY that applies to it."""
    if isinstance(b, A.Select):
        if isinstance(b.body, A.SubSelect):
            yield b.body, b.order
        else:
            yield from _subselects(b.body)
    elif isinstance(b, A.SetOp):
        yield from _subselects(b.left)
        yield from _subselects(b.right)
    else:
        yield b, []


class _Grouping:
    """The 4210 check for one SELECT block."""

    def __init__(self, s: A.SubSelect, known: frozenset[str]) -> None:
        self.keys = {canon(e) for e, _ in s.group_by or []}
        fixed = {a for _, a in s.group_by or [] if a} | {n for n, _ in s.letting}
        if s.group_as:
            fixed.add(s.group_as)
        self.varying = (set(from_aliases(s)) | {n for n, _ in s.let}) - fixed
        # a bare name nothing binds is a field of the FROM keyspace
        self.known = known | fixed | self.varying if s.from_ is not None else None

    def check(self, n: Any, bound: frozenset[str] = frozenset()) -> None:
        if n is None or isinstance(n, (str, int, float, bool)):
            return
        if canon(n) in self.keys or _is_aggregate(n):
            return
        if isinstance(n, A.Ident):
            implicit = self.known is not None and n.name not in self.known
            if (n.name in self.varying or implicit) and n.name not in bound:
                raise SqlppError(
                    f"Expression {n.name} must depend only on group keys or aggregates."
                )
            return
        if isinstance(n, A.Subquery):
            from catalog.sqlpp.scope import idents

            used = (idents(n.query) & self.varying) - bound
            if used:
                name = sorted(used)[0]
                raise SqlppError(
                    f"Subquery using {name} must depend only on group keys or aggregates."
                )
            return
        if isinstance(n, (A.Quantified, A.Comprehension)):
            inner = set(bound)
            for b in n.bindings:
                self.check(b.expr, frozenset(inner))
                inner |= {b.var} | ({b.pos_var} if b.pos_var else set())
            rest = [n.cond] if isinstance(n, A.Quantified) else [n.expr, n.when, n.key]
            for x in rest:
                self.check(x, frozenset(inner))
            return
        for c in A.children(n):
            self.check(c, bound)


def check_grouping(s: A.SubSelect, order: list[A.OrderTerm], known: frozenset[str]) -> None:
    """Raise 4210's error for a non-grouped use of a FROM or LET name."""
    exprs = [t.expr for t in s.terms] + [s.having] + [e for _, e in s.letting]
    if s.group_by is None and not _aggregates(exprs + [o.expr for o in order]):
        return
    g = _Grouping(s, known)
    for e in exprs:
        g.check(e)
    names = frozenset(t.alias for t in s.terms if t.alias)
    for o in order:
        g.check(o.expr, names)


def check_result_names(s: A.SubSelect) -> None:
    """Refuse two result terms with one name, as Couchbase's parser does."""
    from catalog.sqlpp.parser_expr import implicit_name

    if s.raw:
        return
    seen: set[str] = set()
    n = 0
    for t in s.terms:
        if t.star or t.expr is None:
            continue
        name = t.alias or implicit_name(t.expr)
        if name is None:
            n += 1
            name = f"${n}"
        if name in seen:
            raise SqlppSyntaxError(f"Duplicate result alias '{name}'")
        seen.add(name)


def _meta_without_argument(nodes: list[Any]) -> bool:
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, A.Subquery):
            continue
        if isinstance(n, A.Call) and n.name == "meta" and not n.args:
            return True
        stack.extend(A.children(n))
    return False


def _block_nodes(s: A.SubSelect, order: list[A.OrderTerm]) -> list[Any]:
    """The expressions of a block outside its FROM terms."""
    nodes: list[Any] = [t.expr for t in s.terms] + [s.where, s.having] + [o.expr for o in order]
    nodes += [e for _, e in s.let] + [e for _, e in s.letting] + list(s.exclude)
    nodes += [e for e, _ in s.group_by or []]
    nodes += [x for j in s.joins for x in (j.on, j.on_keys, j.expr)]
    return nodes


def _subqueries(nodes: list[Any]) -> Iterator[A.Select]:
    """Subqueries directly under nodes (not inside other subqueries)."""
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, (str, int, float, bool)):
            continue
        if isinstance(n, A.Subquery):
            yield n.query
            continue
        if isinstance(n, A.RecursiveWith):
            yield A.Select(n.anchor)
            yield A.Select(n.step)
            continue
        stack.extend(A.children(n))


def _check_select(q: Block, outer: frozenset[str], known: frozenset[str]) -> None:
    """Check a query: outer = enclosing FROM aliases, known = every name bound outside it."""
    if isinstance(q, A.Select):
        for _, e in q.with_:
            for sub in _subqueries([e]):
                _check_select(sub, outer, known)
        for sub in _subqueries([q.limit, q.offset]):
            _check_select(sub, outer, known)
    for s, order in _subselects(q):
        aliases = from_aliases(s)
        for a in aliases:
            if a in outer:
                raise SqlppError(f"Duplicate FROM alias '{a}'")
        check_result_names(s)
        check_grouping(s, order, known)
        n_terms = (1 if s.from_ is not None else 0) + len(s.joins)
        if n_terms != 1 and _meta_without_argument(_block_nodes(s, order)):
            raise SqlppError("META() in query with multiple FROM terms requires an argument.")
        terms = [t for t in [s.from_] + [j.term for j in s.joins] if t is not None]
        for t in terms:  # a FROM subquery does not see this block's aliases
            for sub in _subqueries([getattr(t, "expr", None), t.use_keys]):
                _check_select(sub, outer, known)
        inner = outer | set(aliases)
        names = set(aliases) | {n for n, _ in s.let} | {n for n, _ in s.letting}
        names |= {a for _, a in s.group_by or [] if a} | ({s.group_as} if s.group_as else set())
        for sub in _subqueries(_block_nodes(s, order)):
            _check_select(sub, inner, known | names)


def check_semantics(q: A.Select) -> None:
    """Raise a SqlppError where Couchbase refuses the statement after parsing it."""
    _check_select(q, frozenset(), frozenset())
