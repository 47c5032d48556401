"""Which indexed fields a clause of a query string searches, checked the same for both stores.

The embedded engine and the Couchbase request builder both call ``leaf_fields``, so a short
name (``tags``), an unknown field or a range on a text field means the same on either store.
"""

from __future__ import annotations

from catalog.search import definition
from catalog.search.definition import Field
from catalog.search.querystring import Leaf, Range
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


def _range_error(q: Range, f: Field) -> str:
    if f.type == "datetime":
        return f'{q.field} is a date: compare it with a quoted date, e.g. {q.field}:>"2026-01-01"'
    if f.is_numeric:
        return f"{q.field} is a number: compare it with a number, e.g. {q.field}:>10"
    return f"{q.field} is not a number or a date field, so it has no ranges"
