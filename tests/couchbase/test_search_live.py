"""Full-text search through the store, on the embedded store and on a Couchbase cluster.

gocaves serves no search (its search listener answers HTTP 501): there the Couchbase case
skips with that reason. It runs on a live Couchbase Server (.github/workflows/couchbase.yml)
and has never run against one yet (docs/couchbase.md).
"""

from __future__ import annotations

import pytest

from catalog.search import search_models
from tests.couchbase.test_serving import publish_iris

pytestmark = [pytest.mark.couchbase, pytest.mark.django_db]


def test_a_published_description_is_found_with_a_highlight(backend, reg):
    backend.require("search", "query")  # latest-only search lists the newest keys with SQL++
    publish_iris(reg, description="a flower classifier on the sepal and petal sizes")
    publish_iris(reg, "wine", description="grapes and their chemistry")
    result = search_models(reg.store, "flower", bucket=backend.bucket, scope=backend.scope)
    assert [hit.id for hit in result.hits] == ["iris::1"]
    assert any("<mark>flower</mark>" in f for frags in result.hits[0].fragments.values()
               for f in frags)  # fmt: skip
