"""Embedded SQL++ (N1QL) engine: parse, plan and evaluate SELECT statements over a Source.

``execute(statement, params, query_context, source, read_only, deadline, memory_mb)`` is
what the embedded store calls; ``parse(statement)`` returns the syntax tree (syntax
checking). The deadline and the memory quota are enforced inside evaluation
(``catalog.sqlpp.budget``); going over either raises ``SqlppLimitExceeded``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Protocol

from catalog.sqlpp import ast
from catalog.sqlpp.budget import Budget, active
from catalog.sqlpp.errors import (
    SqlppError,
    SqlppLimitExceeded,
    SqlppNotSupported,
    SqlppReadOnly,
    SqlppSyntaxError,
    SqlppTimeout,
)
from catalog.sqlpp.executor import compile_select
from catalog.sqlpp.explain import explain
from catalog.sqlpp.lexer import tokenize
from catalog.sqlpp.parser import NON_SELECT, statement_keyword
from catalog.sqlpp.parser import parse as _parse
from catalog.sqlpp.scope import Context
from catalog.sqlpp.values import MISSING, result_value

__all__ = [
    "Source",
    "SqlppError",
    "SqlppLimitExceeded",
    "SqlppNotSupported",
    "SqlppReadOnly",
    "SqlppSyntaxError",
    "SqlppTimeout",
    "execute",
    "explained",
    "parse",
]


class Source(Protocol):
    """The documents a statement reads (implemented by the store)."""

    def keyspace_exists(self, keyspace: str) -> bool: ...

    def scan(self, keyspace: str) -> Iterator[tuple[str, Any, int]]: ...

    def fetch(self, keyspace: str, keys: list[str]) -> list[tuple[str, Any, int]]: ...


@lru_cache(maxsize=256)
def _parse_cached(statement: str) -> ast.Select:
    return _parse(statement)


def parse(statement: str) -> ast.Select:
    """Return the syntax tree of a SELECT statement; raise SqlppError if it is invalid."""
    if not isinstance(statement, str):
        raise SqlppError("statement must be a string")
    try:
        return _parse_cached(statement)
    except RecursionError:
        raise SqlppError("expression nested too deeply") from None


def execute(
    statement: str,
    params: dict | list | None = None,
    query_context: str | None = None,
    source: Source | None = None,
    read_only: bool = False,
    deadline: float | None = None,
    memory_mb: float | None = None,
) -> list[Any]:
    """Run one SQL++ statement; return the result rows (JSON-able values; a MISSING raw
    value is null, as Couchbase answers).

    ``deadline`` is a ``time.monotonic()`` instant, ``memory_mb`` the statement's memory
    quota in MiB (None or 0: none); over either raises SqlppLimitExceeded.
    """
    if not isinstance(statement, str):
        raise SqlppError("statement must be a string")
    kw = statement_keyword(statement)
    if kw == "EXPLAIN":
        return [_explain(statement, params, query_context, source, deadline)]
    if kw in NON_SELECT:
        if read_only:
            raise SqlppReadOnly(f"{kw} is not allowed: this query runs read-only (SELECT only)")
        raise SqlppNotSupported(f"{kw} statements are not supported by the embedded engine")
    if params is not None and not isinstance(params, (dict, list, tuple)):
        raise SqlppError("params must be a dict ($name) or a list ($1, ?)")
    try:
        q = parse(statement)
        ctx = Context(params, source, query_context, deadline, compile_select)
        with active(Budget(deadline, memory_mb)) as budget:
            rows = compile_select(q, ctx)({})
            budget.charge_result(rows)
        return [result_value(r) for r in rows if r is not MISSING]
    except SqlppError:
        raise
    except MemoryError:
        raise SqlppLimitExceeded(
            "Request has exceeded memory quota (out of memory)", "memory", 5500
        ) from None
    except RecursionError:
        raise SqlppError("expression nested too deeply") from None
    except Exception as e:  # an engine bug must still surface as a SqlppError
        raise SqlppError(f"internal error while running the query: {type(e).__name__}: {e}") from e


def explained(statement: str) -> str:
    """Return the statement ``EXPLAIN <statement>`` explains ("" if there is none)."""
    toks = tokenize(statement)
    return statement[toks[1].pos :].strip() if len(toks) > 2 else ""


def _explain(statement: str, params: Any, query_context: str | None, source: Source | None,
             deadline: float | None) -> dict[str, Any]:  # fmt: skip
    """Return the EXPLAIN row of ``EXPLAIN SELECT ...`` (planned with the store's indexes)."""
    rest = explained(statement)
    if statement_keyword(rest) in NON_SELECT or not rest:
        raise SqlppNotSupported("EXPLAIN takes a SELECT statement here")
    try:
        q = parse(rest)
        return explain(q, Context(params, source, query_context, deadline, compile_select), rest)
    except SqlppError:
        raise
    except RecursionError:
        raise SqlppError("expression nested too deeply") from None
