"""Reading lists of versions: every model, the versions of one, alias moves, and which
documents cannot be shown on a page (damaged ones are skipped, never a 500).

``Listing`` is the reading half of the registry (``Registry`` inherits it): it needs the
registry's ``store``, ``ks`` and ``aliases``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from catalog.domain import queries
from catalog.domain.errors import InvalidName
from catalog.domain.keys import check_name


class Listing:
    """Read-only list operations of a registry."""

    store: Any
    ks: Any

    def aliases(self, name: str) -> dict[str, int]:  # provided by Registry
        raise NotImplementedError

    def list_models(self, on_damaged: OnDamaged | None = None) -> list[dict[str, Any]]:
        """Return one summary per model (its latest version's details), sorted by name.

        A document that cannot be listed (``listing_problem``) is left out and passed to
        ``on_damaged(key, problem)``.
        """
        latest: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        for key, doc, _ in self.store.scan(self.ks.models):
            if _damaged(key, doc, on_damaged):
                continue
            name = doc["name"]
            counts[name] = counts.get(name, 0) + 1
            if name not in latest or doc.get("version", 0) > latest[name].get("version", 0):
                latest[name] = doc
        out = []
        for name in sorted(latest):
            doc = latest[name]
            out.append(version_info(doc) | {"versions": counts[name]})
        return out

    def list_versions(self, name: str, on_damaged: OnDamaged | None = None) -> list[dict[str, Any]]:
        """Return every version of a model, newest first, with the aliases pointing at it.

        A document that cannot be listed is left out and passed to ``on_damaged``.
        """
        check_name(name)
        aliases = self.aliases(name)
        rows = [
            doc for key, doc, _ in self._scan_versions(name) if not _damaged(key, doc, on_damaged)
        ]
        rows.sort(key=lambda d: -d.get("version", 0))
        by_version: dict[int, list[str]] = {}
        for alias, v in aliases.items():
            by_version.setdefault(v, []).append(alias)
        return [
            version_info(d) | {"aliases": sorted(by_version.get(d["version"], []))} for d in rows
        ]

    def _scan_versions(self, name: str) -> Iterator[tuple[str, dict[str, Any], int]]:
        for key, doc, doc_cas in self.store.scan(self.ks.models, prefix=f"{name}::"):
            if isinstance(doc, dict) and doc.get("name") == name:
                yield key, doc, doc_cas

    def version_numbers(self, name: str, *, limit: int | None = None) -> list[int]:
        """Return the newest version numbers of a model (at most ``limit``), oldest first."""
        params = {"name": check_name(name), "limit": queries.page_limit(limit)}
        rows = queries.run(self.store, self.ks.query_context, queries.VERSION_NUMBERS, params)
        return sorted(v for v in rows if isinstance(v, int))

    def alias_history(
        self, name: str, *, cursor: str | None = None, limit: int | None = 50
    ) -> queries.Page:
        """Return a page of a model's alias moves (audit documents), newest first."""
        before, key = queries.decode_cursor(cursor, ["9999", ""])
        size = queries.page_limit(limit)
        params = {"name": check_name(name), "before": before, "key": key, "limit": size}
        rows = queries.run(self.store, self.ks.query_context, queries.ALIAS_HISTORY, params)
        page = queries.Page([{k: v for k, v in r.items() if k != "auditKey"} for r in rows])
        if len(rows) == size:
            page.next = queries.encode_cursor([rows[-1].get("at"), rows[-1]["auditKey"]])
        return page

    def rollback_target(self, name: str, alias: str, current: int | None) -> int | None:
        """Return the version ``alias`` pointed at before its last move (None: there is none)."""
        cursor = None
        while True:
            page = self.alias_history(name, cursor=cursor, limit=queries.MAX_PAGE)
            for row in page.items:
                if row.get("alias") != alias:
                    continue
                if row.get("to") == current and isinstance(row.get("from"), int):
                    return row["from"]
                return None
            if page.next is None:
                return None
            cursor = page.next


def version_info(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the listing fields of a version document."""
    summary = doc.get("summary", {})
    meta = doc.get("metadata", {})
    return {
        "name": doc.get("name"),
        "version": doc.get("version"),
        "createdAt": doc.get("createdAt"),
        "format": doc.get("format"),
        "description": meta.get("description", ""),
        "tags": meta.get("tags", []),
        "task": meta.get("task"),
        "framework": meta.get("framework"),
        "opTypes": summary.get("opTypes", []),
        "paramCount": summary.get("paramCount"),
        "sizeBytes": summary.get("sizeBytes"),
    }


# Deepest nesting of metadata or lineage a listed document may have (pages walk them).
MAX_LISTED_DEPTH = 32
_TEXT_FIELDS = ("description", "task", "framework")
OnDamaged = Callable[[str, str], None]


def listing_problem(doc: Any) -> str | None:
    """Return why a version document cannot be listed on a page, or None if it can."""
    if not isinstance(doc, dict):
        return "the document is not a JSON object"
    try:
        check_name(doc.get("name"))  # type: ignore[arg-type]
    except InvalidName as e:
        return str(e)
    version = doc.get("version")
    if type(version) is not int or version < 1:
        return f"version {version!r} is not a positive integer"
    for field in ("metadata", "summary", "lineage"):
        if not isinstance(doc.get(field) or {}, dict):
            return f"{field} is not a JSON object"
    meta, summary = doc.get("metadata") or {}, doc.get("summary") or {}
    tags = meta.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return "metadata.tags is not a list of strings"
    for field in _TEXT_FIELDS:
        if meta.get(field) is not None and not isinstance(meta[field], str):
            return f"metadata.{field} is not a string"
    ops = summary.get("opTypes", [])
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        return "summary.opTypes is not a list of strings"
    for field in ("paramCount", "sizeBytes"):
        value = summary.get(field)
        if value is not None and (type(value) not in (int, float)):
            return f"summary.{field} is not a number"
    for field in ("metadata", "lineage"):
        if nesting_over(doc.get(field), MAX_LISTED_DEPTH):
            return f"{field} is nested deeper than {MAX_LISTED_DEPTH} levels"
    return None


def nesting_over(value: Any, limit: int) -> bool:
    """Return True if lists and objects in ``value`` nest deeper than ``limit`` (no recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _damaged(key: str, doc: Any, on_damaged: OnDamaged | None) -> bool:
    problem = listing_problem(doc)
    if problem is not None and on_damaged is not None:
        on_damaged(key, problem)
    return problem is not None
