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
from catalog.domain import cas, limits, validation
from catalog.domain.errors import (
    AliasInUse,
    InvalidModel,
    InvalidName,
    ModelNotFound,
    ModelTooLarge,
    RegistryError,
)
from catalog.domain.keys import (
    MAX_NAME_BYTES,
    Collections,
    VersionRef,
    check_alias,
    check_name,
    version_key,
)
from catalog.domain.listing import Listing, OnDamaged, listing_problem, nesting_over, version_info
from catalog.domain.model_checks import check_node_count, validate_model
from catalog.domain.model_input import ModelInput, ModelInputError, to_model_proto
from catalog.store import Conflict, DocumentStore, NotFound, get_store

FORMATS = ("json", "binary")
LATEST = "latest"


def now_iso(timespec: str = "milliseconds") -> str:
    """Return the current UTC time as ISO 8601 with a Z (how every document records time)."""
    return datetime.now(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


class Registry(Listing):
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
        if alias is not None and alias != LATEST:
            self.set_alias(name, alias, ref.version)
        return ref

    def _insert_version(
        self, name: str, doc: dict[str, Any], chunks: dict[str, bytes]
    ) -> VersionRef:
        version = 0
        while True:
            try:
                # One transaction where the store has them (the embedded store): the version
                # and its model's new latest are written together, or neither is. The model's
                # alias document, read first, gives the version number (inside the write
                # lock there) and is the one the latest alias then moves in (CAS-checked).
                with self._atomic():
                    entry = self._read_entry(name)
                    version = max(version + 1, int(entry[0].get("maxVersion", 0)) + 1)
                    doc = {**doc, "version": version, "createdAt": now_iso()}
                    self._restore_missing_chunks(chunks)
                    self.store.insert(self.ks.models, version_key(name, version), doc)
                    self._advance_latest(name, version, entry)
                return VersionRef(name, version)
            except Conflict:
                continue

    def _read_entry(self, name: str) -> tuple[dict[str, Any], int | None]:
        """Return (alias document, CAS) of a model; (a new document, None) when it has none."""
        try:
            return self.store.get(self.ks.aliases, name)
        except NotFound:
            return self._new_entry(name), None

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

    def _update_entry(
        self,
        name: str,
        change: Callable[[dict[str, Any]], bool],
        current: tuple[dict[str, Any], int | None] | None = None,
    ) -> dict[str, Any]:
        """Apply ``change`` to the model's alias document with CAS; return the new document.

        ``change`` mutates the document and returns False when nothing needs writing.
        ``current``: the document and CAS just read (``_read_entry``), if the caller has them.
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
            initial=lambda: self._new_entry(name),
            current=current,
        )

    @staticmethod
    def _new_entry(name: str) -> dict[str, Any]:
        return {"name": name, "aliases": {}, "maxVersion": 0}

    def _advance_latest(
        self, name: str, version: int, current: tuple[dict[str, Any], int | None] | None = None
    ) -> None:
        def change(entry: dict[str, Any]) -> bool:
            aliases = entry.setdefault("aliases", {})
            if aliases.get(LATEST, 0) >= version and entry.get("maxVersion", 0) >= version:
                return False
            aliases[LATEST] = max(aliases.get(LATEST, 0), version)
            entry["maxVersion"] = max(entry.get("maxVersion", 0), version)
            return True

        self._update_entry(name, change, current)

    def aliases(self, name: str) -> dict[str, int]:
        """Return {alias: version} of a model.

        Every prediction by alias or latest reads this: on a store with a change token (the
        embedded store) the answer is remembered until any document changes, so a repeat
        costs reading the token instead of a read and a JSON decode, and is never stale.
        """
        return dict(self._aliases(check_name(name)))

    def _aliases(self, key: str) -> dict[str, int]:
        """Return the aliases of a checked model name; the caller must not change the dict."""
        token = self.store.change_token()
        collection = self.ks.aliases
        seen_key = (collection, key, token[0]) if token is not None else None
        if seen_key is not None:
            seen = _ALIASES_SEEN.get(seen_key)
            if seen is not None and seen[0] == token:
                return seen[1]
        try:
            entry, _ = self.store.get(collection, key)
            aliases = dict(entry.get("aliases", {}))
        except NotFound:
            aliases = {}
        if seen_key is not None:
            if len(_ALIASES_SEEN) >= MAX_ALIASES_SEEN:
                _ALIASES_SEEN.clear()
            _ALIASES_SEEN[seen_key] = (token, aliases)
        return aliases

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
        key = check_name(name)
        if ref is None or ref == "":
            ref = LATEST
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit()):
            return int(ref)
        aliases = self._aliases(key)
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


def _chunk_keys(doc: Any) -> set[str]:
    """Return the chunk keys a version document names (none if it is damaged there)."""
    chunks = doc.get("chunks") if isinstance(doc, dict) else None
    return {c for c in chunks if isinstance(c, str)} if isinstance(chunks, list) else set()


# (aliases keyspace, model name, connection) -> (change token, aliases): Registry.aliases.
_ALIASES_SEEN: dict[tuple[str, str, Any], tuple[Any, dict[str, int]]] = {}
MAX_ALIASES_SEEN = 4096


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
    global _registry
    url, bucket, scope = _registry_settings()
    store = get_store(url)
    reg = _registry  # every request asks: keep the last one while the settings hold
    if reg is None or reg.store is not store or (reg.ks.bucket, reg.ks.scope) != (bucket, scope):
        reg = _registry = Registry(store, bucket, scope)
    return reg


_registry: Registry | None = None


@limits.derived
def _registry_settings() -> tuple[str, str | None, str | None]:
    """Return the store URL, bucket and scope the settings name (read once per change)."""
    return (
        limits.setting("CATALOG_STORE"),
        limits.setting("CATALOG_BUCKET"),
        limits.setting("CATALOG_SCOPE"),
    )


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
    "listing_problem",
    "nesting_over",
    "MAX_NAME_BYTES",
    "OnDamaged",
    "get_registry",
    "validate_model",
    "version_info",
    "version_key",
]
