"""What a search returns, and the errors it raises (shared by both stores' backends).

The store protocol (``catalog.store.base``) re-exports these names: the search package
never imports the store, the store may import the search package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SearchError(Exception):
    """A search request was malformed or failed (answered as 400 by the web)."""


class SearchLimitExceeded(SearchError):
    """A search went over its time limit or its budget of expanded terms."""


@dataclass
class SearchHit:
    """One search result."""

    id: str
    score: float
    fields: dict[str, Any] = field(default_factory=dict)
    fragments: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FacetResult:
    """Counts for one facet: ``terms`` is a list of (term, count), most frequent first."""

    name: str
    field: str
    total: int
    missing: int
    other: int
    terms: list[tuple[str, int]]


@dataclass
class SearchResult:
    """Hits of one page, the total number of matches, facets and timing."""

    hits: list[SearchHit]
    total: int
    facets: dict[str, FacetResult] = field(default_factory=dict)
    took_ms: float = 0.0
