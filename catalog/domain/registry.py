"""Publish, list, load and delete model versions; move aliases.

Publish order (docs/design.md): tensor chunks (content-addressed, idempotent) -> the version
document (an insert, which also allocates the version number) -> the ``latest`` alias
(CAS). A crash between steps leaves at most unreferenced chunks, never a version that
cannot load. On the embedded store the version insert and the check that its chunks
exist share one transaction with chunk garbage collection, so a delete running at the
same time cannot remove a chunk a new version needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import onnx

from catalog import onnxdoc
from catalog.domain import cas, queries, validation
from catalog.domain.errors import (
    AliasInUse,
    InvalidModel,
    InvalidName,
    ModelNotFound,
    ModelTooLarge,
    RegistryError,
)
from catalog.domain.keys import Collections, VersionRef, version_key
from catalog.domain.model_checks import check_node_count, validate_model
from catalog.domain.model_input import ModelInput, ModelInputError, to_model_proto
from catalog.store import Conflict, DocumentStore, NotFound
from catalog.store.base import MAX_KEY_BYTES

FORMATS = ("json", "binary")
LATEST = "latest"
# Versions are appended as "::<version>"; keep room for 12 digits within the key limit.
MAX_NAME_BYTES = MAX_KEY_BYTES - 14


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name, else raise InvalidName."""
    if not validation.is_model_name(name):
        raise InvalidName(
            f"invalid model name {name!r}: use letters, digits, '.', '_' and '-',"
            " starting with a letter or digit"
        )
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidName(f"model name is longer than {MAX_NAME_BYTES} bytes")
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name, else raise InvalidName."""
    if not validation.is_alias_name(alias):
        raise InvalidName(
            f"invalid alias {alias!r}: a letter, then letters, digits, '_' or '-' (at most 64)"
        )
    return alias


def now_iso(timespec: str = "milliseconds") -> str:
    """Return the current UTC time as ISO 8601 with a Z (how every document records time)."""
    return datetime.now(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


class Registry:
    """The catalog's domain operations on one store."""

    def __init__(self, store: DocumentStore, bucket: str = "ml", scope: str = "catalog"):
        self.store = store
        self.ks = Collections(bucket, scope)

    # -- publish -------------------------------------------------------------------------

    def publish(
        self,
        name: str,
        model: ModelInput,
        *,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        description: str | None = None,
        format: str = "json",
        alias: str | None = None,
        sample_input: Any = None,
        lineage: dict[str, Any] | None = None,
        validate: bool = True,
    ) -> VersionRef:
        """Validate and store a new version of ``name``; return its reference.

        ``model`` is a ModelProto, ONNX bytes, a path to a .onnx file, or a fitted
        scikit-learn estimator (then ``sample_input`` gives the input type and shape).
        """
        check_name(name)
        if format not in FORMATS:
            raise RegistryError(f"unknown format {format!r}: use 'json' or 'binary'")
        if alias is not None:
            check_alias(alias)
        if metadata is not None:
            _check_metadata(metadata)
        try:
            proto, derived = to_model_proto(model, sample_input)
        except ModelInputError as e:
            raise InvalidModel(str(e)) from None
        check_node_count(proto)
        if validate:
            validate_model(proto)
        meta = {**derived, **(metadata or {})}
        if tags is not None:
            meta["tags"] = list(tags)
        if description is not None:
            meta["description"] = description
        meta.setdefault("tags", [])
        meta.setdefault("description", proto.doc_string or "")
        _check_metadata(meta)

        doc: dict[str, Any] = {
            "name": name,
            "format": format,
            "metadata": meta,
            "lineage": lineage or {},
        }
        if format == "json":
            converted = onnxdoc.model_to_document(proto)
            doc["onnx"] = converted.onnx
            doc["summary"] = converted.summary
            chunks = converted.chunks
            doc["chunks"] = sorted(chunks)
        else:
            data = proto.SerializeToString()
            doc["summary"] = onnxdoc.summarize(proto)
            keys, chunks = onnxdoc.split_bytes(data)
            doc["binary"] = {
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "chunks": keys,
            }
            doc["chunks"] = sorted(set(keys))

        if chunks:
            self.store.upsert_many(self.ks.tensors, chunks)
        ref = self._insert_version(name, doc, chunks)
        self._advance_latest(name, ref.version)
        if alias is not None and alias != LATEST:
            self.set_alias(name, alias, ref.version)
        return ref

    def _insert_version(
        self, name: str, doc: dict[str, Any], chunks: dict[str, bytes]
    ) -> VersionRef:
        version = self._next_version_hint(name)
        while True:
            doc = {**doc, "version": version, "createdAt": now_iso()}
            try:
                with self._atomic():
                    self._restore_missing_chunks(chunks)
                    self.store.insert(self.ks.models, version_key(name, version), doc)
                return VersionRef(name, version)
            except Conflict:
                version += 1

    def _next_version_hint(self, name: str) -> int:
        try:
            entry, _ = self.store.get(self.ks.aliases, name)
        except NotFound:
            return 1
        return int(entry.get("maxVersion", 0)) + 1

    def _restore_missing_chunks(self, chunks: dict[str, bytes]) -> None:
        if not chunks:
            return
        present = self.store.get_many(self.ks.tensors, list(chunks))
        missing = {k: v for k, v in chunks.items() if k not in present}
        if missing:  # a concurrent delete collected them between our writes
            self.store.upsert_many(self.ks.tensors, missing)

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        batch = getattr(self.store, "batch", None)
        if batch is None:
            yield
        else:
            with batch():
                yield

    # -- aliases -------------------------------------------------------------------------

    def _update_entry(self, name: str, change: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Apply ``change`` to the model's alias document with CAS; return the new document.

        ``change`` mutates the document and returns False when nothing needs writing.
        """

        def apply(entry: dict[str, Any]) -> dict[str, Any] | None:
            if not change(entry):
                return None
            entry["updatedAt"] = now_iso()
            return entry

        return cas.update(
            self.store,
            self.ks.aliases,
            name,
            apply,
            initial=lambda: {"name": name, "aliases": {}, "maxVersion": 0},
        )

    def _advance_latest(self, name: str, version: int) -> None:
        def change(entry: dict[str, Any]) -> bool:
            aliases = entry.setdefault("aliases", {})
            if aliases.get(LATEST, 0) >= version and entry.get("maxVersion", 0) >= version:
                return False
            aliases[LATEST] = max(aliases.get(LATEST, 0), version)
            entry["maxVersion"] = max(entry.get("maxVersion", 0), version)
            return True

        self._update_entry(name, change)

    def aliases(self, name: str) -> dict[str, int]:
        """Return {alias: version} of a model."""
        try:
            entry, _ = self.store.get(self.ks.aliases, check_name(name))
        except NotFound:
            return {}
        return dict(entry.get("aliases", {}))

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected: int | None = None,
        user: str | None = None,
    ) -> int | None:
        """Point ``alias`` at ``version``; return the version it pointed at before.

        With ``expected``, move only if the alias still points there (else Conflict).
        """
        check_alias(alias)
        self._require_version(name, version)
        before: dict[str, int | None] = {}

        def change(entry: dict[str, Any]) -> bool:
            aliases = entry.setdefault("aliases", {})
            before["v"] = aliases.get(alias)
            if expected is not None and aliases.get(alias) != expected:
                raise Conflict(
                    f"alias {alias!r} of {name!r} points at {aliases.get(alias)}, not {expected}"
                )
            if aliases.get(alias) == version:
                return False
            aliases[alias] = version
            return True

        self._update_entry(name, change)
        if before["v"] != version:
            self._audit(name, alias, before["v"], version, user)
        return before["v"]

    def remove_alias(self, name: str, alias: str, *, user: str | None = None) -> None:
        """Remove an alias (``latest`` cannot be removed: it follows the newest version)."""
        check_alias(alias)
        if alias == LATEST:
            raise RegistryError("'latest' is maintained by the catalog and cannot be removed")
        before: dict[str, int | None] = {}

        def change(entry: dict[str, Any]) -> bool:
            before["v"] = entry.get("aliases", {}).pop(alias, None)
            if before["v"] is None:
                raise ModelNotFound(f"model {name!r} has no alias {alias!r}")
            return True

        self._update_entry(name, change)
        self._audit(name, alias, before["v"], None, user)

    def _audit(
        self, name: str, alias: str, old: int | None, new: int | None, user: str | None
    ) -> None:
        at = now_iso("microseconds")
        self.store.insert(
            self.ks.audit,
            f"alias::{uuid.uuid4().hex}",
            {
                "type": "alias",
                "name": name,
                "alias": alias,
                "from": old,
                "to": new,
                "user": user or "system",
                "at": at,
            },
        )

    # -- reading -------------------------------------------------------------------------

    def resolve(self, name: str, ref: int | str | None = None) -> int:
        """Return the version number named by ``ref``: a number, an alias, or latest."""
        check_name(name)
        if ref is None or ref == "":
            ref = LATEST
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit()):
            return int(ref)
        aliases = self.aliases(name)
        if ref not in aliases:
            if not aliases:
                raise ModelNotFound(f"model {name!r} not found")
            raise ModelNotFound(f"model {name!r} has no alias {ref!r}")
        return int(aliases[ref])

    def _require_version(self, name: str, version: int) -> dict[str, Any]:
        try:
            doc, _ = self.store.get(self.ks.models, version_key(check_name(name), int(version)))
        except NotFound:
            raise ModelNotFound(f"model {name!r} has no version {version}") from None
        return doc

    def document(self, name: str, ref: int | str | None = None) -> dict[str, Any]:
        """Return the stored document of a version."""
        return self._require_version(name, self.resolve(name, ref))

    def load(self, name: str, ref: int | str | None = None) -> onnx.ModelProto:
        """Return the ModelProto of a version, rebuilt from its document and chunks."""
        return self.load_document(self.document(name, ref))

    def load_document(self, doc: dict[str, Any]) -> onnx.ModelProto:
        """Return the ModelProto a version document describes."""
        if doc.get("format") == "binary":
            return onnx.load_model_from_string(self.load_bytes_document(doc))
        return onnxdoc.document_to_model(doc["onnx"], self._fetch_chunk)

    def load_bytes(self, name: str, ref: int | str | None = None) -> bytes:
        """Return the serialized ONNX protobuf of a version."""
        doc = self.document(name, ref)
        if doc.get("format") == "binary":
            return self.load_bytes_document(doc)
        return self.load_document(doc).SerializeToString()

    def load_bytes_document(self, doc: dict[str, Any]) -> bytes:
        info = doc["binary"]
        data = onnxdoc.join_chunks(info["chunks"], self._fetch_chunk)
        if hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise onnxdoc.DocumentError("binary: content does not match its sha256")
        return data

    def _fetch_chunk(self, key: str) -> bytes:
        try:
            value, _ = self.store.get(self.ks.tensors, key)
        except NotFound:
            raise onnxdoc.DocumentError(f"chunk {key} is missing from the store") from None
        if not isinstance(value, bytes):
            raise onnxdoc.DocumentError(f"chunk {key} is not a binary document")
        return value

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

    # -- deleting ------------------------------------------------------------------------

    def delete_version(
        self, name: str, version: int, *, force: bool = False, user: str | None = None
    ) -> list[str]:
        """Delete a version and the chunks no other version uses; return removed aliases.

        Refused while an alias other than ``latest`` points at it, unless ``force``.
        """
        doc = self._require_version(name, version)
        pointing = [a for a, v in self.aliases(name).items() if v == version and a != LATEST]
        if pointing and not force:
            raise AliasInUse(
                f"version {version} of {name!r} is aliased as {', '.join(sorted(pointing))};"
                " move the alias first or force the delete"
            )
        for alias in pointing:
            self.remove_alias(name, alias, user=user)
        self.store.remove(self.ks.models, version_key(name, version))
        self._retreat_latest(name, version)
        self._collect_chunks(_chunk_keys(doc))
        return pointing

    def _retreat_latest(self, name: str, deleted: int) -> None:
        # A damaged document's version ("1x") is no candidate for latest (catalog check).
        remaining = [
            v
            for _, d, _ in self._scan_versions(name)
            if validation.is_version(v := d.get("version"))
        ]

        def change(entry: dict[str, Any]) -> bool:
            aliases = entry.setdefault("aliases", {})
            if aliases.get(LATEST) != deleted:
                return False
            if remaining:
                aliases[LATEST] = max(remaining)
            else:
                aliases.pop(LATEST, None)
            return True

        self._update_entry(name, change)

    def _collect_chunks(self, candidates: set[str]) -> None:
        """Remove the candidate chunks no remaining version references."""
        if not candidates:
            return
        with self._atomic():
            used: set[str] = set()
            for _, doc, _ in self.store.scan(self.ks.models):
                if isinstance(doc, dict):
                    used.update(candidates.intersection(doc.get("chunks", ())))
            self.store.remove_many(self.ks.tensors, sorted(candidates - used))


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


def _chunk_keys(doc: Any) -> set[str]:
    """Return the chunk keys a version document names (none if it is damaged there)."""
    chunks = doc.get("chunks") if isinstance(doc, dict) else None
    return {c for c in chunks if isinstance(c, str)} if isinstance(chunks, list) else set()


def _check_metadata(meta: dict[str, Any]) -> None:
    try:
        validation.check_metadata(meta)
    except validation.DocumentInvalid as e:
        raise InvalidModel(str(e)) from None


def load_path(path: str | Path) -> bytes:
    """Return the bytes of a .onnx file."""
    return Path(path).read_bytes()


def get_registry() -> Registry:
    """Return the registry on the store and bucket/scope named by the settings."""
    from django.conf import settings

    from catalog.store import get_store

    return Registry(get_store(), settings.CATALOG_BUCKET, settings.CATALOG_SCOPE)


__all__ = [
    "LATEST",
    "AliasInUse",
    "Collections",
    "InvalidModel",
    "InvalidName",
    "ModelNotFound",
    "ModelTooLarge",
    "Registry",
    "RegistryError",
    "VersionRef",
    "check_alias",
    "check_name",
    "check_node_count",
    "get_registry",
    "validate_model",
    "version_info",
    "version_key",
]
