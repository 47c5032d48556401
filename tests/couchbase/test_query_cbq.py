"""The store's SQL++ path through the SDK on Couchbase's own query engine, and key listing.

gocaves serves no SQL++; with ``CAVES_N1QL_PORT`` it advertises a cbq-engine there, so the
SDK's ``cluster.query()`` reaches Couchbase's real query service: its parser, planner,
parameters, read-only check, error codes. That engine runs on a directory datastore:
its keyspaces are two-part names (``default:models``) with no scopes, so the statements
here name keyspaces without a query context, and its data are files written by the
test, not the mock's KV documents.

What this proves: the backend's ``query()`` sends statements, parameters and options the
real engine accepts, and maps its errors. What it cannot prove: that a query sees the
KV writes made through the same cluster (REQUEST_PLUS over a primary index), which
needs a real Couchbase Server (.github/workflows/couchbase.yml).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.store import QueryError, StoreUnavailable, open_store
from catalog.store.indexes import COLLECTIONS
from tests.couchbase import caves

pytestmark = pytest.mark.couchbase

MODELS = {
    "iris::1": {"name": "iris", "version": 1, "summary": {"opTypes": ["SVMClassifier"]}},
    "iris::2": {"name": "iris", "version": 2, "summary": {"opTypes": ["LinearClassifier"]}},
    "wine::1": {"name": "wine", "version": 1, "summary": {"opTypes": ["TreeEnsemble"]}},
}
# The bucket's default collection, mirrored in the engine's files (see the listing tests).
BUCKET_DOCS = {"a": {"n": 1}, "b": {"n": 2}, "c::1": {"n": 3}, "c::2": {"n": 4}}


@pytest.fixture(scope="module")
def cbq_store() -> Iterator[Any]:
    """Return a store on gocaves advertising a cbq-engine that holds MODELS and BUCKET_DOCS."""
    # every collection of the catalog is a keyspace (the index statements name them all)
    empty: dict[str, dict[str, object]] = {c: {} for c in COLLECTIONS}
    engine = caves.start_cbq_engine({**empty, "models": MODELS, "ml": {**BUCKET_DOCS, "gone": {}}})
    try:
        cluster = caves.start_gocaves("ml", query_port=engine.port)
    except BaseException:
        caves._kill(engine.pid)
        raise
    cluster.extra.append(engine.pid)
    store = open_store(cluster.url(kv_timeout=90, connect_timeout=90))
    caves.connect(store)
    store.data_dir = engine.data_dir  # for the tests that look at the engine's files
    yield store
    store.close()
    cluster.stop()


def test_named_parameters_reach_the_engine(cbq_store):
    rows = cbq_store.query(
        "SELECT RAW m.version FROM models m WHERE m.name = $name ORDER BY m.version",
        {"name": "iris"},
    )
    assert rows == [1, 2]
    rows = cbq_store.query(
        "SELECT m.name FROM models m WHERE $op IN m.summary.opTypes", {"$op": "TreeEnsemble"}
    )
    assert rows == [{"name": "wine"}]


def test_positional_parameters_reach_the_engine(cbq_store):
    rows = cbq_store.query(
        "SELECT m.name, m.version FROM models m WHERE m.version >= $1 AND m.name < $2"
        " ORDER BY m.name, m.version",
        [1, "j"],
    )
    assert rows == [{"name": "iris", "version": 1}, {"name": "iris", "version": 2}]
    assert cbq_store.query("SELECT RAW ? + ?", [2, 3]) == [5]


def test_request_plus_consistency_and_read_only_are_accepted(cbq_store):
    # Every statement carries scan_consistency=request_plus (test_store_couchbase checks
    # the options); the engine takes it and answers.
    rows = cbq_store.query("SELECT RAW COUNT(*) FROM models", read_only=True, timeout=30)
    assert rows == [3]


def test_read_only_refuses_dml_with_couchbases_own_error(cbq_store):
    with pytest.raises(QueryError) as info:
        cbq_store.query(
            "INSERT INTO models (KEY, VALUE) VALUES ('x::1', {'name': 'x'})", read_only=True
        )
    assert "read-only" in str(info.value) and "(code 1000)" in str(info.value)
    assert not (cbq_store.data_dir / "default" / "models" / "x::1.json").exists()
    assert cbq_store.query("SELECT RAW COUNT(*) FROM models") == [3]


def test_a_syntax_error_is_a_query_error_with_the_engines_message_and_code(cbq_store):
    with pytest.raises(QueryError) as info:
        cbq_store.query("SELEKT name FROM models")
    assert "syntax error" in str(info.value) and "(code 3000)" in str(info.value)


def test_a_semantic_error_is_a_query_error_with_the_engines_message_and_code(cbq_store):
    with pytest.raises(QueryError) as info:
        cbq_store.query("SELECT m.name, m.version FROM models m GROUP BY m.name")
    assert "group keys or aggregates" in str(info.value) and "(code 4210)" in str(info.value)


def test_a_reserved_word_as_a_field_name_is_a_syntax_error_there_too(cbq_store):
    with pytest.raises(QueryError, match=r"code 3000"):
        cbq_store.query("SELECT m.at FROM models m")
    assert cbq_store.query("SELECT RAW m.`at` FROM models m WHERE m.`at` IS NOT MISSING") == []


def test_a_statement_over_its_time_limit_is_a_query_error(cbq_store):
    slow = "SELECT RAW COUNT(*) FROM ARRAY_RANGE(0, 4000) a, ARRAY_RANGE(0, 4000) b"
    with pytest.raises(QueryError, match=r"time limit of 0.2 s"):
        cbq_store.query(slow, timeout=0.2)


def test_scopes_do_not_exist_on_the_file_datastore(cbq_store):
    # Why the statements above name two-part keyspaces and pass no query context.
    with pytest.raises(QueryError, match=r"scopes"):
        cbq_store.query("SELECT RAW m.name FROM models m", query_context="ml.catalog")


# -- listing keys without a KV range scan ------------------------------------------------------


def test_without_range_scans_or_sql_a_scan_says_both_are_missing(couchbase_store, caplog):
    # The session's plain gocaves: FeatureUnavailable for the range scan, HTTP 501 for SQL++.
    keyspace = f"{couchbase_store.bucket_name}.listing.plain"
    couchbase_store.ensure_keyspace(keyspace)
    couchbase_store.upsert(keyspace, "k", {"v": 1})
    with caplog.at_level(logging.DEBUG, logger="catalog.store.couchbase"):
        with pytest.raises(StoreUnavailable) as info:
            list(couchbase_store.scan(keyspace))
        with pytest.raises(StoreUnavailable):
            couchbase_store.count(keyspace)
    message = str(info.value)
    assert "no KV range scan (Couchbase 7.6+)" in message and "HTTP 501" in message
    assert couchbase_store.get(keyspace, "k")[0] == {"v": 1}  # KV still serves
    logged = [r.getMessage() for r in caplog.records]
    assert any("SQL++ over the primary index: SELECT RAW META(d).id" in m for m in logged)


def test_the_fallback_lists_keys_in_order_through_the_query_service(cbq_store, caplog):
    # Keys of bucket ml's default collection: the mock holds BUCKET_DOCS in KV, the engine's
    # files hold the same keys plus "gone" (removed since it was listed: not returned).
    cbq_store.upsert_many("ml", BUCKET_DOCS)
    with caplog.at_level(logging.DEBUG, logger="catalog.store.couchbase"):
        rows = list(cbq_store.scan("ml"))
        prefixed = [k for k, _, _ in cbq_store.scan("ml", prefix="c::")]
    assert [(k, v) for k, v, _ in rows] == sorted(BUCKET_DOCS.items())
    assert prefixed == ["c::1", "c::2"]
    assert cbq_store.count("ml") == len(BUCKET_DOCS) + 1  # counts what the index lists
    logged = [r.getMessage() for r in caplog.records]
    assert sum("no KV range scan" in m for m in logged) <= 1  # learnt once per connection
    assert any("SELECT RAW META(d).id FROM default:`ml` AS d WHERE" in m for m in logged)


def test_the_fallback_reaches_the_advertised_engine_for_a_named_collection(cbq_store):
    # The statement names ml.listing.named, which a file datastore cannot hold: the engine's
    # own refusal in the error shows the fallback went to the query service.
    cbq_store.ensure_keyspace("ml.listing.named")
    with pytest.raises(StoreUnavailable, match=r"no buckets that contain scopes\. \(code 16021\)"):
        list(cbq_store.scan("ml.listing.named"))


# -- index administration (`catalog index ...`) through the SDK -------------------------------
# cbq-engine's file datastore parses and plans CREATE INDEX but cannot build one (code 15010,
# "not supported for file-based datastore"): reaching that error proves Couchbase's own parser
# and semantic checks accepted the statement (a syntax error is code 3000). Whether the index
# service then builds and serves the index needs a Couchbase Server.


def _two_part(statement: str) -> str:
    """Return a catalog index statement on the file datastore's two-part keyspace names."""
    return statement.replace("`ml`.`catalog`.", "")


def test_every_catalog_index_statement_passes_couchbases_parser(cbq_store):
    from catalog.store.indexes import index_specs

    for spec in index_specs("ml", "catalog"):
        statement = _two_part(spec.statement)
        assert f"ON `{spec.collection}`" in statement, statement
        if spec.name == "#primary":
            assert cbq_store.query(statement) == []  # the file datastore has primary indexes
            continue
        with pytest.raises(QueryError) as info:
            cbq_store.query(statement)
        if "INCLUDE MISSING" in statement:
            # checked against the indexer's capabilities after parsing: the file datastore's
            # indexer has none; GSI (Couchbase 7.1+) indexes a MISSING leading key
            assert "leading key MISSING values are not supported" in str(info.value)
            assert "(code 5380)" in str(info.value), spec.name
        else:
            assert "not supported for file-based datastore" in str(info.value), spec.name
            assert "(code 15010)" in str(info.value), spec.name


def test_create_index_sends_the_administrators_statement_to_the_query_service(cbq_store):
    with pytest.raises(QueryError, match=r"CREATE INDEX is not supported.*\(code 15010\)"):
        cbq_store.create_index("CREATE INDEX ix_admin ON models(metadata.owner, version)")
    with pytest.raises(QueryError, match=r"syntax error.*\(code 3000\)"):
        cbq_store.create_index("CREATE INDEX ix_admin ON models(metadata.owner")


def test_list_indexes_reads_system_indexes_and_keeps_the_gsi_ones(cbq_store):
    # The engine lists its file datastore's primary indexes with using = "system": the
    # statement runs and the catalog keeps only GSI indexes, so none here.
    rows = cbq_store.query("SELECT RAW i.name FROM system:indexes AS i WHERE i.`using` = 'system'")
    assert "#primary" in rows
    assert cbq_store.list_indexes() == []


def test_drop_index_names_the_collection_with_its_scope(cbq_store):
    # DROP INDEX `ix` ON `ml`.`catalog`.`models`: the file datastore has no scopes, and says so.
    with pytest.raises(QueryError, match=r"no buckets that contain scopes\. \(code 16021\)"):
        cbq_store.drop_index("ml.catalog.models", "ix_admin")
    with pytest.raises(QueryError, match=r"no buckets that contain scopes\. \(code 16021\)"):
        cbq_store.drop_index("ml.catalog.models", "#primary")
