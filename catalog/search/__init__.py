"""Full-text search over the catalog's model versions.

One index definition (``index.json``, Couchbase's format) serves both stores: Couchbase
upserts it with its search index manager, the embedded store derives SQLite FTS5 tables
from it (``catalog.search.embedded``). Queries use Couchbase's query-string syntax
(``catalog.search.querystring``) on either store.
"""

from __future__ import annotations

from typing import Any

from catalog.search.definition import DEFAULT_FACETS, index_name, load_definition

__all__ = ["DEFAULT_FACETS", "index_name", "load_definition", "search_models"]


def search_models(
    store: Any, query: str, *, bucket: str = "ml", scope: str = "catalog", **options: Any
) -> Any:
    """Return the SearchResult of a query string over the model versions of ``bucket.scope``.

    Options as ``catalog.search.engine.run``: limit, offset, facets, facet_size, highlight,
    all_versions, filters, fields.
    """
    return store.search(index_name(bucket, scope), query, **options)
