"""Fixtures of the differential search suite: bleve-oracle and the embedded store, same docs.

Skipped, with the reason, when bleve-oracle is not on this machine (see ``oracle.py``).
The demo catalog comes from the suite's shared ``demo_catalog_file`` (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.store import open_store
from tests.required import missing
from tests.search_reference import compare, corpus
from tests.search_reference.oracle import Oracle, missing_reason, oracle_path


@pytest.fixture(scope="session")
def oracle_binary() -> Path:
    """Return the bleve-oracle binary, or skip the suite saying where it was looked for."""
    path = oracle_path()
    if path is None:
        missing(missing_reason())
    return path


@pytest.fixture(scope="session")
def reference_documents(oracle_binary, demo_catalog_file) -> list[tuple[str, Any]]:
    """Return the documents both engines index: the demo catalog and generated versions."""
    return corpus.store_documents(demo_catalog_file) + corpus.generated_documents()


class Reference:
    """The embedded store and bleve-oracle over the same documents."""

    def __init__(self, store: Any, oracle: Oracle):
        self.store, self.oracle = store, oracle

    def both(self, q: str) -> tuple[compare.Answer, compare.Answer]:
        """Return (embedded answer, bleve answer) of a query string."""
        return compare.embedded(self.store, q), compare.bleve(self.oracle, q)


@pytest.fixture(scope="session")
def reference(oracle_binary, reference_documents, tmp_path_factory) -> Iterator[Reference]:
    """Return both engines, each holding ``reference_documents``."""
    path = tmp_path_factory.mktemp("search-reference") / "embedded.sqlite3"
    store = open_store(f"embedded://{path}")
    store.ensure_keyspace(corpus.MODELS_KEYSPACE)
    with store.batch():
        for key, doc in reference_documents:
            store.upsert(corpus.MODELS_KEYSPACE, key, doc)
    oracle = Oracle(oracle_binary, reference_documents)
    try:
        yield Reference(store, oracle)
    finally:
        oracle.close()
        store.close()
