"""The documents both engines read: the demo catalog plus a few conformance fixtures.

The demo catalog is built once with the project's own demo builder into a scratch embedded
store; its JSON documents (binary ones have no place in cbq-engine's directory datastore)
and the fixtures are then written, unchanged, to a fresh embedded store (``ml.catalog.<ks>``,
queried with query_context ``ml.catalog``) and to cbq-engine's datastore (plain keyspaces
``<ks>``, queried without a query_context).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog.store import open_store

from .cbq import REPO, write_documents
from .corpus import lite_model

BUCKET_SCOPE = "ml.catalog"
CATALOG_KEYSPACES = ("models", "tensors", "aliases", "binaries", "states", "predictions", "audit")
CONFORMANCE = REPO.parent / "shared" / "n1ql-conformance" / "data"
# keyspace name in both engines -> fixture file of the conformance cases
FIXTURES = {
    "orders": "window/orders.json",
    "customer": "subqexp/customer.json",
    "shellTest": "withs/shellTest.json",
    "purchase": "recursive_withs/purchase.json",
    "empSmall": "recursive_withs/orders._default.empSmall.json",
    "cycleTest": "recursive_withs/shellTest._default.cycleTest.json",
}


def _demo_builder() -> tuple[Any, Any]:
    """Return (Registry, publish_demo) from wherever the project keeps them."""
    try:
        from catalog.cli.demo import publish_demo
    except ImportError:
        from catalog.demo import publish_demo
    try:
        from catalog.domain.registry import Registry
    except ImportError:
        from catalog.registry import Registry
    return Registry, publish_demo


def demo_documents(scratch: Path) -> dict[str, dict[str, Any]]:
    """Build the demo catalog; return {keyspace: {key: JSON document}} (catalog keyspaces)."""
    registry, publish_demo = _demo_builder()
    store = open_store(f"embedded://{scratch / 'demo.sqlite3'}")
    try:
        publish_demo(registry(store))
        out: dict[str, dict[str, Any]] = {ks: {} for ks in CATALOG_KEYSPACES}
        for ks in CATALOG_KEYSPACES:
            full = f"{BUCKET_SCOPE}.{ks}"
            if full in store.keyspaces():
                out[ks] = {
                    k: v for k, v, _ in store.scan(full) if not isinstance(v, (bytes, bytearray))
                }
        out["models_lite"] = {k: lite_model(v) for k, v in out["models"].items()}
        return out
    finally:
        store.close()


def fixture_documents() -> dict[str, dict[str, Any]]:
    """Return the conformance fixtures used by the corpus ({} when they are absent)."""
    out: dict[str, dict[str, Any]] = {}
    for ks, rel in FIXTURES.items():
        path = CONFORMANCE / rel
        if path.is_file():
            out[ks] = json.loads(path.read_text())
    return out


def load_embedded(path: Path, keyspaces: dict[str, dict[str, Any]]) -> Any:
    """Write the documents into a fresh embedded store; return the store."""
    store = open_store(f"embedded://{path}")
    for ks, docs in keyspaces.items():
        full = f"{BUCKET_SCOPE}.{ks}"
        store.ensure_keyspace(full)
        if docs:
            store.upsert_many(full, docs)
    return store


__all__ = ["BUCKET_SCOPE", "demo_documents", "fixture_documents", "load_embedded",
           "write_documents"]  # fmt: skip
