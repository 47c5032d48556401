"""The query workbench: read-only SQL++ over the catalog, as a table or as JSON.

Fenced in layers (docs/design.md): the store refuses anything but SELECT before running it
(``read_only=True``), every statement has a time limit, and at most ``limits.query_max_rows()`` rows
come back, with ``truncated`` set when there were more.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from catalog.domain import limits
from catalog.domain.jsonbody import JsonBodyError, decode_json
from catalog.domain.query_access import QueryRefused, check_query_access
from catalog.domain.registry import get_registry
from catalog.sqlpp.slots import StatementsBusy, StatementSlots
from catalog.store import InvalidArgument, QueryError
from catalog.store.fenced import FenceLimits, run_fenced
from catalog.web.forms import WorkbenchForm
from catalog.web.permissions import read_access
from catalog.web.responses import json_response
from catalog.web.twins import Page, twin

# Rows shown at most; one more is read to know whether the result was cut.
# Seconds a workbench statement may run.
# Characters of a nested value shown in a table cell (the JSON view has everything).
CELL_CHARS = 300

EXAMPLES = [
    (
        "Models that use an operator",
        "SELECT m.name, m.version, m.metadata.task\nFROM models m\n"
        'WHERE ANY op IN m.summary.opTypes SATISFIES op = "Conv" END\nORDER BY m.name',
    ),
    (
        "Largest models by parameters",
        "SELECT m.name, m.version, m.summary.paramCount, m.summary.sizeBytes\n"
        "FROM models m\nORDER BY m.summary.paramCount DESC\nLIMIT 10",
    ),
    (
        "Versions per task and framework",
        "SELECT m.metadata.task, m.metadata.framework, COUNT(*) AS versions\nFROM models m\n"
        "GROUP BY m.metadata.task, m.metadata.framework\nORDER BY versions DESC",
    ),
    (
        "Most used operators",
        "SELECT op, COUNT(*) AS models\nFROM models m UNNEST m.summary.opTypes AS op\n"
        "GROUP BY op\nORDER BY models DESC, op\nLIMIT 15",
    ),
    (
        "Weights that are mostly zero",
        "SELECT m.name, t.name AS initializer, t.numel, t.stats.zeroFraction\n"
        "FROM models m UNNEST m.summary.initializers AS t\n"
        "WHERE t.stats.zeroFraction > 0.5 AND t.numel >= 16\n"
        "ORDER BY t.stats.zeroFraction DESC, t.numel DESC\nLIMIT 20",
    ),
    (
        "Best accuracy",
        "SELECT m.name, m.version, m.metadata.metrics.accuracy\nFROM models m\n"
        "WHERE m.metadata.metrics.accuracy IS VALUED\n"
        "ORDER BY m.metadata.metrics.accuracy DESC",
    ),
    (
        "Aliases of every model",
        "SELECT a.name, a.aliases\nFROM aliases a\nORDER BY a.name",
    ),
]


@dataclass
class Results:
    """Rows of one statement, the columns to show them in, and whether they were cut."""

    rows: list[Any]
    truncated: bool
    elapsed_ms: float
    columns: list[str] = field(default_factory=list)

    def table(self) -> list[list[dict[str, Any]]]:
        """Return the rows as cells under ``columns`` (objects: compact JSON)."""
        out = []
        for row in self.rows:
            values = row if isinstance(row, dict) else {"value": row}
            out.append([_cell(values, c) for c in self.columns])
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "results": self.rows,
            "columns": self.columns,
            "count": len(self.rows),
            "truncated": self.truncated,
            "elapsedMs": round(self.elapsed_ms, 1),
        }


def _columns(rows: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row if isinstance(row, dict) else ["value"]:
            seen.setdefault(key, None)
    return list(seen)


def _cell(values: dict[str, Any], column: str) -> dict[str, Any]:
    if column not in values:
        return {"text": "", "kind": "missing"}
    v = values[column]
    if isinstance(v, (dict, list)):
        text = json.dumps(v, ensure_ascii=False)
        return {"text": text[:CELL_CHARS] + ("…" if len(text) > CELL_CHARS else ""), "kind": "json"}
    if v is None:
        return {"text": "null", "kind": "null"}
    if isinstance(v, bool):
        return {"text": "true" if v else "false", "kind": "bool"}
    return {"text": str(v), "kind": "num" if isinstance(v, (int, float)) else "str"}


def run_statement(statement: str, params: dict | list | None, *, staff: bool = False) -> Results:
    """Run a read-only statement on the catalog's scope; raise QueryError if it fails.

    Non-staff statements may read only the public keyspaces (``domain.query_access``).
    """
    reg = get_registry()
    started = time.perf_counter()
    slots = StatementSlots(settings.VAR_DIR / "query-slots", limits.query_concurrency())
    timeout, memory_mb = limits.query_timeout_s(), limits.query_memory_mb()
    try:
        check_query_access(statement, reg.ks.query_context, staff=staff)
        with slots.hold():
            if getattr(settings, "CATALOG_QUERY_FENCED", False):  # a child process per statement
                fence = FenceLimits(timeout, memory_mb)
                rows = run_fenced(
                    settings.CATALOG_STORE, statement, params, fence, reg.ks.query_context
                )
            else:
                rows = reg.store.query(
                    statement,
                    params,
                    query_context=reg.ks.query_context,
                    read_only=True,
                    timeout=timeout,
                    memory_mb=memory_mb,
                )
    except (InvalidArgument, QueryRefused) as e:
        raise QueryError(str(e)) from None
    elapsed = (time.perf_counter() - started) * 1000
    max_rows = limits.query_max_rows()
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    return Results(rows, truncated, elapsed, _columns(rows))


@require_safe
@read_access
@twin
def workbench(request: HttpRequest) -> Page:
    """Return the workbench: a statement form, example queries, and the result table."""
    results = None
    if "statement" in request.GET:
        form = WorkbenchForm(request.GET)
        if form.is_valid():
            try:
                results = run_statement(
                    form.cleaned_data["statement"],
                    form.cleaned_data["params"],
                    staff=request.user.is_staff,
                )
            except (QueryError, StatementsBusy) as e:
                form.add_error("statement", str(e))
    else:
        form = WorkbenchForm(initial={"statement": EXAMPLES[0][1]})
    data, status = _json_data(form, results)
    ctx = {
        "form": form,
        "results": results,
        "examples": EXAMPLES,
        "max_rows": limits.query_max_rows(),
        "timeout": limits.query_timeout_s(),
        "query_context": get_registry().ks.query_context,
    }
    return Page("catalog/workbench.html", data, ctx, json_status=status)


@csrf_exempt  # read-only: a forged request could only run a SELECT and not see its result
@require_http_methods(["GET", "HEAD", "POST"])
@read_access
def api_query(request: HttpRequest) -> HttpResponse:
    """Run a statement given as GET parameters, a form, or a JSON body {statement, params}."""
    data: Any = request.GET
    if request.method == "POST":
        if request.content_type == "application/json":
            body = decode_json(request.body or b"{}")
            if not isinstance(body, dict):
                raise JsonBodyError("send a JSON object {statement, params}")
            params = body.get("params")
            data = {
                "statement": body.get("statement", ""),
                "params": json.dumps(params) if params is not None else "",
            }
        else:
            data = request.POST
    form = WorkbenchForm(data)
    results = None
    if form.is_valid():
        try:
            results = run_statement(
                form.cleaned_data["statement"],
                form.cleaned_data["params"],
                staff=request.user.is_staff,
            )
        except QueryError as e:
            form.add_error("statement", str(e))
        except StatementsBusy as e:
            return json_response({"error": str(e), "status": 429}, status=429)
    return _json(form, results)


def _json(form: WorkbenchForm, results: Results | None) -> HttpResponse:
    data, status = _json_data(form, results)
    return json_response(data, status=status)


def _json_data(form: WorkbenchForm, results: Results | None) -> tuple[dict[str, Any], int]:
    """Return the JSON answer to a statement (its rows, or its errors) and its status."""
    if form.errors:
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
        first = next(iter(errors.values()))[0]
        return {"error": first, "status": 400, "errors": errors}, 400
    if results is None:
        return {"error": "send a statement", "status": 400}, 400
    return results.as_json(), 200
