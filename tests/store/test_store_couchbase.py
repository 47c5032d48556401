"""The Couchbase backend: offline tests of everything that needs no server, and the store
contract on a cluster: COUCHBASE_CONNSTR when set, else gocaves (tests/store/conftest_store.py).

Offline tests build real SDK objects (exceptions, options, search rows and facets) and
check what we make of them; they never claim that Couchbase Server ran.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import time
from pathlib import Path

import pytest

from catalog.store import (
    Conflict,
    InvalidArgument,
    NotFound,
    QueryError,
    SearchError,
    StoreUnavailable,
    ValueTooLarge,
    open_store,
)
from catalog.store.base import MAX_VALUE_BYTES, FacetResult
from catalog.store.couchbase import CouchbaseStore, parse_url
from catalog.store.couchbase_support import (
    ERROR_MAP,
    encode_document,
    keyspace_path,
    map_error,
    query_context,
    query_options,
    read_transcoder,
    search_options,
    search_query,
    search_result,
    ttl,
    write_transcoders,
)
from catalog.store.indexes import COLLECTIONS, index_specs, index_statements
from tests.couchbase import caves
from tests.store.conftest_store import (  # noqa: F401  (fixtures)
    couchbase_cluster,
    couchbase_store,
    keyspace,
    store,
    store_case,
)
from tests.store.store_contract import *  # noqa: F403  (the contract runs here for every backend)

ROOT = Path(__file__).resolve().parents[2]

import couchbase.exceptions as cb_exc  # noqa: E402

# -- URLs -------------------------------------------------------------------------------------


@pytest.fixture
def no_settings(monkeypatch):
    """Make the store read the environment, as when Django settings are not configured."""
    import django.conf

    class Unconfigured:
        configured = False

    monkeypatch.setattr(django.conf, "settings", Unconfigured())
    for name in ("COUCHBASE_USERNAME", "COUCHBASE_PASSWORD", "CATALOG_BUCKET", "CATALOG_SCOPE"):
        monkeypatch.delenv(name, raising=False)


def test_a_bare_url_takes_the_defaults(no_settings):
    config = parse_url("couchbase://db.example")
    assert config.connstr == "couchbase://db.example"
    assert (config.username, config.password) == ("catalog", "")
    assert (config.bucket, config.scope) == ("ml", "catalog")


def test_url_parameters_and_user_info_win(no_settings, monkeypatch):
    monkeypatch.setenv("COUCHBASE_PASSWORD", "from-env")
    config = parse_url(
        "couchbases://app:s%40cret@h1,h2:11207?bucket=models&scope=s1&network=external"
    )
    assert config.connstr == "couchbases://h1,h2:11207?network=external"
    assert (config.username, config.password) == ("app", "s@cret")
    assert (config.bucket, config.scope) == ("models", "s1")
    config = parse_url("couchbase://h?username=u&password=p&connect_timeout=2.5")
    assert (config.username, config.password, config.connect_timeout) == ("u", "p", 2.5)
    assert config.connstr == "couchbase://h"
    config = parse_url("couchbase://h?kv_timeout=60&query_timeout=5")
    assert (config.kv_timeout, config.query_timeout, config.connect_timeout) == (60, 5, 30)
    assert config.connstr == "couchbase://h"


def test_the_environment_fills_what_the_url_leaves_out(no_settings, monkeypatch):
    monkeypatch.setenv("COUCHBASE_USERNAME", "envuser")
    monkeypatch.setenv("COUCHBASE_PASSWORD", "envpw")
    monkeypatch.setenv("CATALOG_BUCKET", "envbucket")
    config = parse_url("couchbase://h")
    assert (config.username, config.password, config.bucket) == ("envuser", "envpw", "envbucket")


def test_django_settings_fill_what_the_url_leaves_out(monkeypatch):
    import django.conf

    class Configured:
        configured = True
        COUCHBASE_USERNAME = "setuser"
        COUCHBASE_PASSWORD = "setpw"
        CATALOG_BUCKET = "setbucket"
        CATALOG_SCOPE = "setscope"

    monkeypatch.setattr(django.conf, "settings", Configured())
    monkeypatch.setenv("COUCHBASE_USERNAME", "envuser")
    config = parse_url("couchbase://h")
    assert (config.username, config.password) == ("setuser", "setpw")
    assert (config.bucket, config.scope) == ("setbucket", "setscope")


@pytest.mark.parametrize(
    "url",
    [
        "http://h",
        "couchbase://",
        "couchbase://h?bucket=a.b",
        "couchbase://h?connect_timeout=x",
        "couchbase://h?kv_timeout=0",
        "couchbase://h?query_timeout=-1",
    ],
)
def test_bad_urls_are_refused(no_settings, url):
    with pytest.raises(InvalidArgument):
        parse_url(url)


def test_open_store_builds_a_store_without_connecting(no_settings):
    cb = open_store("couchbase://u:secret@localhost?bucket=ml")
    assert isinstance(cb, CouchbaseStore)
    assert cb._cluster is None  # nothing was dialled
    assert "secret" not in cb.url and "secret" not in repr(cb.config)


def test_an_unreachable_server_raises_store_unavailable(no_settings):
    # Port 1 on loopback refuses at once; the SDK retries until the bootstrap timeout.
    cb = CouchbaseStore.from_url("couchbase://127.0.0.1:1?connect_timeout=1")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot connect"):
        cb.get("ml.catalog.models", "x")
    assert time.monotonic() - started < 15
    cb.close()


# -- keyspaces and query options -----------------------------------------------------------------


def test_keyspaces_and_query_contexts_are_quoted():
    assert keyspace_path("ml.catalog.models") == "`ml`.`catalog`.`models`"
    assert keyspace_path("ml") == "`ml`.`_default`.`_default`"
    assert keyspace_path("default:ml.catalog.models") == "`ml`.`catalog`.`models`"
    assert query_context("ml.catalog") == "`ml`.`catalog`"
    assert query_context("default:ml.catalog") == "`ml`.`catalog`"
    assert query_context("ml") == "default:`ml`"
    with pytest.raises(InvalidArgument):
        query_context("a.b.c")


def test_query_options_encode_parameters_consistency_and_context():
    from couchbase.logic.n1ql import N1QLQuery

    named = N1QLQuery.create_query_object(
        "SELECT $name", query_options({"name": "x"}, "ml.catalog", read_only=True, timeout=2.5)
    ).params
    assert named["named_parameters"] == {"$name": b'"x"'}
    assert named["query_context"] == "`ml`.`catalog`"
    assert named["scan_consistency"] == "request_plus"
    assert named["readonly"] is True and named["timeout"] == 2500
    positional = N1QLQuery.create_query_object(
        "SELECT $1", query_options([1, "a"], None, read_only=False, timeout=None)
    ).params
    assert positional["positional_parameters"] == [b"1", b'"a"']
    assert "query_context" not in positional
    with pytest.raises(InvalidArgument):
        query_options("nope", None, read_only=False, timeout=None)  # type: ignore[arg-type]


# -- errors -------------------------------------------------------------------------------------


def test_every_mapped_exception_exists_in_the_sdk():
    for name in ERROR_MAP:
        assert isinstance(getattr(cb_exc, name), type), name


@pytest.mark.parametrize(
    ("sdk_class", "expected"),
    [
        ("CasMismatchException", Conflict),
        ("DocumentExistsException", Conflict),
        ("DocumentNotFoundException", NotFound),
        ("CollectionNotFoundException", NotFound),
        ("UnAmbiguousTimeoutException", StoreUnavailable),
        ("AmbiguousTimeoutException", StoreUnavailable),
        ("ServiceUnavailableException", StoreUnavailable),
        ("TemporaryFailException", StoreUnavailable),
        ("InvalidArgumentException", InvalidArgument),
    ],
)
def test_kv_exceptions_map_to_store_errors(sdk_class, expected):
    exc = getattr(cb_exc, sdk_class)(message="boom")
    error = map_error(exc, key="k", keyspace="ml.catalog.models")
    assert type(error) is expected


def test_kv_messages_name_the_key_and_keyspace():
    exists = map_error(cb_exc.DocumentExistsException(message="x"), key="m::1", keyspace="ml.c.m")
    assert str(exists) == "document 'm::1' already exists in ml.c.m"
    missing = map_error(cb_exc.DocumentNotFoundException(message="x"), key="m::1", keyspace="ks")
    assert str(missing) == "document 'm::1' not found in ks"


def test_value_too_large_is_recognised_by_its_error_code():
    exc = cb_exc.CouchbaseException(message="value_too_large", error_code=104)
    assert isinstance(map_error(exc, key="k"), ValueTooLarge)


def test_query_errors_carry_the_servers_message():
    context = cb_exc.QueryErrorContext(
        context_type="QueryErrorContext",
        first_error_code=3000,
        first_error_message="syntax error - line 1, column 1, near 'SELEKT'",
        statement="SELEKT 1",
    )
    error = map_error(
        cb_exc.ParsingFailedException(message="parsing failure", context=context), kind="query"
    )
    assert isinstance(error, QueryError)
    assert "near 'SELEKT'" in str(error) and "3000" in str(error)
    timeout = map_error(cb_exc.AmbiguousTimeoutException(message="t"), kind="query")
    assert isinstance(timeout, StoreUnavailable)


def test_a_service_answering_not_implemented_is_unavailable_not_a_query_error():
    context = cb_exc.QueryErrorContext(
        context_type="QueryErrorContext", first_error_code=0, http_status=501, path="/query/service"
    )
    exc = cb_exc.InternalServerFailureException(
        message="Streaming operation failed", context=context
    )
    error = map_error(exc, kind="query")
    assert isinstance(error, StoreUnavailable)
    assert "HTTP 501 from /query/service" in str(error)


def test_keys_are_listed_in_order_over_the_primary_index():
    from catalog.store.couchbase_scan import key_listing_query

    assert key_listing_query("ml.catalog.models") == (
        "SELECT RAW META(d).id FROM `ml`.`catalog`.`models` AS d ORDER BY META(d).id",
        {},
    )
    statement, params = key_listing_query("ml", prefix="iris::")
    assert statement == (
        "SELECT RAW META(d).id FROM default:`ml` AS d"
        " WHERE META(d).id >= $lo AND META(d).id < $hi ORDER BY META(d).id"
    )
    assert params == {"lo": "iris::", "hi": "iris::\U0010ffff"}


def test_search_errors_become_search_or_not_found_errors():
    assert isinstance(
        map_error(cb_exc.CouchbaseException(message="bad"), kind="search"), SearchError
    )
    missing = cb_exc.SearchIndexNotFoundException(message="no index")
    assert isinstance(map_error(missing, kind="search"), NotFound)


# -- values and transcoders ------------------------------------------------------------------


def test_values_are_encoded_compactly_and_checked():
    assert encode_document({"a": [1, "é"]}) == ('{"a":[1,"é"]}'.encode(), False)
    assert encode_document(bytearray(b"\x00\x01")) == (b"\x00\x01", True)
    with pytest.raises(InvalidArgument):
        encode_document({"x": float("inf")})
    with pytest.raises(ValueTooLarge):
        encode_document(b"\x00" * (MAX_VALUE_BYTES + 1))


def test_ttls_are_whole_seconds_never_zero():
    assert ttl(None) is None and ttl(0) is None and ttl(-3) is None
    assert ttl(0.2).total_seconds() == 1
    assert ttl(90).total_seconds() == 90


def test_writes_flag_json_and_binary_as_the_sdk_does():
    from couchbase.constants import FMT_BYTES, FMT_JSON

    json_tc, binary_tc = write_transcoders()
    assert type(json_tc).__name__ == "RawJSONTranscoder"
    assert type(binary_tc).__name__ == "RawBinaryTranscoder"
    assert json_tc.encode_value(b'{"a":1}') == (b'{"a":1}', FMT_JSON)
    assert binary_tc.encode_value(b"\x00") == (b"\x00", FMT_BYTES)


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo unpickled > /dev/null",))


def test_reads_return_bytes_for_binary_and_objects_for_json_and_never_unpickle():
    from couchbase.constants import FMT_BYTES, FMT_JSON, FMT_PICKLE, FMT_UTF8

    tc = read_transcoder()
    assert tc.decode_value(b'{"a":[1]}', FMT_JSON) == {"a": [1]}
    assert tc.decode_value(b"\x00\xff", FMT_BYTES) == b"\x00\xff"
    assert tc.decode_value(b"[1,2]", 0) == [1, 2]  # legacy documents without flags
    assert tc.decode_value(b"not json", 0) == b"not json"
    assert tc.decode_value("héllo".encode(), FMT_UTF8) == "héllo"
    payload = pickle.dumps(_Boom())
    assert tc.decode_value(payload, FMT_PICKLE) == payload
    data, flags = tc.encode_value({"b": 2})
    assert (data, flags) == (b'{"b":2}', FMT_JSON)


# -- search ---------------------------------------------------------------------------------------


def _encoded(query, **options):
    from couchbase.logic.search import SearchQueryBuilder
    from couchbase.search import SearchRequest

    request = SearchRequest.create(search_query(query))
    return SearchQueryBuilder.create_search_query_from_request(
        "models_fts", request, search_options(**options)
    ).as_encodable()


def test_search_requests_carry_paging_highlight_fields_and_facets():
    import json

    body = _encoded(
        "opTypes:SVMClassifier",
        limit=5,
        skip=10,
        fields=["name", "version"],
        highlight=["metadata.description"],
        facets={"tags": ("metadata.tags", 3), "ops": "summary.opTypes"},
    )
    # the query string is sent parsed, with the full field name (catalog.search.couchbase_request)
    assert json.loads(body["query"]) == {
        "should": {"disjuncts": [{"match": "SVMClassifier", "field": "summary.opTypes"}], "min": 1}
    }
    assert (body["limit"], body["skip"]) == (5, 10)
    assert body["fields"] == ["name", "version"]
    assert body["highlight_style"] == "html"
    assert body["highlight_fields"] == ["metadata.description"]
    assert {k: json.loads(v) for k, v in body["facets"].items()} == {
        "tags": {"field": "metadata.tags", "size": 3},
        "ops": {"field": "summary.opTypes", "size": 10},
    }
    assert body["scan_consistency"] == "request_plus"


def test_search_queries_accept_strings_raw_dicts_and_match_all():
    import json

    assert json.loads(_encoded({"match": "iris", "field": "name"})["query"]) == {
        "match": "iris",
        "field": "name",
    }
    assert json.loads(_encoded("*")["query"]) == {"match_all": {}}
    body = _encoded("iris", highlight=True, consistent=False)
    assert body["highlight_style"] == "html" and "highlight_fields" not in body
    assert "scan_consistency" not in body
    with pytest.raises(SearchError):
        search_query(42)
    with pytest.raises(SearchError):
        search_options(limit=-1)


def test_search_results_map_rows_fragments_facets_and_totals():
    from couchbase.search import (
        SearchFacetResult,
        SearchMetaData,
        SearchRow,
        SearchRowFields,
        SearchRowLocations,
        SearchTermFacet,
    )

    # SearchRow's default for locations is broken in the SDK; its own rows always set it.
    no_locations = SearchRowLocations({})

    rows = [
        SearchRow(
            index="models_fts",
            id="iris::2",
            score=1.5,
            fields=SearchRowFields(name="iris"),
            locations=no_locations,
            fragments={"metadata.description": ["an <mark>iris</mark> SVC"]},
        ),
        SearchRow(index="models_fts", id="iris::1", score=0.5, locations=no_locations),
    ]
    facets = {
        "tags": SearchFacetResult(
            name="tags",
            field="metadata.tags",
            total=5,
            missing=1,
            other=0,
            terms=[SearchTermFacet("svm", 3), SearchTermFacet("iris", 2)],
        )
    }
    metadata = SearchMetaData({"metrics": {"took": 2_500_000, "total_rows": 42, "max_score": 1.5}})
    result = search_result(rows, facets, metadata)
    assert [(h.id, h.score) for h in result.hits] == [("iris::2", 1.5), ("iris::1", 0.5)]
    assert result.hits[0].fields == {"name": "iris"}
    assert result.hits[0].fragments == {"metadata.description": ["an <mark>iris</mark> SVC"]}
    assert result.hits[1].fragments == {}
    assert result.total == 42 and result.took_ms == pytest.approx(2.5)
    assert result.facets["tags"] == FacetResult(
        "tags", "metadata.tags", 5, 1, 0, [("svm", 3), ("iris", 2)]
    )
    assert search_result([], None, None).total == 0


def test_search_refuses_bad_index_names_and_options_before_connecting(no_settings):
    cb = CouchbaseStore.from_url("couchbase://localhost")
    with pytest.raises(SearchError):
        cb.search("a.b", "x")
    with pytest.raises(SearchError, match="unknown search option"):
        cb.search("models_fts", "x", color="red")
    assert cb._cluster is None
    assert cb._search_target("ml2.s2.idx") == ("ml2", "s2", "idx")
    assert cb._search_target("idx") == ("ml", "catalog", "idx")


# -- indexes ------------------------------------------------------------------------------------


def test_every_collection_has_a_primary_index_and_everything_is_deferred():
    specs = index_specs("ml", "catalog")
    primaries = {s.collection for s in specs if s.name == "#primary"}
    assert primaries == set(COLLECTIONS)
    assert len({(s.collection, s.name) for s in specs}) == len(specs)
    for spec in specs:
        assert spec.statement.startswith("CREATE ")
        assert spec.statement.endswith('WITH {"defer_build": true}')
        assert f"`ml`.`catalog`.`{spec.collection}`" in spec.statement
    assert set(COLLECTIONS) >= {"models", "tensors", "aliases", "binaries", "states"}


def test_the_model_internals_indexes_are_there():
    statements = "\n".join(index_statements("b", "s"))
    for keys in (
        "DISTINCT ARRAY t FOR t IN summary.opTypes END",
        "name, version",
        "DISTINCT ARRAY i.name FOR i IN summary.initializers END",
        "DISTINCT ARRAY tag FOR tag IN metadata.tags END",
    ):
        assert keys in statements
    assert "`b`.`s`.`models`" in statements and "`ml`" not in statements


def test_every_index_statement_parses_with_the_embedded_index_parser():
    from catalog.sqlpp.index_defs import parse_create_index

    for spec in index_specs("ml", "catalog"):
        d = parse_create_index(spec.statement)
        assert d.name == spec.name
        assert d.path == ("ml", "catalog", spec.collection)
        assert d.primary == (spec.name == "#primary")


# -- compose, Dockerfile, init script -------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_pins_couchbase_and_checks_its_health(compose):
    services = compose["services"]
    assert set(services) >= {"couchbase", "couchbase-init", "app"}
    couchbase = services["couchbase"]
    assert re.fullmatch(r"couchbase/server:enterprise-7\.6\.\d+", couchbase["image"])
    assert services["couchbase-init"]["image"] == couchbase["image"]
    assert "8091/pools" in " ".join(couchbase["healthcheck"]["test"])
    ports = " ".join(couchbase["ports"])
    assert "8091-8096" in ports and "11210" in ports
    assert any(v.endswith(":/opt/couchbase/var") for v in couchbase["volumes"])


def test_compose_starts_the_app_after_a_healthy_initialised_couchbase(compose):
    services = compose["services"]
    app = services["app"]
    assert app["depends_on"]["couchbase"]["condition"] == "service_healthy"
    assert app["depends_on"]["couchbase-init"]["condition"] == "service_completed_successfully"
    assert services["couchbase-init"]["depends_on"]["couchbase"]["condition"] == "service_healthy"
    env = app["environment"]
    assert env["CATALOG_STORE"] == "couchbase://couchbase"
    assert env["DEBUG"] == "0"
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "COUCHBASE_USERNAME", "COUCHBASE_PASSWORD"} <= set(env)
    assert "COUCHBASE_ADMIN_PASSWORD" not in env  # the app never holds admin credentials
    command = " ".join(app["command"])
    assert command.index("catalog init") < command.index("gunicorn catalog.shell.wsgi")
    assert "8000:8000" in app["ports"]
    assert app["build"]["dockerfile"] == "docker/Dockerfile"


def test_the_dockerfile_and_init_script_are_sound():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "gunicorn" in dockerfile and "catalog.shell.wsgi" in dockerfile
    script = ROOT / "docker" / "init-couchbase.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "set -euo pipefail" in text
    for role in (
        "data_reader",
        "data_writer",
        "query_select",
        "query_insert",
        "query_update",
        "query_delete",
        "query_manage_index",
        "fts_searcher",
        "fts_admin",
        "scope_admin",
    ):
        assert f"{role}[${{BUCKET}}]" in text
    assert "--services data,index,query,fts" in text


# -- live -------------------------------------------------------------------------------------------


def test_the_cluster_answers_a_ping_on_every_service(couchbase_cluster):  # noqa: F811
    live = open_store(couchbase_cluster.url)
    if couchbase_cluster.caves is not None:
        caves.connect(live)  # the mock's first connection may time out on a busy machine
    try:
        assert live.check_integrity() == []
    finally:
        live.close()


def test_search_takes_the_embedded_engines_options():
    import json

    from couchbase.logic.search import SearchQueryBuilder

    from catalog.store.couchbase_support import search_request

    request, options = search_request(
        "svm", {"offset": 20, "limit": 5, "facet_size": 4, "filters": {"framework": "sklearn"}}
    )
    body = SearchQueryBuilder.create_search_query_from_request(
        "ml.catalog.models", request, options
    ).as_encodable()
    assert (body["skip"], body["limit"]) == (20, 5)
    assert body["highlight_style"] == "html"  # highlight defaults to on, as embedded
    facets = {k: json.loads(v) for k, v in body["facets"].items()}
    assert facets and all(f["size"] == 4 for f in facets.values())
    query = json.loads(body["query"])
    assert query["conjuncts"][0] == {"should": {"disjuncts": [{"match": "svm"}], "min": 1}}
    assert query["conjuncts"][1]["disjuncts"][0] == {
        "term": "sklearn",
        "field": "metadata.framework",
    }
    _, no_facets = search_request("svm", {"facets": []})
    assert "facets" not in dict(no_facets)


def test_latest_only_search_restricts_to_the_given_document_ids():
    import json

    from couchbase.logic.search import SearchQueryBuilder

    from catalog.store.couchbase_support import search_request

    request, options = search_request("iris", {"latest_ids": ["a::2", "b::1"]})
    body = SearchQueryBuilder.create_search_query_from_request(
        "ml.catalog.models", request, options
    ).as_encodable()
    query = json.loads(body["query"])
    assert query["conjuncts"][0] == {"should": {"disjuncts": [{"match": "iris"}], "min": 1}}
    assert query["conjuncts"][1] == {"ids": ["a::2", "b::1"]}
