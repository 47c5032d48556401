"""Fixtures of the Couchbase tests: a catalog on each backend, the app pointed at it.

``backend`` runs a test once on the embedded store and once on Couchbase: the cluster of
``COUCHBASE_CONNSTR`` when set, else a gocaves mock cluster started for the session
(tests/couchbase/caves.py). On Couchbase every test gets its own scope, created by
``catalog init`` through the SDK's collection manager, and the app's settings point
CATALOG_STORE / CATALOG_SCOPE at it, so pages and APIs run on that store.

The domain (registry, setup, learning) is imported here and nowhere else in this folder,
so a move of those modules is fixed in one place; tests receive them through fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from django.test import override_settings

from catalog.domain.registry import Registry, get_registry
from catalog.domain.setup import init_catalog
from catalog.store import open_store
from inference import learning as learning_module
from tests.couchbase import caves
from tests.store.conftest_store import (  # noqa: F401  (session fixtures)
    CouchbaseCluster,
    couchbase_cluster,
    couchbase_store,
)


@dataclass
class Backend:
    """A catalog on one backend: where it is, and the app's settings pointing at it."""

    name: str  # "embedded" or "couchbase"
    url: str
    bucket: str
    scope: str
    cluster: CouchbaseCluster | None
    init_log: list[str]

    def registry(self, store: Any = None) -> Registry:
        """Return a Registry on this catalog (on ``store``, else the app's own store)."""
        if store is None:
            return get_registry()
        return Registry(store, self.bucket, self.scope)

    def open_store(self) -> Any:
        """Return a new connection to this catalog's store (close it after use)."""
        store = open_store(self.url)
        if self.cluster is not None and self.cluster.caves is not None:
            caves.connect(store)  # a busy machine may time out a mock's first bucket open
        return store

    def require(self, *services: str) -> None:
        """Skip when the backend's cluster lacks one of ``services`` (scan, query, search)."""
        if self.cluster is not None:
            self.cluster.require(*services)


@pytest.fixture(params=["embedded", "couchbase"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Backend]:
    """Return a fresh, initialised catalog on each backend, with the app pointed at it."""
    if request.param == "embedded":
        url, bucket, scope, cluster = (
            f"embedded://{tmp_path / 'app.sqlite3'}",
            "ml",
            "catalog",
            None,
        )
    else:
        cluster = request.getfixturevalue("couchbase_cluster")
        store = request.getfixturevalue("couchbase_store")
        url, bucket, scope = cluster.url, store.bucket_name, f"t_{uuid.uuid4().hex[:12]}"
    with override_settings(CATALOG_STORE=url, CATALOG_BUCKET=bucket, CATALOG_SCOPE=scope):
        if cluster is not None and cluster.caves is not None:
            # the app's own store connects here first: a busy machine may time out a mock's
            # first bucket open, as for Backend.open_store (seen once in a fresh-clone run)
            caves.connect(get_registry().store)
        log = list(init_catalog(get_registry()))
        yield Backend(request.param, url, bucket, scope, cluster, log)
    if cluster is not None:
        _drop_scope(request.getfixturevalue("couchbase_store"), bucket, scope)


def _drop_scope(store: Any, bucket: str, scope: str) -> None:
    try:
        store.cluster().bucket(bucket).collections().drop_scope(scope)
    except Exception as e:  # teardown: a leftover scope is not a test failure
        print(f"could not drop scope {bucket}.{scope}: {e}")


@pytest.fixture
def reg(backend: Backend) -> Registry:
    """Return the app's registry on the backend's catalog."""
    return backend.registry()


@pytest.fixture
def learning() -> ModuleType:
    """Return the online-learning module (start_learning, learn)."""
    return learning_module
