"""The differential fixture: the same documents in the embedded store and in cbq-engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.required import missing

from .cbq import CbqEngine, engine_path, missing_reason, write_documents
from .documents import demo_documents, fixture_documents, load_embedded


@dataclass
class Reference:
    """Both engines over the same documents."""

    store: Any
    cbq: CbqEngine
    keyspaces: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Reference:
    """Start cbq-engine and fill both stores; skip (never pass) when cbq-engine is absent."""
    binary = engine_path()
    if binary is None:
        missing(missing_reason())
    root = tmp_path_factory.mktemp("sqlpp-reference")
    keyspaces = demo_documents(root) | fixture_documents()
    data = root / "cbq-data"
    write_documents(data, keyspaces)
    store = load_embedded(root / "embedded.sqlite3", keyspaces)
    cbq = CbqEngine(binary, data)
    try:
        yield Reference(store, cbq, keyspaces)
    finally:
        cbq.stop()
        store.close()
