"""Scans of the primary index: document keys in a range (``META(m).id``), as Couchbase does.

The embedded store keeps documents ordered by key, so its primary index is the documents
table itself: ``META(m).id = "a"``, ``IN [...]``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``
and ``LIKE "prefix%"`` read a key range; ORDER BY ``META(m).id`` comes in key order; a
block that uses no field but ``META(m).id`` never reads a value; ``COUNT(*)`` of the range
(or of the keyspace, without WHERE) is counted by SQLite. Keys are strings: a bound of
another type either bounds nothing (a number is below every string) or empties the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.sqlpp import ast as A
from catalog.sqlpp.covering import covering_paths, meta_id
from catalog.sqlpp.index_defs import PRIMARY, IndexDef
from catalog.sqlpp.planner import IndexPlan, Sarg, conjuncts, like_prefix, sarg_on
from catalog.sqlpp.values import MISSING, T_ARR, T_STR, rank

# One key range: (low, low inclusive, high, high inclusive); None: unbounded.
KeyRange = tuple[str | None, bool, str | None, bool]


@dataclass(frozen=True)
class PrimaryIndex:
    """The primary index of a keyspace (the documents in key order)."""

    keyspace: str
    name: str = PRIMARY
    definition: IndexDef = field(default_factory=lambda: IndexDef(PRIMARY, ()))


@dataclass
class KeyRangePlan(IndexPlan):
    """A scan of the primary index over key ranges."""

    primary: bool = True

    def key_ranges(self, env: dict) -> list[KeyRange] | None:
        """Return the key ranges to read, [] when no key can match (None: all of them)."""
        if not self.sargs:
            return [(None, True, None, True)]
        sarg, fns = self.sargs[0], self.fns[0]
        values = [f(env) for f in fns]
        if sarg.kind == "eq":
            v = values[0]
            return [(v, True, v, True)] if type(v) is str else []
        if sarg.kind == "in":
            coll = values[0]
            if type(coll) is not list:
                return []
            return [(v, True, v, True) for v in sorted({v for v in coll if type(v) is str})]
        if sarg.kind == "like":
            pattern = values[0]
            if type(pattern) is not str:
                return []
            prefix = like_prefix(pattern)
            return [(prefix, True, _after_prefix(prefix), False)]
        lo: str | None = None
        hi: str | None = None
        for v in values[: len(sarg.low)]:  # id > v: strings are above numbers, below arrays
            if v is MISSING or v is None or rank(v) >= T_ARR:
                return []
            if type(v) is str and (lo is None or v > lo):
                lo = v
        for v in values[len(sarg.low) :]:
            if v is MISSING or v is None or rank(v) < T_STR:
                return []
            if type(v) is str and (hi is None or v < hi):
                hi = v
        if lo is not None and hi is not None and lo > hi:
            return []
        return [(lo, True, hi, True)]


def _after_prefix(prefix: str) -> str | None:
    """Return the smallest string above every string starting with ``prefix``."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def _id_sarg(pred: A.Node, alias: str, single: bool) -> Sarg | None:
    def is_id(e: A.Node) -> bool:
        if not isinstance(e, A.Field) or not meta_id(e, alias):
            return False
        return single or bool(getattr(e.base, "args", None))

    sarg = sarg_on(pred, is_id)
    if sarg is None or sarg.kind in ("isnull", "notmissing"):  # a key is never null
        return None
    sarg.sources = [pred]
    return sarg


def choose_primary(s: A.SubSelect, alias: str, keyspace: str, order: list[A.OrderTerm],
                   bound: set[str], hint: list[str] | None) -> KeyRangePlan | None:  # fmt: skip
    """Return a key-range scan for the first FROM term when it helps, else None."""
    if hint is not None and PRIMARY not in hint:
        return None
    preds = conjuncts(s.where)
    single = not s.joins
    found = [x for p in preds if (x := _id_sarg(p, alias, single)) is not None]
    points = [x for x in found if x.kind in ("eq", "in")]
    ranges = [x for x in found if x.kind in ("range", "notnull")]
    if points:
        sarg: Sarg | None = points[0]
    elif ranges:
        sarg = Sarg("range", low=[e for r in ranges for e in r.low],
                    high=[e for r in ranges for e in r.high],
                    sources=[e for r in ranges for e in r.sources])  # fmt: skip
    else:
        sarg = next((x for x in found if x.kind == "like"), None)
    index = PrimaryIndex(keyspace)
    plan = KeyRangePlan(index, [sarg] if sarg is not None else [])
    plan.ordered, plan.descending = _ordered_by_key(s, order, alias, single)
    plan.covering = covering_paths(s, alias, index.definition, order, bound - {alias})
    used = {id(p) for x in plan.sargs for p in x.sources}
    plan.countable = (
        plan.covering is not None
        and all(id(p) in used for p in preds)
        and all(x.kind == "eq" for x in plan.sargs)  # ranges are read wider than asked
    )
    plan.score = (10 if sarg is not None and sarg.kind == "eq" else len(plan.sargs),
                  plan.ordered, 0)  # fmt: skip
    if sarg is None and not plan.ordered and not (plan.countable and not preds):
        return None
    return plan


def _ordered_by_key(s: A.SubSelect, order: list[A.OrderTerm], alias: str,
                    single: bool) -> tuple[bool, bool]:  # fmt: skip
    if len(order) != 1 or s.group_by is not None or s.joins:
        return False, False
    o = order[0]
    if o.nulls_first not in (None, not o.desc):
        return False, False
    e = o.expr
    if isinstance(e, A.Field) and meta_id(e, alias) and (single or getattr(e.base, "args", None)):
        return True, o.desc
    return False, False
