"""The one FTS index definition (``index.json``, Couchbase's format) and what it indexes.

Couchbase upserts ``load_definition(bucket, scope)`` with its search index manager; the
embedded store reads ``fields()`` from the same file, so both index the same paths with
the same analyzers and cannot drift apart.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.search.results import SearchError

DEFINITION_PATH = Path(__file__).with_name("index.json")
# The collection the index covers, in every bucket.scope.
COLLECTION = "models"
# The index's own name; Couchbase calls a scope-level index "<bucket>.<scope>.<name>".
INDEX_NAME = "models-fts"
# Analyzers the embedded store can reproduce (see the README's search section for how closely).
ANALYZERS = ("standard", "en", "keyword")
# The composite field plain terms search.
ALL_FIELD = "_all"

# Short names people type, for the long paths Couchbase indexes (a name may cover several).
ALIASES: dict[str, tuple[str, ...]] = {
    "description": ("metadata.description",),
    "tags": ("metadata.tags",),
    "tag": ("metadata.tags",),
    "framework": ("metadata.framework",),
    "task": ("metadata.task",),
    "opTypes": ("summary.opTypes",),
    "op": ("summary.opTypes",),
    "producer": ("summary.producer.name",),
    "node": ("onnx.graph.node.name",),
    "initializer": ("summary.initializers.name",),
    "input": ("summary.inputs.name",),
    "output": ("summary.outputs.name",),
    "doc": ("onnx.docString", "onnx.graph.docString", "onnx.graph.node.docString"),
    "metadataProps": ("summary.metadataProps",),
    "paramCount": ("summary.paramCount",),
    "sizeBytes": ("summary.sizeBytes",),
    "nodeCount": ("summary.nodeCount",),
    "irVersion": ("summary.irVersion",),
}

# The facets a search returns unless told otherwise: facet name -> field.
DEFAULT_FACETS: dict[str, str] = {
    "tags": "metadata.tags",
    "framework": "metadata.framework",
    "task": "metadata.task",
    "opTypes": "summary.opTypes",
}


@dataclass(frozen=True)
class Field:
    """One indexed field: its name in queries, where its values come from, how it is analysed."""

    name: str
    path: tuple[str, ...]
    type: str  # "text", "number", "datetime"
    analyzer: str = "standard"  # for text fields
    store: bool = False
    include_in_all: bool = False
    term_vectors: bool = False
    docvalues: bool = False
    dynamic: bool = False  # every string under ``path`` (a dynamic child mapping)

    @property
    def is_keyword(self) -> bool:
        """Return whether values are indexed whole (exact terms, facets)."""
        return self.type == "text" and self.analyzer == "keyword"

    @property
    def is_numeric(self) -> bool:
        """Return whether the field holds numbers or dates."""
        return self.type in ("number", "datetime")


@functools.cache
def _raw() -> dict[str, Any]:
    return json.loads(DEFINITION_PATH.read_text())


def load_definition(bucket: str, scope: str) -> dict[str, Any]:
    """Return the index definition for ``bucket.scope`` (a fresh copy, safe to change)."""
    definition = copy.deepcopy(_raw())
    definition["sourceName"] = bucket
    mapping = definition["params"]["mapping"]
    (type_mapping,) = mapping["types"].values()
    mapping["types"] = {f"{scope}.{COLLECTION}": type_mapping}
    return definition


def index_name(bucket: str, scope: str) -> str:
    """Return the full name of the catalog's index in ``bucket.scope``."""
    return f"{bucket}.{scope}.{INDEX_NAME}"


def parse_index_name(index: str) -> str:
    """Return the ``bucket.scope`` a full index name searches; raise SearchError if unknown."""
    parts = index.split(".") if isinstance(index, str) else []
    if len(parts) != 3 or parts[2] != INDEX_NAME or not parts[0] or not parts[1]:
        raise SearchError(
            f"unknown search index {index!r}: expected '<bucket>.<scope>.{INDEX_NAME}'"
        )
    return f"{parts[0]}.{parts[1]}"


def _walk(mapping: dict[str, Any], path: tuple[str, ...], default_analyzer: str) -> Iterator[Field]:
    analyzer = mapping.get("default_analyzer", default_analyzer)
    if mapping.get("dynamic") and not mapping.get("properties") and not mapping.get("fields"):
        yield Field(
            name=".".join(path),
            path=path,
            type="text",
            analyzer=analyzer,
            store=True,
            include_in_all=True,
            term_vectors=True,
            dynamic=True,
        )
        return
    for prop, child in mapping.get("properties", {}).items():
        if child.get("enabled", True):
            yield from _walk(child, (*path, prop), analyzer)
    for spec in mapping.get("fields", []):
        if not spec.get("index", True):
            continue
        kind = spec.get("type", "text")
        name = ".".join((*path[:-1], spec.get("name") or path[-1]))
        field_analyzer = spec.get("analyzer") or analyzer
        if kind == "text" and field_analyzer not in ANALYZERS:
            raise ValueError(f"field {name}: analyzer {field_analyzer!r} is not supported")
        if kind not in ("text", "number", "datetime"):
            raise ValueError(f"field {name}: type {kind!r} is not supported")
        yield Field(
            name=name,
            path=path,
            type=kind,
            analyzer=field_analyzer,
            store=bool(spec.get("store")),
            include_in_all=bool(spec.get("include_in_all")),
            term_vectors=bool(spec.get("include_term_vectors")),
            docvalues=bool(spec.get("docvalues")),
        )


@functools.cache
def fields() -> tuple[Field, ...]:
    """Return every field the index defines, in definition order."""
    mapping = _raw()["params"]["mapping"]
    (type_mapping,) = mapping["types"].values()
    return tuple(_walk(type_mapping, (), mapping.get("default_analyzer", "standard")))


@functools.cache
def field_map() -> dict[str, Field]:
    """Return {field name: Field}."""
    return {f.name: f for f in fields()}


def resolve(name: str) -> tuple[Field, ...]:
    """Return the fields a field name in a query stands for; raise SearchError if none."""
    known = field_map()
    if name == ALL_FIELD:
        return tuple(f for f in fields() if f.include_in_all)
    if name in known:
        return (known[name],)
    if name in ALIASES:
        return tuple(known[n] for n in ALIASES[name])
    for f in fields():  # a path below a dynamic mapping, e.g. summary.metadataProps.author
        if f.dynamic and name.startswith(f.name + "."):
            return (f,)
    raise SearchError(
        f"unknown field {name!r}; search one of: {', '.join(sorted({*ALIASES, *known}))}"
    )


def values(doc: Any, path: tuple[str, ...]) -> list[Any]:
    """Return the leaf values at ``path`` of a document, looking through arrays as FTS does."""
    found: list[Any] = []

    def walk(node: Any, depth: int) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, depth)
        elif depth == len(path):
            if isinstance(node, dict):
                for item in node.values():
                    walk(item, depth)
            elif node is not None:
                found.append(node)
        elif isinstance(node, dict) and path[depth] in node:
            walk(node[path[depth]], depth + 1)

    walk(doc, 0)
    return found


# JSON scalars (None aside): what a path ending at them finds is the value itself.
_SCALARS = frozenset((str, int, float, bool))
# A node of the paths of every field, merged: (slots of the paths ending here, children).
_PathNode = tuple[tuple[int, ...], dict[str, "_PathNode"]]


@functools.cache
def _path_trie() -> tuple[_PathNode, tuple[int, ...], int]:
    """Return (the merged paths of ``fields()``, each field's slot, the number of slots).

    Fields on the same path (``tags`` and ``tags_text``) share a slot: their values are
    gathered once.
    """
    slot_of: dict[tuple[str, ...], int] = {}
    for f in fields():
        slot_of.setdefault(f.path, len(slot_of))

    def build(prefix: tuple[str, ...]) -> _PathNode:
        depth = len(prefix)
        names = dict.fromkeys(p[depth] for p in slot_of if len(p) > depth and p[:depth] == prefix)
        slots = (slot_of[prefix],) if prefix in slot_of else ()
        return slots, {n: build((*prefix, n)) for n in names}

    return build(()), tuple(slot_of[f.path] for f in fields()), len(slot_of)


def field_values(doc: Any) -> list[list[Any]]:
    """Return ``values(doc, f.path)`` of every field of ``fields()``, in the same order, with
    one walk of the document for all of them (a publish indexes 30 fields, many under the
    same few objects: one walk per field cost 4x as much). Fields on one path share a list.
    """
    root, field_slots, count = _path_trie()
    found: list[list[Any]] = [[] for _ in range(count)]

    def leaves(node: Any, out: list[Any]) -> None:
        if isinstance(node, list):
            for item in node:
                leaves(item, out)
        elif isinstance(node, dict):
            for item in node.values():
                leaves(item, out)
        elif node is not None:
            out.append(node)

    def walk(node: Any, at: _PathNode) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, at)
            return
        slots, children = at
        for slot in slots:
            leaves(node, found[slot])
        if children and isinstance(node, dict):
            for name, child in children.items():
                if name in node:
                    value = node[name]
                    if not child[1] and type(value) in _SCALARS:  # a leaf: one value
                        for slot in child[0]:
                            found[slot].append(value)
                    else:
                        walk(value, child)

    walk(doc, root)
    return [found[slot] for slot in field_slots]
