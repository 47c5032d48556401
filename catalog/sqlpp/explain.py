"""EXPLAIN: the plan of a SELECT in Couchbase's operator vocabulary.

The row has Couchbase's shape, ``{"plan": {"#operator": "Sequence", "~children": [...]},
"text": statement}``, with the operators the embedded engine runs: ``IndexScan3`` (with
``index`` and ``spans``), ``PrimaryScan3``, ``KeyScan``, ``ExpressionScan``,
``DummyScan``, ``Fetch`` (absent from a covering scan, whose ``IndexScan3`` lists
``covers``), ``IndexCountScan2`` (COUNT(*) counted in the index), ``index_group_aggs``
on an ``IndexScan3`` (COUNT(*) per leading-key value counted in the index),
``Unnest``/``Join``/``Nest``, ``Filter``, ``InitialGroup``,
``InitialProject``, ``Order``, ``Offset``, ``Limit``, ``FinalProject`` and ``UnionAll``/
``IntersectAll``/``ExceptAll``. Fewer details than Couchbase gives (no costs, no
parallelism), the same names for the same decisions.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.executor import SelectPlan, SetOpPlan, SubSelectPlan
from catalog.sqlpp.planner import IndexPlan, Sarg
from catalog.sqlpp.scope import Context
from catalog.sqlpp.values import MISSING


def explain(q: A.Select, ctx: Context, text: str) -> dict[str, Any]:
    """Return the EXPLAIN row of a parsed SELECT (planned, not run)."""
    return {"plan": _select(SelectPlan(q, ctx, frozenset())), "text": text}


def _select(p: SelectPlan) -> dict[str, Any]:
    if p.direct:
        return _sub(p.body, p.q.order, p.q.limit, p.q.offset)
    children = [_term(p.body)]
    if p.q.order:
        children.append(_order(p.q.order))
    children += _limits(p.q.limit, p.q.offset)
    return {"#operator": "Sequence", "~children": children}


def _term(p: Any) -> dict[str, Any]:
    if isinstance(p, SubSelectPlan):
        return _sub(p, [], None, None)
    if isinstance(p, SelectPlan):
        return _select(p)
    assert isinstance(p, SetOpPlan)
    op = {"union": "UnionAll", "intersect": "IntersectAll", "except": "ExceptAll"}[p.op]
    return {"#operator": op, "~children": [_term(p.left), _term(p.right)], "distinct": not p.all}


def _sub(sp: SubSelectPlan, order: list[A.OrderTerm], limit: Any, offset: Any) -> dict[str, Any]:
    s = sp.s
    children: list[dict[str, Any]] = []
    fp = sp.from_plan
    if fp is None or s.from_ is None:
        children.append({"#operator": "DummyScan"})
    elif "ks" in fp.first:
        where = _keyspace(fp.first["ks"].name, fp.first["alias"])
        if s.from_.use_keys is not None:
            children.append({"#operator": "KeyScan", "keys": show(s.from_.use_keys), **where})
        elif fp.plan is not None:
            scan = _index_scan(fp.plan, where, sp.count_plan is not None)
            if sp.group_plan is not None and s.group_by:  # GROUP BY the leading key, counted
                scan["index_group_aggs"] = {
                    "group": [{"expr": show(s.group_by[0][0]), "keypos": 0}],
                    "aggregates": [{"aggregate": "COUNT", "expr": "*"}],
                }
            children.append(scan)
        else:
            children.append({"#operator": "PrimaryScan3", "index": "#primary", **where,
                             "using": "gsi"})  # fmt: skip
        if fp.plan is None or fp.plan.covering is None or s.from_.use_keys is not None:
            children.append({"#operator": "Fetch", **where})
    else:
        children.append({"#operator": "ExpressionScan", "alias": fp.first["alias"],
                         "expr": show(getattr(s.from_, "expr", None))})  # fmt: skip
    for j in s.joins:
        op = {"join": "Join", "nest": "Nest", "unnest": "Unnest"}[j.kind]
        alias = j.alias if j.kind == "unnest" else getattr(j.term, "alias", None)
        children.append({"#operator": op, "as": alias, "outer": j.outer})
    steps: list[dict[str, Any]] = []
    if s.let:
        steps.append({"#operator": "Let", "bindings": [{"var": n, "expr": show(e)}
                                                        for n, e in s.let]})  # fmt: skip
    if s.where is not None:
        steps.append({"#operator": "Filter", "condition": show(s.where)})
    if sp.aggregating:
        keys = [show(e) for e, _ in s.group_by or []]
        for name in ("InitialGroup", "IntermediateGroup", "FinalGroup"):
            steps.append({"#operator": name, "group_keys": keys})
    if s.having is not None:
        steps.append({"#operator": "Filter", "condition": show(s.having)})
    terms = [{"expr": show(t.expr) if t.expr is not None else "self", "star": t.star}
             | ({"as": t.alias} if t.alias else {}) for t in s.terms]  # fmt: skip
    steps.append({"#operator": "InitialProject", "raw": s.raw, "distinct": s.distinct,
                  "result_terms": terms})  # fmt: skip
    children.append({"#operator": "Parallel",
                     "~child": {"#operator": "Sequence", "~children": steps}})  # fmt: skip
    if order and sp.order:
        children.append(_order(order))
    children += _limits(limit, offset)
    children.append({"#operator": "FinalProject"})
    return {"#operator": "Sequence", "~children": children}


def _keyspace(name: str, alias: str) -> dict[str, Any]:
    bucket, scope, collection = name.split(".")
    return {"namespace": "default", "bucket": bucket, "scope": scope, "keyspace": collection,
            "as": alias}  # fmt: skip


def _index_scan(plan: IndexPlan, where: dict[str, Any], counts: bool) -> dict[str, Any]:
    name = "IndexCountScan2" if counts else "IndexScan3"
    if plan.index.name == "#primary" and not plan.sargs and not counts:
        name = "PrimaryScan3"  # the whole keyspace in key order
    op: dict[str, Any] = {"#operator": name,
                          "index": plan.index.name, **where,
                          "spans": [{"range": [_range(s) for s in plan.sargs]}],
                          "using": "gsi"}  # fmt: skip
    if plan.covering is not None:
        keys = [f"cover ({k.text})" for k in plan.index.definition.keys]
        op["covers"] = keys + [f"cover ((meta(`{where['as']}`).`id`))"]
    if plan.ordered:
        op["index_order"] = [{"keypos": i, "desc": plan.descending}
                             for i in range(len(plan.index.definition.keys))]  # fmt: skip
    return op


def _range(s: Sarg) -> dict[str, Any]:
    """One key's range in Couchbase's span form (inclusion: 0 none, 1 low, 2 high, 3 both)."""
    if s.kind == "eq":
        v = show(s.exprs[0])
        return {"low": v, "high": v, "inclusion": 3}
    if s.kind == "in":
        return {"low": show(s.exprs[0]), "high": show(s.exprs[0]), "inclusion": 3, "in": True}
    if s.kind == "isnull":
        return {"low": "null", "high": "null", "inclusion": 3}
    if s.kind == "notnull":
        return {"low": "null", "inclusion": 0}
    if s.kind == "notmissing":
        return {"low": "null", "inclusion": 1}
    if s.kind == "like":
        return {"low": f"like_prefix({show(s.exprs[0])})", "inclusion": 1}
    out: dict[str, Any] = {"inclusion": 3}
    if s.low:
        out["low"] = " greatest ".join(show(e) for e in s.low)
    if s.high:
        out["high"] = " least ".join(show(e) for e in s.high)
    return out


def _order(order: list[A.OrderTerm]) -> dict[str, Any]:
    return {"#operator": "Order",
            "sort_terms": [{"expr": show(o.expr), "desc": o.desc} for o in order]}  # fmt: skip


def _limits(limit: Any, offset: Any) -> list[dict[str, Any]]:
    out = []
    if offset is not None:
        out.append({"#operator": "Offset", "expr": show(offset)})
    if limit is not None:
        out.append({"#operator": "Limit", "expr": show(limit)})
    return out


def show(n: Any) -> str:
    """Return an expression as text, in the style of Couchbase's plans."""
    if n is None:
        return ""
    if isinstance(n, A.Lit):
        return "missing" if n.value is MISSING else json.dumps(n.value, ensure_ascii=False)
    if isinstance(n, A.Param):
        return f"${n.key}"
    if isinstance(n, A.Ident):
        return f"`{n.name}`"
    if isinstance(n, A.Field):
        return f"({show(n.base)}.`{n.name}`)"
    if isinstance(n, A.Binary):
        return f"({show(n.left)} {n.op} {show(n.right)})"
    if isinstance(n, A.Logic):
        return "(" + f" {n.op} ".join(show(x) for x in n.operands) + ")"
    if isinstance(n, A.Unary):
        return f"({n.op} {show(n.operand)})"
    if isinstance(n, A.Call):
        return f"{n.name}({', '.join(show(a) for a in n.args)})"
    if isinstance(n, A.ArrayCons):
        return "[" + ", ".join(show(x) for x in n.items) + "]"
    if isinstance(n, A.Is):
        return f"({show(n.operand)} is {'not ' if n.negate else ''}{n.what})"
    if isinstance(n, A.InList):
        return f"({show(n.operand)} {'not ' if n.negate else ''}in {show(n.coll)})"
    if isinstance(n, A.Like):
        return f"({show(n.operand)} {'not ' if n.negate else ''}like {show(n.pattern)})"
    if isinstance(n, A.Between):
        return f"({show(n.operand)} between {show(n.low)} and {show(n.high)})"
    if isinstance(n, A.Quantified):
        b = n.bindings[0]
        return f"{n.kind} `{b.var}` in {show(b.expr)} satisfies {show(n.cond)} end"
    return type(n).__name__.lower()
