"""Reading lists of versions: every model, the versions of one, alias moves, and which
documents cannot be shown on a page (damaged ones are skipped, never a 500).

``Listing`` is the reading half of the registry (``Registry`` inherits it): it needs the
registry's ``store``, ``ks`` and ``aliases``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from catalog.domain import queries, validation
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

        Reads every page of ``models_page``: for the CLI; pages and APIs read one page.
        """
        return _every_page(lambda cursor: self.models_page(cursor=cursor, on_damaged=on_damaged))

    def list_versions(self, name: str, on_damaged: OnDamaged | None = None) -> list[dict[str, Any]]:
        """Return every version of a model, newest first, with the aliases pointing at it.

        Reads every page of ``versions_page``: for the CLI; pages and APIs read one page.
        """
        return _every_page(
            lambda cursor: self.versions_page(name, cursor=cursor, on_damaged=on_damaged)
        )

    def models_page(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        on_damaged: OnDamaged | None = None,
    ) -> queries.Page:
        """Return a page of model summaries (latest version's details, ``versions`` count),
        by name; ``Page.next`` is the cursor of the following page.

        Models are the alias documents that have a ``latest`` version (every publish writes
        one). A latest version that cannot be listed (``listing_problem``) is left out and
        passed to ``on_damaged(key, problem)``.
        """
        (after,) = queries.decode_cursor(cursor, [""])
        size = queries.page_limit(limit)
        heads = self._run(queries.MODEL_NAMES, {"after": after, "limit": size})
        page = queries.Page([])
        if len(heads) == size:
            page.next = queries.encode_cursor([heads[-1]["name"]])
        wanted: list[tuple[str, str, int]] = []
        for head in heads:
            name, latest = head.get("name"), head.get("latest")
            key = f"{name}::{latest}"
            if not validation.is_model_name(name) or type(latest) is not int:
                _report(key, f"alias entry {name!r} has no valid latest version", on_damaged)
            else:
                wanted.append((key, name, latest))
        rows = {
            (r.get("name"), r.get("version")): r for r in self._listed([k for k, _, _ in wanted])
        }
        counts = self.version_counts([name for _, name, _ in wanted])
        for key, name, latest in wanted:
            row = rows.get((name, latest))
            if row is None:
                _report(key, "the latest version's document is missing", on_damaged)
            elif not _damaged(key, row, on_damaged):
                page.items.append(version_info(row) | {"versions": counts.get(name, 0)})
        return page

    def model_count(self) -> int:
        """Return how many models have at least one version."""
        rows = self._run(queries.MODEL_COUNT, {})
        return rows[0] if rows and isinstance(rows[0], int) else 0

    def version_counts(self, names: list[str]) -> dict[str, int]:
        """Return {name: number of versions} for each of ``names`` (0 for a model without
        versions), counted in one statement."""
        counts = dict.fromkeys(names, 0)
        if names:
            params = {"names": [check_name(n) for n in counts]}
            for r in self._run(queries.VERSION_COUNTS, params):
                if r.get("name") in counts and type(r.get("versions")) is int:
                    counts[r["name"]] = r["versions"]
        return counts

    def version_count(self, name: str) -> int:
        """Return how many version documents a model has (damaged ones included)."""
        rows = self._run(queries.VERSION_COUNT, {"name": check_name(name)})
        return rows[0] if rows and type(rows[0]) is int else 0

    def versions_page(
        self,
        name: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        on_damaged: OnDamaged | None = None,
    ) -> queries.Page:
        """Return a page of a model's versions, newest first, each with its aliases.

        A version that cannot be listed is left out and passed to ``on_damaged``; a document
        whose version is not a number is not read at all.
        """
        check_name(name)
        (before,) = queries.decode_cursor(cursor, [queries.NEWEST])
        size = queries.page_limit(limit)
        params = {"name": name, "before": before, "limit": size}
        rows = [listed_document(r) for r in self._run(queries.VERSIONS_PAGE, params)]
        page = queries.Page([])
        if len(rows) == size:
            page.next = queries.encode_cursor([rows[-1]["version"]])
        by_version: dict[int, list[str]] = {}
        for alias, v in self.aliases(name).items():
            by_version.setdefault(v, []).append(alias)
        for row in rows:
            if not _damaged(f"{name}::{row.get('version')}", row, on_damaged):
                aliases = sorted(by_version.get(row["version"], []))
                page.items.append(version_info(row) | {"aliases": aliases})
        return page

    def _listed(self, keys: list[str]) -> list[dict[str, Any]]:
        """Return the listing fields of the versions with these keys, as ``listed_document``."""
        if not keys:
            return []
        return [listed_document(r) for r in self._run(queries.VERSIONS_BY_KEY, {"keys": keys})]

    def _run(self, query: queries.Query, params: dict[str, Any]) -> list[Any]:
        return queries.run(self.store, self.ks.query_context, query, params)

    def _scan_versions(self, name: str) -> Iterator[tuple[str, dict[str, Any], int]]:
        for key, doc, doc_cas in self.store.scan(self.ks.models, prefix=f"{name}::"):
            if isinstance(doc, dict) and doc.get("name") == name:
                yield key, doc, doc_cas

    def version_numbers(
        self, name: str, *, limit: int | None = None, before: int | None = None
    ) -> list[int]:
        """Return the newest version numbers of a model (at most ``limit``; with ``before``,
        only those below it), oldest first."""
        params = {
            "name": check_name(name),
            "before": queries.NEWEST if before is None else int(before),
            "limit": queries.page_limit(limit),
        }
        rows = self._run(queries.VERSION_NUMBERS, params)
        return sorted(v for v in rows if type(v) is int)

    def previous_version(self, name: str, version: int) -> int | None:
        """Return the newest version of a model below ``version`` (None: there is none)."""
        older = self.version_numbers(name, limit=1, before=version)
        return older[-1] if older else None

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
        rows = self._run(queries.ALIAS_LAST_MOVE, {"name": check_name(name), "alias": alias})
        if not rows or rows[0].get("to") != current:
            return None
        previous = rows[0].get("from")
        return previous if type(previous) is int else None


def listed_document(row: dict[str, Any]) -> dict[str, Any]:
    """Return a row of ``queries.VERSIONS_PAGE`` in the shape of the version document it
    was read from (only the listed fields), for ``listing_problem`` and ``version_info``."""
    doc = {k: row[k] for k in ("name", "version", "createdAt", "format") if k in row}
    doc["metadata"] = {k: row[k] for k in ("description", "tags", "task", "framework") if k in row}
    doc["summary"] = {k: row[k] for k in ("opTypes", "paramCount", "sizeBytes") if k in row}
    return doc


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


def _every_page(read: Callable[[str | None], queries.Page]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = read(cursor)
        items.extend(page.items)
        if page.next is None:
            return items
        cursor = page.next


def _report(key: str, problem: str, on_damaged: OnDamaged | None) -> None:
    if on_damaged is not None:
        on_damaged(key, problem)


def _damaged(key: str, doc: Any, on_damaged: OnDamaged | None) -> bool:
    problem = listing_problem(doc)
    if problem is not None and on_damaged is not None:
        on_damaged(key, problem)
    return problem is not None
