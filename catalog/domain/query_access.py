"""Which keyspaces a user's own SQL++ may read, checked on the parsed statement before it runs.

Anonymous and non-staff users may read the collections named by the setting
``CATALOG_PUBLIC_QUERY_KEYSPACES`` (default ``models,aliases``); staff read everything. The
check walks the syntax tree of the embedded engine's parser, so it holds for both backends:
every FROM / JOIN / NEST term that names a keyspace (in subqueries, WITH clauses and set
operations too) is resolved against the query context and must be on the list. Only one
kind of bare name is not taken for a keyspace: the name of a WITH clause of an enclosing
statement, inside that statement's body. Anything else that looks like a keyspace path
(``FROM m.summary.initializers`` included) is checked as one; write UNNEST instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from catalog import sqlpp
from catalog.sqlpp import ast as A
from catalog.sqlpp.from_terms import resolve_keyspace
from catalog.sqlpp.parser import NON_SELECT, statement_keyword

# Collections of the catalog's scope anyone who may read the catalog may also query.
DEFAULT_PUBLIC_KEYSPACES = ("models", "aliases")


class QueryRefused(ValueError):
    """The statement reads a keyspace the user may not query; the message names it."""


def public_collections() -> tuple[str, ...]:
    """Return the collections non-staff users may query (setting, comma-separated)."""
    from django.conf import settings

    raw = getattr(settings, "CATALOG_PUBLIC_QUERY_KEYSPACES", None)
    if raw is None:
        return DEFAULT_PUBLIC_KEYSPACES
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(n.strip() for n in names if n.strip())


def check_query_access(statement: str, query_context: str, *, staff: bool) -> None:
    """Raise QueryRefused if a non-staff user's statement reads a keyspace not on the list.

    A statement the parser cannot read is refused for non-staff users too (with the
    parser's message), since its keyspaces cannot be checked; DML and DDL are left to the
    store, which refuses them on the read-only workbench path.
    """
    if staff or not isinstance(statement, str):
        return
    if statement_keyword(statement) == "EXPLAIN":  # the plan names what the statement reads
        try:
            statement = sqlpp.explained(statement)
        except sqlpp.SqlppError as e:
            raise QueryRefused(str(e)) from None
    if statement_keyword(statement) in NON_SELECT:
        return
    allowed = {f"{query_context}.{c}" for c in public_collections()}
    try:
        tree = sqlpp.parse(statement)
    except sqlpp.SqlppError as e:
        raise QueryRefused(str(e)) from None
    for keyspace in sorted(set(keyspaces_read(tree, query_context))):
        if keyspace not in allowed:
            names = ", ".join(sorted(c.rsplit(".", 1)[-1] for c in allowed)) or "none"
            raise QueryRefused(
                f"keyspace {keyspace} can be queried by staff only (others may query: {names})"
            )


def keyspaces_read(tree: A.Select, query_context: str) -> Iterator[str]:
    """Yield the canonical keyspace of every FROM, JOIN and NEST term of a statement."""
    yield from _walk(tree, frozenset(), query_context)


def _walk(node: Any, with_names: frozenset[str], qc: str) -> Iterator[str]:
    if isinstance(node, A.Select):
        # WITH expressions do not see this statement's own WITH names as bound.
        for _, expr in node.with_:
            yield from _walk(expr, with_names, qc)
        inner = with_names | {name for name, _ in node.with_}
        for child in (node.body, node.order, node.limit, node.offset):
            yield from _walk(child, inner, qc)
    elif isinstance(node, (A.KeyspaceTerm, A.ExprTerm)):
        yield from _term(node, with_names, qc)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item, with_names, qc)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _walk(getattr(node, f.name), with_names, qc)


def _term(term: A.KeyspaceTerm | A.ExprTerm, with_names: frozenset[str], qc: str) -> Iterator[str]:
    if isinstance(term, A.KeyspaceTerm):
        path: list[str] | None = term.path
    else:
        path = _path(term.expr)
        if path is not None and len(path) == 1 and path[0] in with_names:
            path = None
        yield from _walk(term.expr, with_names, qc)
    if path is not None:
        try:
            yield resolve_keyspace(path, qc)
        except sqlpp.SqlppError:
            yield ".".join(path)
    yield from _walk(term.use_keys, with_names, qc)


def _path(expr: Any) -> list[str] | None:
    """Return the dotted names of ``a.b.c`` (any length), or None for other expressions."""
    parts: list[str] = []
    while isinstance(expr, A.Field):
        parts.append(expr.name)
        expr = expr.base
    if isinstance(expr, A.Ident):
        parts.append(expr.name)
        return parts[::-1]
    return None
