"""Store fixtures shared by the contract tests: every backend, one fresh keyspace per test.

The embedded store always runs (a SQLite file in a temp dir). The Couchbase store runs
against ``COUCHBASE_CONNSTR`` when it is set (a live cluster, e.g.
``couchbase://localhost?username=Administrator&password=password&bucket=ml``), else
against a gocaves mock cluster the session starts itself (tests/couchbase/caves.py; the
Couchbase cases skip with the reason when gocaves is not installed). Each test gets a
new collection in scope ``contract`` of the bucket, dropped after.

The cluster is probed once for what it serves: a test needing a service it lacks (KV range
scan and its SQL++ fallback, a query service over the cluster's own data) skips with that
reason, e.g. "gocaves serves no KV range scan ...", and is never counted as passed.

Wire it in a test module with ``from tests.store.conftest_store import ...`` (fixtures).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from catalog.store import StoreUnavailable, open_store
from tests.couchbase import caves

COUCHBASE_CONNSTR = os.environ.get("COUCHBASE_CONNSTR", "")
# Scope the contract tests create their collections in (never the catalog's own scope).
CONTRACT_SCOPE = "contract"

BACKENDS = ["embedded", "couchbase"]
# The KV and connect time limits given to gocaves (seconds); the store's defaults are 10
# and 30, which a mock on a machine shared by many busy processes can miss.
GOCAVES_TIMEOUT_S = 90


@dataclass
class CouchbaseCluster:
    """A cluster the tests run on, and what it was found to serve."""

    name: str  # "gocaves" or "the Couchbase cluster at URL"
    url: str
    lacks: dict[str, str] = field(default_factory=dict)  # service -> why it is missing
    caves: Any = None  # the caves.Caves we started, if any

    def require(self, *services: str) -> None:
        """Skip the test when the cluster lacks one of ``services``."""
        for service in services:
            if service in self.lacks:
                pytest.skip(f"{self.name} serves no {self.lacks[service]}")


def probe(store: Any, name: str) -> dict[str, str]:
    """Return {service: what is missing} for the services ``store``'s cluster lacks."""
    lacks: dict[str, str] = {}
    store.cluster()  # a cluster that cannot be reached is an error, not a missing service
    try:
        store.query("SELECT RAW 1")
    except StoreUnavailable as e:
        lacks["query"] = f"query service (SQL++): {e}"
    keyspace = f"{store.bucket_name}.{CONTRACT_SCOPE}.probe"
    store.ensure_keyspace(keyspace)
    try:
        list(store.scan(keyspace))
    except StoreUnavailable as e:
        lacks["scan"] = f"KV range scan, and no SQL++ to list keys with: {e}"
    if name == "gocaves":
        # Even when it advertises cbq-engine, the query service does not see the mock's KV data.
        lacks.setdefault("query", "query service over its own KV data")
        lacks.setdefault("scan", "KV range scan, and no query service over its KV data")
        lacks["search"] = "search service (its search listener answers HTTP 501)"
    return lacks


@dataclass
class StoreCase:
    """A store under test and a fresh, empty keyspace in it."""

    backend: str
    store: Any
    keyspace: str  # bucket.scope.collection
    bucket: str
    scope: str
    collection: str
    cluster: CouchbaseCluster | None = None

    @property
    def query_context(self) -> str:
        return f"{self.bucket}.{self.scope}"

    def require(self, *services: str) -> None:
        """Skip when the backend's cluster lacks one of ``services`` (scan, query, search)."""
        if self.cluster is not None:
            self.cluster.require(*services)

    def prepare_query(self) -> None:
        """Make the keyspace queryable: a primary index on Couchbase, nothing embedded."""
        self.require("query")
        if self.backend == "couchbase":
            self.store.query(
                f"CREATE PRIMARY INDEX IF NOT EXISTS ON "
                f"`{self.bucket}`.`{self.scope}`.`{self.collection}`"
            )
        else:
            from catalog import sqlpp

            if not hasattr(sqlpp, "execute"):
                pytest.skip("the embedded SQL++ engine (catalog.sqlpp.execute) is not there yet")


@pytest.fixture(scope="session")
def couchbase_cluster() -> Iterator[CouchbaseCluster]:
    """Return the session's cluster: COUCHBASE_CONNSTR, else a gocaves started here."""
    started = None
    if COUCHBASE_CONNSTR:
        url, name = COUCHBASE_CONNSTR, "the Couchbase cluster at COUCHBASE_CONNSTR"
    else:
        started = caves.start_gocaves("ml")
        # gocaves takes seconds per large value (a 9 MB get ~3 s on a busy 2-core machine):
        # long time limits keep the mock's slowness from failing the 20 MB tests.
        url = started.url(kv_timeout=GOCAVES_TIMEOUT_S, connect_timeout=GOCAVES_TIMEOUT_S)
        name = "gocaves"
    store = open_store(url)
    if started is not None:
        caves.connect(store)
    try:
        yield CouchbaseCluster(name, url, probe(store, name), started)
    finally:
        store.close()
        if started is not None:
            started.stop()


@pytest.fixture(scope="session")
def couchbase_store(couchbase_cluster: CouchbaseCluster) -> Iterator[Any]:
    """Return one connected CouchbaseStore for the session."""
    store = open_store(couchbase_cluster.url)
    if couchbase_cluster.caves is not None:
        caves.connect(store)  # a busy machine may time out the mock's first connection
    yield store
    store.close()


def _drop_collection(store: Any, bucket: str, scope: str, collection: str) -> None:
    # Teardown: a leftover collection is not a test failure.
    with contextlib.suppress(Exception):
        store.cluster().bucket(bucket).collections().drop_collection(scope, collection)


@pytest.fixture(params=BACKENDS)
def store_case(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[StoreCase]:
    """Return a StoreCase for each backend, with a fresh keyspace."""
    collection = f"c_{uuid.uuid4().hex[:12]}"
    if request.param == "embedded":
        store = open_store(f"embedded://{tmp_path / 'contract.sqlite3'}")
        case = StoreCase(
            "embedded", store, f"ml.{CONTRACT_SCOPE}.{collection}", "ml", CONTRACT_SCOPE, collection
        )
        store.ensure_keyspace(case.keyspace)
        yield case
        store.close()
        return
    store = request.getfixturevalue("couchbase_store")
    bucket = store.bucket_name
    case = StoreCase(
        "couchbase",
        store,
        f"{bucket}.{CONTRACT_SCOPE}.{collection}",
        bucket,
        CONTRACT_SCOPE,
        collection,
        request.getfixturevalue("couchbase_cluster"),
    )
    store.ensure_keyspace(case.keyspace)
    yield case
    _drop_collection(store, bucket, CONTRACT_SCOPE, collection)


@pytest.fixture
def store(store_case: StoreCase) -> Any:
    """Return the store of the current backend (see store_case)."""
    return store_case.store


@pytest.fixture
def keyspace(store_case: StoreCase) -> str:
    """Return the fresh keyspace of the current backend (see store_case)."""
    return store_case.keyspace
