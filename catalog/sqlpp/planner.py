"""Index selection for the first FROM term of a SELECT block, as Couchbase's planner does.

A keyspace term reads through a secondary index when a conjunct of WHERE is sargable on the
index's leading key: ``=``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``, ``IN``, ``IS [NOT]
NULL``, ``IS NOT MISSING``, ``IS VALUED``, ``LIKE`` with a fixed prefix, and over an array
key ``ANY x IN path SATISFIES <sargable on x> END``. Later keys of a composite index narrow
the scan while the keys before them are fixed by equality (or IN). The other side of each
predicate must be constant for the statement (literals, parameters, functions of them).

The index only narrows what is read: WHERE is evaluated again on every fetched document, so
a span may be wider than its predicate (an integer past 2^53, a type it cannot match, a
strict bound) and the rows stay exactly those of a full scan. Only a covering scan whose
spans hold exactly WHERE's rows (``countable`` with ``exact_values``) skips it. ORDER BY is
taken from the index (and LIMIT stops the scan early) when its terms are index keys in index
order, all ASC or all DESC, after the keys fixed by single-value equality. An index whose
leading key is ``INCLUDE MISSING`` holds every document, so it also serves ORDER BY ...
LIMIT with no predicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.aggregates import AGGREGATES
from catalog.sqlpp.covering import covering_paths
from catalog.sqlpp.index_keys import (
    TAG_ARRAY,
    TAG_FALSE,
    TAG_NULL,
    TAG_STRING,
    TOP,
    encode,
    string_body,
)
from catalog.sqlpp.values import MISSING

Fn = Callable[[dict], Any]
# More spans than this (IN lists multiplied over composite keys): read the keyspace instead.
MAX_SPANS = 10_000
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "==": "="}


@dataclass
class Sarg:
    """A predicate on one index key: its kind and the constant expressions it compares to."""

    kind: str  # eq, in, isnull, notnull, notmissing, range, like
    exprs: list[A.Node] = field(default_factory=list)  # eq/in/like: [value]
    low: list[A.Node] = field(default_factory=list)  # range lower bounds
    high: list[A.Node] = field(default_factory=list)  # range upper bounds
    sources: list[A.Node] = field(default_factory=list)  # the WHERE conjuncts it comes from


@dataclass
class IndexPlan:
    """The scan chosen for a keyspace term: an index, its predicates, and the order it gives."""

    index: Any  # the store's index object (``.name``, ``.definition``)
    sargs: list[Sarg]
    ordered: bool = False
    descending: bool = False
    fns: list[list[Fn]] = field(default_factory=list)  # compiled, set by ``compile``
    # Paths of the index keys when the index holds every field the block uses (no fetch).
    covering: list[tuple[str, ...] | None] | None = None
    # The entries in the spans are exactly WHERE's rows, one each, when ``exact_values``
    # holds: COUNT(*) is their number and WHERE need not be evaluated again.
    countable: bool = False
    # ``covering`` without the keys only WHERE reads (set when countable).
    unfiltered: list[tuple[str, ...] | None] | None = None
    score: tuple[Any, ...] = ()  # how selective: the planner keeps the highest

    def compile(self, compile_fn: Callable[[A.Node], Fn]) -> None:
        self.fns = [[compile_fn(e) for e in s.exprs + s.low + s.high] for s in self.sargs]

    def spans(self, env: dict) -> list[tuple[bytes, bytes]] | None:
        """Return the byte ranges to read (low inclusive, high exclusive); None: too many."""
        prefixes = [b""]
        for sarg, fns in zip(self.sargs, self.fns, strict=True):
            values = [f(env) for f in fns]
            if sarg.kind in ("eq", "in", "isnull"):
                parts = _point_parts(sarg.kind, values)
                if not parts:
                    return []
                prefixes = [p + x for p in prefixes for x in parts]
                if len(prefixes) > MAX_SPANS:
                    return None
                continue
            if any(_holds_object(v) for v in values):
                # Entries order objects names first, Couchbase's collation name by name
                # (values between): a range of objects is read by the full scan instead.
                return None
            bounds = _bounds(sarg, values)
            if bounds is None:
                return []
            lo, hi = bounds
            return _merge([(p + lo, p + hi) for p in prefixes])
        return _merge([(p, p + TOP) for p in prefixes])

    def point_spans(self, env: dict) -> list[tuple[bytes, bytes]]:
        """Return one span per value of the leading key's ``=`` or ``IN`` (a plan of one such
        predicate), in index order: each span holds the entries of exactly one key value."""
        (sarg,), (fns,) = self.sargs, self.fns
        return [(p, p + TOP) for p in _point_parts(sarg.kind, [f(env) for f in fns])]


def _holds_object(v: Any) -> bool:
    if type(v) is dict:
        return True
    return type(v) is list and any(_holds_object(x) for x in v)


def _point_parts(kind: str, values: list[Any]) -> list[bytes]:
    if kind == "isnull":
        return [encode(None)]
    if kind == "eq":
        v = values[0]
        return [] if v is MISSING or v is None else [encode(v)]
    coll = values[0]
    if type(coll) is not list:
        return []
    return sorted({encode(v) for v in coll if v is not MISSING and v is not None})


def _bounds(sarg: Sarg, values: list[Any]) -> tuple[bytes, bytes] | None:
    if sarg.kind == "notnull":
        return TAG_FALSE, TOP
    if sarg.kind == "notmissing":
        return TAG_NULL, TOP
    if sarg.kind == "like":
        pattern = values[0]
        if type(pattern) is not str:
            return None
        prefix = like_prefix(pattern)
        start = TAG_STRING + string_body(prefix)
        return start, (start + TOP) if prefix else TAG_ARRAY
    lows, highs = values[: len(sarg.low)], values[len(sarg.low) :]
    if any(v is MISSING or v is None for v in lows + highs):
        return None
    lo = max((encode(v) for v in lows), default=TAG_FALSE)
    hi = min((encode(v) + TOP for v in highs), default=TOP)
    return (lo, hi) if lo < hi else None


def like_prefix(pattern: str) -> str:
    """Return the fixed start of a LIKE pattern (up to the first wildcard or escape)."""
    for i, c in enumerate(pattern):
        if c in "%_\\":
            return pattern[:i]
    return pattern


def _merge(spans: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


# -- matching expressions to index keys ------------------------------------------------------


def canon(n: Any, alias: str | None, variables: dict[str, str], bare: bool) -> Any:
    """Return a hashable form of an expression over one document, or None if it is not one.

    The document is ``alias`` (a predicate) or implicit (an index key: ``bare``); variables
    of a comprehension or ANY are renamed by ``variables`` so that ``t`` and ``n`` compare.
    """
    if isinstance(n, A.Ident):
        if n.ci:
            return None
        if n.name in variables:
            return ("var", variables[n.name])
        if n.name == alias:
            return ("doc",)
        return ("field", ("doc",), n.name) if bare else None
    if isinstance(n, A.Field):
        if n.ci:
            return None
        base = canon(n.base, alias, variables, bare)
        return None if base is None else ("field", base, n.name)
    if isinstance(n, (A.Subquery, A.Param)) or (
        isinstance(n, A.Call) and (n.name == "meta" or n.over is not None)
    ):
        return None
    if hasattr(type(n), "__dataclass_fields__"):
        parts: list[Any] = [type(n).__name__]
        for slot in type(n).__slots__:
            v = getattr(n, slot)
            if isinstance(v, (list, tuple)) or hasattr(type(v), "__dataclass_fields__"):
                c = canon(v, alias, variables, bare)
                if c is None:
                    return None
                parts.append(c)
            else:
                parts.append(v if v is not MISSING else ("missing",))
        return tuple(parts)
    if isinstance(n, (list, tuple)):
        out = []
        for x in n:
            c = canon(x, alias, variables, bare)
            if c is None:
                return None
            out.append(c)
        return tuple(out)
    return n


def constant(n: Any) -> bool:
    """Return whether an expression has the same value for every row of the statement."""
    stack = [n]
    while stack:
        x = stack.pop()
        if isinstance(x, (A.Ident, A.Subquery)):
            return False
        if isinstance(x, A.Call) and (x.name in AGGREGATES or x.name == "meta" or x.over):
            return False
        stack.extend(A.children(x))
    return True


def conjuncts(n: A.Node | None) -> list[A.Node]:
    """Return the terms of a chain of ANDs."""
    if n is None:
        return []
    if isinstance(n, A.Logic) and n.op == "and":
        return [c for x in n.operands for c in conjuncts(x)]
    return [n]


def sarg_for(pred: A.Node, key: Any, alias: str | None, variables: dict[str, str],
             bare: bool) -> Sarg | None:  # fmt: skip
    """Return the Sarg of ``pred`` on the expression ``key`` (canonical form), or None."""
    return sarg_on(pred, lambda e: canon(e, alias, variables, bare) == key)


def sarg_on(pred: A.Node, on_key: Callable[[A.Node], bool]) -> Sarg | None:
    """Return the Sarg of ``pred`` on the expression ``on_key`` recognises, or None."""
    if isinstance(pred, A.Binary) and pred.op in _FLIP:
        op, left, right = pred.op, pred.left, pred.right
        if not on_key(left):
            op, left, right = _FLIP[op], right, left
        if not on_key(left) or not constant(right):
            return None
        if op == "=":
            return Sarg("eq", [right])
        if op in ("<", "<="):
            return Sarg("range", high=[right])
        return Sarg("range", low=[right])
    if isinstance(pred, A.Between) and not pred.negate and on_key(pred.operand):  # noqa: SIM102
        if constant(pred.low) and constant(pred.high):
            return Sarg("range", low=[pred.low], high=[pred.high])
    if isinstance(pred, A.InList) and not pred.negate and not pred.within:  # noqa: SIM102
        if on_key(pred.operand) and constant(pred.coll):
            return Sarg("in", [pred.coll])
    if isinstance(pred, A.Is) and on_key(pred.operand):
        kind = {("null", False): "isnull", ("null", True): "notnull",
                ("missing", True): "notmissing", ("valued", False): "notnull"}.get(
            (pred.what, pred.negate))  # fmt: skip
        return Sarg(kind) if kind else None
    if isinstance(pred, A.Like) and not pred.negate and pred.escape is None:  # noqa: SIM102
        if on_key(pred.operand) and constant(pred.pattern):
            return Sarg("like", [pred.pattern])
    return None


def _from(sarg: Sarg, pred: A.Node) -> Sarg:
    sarg.sources = [pred]
    return sarg


def _combine(found: list[Sarg]) -> Sarg | None:
    """Return the narrowest Sarg of several on one key (points first, then ranges)."""
    for kind in ("eq", "isnull", "in"):
        for s in found:
            if s.kind == kind:
                return s
    ranges = [s for s in found if s.kind == "range"]
    if ranges:
        return Sarg("range", low=[e for s in ranges for e in s.low],
                    high=[e for s in ranges for e in s.high],
                    sources=[e for s in ranges for e in s.sources])  # fmt: skip
    return found[0] if found else None


_POINT = ("eq", "in", "isnull")


def choose(
    s: A.SubSelect,
    alias: str,
    indexes: list[Any],
    order: list[A.OrderTerm],
    bound: set[str],
    hint: list[str] | None = None,
) -> IndexPlan | None:
    """Return the best index scan for the first FROM term of ``s``, or None (a full scan).

    ``bound`` holds the names that are not fields of the document (aliases, LET and WITH
    names, outer variables); ``hint`` the names of ``USE INDEX (...)``.
    """
    preds = conjuncts(s.where)
    bare = not s.joins
    bound = bound - {alias}
    canon_preds = {canon(p, alias, {}, bare) for p in preds}
    candidates: list[IndexPlan] = []
    for ix in indexes:
        d = ix.definition
        if d.primary or (hint is not None and d.name not in hint):
            continue
        if d.where is not None and canon(d.where, None, {}, True) not in canon_preds:
            continue
        sargs: list[Sarg] = []
        for pos, key in enumerate(d.keys):
            if key.array:
                found = _array_sargs(key.expr, preds, alias, bare, bound) if pos == 0 else []
            else:
                k = canon(key.expr, None, {}, True)
                found = [
                    _from(x, p)
                    for p in preds
                    if _free_of(p, bound) and (x := sarg_for(p, k, alias, {}, bare))
                ]
            sarg = _combine(found)
            if sarg is None:
                break
            sargs.append(sarg)
            if sarg.kind not in _POINT:
                break
        if not sargs and not d.keys[0].include_missing:
            continue
        plan = IndexPlan(ix, sargs)
        plan.ordered, plan.descending = _order_from(d, sargs, order, alias, bare, s)
        # Without a predicate, only an index holding every document (its leading key
        # INCLUDE MISSING) can serve, and only to give ORDER BY's order.
        if not sargs and not plan.ordered:
            continue
        points = sum(1 for x in sargs if x.kind in _POINT)
        plan.score = (points * 2 + (len(sargs) - points), plan.ordered)
        candidates.append(plan)
    if not candidates:
        return None
    # Among the most selective: one that covers the block (no document read), else the
    # one with the fewest keys. Covering is worked out for these few only.
    top = max(p.score for p in candidates)
    best = [p for p in candidates if p.score == top]
    for plan in best:
        plan.covering = covering_paths(s, alias, plan.index.definition, order, bound)
    plan = min(best, key=lambda p: (p.covering is None, len(p.index.definition.keys)))
    plan.countable = plan.covering is not None and _answers_exactly(
        plan.index.definition, plan.sargs, preds, alias, bare
    )
    if plan.countable:
        plan.unfiltered = covering_paths(
            replace(s, where=None), alias, plan.index.definition, order, bound
        )
    return plan


def _free_of(pred: A.Node, bound: set[str]) -> bool:
    """Return False when a bare name in ``pred`` is a variable rather than a document field."""
    stack: list[Any] = [pred]
    while stack:
        x = stack.pop()
        if isinstance(x, A.Ident) and x.name in bound:
            return False
        if isinstance(x, A.Field):
            stack.append(x.base)
        elif not isinstance(x, A.Ident):
            stack.extend(A.children(x))
    return True


def _array_sargs(comp: A.Node, preds: list[A.Node], alias: str, bare: bool,
                 bound: set[str]) -> list[Sarg]:  # fmt: skip
    """Return the Sargs of ``ANY v IN path SATISFIES ... END`` predicates on an array key."""
    assert isinstance(comp, A.Comprehension)
    if len(comp.bindings) != 1 or comp.when is not None:
        return []
    b = comp.bindings[0]
    path = canon(b.expr, None, {}, True)
    element = canon(comp.expr, None, {b.var: "v0"}, True)
    out: list[Sarg] = []
    for p in preds:
        if (
            isinstance(p, A.InList)  # "x" IN path: true when an element equals "x"
            and not p.negate
            and not p.within
            and element == ("var", "v0")
            and constant(p.operand)
            and _free_of(p.coll, bound)
            and canon(p.coll, alias, {}, bare) == path
        ):
            out.append(Sarg("eq", [p.operand], sources=[p]))
            continue
        if not isinstance(p, A.Quantified) or p.kind not in ("any", "anyevery"):
            continue
        if len(p.bindings) != 1 or p.bindings[0].within or not _free_of(p.bindings[0].expr, bound):
            continue
        qb = p.bindings[0]
        if canon(qb.expr, alias, {}, bare) != path:
            continue
        for c in conjuncts(p.cond):
            sarg = sarg_for(c, element, alias, {qb.var: "v0"}, bare)
            if sarg is not None:
                out.append(_from(sarg, p) if c is p.cond else sarg)
    return out


def _order_from(d: Any, sargs: list[Sarg], order: list[A.OrderTerm], alias: str, bare: bool,
                s: A.SubSelect) -> tuple[bool, bool]:  # fmt: skip
    """Return (ordered, descending): whether the index gives ORDER BY's order."""
    if not order or any(k.array for k in d.keys) or s.group_by is not None or s.joins:
        return False, False
    desc = order[0].desc
    if any(o.desc != desc or o.nulls_first not in (None, not desc) for o in order):
        return False, False
    named = {t.alias for t in s.terms if t.alias}
    if any(isinstance(o.expr, A.Ident) and o.expr.name in named for o in order):
        return False, False
    wanted = [canon(o.expr, alias, {}, bare) for o in order]
    if None in wanted:
        return False, False
    keys = [canon(k.expr, None, {}, True) for k in d.keys]
    fixed = 0
    for x in sargs:
        if x.kind not in ("eq", "isnull"):
            break
        fixed += 1
    for start in range(fixed + 1):
        if keys[start : start + len(wanted)] == wanted:
            return True, desc
    return False, False


def _answers_exactly(d: Any, sargs: list[Sarg], preds: list[A.Node], alias: str,
                     bare: bool) -> bool:  # fmt: skip
    """Return whether the entries in the spans are exactly the rows WHERE keeps (one each).

    True when every conjunct is an equality, IN, IS NULL, IS NOT NULL, IS VALUED, IS NOT
    MISSING or an inclusive range (``>=``, ``<=``, BETWEEN) the index answers, on keys that
    hold one entry per document; the values' types are checked when the statement runs
    (``exact_values``: a range's bounds must be strings, whose entries compare exactly as
    N1QL compares them; a strict ``<`` or ``>`` is read with its bound included).
    """
    if any(k.array and not k.distinct for k in d.keys) or any(
        x.kind not in ("eq", "in", "isnull", "notnull", "notmissing", "range") for x in sargs
    ):
        return False
    if any(x.kind == "range" and not all(map(_inclusive, x.sources)) for x in sargs):
        return False
    used = {id(p) for x in sargs for p in x.sources}
    implied = canon(d.where, None, {}, True) if d.where is not None else None
    return all(id(p) in used or (implied is not None and canon(p, alias, {}, bare) == implied)
               for p in preds)  # fmt: skip


def _inclusive(p: A.Node) -> bool:
    """Return whether a range predicate keeps its bounds (``>=``, ``<=``, BETWEEN)."""
    if isinstance(p, A.Between):
        return not p.negate
    return isinstance(p, A.Binary) and p.op in ("<=", ">=")


def exact_values(plan: IndexPlan, env: dict) -> bool:
    """Return whether the values of a countable plan compare exactly as entries do (each
    value of an IN list too; a range's bounds are strings)."""
    for sarg, fns in zip(plan.sargs, plan.fns, strict=True):
        for f in fns:
            v = f(env)
            if sarg.kind == "range":
                if type(v) is not str:
                    return False
            elif sarg.kind == "in" and type(v) is list:
                if not all(_exact(x) for x in v):
                    return False
            elif not _exact(v):
                return False
    return True


def _exact(v: Any) -> bool:
    return v is None or type(v) in (str, bool) or (type(v) is int and abs(v) < 2**53)
