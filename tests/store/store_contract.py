"""The store contract: what every DocumentStore backend must do, the same way.

Import these tests into a test module together with the fixtures of
tests/store/conftest_store.py; each runs once per backend (embedded always, Couchbase when
COUCHBASE_CONNSTR is set).
"""

from __future__ import annotations

import time

import pytest

from catalog.store import (
    Conflict,
    InvalidArgument,
    NotFound,
    QueryError,
    ValueTooLarge,
)
from catalog.store.base import MAX_VALUE_BYTES
from tests.store.conftest_store import StoreCase

DOC = {"name": "iris-svc", "version": 3, "tags": ["svm", "iris"], "note": "héllo ✓", "x": None}


def test_it_inserts_and_gets_a_document(store, keyspace):
    cas = store.insert(keyspace, "m::1", DOC)
    value, got_cas = store.get(keyspace, "m::1")
    assert value == DOC
    assert got_cas == cas and isinstance(cas, int) and cas > 0


def test_it_refuses_to_insert_an_existing_key(store, keyspace):
    store.insert(keyspace, "k", {"a": 1})
    with pytest.raises(Conflict):
        store.insert(keyspace, "k", {"a": 2})
    assert store.get(keyspace, "k")[0] == {"a": 1}


def test_it_raises_not_found_for_a_missing_key(store, keyspace):
    with pytest.raises(NotFound):
        store.get(keyspace, "nope")
    assert store.exists(keyspace, "nope") is False


def test_it_replaces_with_the_current_cas_and_refuses_a_stale_one(store, keyspace):
    first = store.insert(keyspace, "k", {"v": 1})
    second = store.replace(keyspace, "k", {"v": 2}, cas=first)
    assert second != first
    with pytest.raises(Conflict):
        store.replace(keyspace, "k", {"v": 3}, cas=first)
    assert store.get(keyspace, "k") == ({"v": 2}, second)
    assert store.replace(keyspace, "k", {"v": 4}) != second  # no CAS: unconditional


def test_it_raises_not_found_when_replacing_a_missing_key(store, keyspace):
    with pytest.raises(NotFound):
        store.replace(keyspace, "missing", {"v": 1})


def test_it_upserts_new_and_existing_documents(store, keyspace):
    a = store.upsert(keyspace, "k", {"v": 1})
    b = store.upsert(keyspace, "k", {"v": 2})
    assert a != b
    assert store.get(keyspace, "k") == ({"v": 2}, b)


def test_it_removes_with_cas_checks(store, keyspace):
    cas = store.insert(keyspace, "k", {"v": 1})
    store.replace(keyspace, "k", {"v": 2})
    with pytest.raises(Conflict):
        store.remove(keyspace, "k", cas=cas)
    store.remove(keyspace, "k")
    with pytest.raises(NotFound):
        store.get(keyspace, "k")
    with pytest.raises(NotFound):
        store.remove(keyspace, "k")


def test_binary_values_round_trip(store, keyspace):
    blob = bytes(range(256)) * 64 + b"\x00"
    store.upsert(keyspace, "bin", blob)
    value, _ = store.get(keyspace, "bin")
    assert isinstance(value, bytes) and value == blob
    store.upsert(keyspace, "bin", {"now": "json"})  # the same key may change format
    assert store.get(keyspace, "bin")[0] == {"now": "json"}
    store.insert(keyspace, "empty", b"")
    assert store.get(keyspace, "empty")[0] == b""


def test_get_many_returns_only_existing_keys(store, keyspace):
    store.upsert(keyspace, "a", {"n": 1})
    store.upsert(keyspace, "b", b"\x01\x02")
    found = store.get_many(keyspace, ["a", "b", "zz"])
    assert set(found) == {"a", "b"}
    assert found["a"][0] == {"n": 1} and found["b"][0] == b"\x01\x02"


def test_upsert_many_writes_json_and_binary_documents(store, keyspace):
    items = {f"t::{i:03d}": {"i": i} for i in range(30)}
    items["t::bin"] = b"chunk"
    store.upsert_many(keyspace, items)
    found = store.get_many(keyspace, list(items))
    assert {k: v for k, (v, _) in found.items()} == items
    assert all(isinstance(cas, int) and cas > 0 for _, cas in found.values())


def test_scan_lists_every_document_in_key_order(store_case: StoreCase):
    store, keyspace = store_case.store, store_case.keyspace
    store_case.require("scan")
    items = {f"t::{i:03d}": {"i": i} for i in range(30)}
    items["t::bin"] = b"chunk"
    items["u::1"] = {"other": True}
    store.upsert_many(keyspace, items)
    rows = list(store.scan(keyspace))
    assert [k for k, _, _ in rows] == sorted(items)
    assert {k: v for k, v, _ in rows} == items
    assert all(isinstance(cas, int) and cas > 0 for _, _, cas in rows)
    assert [k for k, _, _ in store.scan(keyspace, prefix="t::00")] == [
        f"t::00{i}" for i in range(10)
    ]


def test_remove_many_ignores_missing_keys(store, keyspace):
    store.upsert_many(keyspace, {"a": {}, "b": {}, "c": {}})
    store.remove_many(keyspace, ["a", "c", "missing"])
    assert set(store.get_many(keyspace, ["a", "b", "c", "missing"])) == {"b"}


def test_ensure_keyspace_is_idempotent_and_listed(store, keyspace):
    store.ensure_keyspace(keyspace)
    assert keyspace in store.keyspaces()


def test_query_with_named_parameters_and_query_context(store_case: StoreCase):
    store, ks = store_case.store, store_case.keyspace
    store.upsert_many(
        ks, {f"d{i}": {"kind": "even" if i % 2 == 0 else "odd", "n": i} for i in range(6)}
    )
    store_case.prepare_query()
    rows = store.query(
        f"SELECT RAW d.n FROM {store_case.collection} AS d WHERE d.kind = $kind ORDER BY d.n",
        {"kind": "even"},
        query_context=store_case.query_context,
    )
    assert rows == [0, 2, 4]


def test_query_with_positional_parameters(store_case: StoreCase):
    store, ks = store_case.store, store_case.keyspace
    store.upsert_many(ks, {f"d{i}": {"n": i} for i in range(5)})
    store_case.prepare_query()
    rows = store.query(
        f"SELECT d.n FROM `{store_case.bucket}`.`{store_case.scope}`.`{store_case.collection}` AS d"
        " WHERE d.n >= $1 AND d.n < $2 ORDER BY d.n",
        [1, 3],
    )
    assert rows == [{"n": 1}, {"n": 2}]


def test_query_errors_raise_query_error(store_case: StoreCase):
    store_case.prepare_query()
    with pytest.raises(QueryError):
        store_case.store.query("SELEKT nothing FROM", query_context=store_case.query_context)


def test_expired_documents_disappear(store, keyspace):
    store.upsert(keyspace, "short", {"v": 1}, expiry=1)
    store.upsert(keyspace, "long", {"v": 2}, expiry=3600)
    assert store.get(keyspace, "short")[0] == {"v": 1}
    time.sleep(2.5)  # Couchbase expiry has a one-second resolution
    with pytest.raises(NotFound):
        store.get(keyspace, "short")
    assert store.get(keyspace, "long")[0] == {"v": 2}


def test_it_refuses_values_over_the_limit(store, keyspace):
    with pytest.raises(ValueTooLarge):
        store.upsert(keyspace, "big", b"\x00" * (MAX_VALUE_BYTES + 1))


def test_it_refuses_invalid_keys_and_values(store, keyspace):
    with pytest.raises(InvalidArgument):
        store.upsert(keyspace, "k" * 247, {})
    with pytest.raises(InvalidArgument):
        store.upsert(keyspace, "k", {"nan": float("nan")})
