"""Covering index scans: when the index holds every field a SELECT block uses.

A block is covered by an index when each reference to its document is a field path that
starts with one of the index's keys (``m.name``, ``m.metadata.task`` under a key
``metadata``) or ``META(m).id``; then the rows are built from the index entries alone
(``index_keys.decode``), without fetching or decoding a document, as Couchbase's covering
scans do. The whole document (``m``, ``m.*``, ``SELECT *``), other META() fields, array
keys, subqueries and joins are never covered.
"""

from __future__ import annotations

from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.values import MISSING


def key_path(n: Any) -> tuple[str, ...] | None:
    """Return the field path of an index key (``metadata.task`` -> ("metadata", "task"))."""
    parts: list[str] = []
    while isinstance(n, A.Field) and not n.ci:
        parts.append(n.name)
        n = n.base
    if isinstance(n, A.Ident) and not n.ci:
        parts.append(n.name)
        return tuple(reversed(parts))
    return None


def covering_paths(s: A.SubSelect, alias: str, d: Any, order: list[A.OrderTerm],
                   bound: set[str]) -> list[tuple[str, ...] | None] | None:  # fmt: skip
    """Return the path of each key (None: not a path, or a key the block never reads) if the
    index covers the block, else None."""
    if s.joins or s.windows or any(k.array for k in d.keys):
        return None
    paths = [key_path(k.expr) for k in d.keys]
    usable = [p for p in paths if p is not None]
    if not usable and not d.primary:  # a primary index covers only META().id
        return None
    nodes = _block_nodes(s, order)
    if nodes is None:
        return None
    variables = _variables(nodes)
    if alias in variables:
        return None
    names = bound | variables
    used: set[tuple[str, ...]] = set()
    for n in nodes:
        if n is not None and not _covered(n, alias, usable, names, used):
            return None
    # the keys nothing reads stay out of the rows (and the entries are decoded up to the last
    # key read: at 100,002 versions, a range on the first of three keys costs 20% less)
    return [p if p in used else None for p in paths]


def read_paths(s: A.SubSelect, alias: str, order: list[A.OrderTerm],
               bound: set[str]) -> list[tuple[str, ...]] | None:  # fmt: skip
    """Return the document paths a block reads of its first FROM term's documents (none the
    prefix of another), or None when it may read more than field paths (the document
    itself, ``m.*``, a subquery, GROUP AS, a JOIN or NEST, a window, a name SQLite's JSON
    paths cannot spell). The store then reads just those fields (``partial_document``)."""
    if s.windows or s.group_as is not None or any(j.kind != "unnest" for j in s.joins):
        return None
    nodes = _block_nodes(s, order)
    if nodes is None:
        return None
    nodes += [j.expr for j in s.joins]  # UNNEST expressions
    variables = _variables(nodes)
    if alias in variables:
        return None
    names = (bound - {alias}) | variables | {j.alias for j in s.joins if j.alias}
    used: set[tuple[str, ...]] = set()
    for n in nodes:
        if n is not None and not _covered(n, alias, None, names, used):
            return None
    if not all(_plain(name) for path in used for name in path):
        return None
    kept: list[tuple[str, ...]] = []
    for path in sorted(used, key=len):  # a field read whole holds the paths below it
        if not any(path[: len(k)] == k for k in kept):
            kept.append(path)
    return kept


def _block_nodes(s: A.SubSelect, order: list[A.OrderTerm]) -> list[Any] | None:
    """Return the expressions of a block that may read its documents (None for an entry:
    a clause the block lacks), or None when it selects a whole term (``*``, ``m.*``)."""
    nodes: list[Any] = []
    for t in s.terms:
        if t.expr is None or t.star and isinstance(t.expr, A.Ident):
            return None
        nodes.append(t.expr)
    nodes += s.exclude + [e for _, e in s.let] + [s.where, s.having]
    nodes += [e for e, _ in s.group_by or []] + [e for _, e in s.letting] + [o.expr for o in order]
    return nodes


def _plain(name: str) -> bool:
    """Return whether a field name reads the same in a SQLite JSON path ("$.\"name\""): no
    quote, backslash or control character, which JSON text would escape."""
    return bool(name) and '"' not in name and "\\" not in name and min(name) >= " "


def _variables(nodes: list[Any]) -> set[str]:
    out: set[str] = set()
    stack = list(nodes)
    while stack:
        x = stack.pop()
        if isinstance(x, A.Binding):
            out.add(x.var)
            if x.pos_var:
                out.add(x.pos_var)
        stack.extend(A.children(x))
    return out


def _covered(
    node: Any,
    alias: str,
    keys: list[tuple[str, ...]] | None,
    names: set[str],
    used: set[tuple[str, ...]],
) -> bool:
    """Return whether the index's keys hold every field of the document ``node`` reads; add
    to ``used`` the keys it reads (``keys`` None: any field path, added to ``used``)."""
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, A.Subquery):
            return False
        if isinstance(x, A.Field):
            if meta_id(x, alias):
                continue
            path = _doc_path(x, alias, names)
            if path is not None:
                holding = [path] if keys is None else [k for k in keys if path[: len(k)] == k]
                if not holding:
                    return False
                used.update(holding)
                continue
            if x.ci:
                return False
            stack.append(x.base)
            continue
        if isinstance(x, A.Ident):
            if x.name == alias or x.ci:
                return False
            if x.name not in names:
                if keys is not None and (x.name,) not in keys:
                    return False  # a bare field of the document the index does not hold
                used.add((x.name,))
            continue
        if isinstance(x, A.Call) and x.name in ("meta", "self"):
            return False
        stack.extend(A.children(x))
    return True


def meta_id(x: A.Field, alias: str) -> bool:
    b = x.base
    return (
        x.name == "id"
        and not x.ci
        and isinstance(b, A.Call)
        and b.name == "meta"
        and (not b.args or (len(b.args) == 1 and isinstance(b.args[0], A.Ident)
                            and b.args[0].name == alias))
    )  # fmt: skip


def _doc_path(x: A.Field, alias: str, names: set[str]) -> tuple[str, ...] | None:
    """Return the path of a field of the document (``m.a.b`` or a bare ``a.b``), else None."""
    parts: list[str] = []
    n: Any = x
    while isinstance(n, A.Field):
        if n.ci:
            return None
        parts.append(n.name)
        n = n.base
    if not isinstance(n, A.Ident) or n.ci:
        return None
    if n.name == alias:
        return tuple(reversed(parts))
    if n.name not in names:
        return (n.name, *reversed(parts))
    return None


def build_order(paths: list[tuple[str, ...] | None]) -> list[int]:
    """Return the key positions in the order ``partial_document`` fills them (shorter paths
    first, so that ``metadata.task`` goes into the object ``metadata`` already holds)."""
    return sorted((i for i, p in enumerate(paths) if p is not None), key=lambda i: len(paths[i]))


def partial_document(
    paths: list[tuple[str, ...] | None], order: list[int], values: list[Any]
) -> dict[str, Any]:
    """Return the document fields an entry holds (MISSING values left out)."""
    doc: dict[str, Any] = {}
    for i in order:
        v = values[i]
        if v is MISSING:
            continue
        path = paths[i]
        target = doc
        for name in path[:-1]:
            nxt = target.get(name)
            if type(nxt) is not dict:
                nxt = target[name] = {}
            target = nxt
        target[path[-1]] = v
    return doc
