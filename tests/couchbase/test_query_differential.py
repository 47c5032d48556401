"""The same SQL++ statements over the same catalog on the embedded store and on Couchbase.

Needs a cluster whose query service sees its own KV documents: a live Couchbase Server
(.github/workflows/couchbase.yml). gocaves serves no SQL++ and cbq-engine reads files, so
here the test skips with that reason; it has never run against a live cluster yet.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.couchbase.conftest import Registry, init_catalog
from tests.couchbase.test_serving import publish_iris
from tests.models import iris_svc, matmul_model

pytestmark = pytest.mark.couchbase

# (statement, params, ordered): the docs' console examples and the catalog's own reads.
STATEMENTS: list[tuple[str, Any, bool]] = [
    (
        "SELECT m.name, m.version FROM models m"
        " WHERE ANY n IN m.onnx.graph.node SATISFIES n.opType = 'SVMClassifier' END",
        None,
        False,
    ),
    (
        "SELECT m.name, m.version FROM models m"
        " WHERE ANY t IN m.summary.opTypes SATISFIES t = $op END",
        {"op": "LinearClassifier"},
        False,
    ),
    (
        "SELECT m.version, m.summary.paramCount FROM models m WHERE m.name = $1"
        " ORDER BY m.version DESC",
        ["iris"],
        True,
    ),
    (
        "SELECT m.name, m.version, i.name AS initializer FROM models m"
        " UNNEST m.summary.initializers i WHERE i.stats.zeroFraction = 1",
        None,
        False,
    ),
    (
        "SELECT m.name, COUNT(*) AS n, MAX(m.version) AS newest FROM models m"
        " GROUP BY m.name ORDER BY m.name",
        None,
        True,
    ),
    (
        "SELECT RAW m.version FROM models m WHERE m.name = $name ORDER BY m.version",
        {"name": "iris"},
        True,
    ),
    (
        "SELECT a.name, a.aliases FROM aliases a ORDER BY a.name",
        None,
        True,
    ),
]


def _publish_catalog(reg: Registry) -> None:
    publish_iris(reg)
    publish_iris(reg, estimator=iris_svc())
    publish_iris(reg, "iris-bin", format="binary")
    reg.publish("zeros", matmul_model(8, 4, seed=0, name="W"), validate=False)
    reg.set_alias("iris", "production", 1)


@pytest.fixture
def both(tmp_path, couchbase_cluster, couchbase_store) -> tuple[Registry, Registry]:
    """Return registries on an embedded store and on Couchbase holding the same catalog."""
    couchbase_cluster.require("query")
    from catalog.store import open_store

    embedded = Registry(open_store(f"embedded://{tmp_path / 'diff.sqlite3'}"))
    scope = f"d_{uuid.uuid4().hex[:10]}"
    live = Registry(couchbase_store, couchbase_store.bucket_name, scope)
    for reg in (embedded, live):
        list(init_catalog(reg))
        _publish_catalog(reg)
    yield embedded, live
    embedded.store.close()
    couchbase_store.cluster().bucket(live.ks.bucket).collections().drop_scope(scope)


@pytest.mark.parametrize(("statement", "params", "ordered"), STATEMENTS)
def test_both_stores_give_the_same_rows(both, statement, params, ordered):
    rows = [reg.store.query(statement, params, query_context=reg.ks.query_context) for reg in both]
    if not ordered:
        rows = [sorted(r, key=repr) for r in rows]
    assert rows[0] == rows[1]
