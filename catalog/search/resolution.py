"""Which indexed fields a clause of a query string searches, checked the same for both stores.

The embedded engine and the Couchbase request builder both call ``leaf_fields``, so a short
name (``tags``), an unknown field or a range on a text field means the same on either store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from catalog.search import definition, terms
from catalog.search.definition import Field
from catalog.search.querystring import Boolean, Leaf, Match, Phrase, Range
from catalog.search.results import SearchError


def leaf_fields(leaf: Leaf) -> tuple[Field, ...]:
    """Return the fields a clause searches; raise SearchError for an unknown field or range."""
    fields = definition.resolve(leaf.field or definition.ALL_FIELD)
    if isinstance(leaf, Range):
        for f in fields:
            if not f.is_numeric or leaf.dates != (f.type == "datetime"):
                raise SearchError(_range_error(leaf, f))
    return fields


def bleve_fields(leaf: Leaf) -> tuple[str | None, ...]:
    """Return the full field names Couchbase searches for a clause (None: ``_all``)."""
    fields = leaf_fields(leaf)
    if not leaf.field or leaf.field == definition.ALL_FIELD:
        return (None,)
    # a path below a dynamic mapping (summary.metadataProps.author) is its own field in bleve
    return tuple(leaf.field if f.dynamic and leaf.field != f.name else f.name for f in fields)


def lowercases(leaf: Leaf) -> bool:
    """Return whether a wildcard of this clause is lower-cased (every field is analysed text)."""
    return all(not f.is_keyword for f in leaf_fields(leaf))


def analyses_to_nothing(leaf: Leaf) -> bool:
    """Return whether a match or phrase leaves no term after analysis (only stop words)."""
    if not isinstance(leaf, (Match, Phrase)) or (
        isinstance(leaf, Match) and leaf.number is not None
    ):
        return False
    for f in leaf_fields(leaf):
        if f.is_keyword and leaf.text:
            return False
        if not f.is_keyword and terms.match_terms(leaf.text, join=f.analyzer != "en"):
            return False
    return True


def effective(tree: Boolean) -> Boolean:
    """Return the tree without the clauses bleve drops: those that analyse to nothing.

    bleve's query-string query skips a match or phrase of stop words only (``+the iris``
    is ``iris``); when nothing is left the query matches nothing (``-the``). Fields are
    checked first, so an unknown field is refused even in a dropped clause.
    """
    for leaf in (*tree.must, *tree.should, *tree.must_not):
        leaf_fields(leaf)
    return replace(
        tree,
        must=[q for q in tree.must if not analyses_to_nothing(q)],
        should=[q for q in tree.should if not analyses_to_nothing(q)],
        must_not=[q for q in tree.must_not if not analyses_to_nothing(q)],
    )


# Number of terms a facet returns when the caller names only its field.
DEFAULT_FACET_SIZE = 10


def facet_specs(facets: Any, size: int = DEFAULT_FACET_SIZE) -> dict[str, tuple[str, int]]:
    """Return {name: (full field name, size)}; None means the catalog's default facets.

    ``{"tags": "metadata.tags"}``, ``{"tags": ("metadata.tags", 5)}``,
    ``{"tags": {"field": "metadata.tags", "size": 5}}`` (Couchbase's JSON), or a list of
    field names (each facet named after its field). Short names resolve as in queries.
    """
    if facets is None:
        facets = dict(definition.DEFAULT_FACETS)
    if not facets:
        return {}
    if isinstance(facets, str):
        facets = [facets]
    items: Iterable[tuple[str, Any]] = (
        facets.items() if isinstance(facets, Mapping) else ((f, f) for f in facets)
    )
    out: dict[str, tuple[str, int]] = {}
    for name, spec in items:
        if isinstance(spec, str):
            field, count = spec, size
        elif isinstance(spec, Mapping):
            field, count = str(spec.get("field", name)), int(spec.get("size", size))
        elif isinstance(spec, (tuple, list)) and len(spec) == 2:
            field, count = str(spec[0]), int(spec[1])
        else:
            raise SearchError(f"invalid facet {name!r}: {spec!r}")
        resolved = definition.resolve(field)
        if len(resolved) != 1 or not resolved[0].is_keyword:
            raise SearchError(
                f"facet {name!r}: field {field!r} is not a keyword field; facet on one of"
                f" {', '.join(f.name for f in definition.fields() if f.is_keyword)}"
            )
        out[str(name)] = (resolved[0].name, max(count, 0))
    return out


def _range_error(q: Range, f: Field) -> str:
    if f.type == "datetime":
        return f'{q.field} is a date: compare it with a quoted date, e.g. {q.field}:>"2026-01-01"'
    if f.is_numeric:
        return f"{q.field} is a number: compare it with a number, e.g. {q.field}:>10"
    return f"{q.field} is not a number or a date field, so it has no ranges"
