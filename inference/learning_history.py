"""A model's learning history (one row per version with its lineage and metrics), and the
version each one is compared with for weight drift (``catalog.domain.weights``).

Alias moves are read by ``Registry.alias_history``.
"""

from __future__ import annotations

from typing import Any

from catalog.domain import queries, weights
from catalog.domain.registry import Registry, check_name


def learning_history(
    reg: Registry,
    name: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> queries.Page:
    """Return a page of rows, one per version, oldest first (or ``newest_first``): metric,
    rows seen, parent, batch, aliases (at most ``limit``; ``Page.next`` continues after the
    last one, in the same order).

    A version published while another learner's step was still publishing has no
    ``parent`` in its lineage; it is filled in here from the generations on the page.
    """
    size = queries.page_limit(limit)
    if newest_first:
        (before,) = queries.decode_cursor(cursor, [queries.NEWEST])
        params = {"name": check_name(name), "before": before, "limit": size}
        query = queries.VERSION_LINEAGE_NEWEST
    else:
        (after,) = queries.decode_cursor(cursor, [0])
        params = {"name": check_name(name), "after": after, "limit": size}
        query = queries.VERSION_LINEAGE
    rows = queries.run(reg.store, reg.ks.query_context, query, params)
    rows = [r for r in rows if isinstance(r.get("version"), int)]
    page = queries.Page(_history_rows(reg, name, rows))
    if len(rows) == size:
        page.next = queries.encode_cursor([rows[-1]["version"]])
    return page


def history_at(reg: Registry, name: str, versions: list[int]) -> list[dict[str, Any]]:
    """Return the rows of ``learning_history`` for these versions (those that exist),
    oldest first."""
    if not versions:
        return []
    params = {"name": check_name(name), "versions": versions}
    rows = queries.run(reg.store, reg.ks.query_context, queries.VERSION_LINEAGE_AT, params)
    return _history_rows(reg, name, [r for r in rows if isinstance(r.get("version"), int)])


def _history_rows(reg: Registry, name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_generation = {
        r["lineage"]["generation"]: r["version"]
        for r in rows
        if isinstance(r.get("lineage"), dict) and r["lineage"].get("generation") is not None
    }
    aliases: dict[int, list[str]] = {}
    for alias, version in reg.aliases(name).items():
        aliases.setdefault(version, []).append(alias)
    out = []
    for r in rows:
        lineage = r["lineage"] if isinstance(r.get("lineage"), dict) else {}
        batches = lineage.get("batches")
        parent = lineage.get("parent")
        generation = lineage.get("generation")
        if parent is None and generation is not None:
            parent = by_generation.get(generation - 1)
        out.append(
            {
                "version": r["version"],
                "createdAt": r.get("createdAt"),
                "metric": lineage.get("metric") or {},
                "metrics": r["metrics"] if isinstance(r.get("metrics"), dict) else {},
                "rowsSeen": lineage.get("rowsSeen"),
                "batchSize": lineage.get("batchSize"),
                "parent": parent,
                "generation": generation,
                "batchId": lineage.get("batchId")
                or (batches[-1] if isinstance(batches, list) and batches else None),
                "aliases": sorted(aliases.get(r["version"], [])),
            }
        )
    return out


def all_history(reg: Registry, name: str) -> list[dict[str, Any]]:
    """Return every row of a model's learning history, oldest first (all pages)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = learning_history(reg, name, cursor=cursor)
        rows.extend(page.items)
        if page.next is None:
            return rows
        cursor = page.next


# How many versions below a version its parent generation is looked for.
PARENT_WINDOW = 100


def drift_parent(reg: Registry, name: str, version: int) -> int | None:
    """Return the version ``version`` is compared with: its parent, else the one before."""
    doc = reg.document(name, version)
    lineage = doc.get("lineage") or {}
    parent = lineage.get("parent")
    if parent is None and lineage.get("generation") is not None:
        # The generation before is among the versions just below this one.
        cursor = queries.encode_cursor([version + 1])
        page = learning_history(reg, name, cursor=cursor, limit=PARENT_WINDOW, newest_first=True)
        parent = next((r["parent"] for r in page.items if r["version"] == version), None)
    if parent is not None:
        return int(parent)
    return reg.previous_version(name, version)


def drift_from_parent(reg: Registry, name: str, version: int) -> list[dict[str, Any]]:
    """Return the weight drift of ``version`` from its parent (or the version before it)."""
    parent = drift_parent(reg, name, version)
    return [] if parent is None else weights.weight_drift(reg, name, parent, version)
