"""The schema of the catalog's stored documents, checked before anything is written.

Publish, import and ``catalog check`` use the same rules, so a document that passes here
can be listed, shown and deleted by every page: names and aliases as publish accepts them,
``version`` an integer matching the key, ``metadata`` an object of bounded depth and size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from catalog.domain import limits
from catalog.store import NotFound

# Model names: a letter or digit, then letters, digits, '.', '_', '-' (fullmatch: no "\n").
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Aliases: a letter, then up to 63 letters, digits, '_' or '-'.
ALIAS_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


class DocumentInvalid(ValueError):
    """A document does not follow the catalog's schema; the message names the field."""


def is_model_name(name: Any) -> bool:
    """Return True if ``name`` matches the model name pattern (length not checked)."""
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def is_alias_name(alias: Any) -> bool:
    """Return True if ``alias`` is an acceptable alias name."""
    return (
        isinstance(alias, str)
        and ALIAS_PATTERN.fullmatch(alias) is not None
        and not alias.isdigit()
    )


def is_version(version: Any) -> bool:
    """Return True if ``version`` is a version number (a positive int, not a bool)."""
    return isinstance(version, int) and not isinstance(version, bool) and version >= 1


def json_depth(value: Any, limit: int) -> int:
    """Return the nesting depth of a JSON value, stopping once it passes ``limit``.

    Iterative, so a value nested thousands deep cannot raise RecursionError.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_metadata(meta: Any) -> None:
    """Raise DocumentInvalid unless ``meta`` is an object within the depth and size limits."""
    if not isinstance(meta, dict):
        raise DocumentInvalid(f"metadata must be a JSON object, not {_kind(meta)}")
    max_depth = limits.metadata_max_depth()
    if json_depth(meta, max_depth) > max_depth:
        raise DocumentInvalid(f"metadata is nested more than {max_depth} levels deep")
    max_bytes = limits.metadata_max_bytes()
    try:
        size = len(json.dumps(meta, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError) as e:
        raise DocumentInvalid(f"metadata is not JSON: {e}") from None
    if size > max_bytes:
        raise DocumentInvalid(f"metadata is {size} bytes; at most {max_bytes} are accepted")
    tags = meta.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise DocumentInvalid("metadata.tags must be a list of non-empty strings")
    if not isinstance(meta.get("description", ""), str):
        raise DocumentInvalid("metadata.description must be a string")


def check_version_document(key: str, doc: Any) -> None:
    """Raise DocumentInvalid unless ``doc`` is a model-version document stored at ``key``."""
    if not isinstance(doc, dict):
        raise DocumentInvalid(f"a version document must be a JSON object, not {_kind(doc)}")
    name, version = doc.get("name"), doc.get("version")
    if not is_model_name(name):
        raise DocumentInvalid(f"name {name!r} is not a valid model name")
    if not is_version(version):
        raise DocumentInvalid(f"version {version!r} is not a positive integer")
    if key != f"{name}::{version}":
        raise DocumentInvalid(f"key {key!r} does not match name and version ({name}::{version})")
    if doc.get("format") not in ("json", "binary"):
        raise DocumentInvalid(f"format {doc.get('format')!r} is not 'json' or 'binary'")
    check_metadata(doc.get("metadata"))
    for field in ("summary", "lineage"):
        if field in doc and not isinstance(doc[field], dict):
            raise DocumentInvalid(f"{field} must be a JSON object, not {_kind(doc[field])}")
    if "chunks" in doc and not (
        isinstance(doc["chunks"], list) and all(isinstance(c, str) for c in doc["chunks"])
    ):
        raise DocumentInvalid("chunks must be a list of strings")


def check_alias_document(key: str, doc: Any) -> None:
    """Raise DocumentInvalid unless ``doc`` is the alias document of model ``key``."""
    if not is_model_name(key):
        raise DocumentInvalid(f"key {key!r} is not a valid model name")
    if not isinstance(doc, dict):
        raise DocumentInvalid(f"an alias document must be a JSON object, not {_kind(doc)}")
    aliases = doc.get("aliases", {})
    if not isinstance(aliases, dict):
        raise DocumentInvalid("aliases must be a JSON object")
    for alias, version in aliases.items():
        if not is_alias_name(alias):
            raise DocumentInvalid(f"alias {alias!r} is not a valid alias name")
        if not isinstance(version, int) or isinstance(version, bool):
            raise DocumentInvalid(f"alias {alias!r} points at {version!r}, not a version number")
    max_version = doc.get("maxVersion", 0)
    if not isinstance(max_version, int) or isinstance(max_version, bool):
        raise DocumentInvalid(f"maxVersion {max_version!r} is not an integer")


def check_document(collection: str, key: str, value: Any) -> None:
    """Raise DocumentInvalid if a document of ``collection`` (models, aliases...) is damaged.

    Collections without a schema here (tensors, audit, ...) accept any value.
    """
    if collection == "models":
        check_version_document(key, value)
    elif collection == "aliases":
        check_alias_document(key, value)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


# -- finding and removing damaged documents (``catalog check`` / ``catalog delete``) ------


def damaged_documents(store: Any, keyspaces: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """Yield (keyspace, key, problem) for every stored document that breaks the schema.

    ``keyspaces`` maps collection names (models, aliases) to their keyspaces.
    """
    for collection in ("models", "aliases"):
        keyspace = keyspaces[collection]
        for key, value, _ in store.scan(keyspace):
            try:
                check_document(collection, key, value)
            except DocumentInvalid as e:
                yield keyspace, key, str(e)


def remove_damaged(store: Any, keyspace: str, collection: str, key: str) -> str:
    """Remove the document at ``key`` if it is damaged; return why it was damaged.

    A healthy document is left alone (LookupError), so this cannot bypass the checks of a
    normal delete (aliases, chunk collection).
    """
    try:
        value, cas = store.get(keyspace, key)
    except NotFound:
        raise LookupError(f"no document {key!r} in {keyspace}") from None
    try:
        check_document(collection, key, value)
    except DocumentInvalid as e:
        store.remove(keyspace, key, cas=cas)
        return str(e)
    raise LookupError(f"{key!r} in {keyspace} is not damaged: delete it the normal way")
