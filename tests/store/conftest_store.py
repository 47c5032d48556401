"""Store fixtures shared by the contract tests: every backend, one fresh keyspace per test.

The embedded store always runs (a SQLite file in a temp dir). The Couchbase store runs
too when ``COUCHBASE_CONNSTR`` is set, e.g.
``COUCHBASE_CONNSTR='couchbase://localhost?username=Administrator&password=password&bucket=ml'``:
each test then gets a new collection in scope ``contract`` of that bucket, dropped after.
Nothing pretends: without the variable the Couchbase cases are not collected at all, and
``-rs`` shows the skip reason of the module-level marker test in test_store_couchbase.py.

Wire it in tests/conftest.py with ``from tests.store.conftest_store import *  # noqa: F403``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from catalog.store import open_store

COUCHBASE_CONNSTR = os.environ.get("COUCHBASE_CONNSTR", "")
# Scope the contract tests create their collections in (never the catalog's own scope).
CONTRACT_SCOPE = "contract"

BACKENDS = ["embedded"] + (["couchbase"] if COUCHBASE_CONNSTR else [])


@dataclass
class StoreCase:
    """A store under test and a fresh, empty keyspace in it."""

    backend: str
    store: Any
    keyspace: str  # bucket.scope.collection
    bucket: str
    scope: str
    collection: str

    @property
    def query_context(self) -> str:
        return f"{self.bucket}.{self.scope}"

    def prepare_query(self) -> None:
        """Make the keyspace queryable: a primary index on Couchbase, nothing embedded."""
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
def couchbase_store() -> Iterator[Any]:
    """Return one connected CouchbaseStore for the session (only when COUCHBASE_CONNSTR)."""
    if not COUCHBASE_CONNSTR:
        pytest.skip("COUCHBASE_CONNSTR is not set: no live Couchbase Server")
    store = open_store(COUCHBASE_CONNSTR)
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
