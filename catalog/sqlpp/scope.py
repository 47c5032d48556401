"""Row environments, their special keys, and the per-execution context.

A row environment is a plain dict: variable names (FROM aliases, LET, comprehension
variables) map to values; the special keys below hold the implicit keyspace value, META()
information and computed aggregates. This module sits below the compiler and the executor,
so both can use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.values import MISSING

Env = dict
Fn = Callable[[Env], Any]
Run = Callable[[Env], list[Any]]
# (select, context, varying names) -> a function running it for an outer row
SelectCompiler = Callable[[Any, "Context", frozenset[str]], Run]

DEFAULT = "\x00default"  # value of the implicit (first) FROM term
META_DEFAULT = "\x00meta"  # META() of the implicit FROM term


def meta_key(alias: str) -> tuple[str, str]:
    """Return the env key holding META() of a FROM alias."""
    return ("\x00meta", alias)


def agg_key(i: int) -> tuple[str, int]:
    """Return the env key holding the value of aggregate number i."""
    return ("\x00agg", i)


def field(v: Any, name: str) -> Any:
    """Return v.name, MISSING when v is not an object or lacks the field."""
    if type(v) is dict:
        return v.get(name, MISSING)
    return MISSING


def field_ci(v: Any, name: str) -> Any:
    """Return v.name matched case-insensitively."""
    if type(v) is dict:
        if name in v:
            return v[name]
        low = name.lower()
        for k, x in v.items():
            if k.lower() == low:
                return x
    return MISSING


def lookup(env: Env, name: str) -> Any:
    """Return a variable, else the field of the implicit keyspace value."""
    if name in env:
        return env[name]
    d = env.get(DEFAULT, MISSING)
    if type(d) is dict:
        if name in d:
            return d[name]
        if name.lower() == "self":
            return d
        return MISSING
    if name.lower() == "self" and DEFAULT in env:
        return d
    return MISSING


def idents(node: Any, from_names: set[str] | None = None) -> set[str]:
    """Return identifier names used under a node; bare FROM names go to from_names."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Ident):
            out.add(n.name)
        elif isinstance(n, A.ExprTerm) and isinstance(n.expr, A.Ident):
            stack.append(n.use_keys)  # a bare name in FROM is usually a keyspace
            if from_names is not None:
                from_names.add(n.expr.name)
        else:
            stack.extend(A.children(n))
    return out


class Context:
    """Per-execution state shared by compiled closures."""

    def __init__(self, params: Any, source: Any, query_context: str | None,
                 deadline: float | None, compile_select: SelectCompiler) -> None:  # fmt: skip
        self.params = params
        self.compile_select = compile_select  # compiles subqueries (given by the executor)
        self.source = source
        self.query_context = query_context
        self.deadline = deadline
        self.now: float | None = None
        self.with_names: set[str] = set()
        self.keyspace_aliases: set[str] = set()  # FROM names that are a keyspace's own name
