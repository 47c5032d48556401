"""Run one statement on both engines and say how their answers differ (None: the same).

Rows compare with numbers by value (1 == 1.0; floats to 15 significant digits, so the last
bit of a sum in another order is not a difference). Without ORDER BY the rows compare as
multisets. With ORDER BY, rows are grouped by the values of the ORDER BY terms that are also
result columns; the groups must come in the same order, and within a group (ties) the rows
compare as a multiset; with LIMIT, the last group only needs the same size (which tied rows
make the cut is not defined). An error must be an error on both sides; Couchbase's syntax
errors (code 3000) must be the embedded engine's SqlppSyntaxError.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from catalog import sqlpp
from catalog.sqlpp import SqlppError, SqlppNotSupported, SqlppSyntaxError
from catalog.sqlpp import ast as A
from catalog.sqlpp.parser import implicit_name

from .cbq import NO_ANSWER, Answer, CbqEngine
from .documents import BUCKET_SCOPE

SYNTAX_CODES = {3000}


@dataclasses.dataclass
class Outcome:
    """The embedded engine's answer: rows, or the SqlppError it raised."""

    rows: list[Any] | None
    error: SqlppError | None = None


def run_embedded(store: Any, statement: str, params: Any = None, timeout: float = 20) -> Outcome:
    """Run a statement on the embedded store as the catalog does (query_context ml.catalog)."""
    from catalog.store import QueryError

    try:
        return Outcome(store.query(statement, params, query_context=BUCKET_SCOPE, timeout=timeout))
    except QueryError as e:
        cause = e.__context__
        return Outcome(None, cause if isinstance(cause, SqlppError) else SqlppError(str(e)))


def norm(v: Any) -> Any:
    """Return a value whose canonical JSON compares numbers by value."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        # Couchbase's answers carry numbers as float64: 2**64 comes back as 18446744073709552000
        if isinstance(v, int) and abs(v) > 2**53:
            v = float(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                return repr(v)
            if v.is_integer() and abs(v) <= 2**53:
                return int(v)
            return float(f"{v:.15g}")
        return v
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return repr(v)


def canon(v: Any) -> str:
    return json.dumps(norm(v), sort_keys=True)


def _shape(n: Any) -> Any:
    if dataclasses.is_dataclass(n):
        return (type(n).__name__,) + tuple(
            _shape(getattr(n, f.name)) for f in dataclasses.fields(n) if f.name != "pos"
        )
    if isinstance(n, (list, tuple)):
        return tuple(_shape(x) for x in n)
    return repr(n)


def order_columns(statement: str) -> tuple[list[Any], bool] | None:
    """Return (getters of the ORDER BY terms that are result columns, has LIMIT), or None.

    None: no top-level ORDER BY. The getters cover the leading ORDER BY terms that can be
    read back from a result row (a column with the same expression, or its alias).
    """
    try:
        q = sqlpp.parse(statement)
    except SqlppError:
        return None
    if not q.order:
        return None
    body = q.body
    getters: list[Any] = []
    if isinstance(body, A.SubSelect):
        columns: dict[Any, Any] = {}
        for i, t in enumerate(body.terms):
            if t.star or t.expr is None:
                continue
            if body.raw:
                columns[_shape(t.expr)] = lambda row: row
                break
            name = t.alias or implicit_name(t.expr) or f"${i + 1}"
            getter = lambda row, name=name: row.get(name) if isinstance(row, dict) else None  # noqa: E731
            columns[_shape(t.expr)] = getter
            if t.alias:
                columns[_shape(A.Ident(t.alias))] = getter
        for o in q.order:
            g = columns.get(_shape(o.expr))
            if g is None:
                break
            getters.append(g)
    return getters, q.limit is not None


def _limited(statement: str) -> bool:
    try:
        q = sqlpp.parse(statement)
    except SqlppError:
        return False
    return q.limit is not None or q.offset is not None


def _groups(rows: list[Any], getters: list[Any]) -> list[tuple[str, Counter]]:
    out: list[tuple[str, Counter]] = []
    for r in rows:
        k = canon([g(r) for g in getters])
        if out and out[-1][0] == k:
            out[-1][1][canon(r)] += 1
        else:
            out.append((k, Counter([canon(r)])))
    return out


def compare_rows(statement: str, got: list[Any], want: list[Any]) -> str | None:
    """Return why the embedded rows differ from Couchbase's, or None."""
    if len(got) != len(want):
        return f"{len(got)} rows, Couchbase {len(want)}"
    order = order_columns(statement)
    if order is None and _limited(statement):
        return None  # LIMIT/OFFSET without ORDER BY: which rows is not defined, only how many
    if (order is None or not order[0]) and (order is None or not order[1]):
        if Counter(map(canon, got)) != Counter(map(canon, want)):
            return "different rows"
        return None
    getters, limited = order if order else ([], False)
    g, w = _groups(got, getters), _groups(want, getters)
    if [k for k, _ in g] != [k for k, _ in w]:
        return "different order"
    for i, ((_, a), (_, b)) in enumerate(zip(g, w, strict=True)):
        last = i == len(g) - 1
        if a != b and not (limited and last):
            return "different rows (within ORDER BY ties)" if getters else "different rows"
    return None


# Errors of cbq-engine's directory datastore, not of Couchbase's query semantics (a span on
# META().id it cannot scan), and no answer at all (NO_ANSWER: it ignored its request timeout):
# such a statement has no reference answer.
REFERENCE_LIMITS = {15000, NO_ANSWER}
NO_REFERENCE = "no reference answer"


def difference(ours: Outcome, ref: Answer, statement: str) -> str | None:
    """Return why the two answers differ, or None when they are the same."""
    if ref.failed and ref.code == NO_ANSWER:
        return f"{NO_REFERENCE} ({ref.message})"
    if ref.failed and ref.code in REFERENCE_LIMITS:
        return f"{NO_REFERENCE} (cbq-engine datastore error {ref.code}: {ref.message[:120]})"
    if ref.failed and ours.rows is None:
        if ref.code in SYNTAX_CODES and not isinstance(ours.error, SqlppSyntaxError):
            return f"Couchbase syntax error {ref.code}, embedded {type(ours.error).__name__}"
        if isinstance(ours.error, SqlppSyntaxError) and ref.code not in SYNTAX_CODES:
            return f"embedded syntax error, Couchbase error {ref.code}: {ref.message[:200]}"
        return None
    if ref.failed:
        return f"Couchbase error {ref.code} ({ref.message[:200]}), embedded gave {len(ours.rows or [])} rows"
    if ours.rows is None:
        kind = "not supported" if isinstance(ours.error, SqlppNotSupported) else "error"
        return f"embedded {kind} ({ours.error}), Couchbase gave {len(ref.rows or [])} rows"
    return compare_rows(statement, ours.rows, ref.rows or [])


def check_many(store: Any, cbq: CbqEngine,
               items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any, str | None]]:  # fmt: skip
    """Yield (statement, params, difference or None) for each item, in order.

    Couchbase's answers are fetched by one background thread (over one keep-alive
    connection) while the embedded engine runs, so the two engines work at the same time.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        window: deque[tuple[str, Any, Future[Answer]]] = deque()
        it = iter(items)
        while True:
            while len(window) < 32:
                try:
                    statement, params = next(it)
                except StopIteration:
                    break
                window.append((statement, params, pool.submit(cbq.query, statement, params)))
            if not window:
                return
            statement, params, ref = window.popleft()
            ours = run_embedded(store, statement, params)
            yield statement, params, difference(ours, ref.result(), statement)


def check(store: Any, cbq: CbqEngine, statement: str, params: Any = None) -> str | None:
    """Run a statement on both engines; return why they differ, or None."""
    return difference(run_embedded(store, statement, params), cbq.query(statement, params),
                      statement)  # fmt: skip
