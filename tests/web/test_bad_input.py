"""Bad input, everywhere it can come in: each answered with a clear error, nothing stored,
and the server still serving afterwards.

Every case goes through real HTTP handling (Django's test client, a staff user's bearer
token for writes) or the command line (``call_command`` raising CommandError), counts the
documents of every collection before and after, and ends with a good prediction.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from catalog import onnxdoc
from catalog.domain.registry import Registry, get_registry
from catalog.domain.tokens import create_token
from catalog.search import search_models
from catalog.store import SearchError
from inference.sessions import get_session_cache
from tests.web.bad_input_cases import DOCUMENT_CASES, ONNX_CASES, good

pytestmark = pytest.mark.django_db

GOOD_ROW = [0.5, 1.0, -1.5, 2.0]


@pytest.fixture
def reg(catalog_store) -> Registry:
    """Return the app's registry with two good versions of ``mm`` (X [N, 4] -> Y [N, 2])."""
    registry = get_registry()
    registry.publish("mm", good())
    registry.publish("mm", good())
    get_session_cache().clear()
    yield registry
    get_session_cache().clear()


@pytest.fixture
def auth(db) -> dict[str, str]:
    """Return the headers of a staff user's API token."""
    User.objects.create_user("writer", password="pw-writer", is_staff=True)
    return {"Authorization": f"Bearer {create_token('writer')}"}


def counts(reg: Registry) -> dict[str, int]:
    """Return the number of documents in every collection of the catalog."""
    return {ks: reg.store.count(ks) for ks in reg.ks.all()}


@contextlib.contextmanager
def refused(reg: Registry, client: Client | None = None) -> Iterator[None]:
    """Check that what runs inside stores nothing and that the server still predicts."""
    before = counts(reg)
    yield
    assert counts(reg) == before, "a refused request changed the store"
    still_serving(client or Client())


def still_serving(client: Client) -> None:
    response = infer(
        client, "mm", [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": GOOD_ROW}]
    )
    assert response.status_code == 200, response.content
    assert response.json()["outputs"][0]["shape"] == [1, 2]


def infer(client: Client, name: str, inputs: Any, **extra: Any) -> Any:
    body = inputs if isinstance(inputs, (bytes, str)) else json.dumps({"inputs": inputs, **extra})
    return client.post(f"/v2/models/{name}/infer", body, content_type="application/json")


def error_of(response: Any, statuses: range | tuple[int, ...] = range(400, 500)) -> str:
    """Return the error message of a refused request (JSON ``error``, or the page text)."""
    assert response.status_code in statuses, (response.status_code, response.content[:500])
    if response["Content-Type"].startswith("application/json"):
        message = response.json().get("error", "")
    else:
        message = response.content.decode()
    assert message.strip(), "the error has no message"
    return message


def mentions(message: str, words: tuple[str, ...]) -> bool:
    return any(w.lower() in message.lower() for w in words)


# -- broken ONNX files: the upload API and the command line ---------------------------------


@pytest.mark.parametrize("case", list(ONNX_CASES))
def test_the_upload_api_refuses_a_broken_model(case, reg, auth):
    build, words = ONNX_CASES[case]
    client = Client()
    with refused(reg, client):
        response = client.post(
            "/api/models/bad/versions",
            build(),
            content_type="application/octet-stream",
            headers=auth,
        )
        message = error_of(response, range(400, 414))
        assert mentions(message, words), message


@pytest.mark.parametrize("case", list(ONNX_CASES))
def test_the_command_line_refuses_a_broken_model(case, reg, tmp_path):
    build, words = ONNX_CASES[case]
    path = tmp_path / "bad.onnx"
    path.write_bytes(build())
    with refused(reg), pytest.raises(CommandError) as failed:
        call_command("catalog", "publish", "bad", str(path), "--format", "binary")
    assert mentions(str(failed.value), words), str(failed.value)


def test_a_multipart_upload_of_garbage_is_refused(reg, auth):
    client = Client()
    with refused(reg, client):
        from django.core.files.uploadedfile import SimpleUploadedFile

        garbage = SimpleUploadedFile("m.onnx", b"\x08\x01garbage" * 100)
        response = client.post("/api/models/bad/versions", {"file": garbage}, headers=auth)
        assert mentions(error_of(response), ("onnx", "protobuf"))


# -- model names ------------------------------------------------------------------------------

BAD_NAMES = {
    "unicode": "modèle-ß",
    "double colon": "a::b",
    "past the key length": "m" * 240,
    "leading dot": ".hidden",
    "space": "two words",
    "percent": "100%",
}


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_the_upload_api_refuses_a_bad_name(case, reg, auth):
    client = Client()
    with refused(reg, client):
        from urllib.parse import quote

        response = client.post(
            f"/api/models/{quote(BAD_NAMES[case])}/versions",
            good().SerializeToString(),
            content_type="application/octet-stream",
            headers=auth,
        )
        assert mentions(error_of(response), ("name", "no page"))


@pytest.mark.parametrize("name", ["a/b", "../escape", "a::1", "x" * 300, "naïve", ""])
def test_the_command_line_refuses_a_bad_name(name, reg, tmp_path):
    path = tmp_path / "good.onnx"
    path.write_bytes(good().SerializeToString())
    with refused(reg), pytest.raises(CommandError) as failed:
        call_command("catalog", "publish", name, str(path))
    assert "name" in str(failed.value)


def test_a_slash_in_a_name_finds_no_route(reg, auth):
    client = Client()
    with refused(reg, client):
        for path in ("/api/models/a/b/versions", "/api/models/a%2Fb/versions"):
            response = client.post(
                path, good().SerializeToString(), "application/octet-stream", headers=auth
            )
            error_of(response, (404,))


# -- uploads over the size limit --------------------------------------------------------------


@override_settings(CATALOG_MAX_UPLOAD_MB=1)
def test_an_upload_over_the_size_limit_is_refused(reg, auth):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = b"\0" * (2 * 2**20)
    client = Client()
    with refused(reg, client):
        raw = client.post("/api/models/big/versions", big, "application/octet-stream", headers=auth)
        assert "larger than 1 MB" in error_of(raw, (413,))
        form = client.post(
            "/api/models/big/versions", {"file": SimpleUploadedFile("m.onnx", big)}, headers=auth
        )
        assert "larger than 1 MB" in error_of(form, (413,))


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_json_body_over_the_size_limit_is_refused(reg):
    client = Client()
    with refused(reg, client), override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        rows = [GOOD_ROW] * 200
        body = [{"name": "X", "datatype": "FP32", "shape": [200, 4], "data": rows}]
        assert "too large" in error_of(infer(client, "mm", body), (413,))
        query = json.dumps({"statement": "SELECT 1" + " " * 2000})
        error_of(client.post("/api/query", query, content_type="application/json"))


# -- prediction inputs ------------------------------------------------------------------------


def X(shape: list[Any], data: Any, datatype: str = "FP32", name: str = "X") -> list[dict]:
    return [{"name": name, "datatype": datatype, "shape": shape, "data": data}]


PREDICT_CASES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "wrong rank": (X([4], GOOD_ROW), ("rank",)),
    "rank 3": (X([1, 1, 4], GOOD_ROW), ("rank",)),
    "wrong width": (X([1, 5], GOOD_ROW + [1.0]), ("dimension 1", "needs 4")),
    "wrong dtype": (X([1, 4], [1, 2, 3, 4], "INT64"), ("datatype", "INT64")),
    "unknown dtype": (X([1, 4], GOOD_ROW, "FP128"), ("datatype", "FP128")),
    "strings as numbers": (X([1, 4], ["a", "b", "c", "d"]), ("X", "number", "string")),
    "a string as data": (X([1, 4], "1,2,3,4"), ("data", "list")),
    "bools as floats": (X([1, 4], [True, False, True, False]), ("X", "bool", "number")),
    "nulls": (X([1, 4], [None, None, None, None]), ("X", "null", "number")),
    "empty batch": (X([0, 4], []), ("empty",)),
    "data shorter than the shape": (X([2, 4], GOOD_ROW), ("X", "elements", "shape", "data")),
    "data longer than the shape": (X([1, 4], GOOD_ROW * 2), ("X", "elements", "shape", "data")),
    "negative dimension": (X([-1, 4], GOOD_ROW), ("shape", "negative", "dimension")),
    "fractional dimension": (X([1.5, 4], GOOD_ROW), ("shape", "integer")),
    "10^12 rows declared": (X([10**12, 4], GOOD_ROW), ("limit", "rows", "shape", "elements")),
    "unknown input": (X([1, 4], GOOD_ROW, name="Z"), ("Z",)),
    "duplicate input": (X([1, 4], GOOD_ROW) * 2, ("twice",)),
    "no inputs": ([], ("inputs",)),
    "input not an object": ([[1, 2, 3, 4]], ("input", "object")),
    "nested data too deep": (X([1, 4], [[[[GOOD_ROW]]]]), ("X", "shape", "elements", "data")),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
def test_a_bad_prediction_input_is_refused(case, reg):
    inputs, words = PREDICT_CASES[case]
    client = Client()
    with refused(reg, client):
        message = error_of(infer(client, "mm", inputs))
        assert mentions(message, words), message


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[1, 2]", b'"inputs"', b"\xff\xfe\x00", b'{"inputs": null}', b"{" * 100_000],
    ids=["empty", "cut", "array", "string", "not utf-8", "null inputs", "deep nesting"],
)
def test_a_malformed_prediction_body_is_refused(body, reg):
    client = Client()
    with refused(reg, client):
        error_of(infer(client, "mm", body))


def test_nan_and_infinity_are_refused_or_answered_as_valid_json(reg):
    client = Client()
    with refused(reg, client):
        for literal in (b"NaN", b"Infinity", b"-Infinity"):
            body = (
                b'{"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, %s]}]}'
                % literal
            )
            response = infer(client, "mm", body)
            if response.status_code == 200:  # then the answer must still be strict JSON
                json.loads(response.content, parse_constant=_refuse_constant)
            else:
                assert mentions(error_of(response), ("nan", "finite", "infinity")), response.content


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"the response holds a bare {name}: not valid JSON")


def test_a_batch_over_the_limit_is_refused(reg, settings):
    settings.CATALOG_MAX_BATCH = 10
    client = Client()
    with refused(reg, client):
        message = error_of(infer(client, "mm", X([11, 4], GOOD_ROW * 11)))
        assert "over the limit of 10" in message
    still_serving(client)


def test_a_prediction_for_a_missing_model_or_version_is_404(reg):
    client = Client()
    with refused(reg, client):
        error_of(infer(client, "nope", X([1, 4], GOOD_ROW)), (404,))
        response = client.post(
            "/v2/models/mm/versions/99/infer",
            json.dumps({"inputs": X([1, 4], GOOD_ROW)}),
            content_type="application/json",
        )
        error_of(response, (404,))
        error_of(infer(client, "a::b", X([1, 4], GOOD_ROW)), (404,))


# -- SQL++ through the workbench page and /api/query -------------------------------------------

NESTING = 3000
SQLPP_CASES: dict[str, str] = {
    "garbage": "SELEKT * FRUM models",
    "unbalanced parenthesis": "SELECT (1 + 2 FROM models m",
    "unterminated string": "SELECT 'abc FROM models m",
    "unknown function": "SELECT NO_SUCH_FUNCTION(1)",
    "unknown keyspace": "SELECT * FROM `no-such-bucket`.s.c",
    "insert": 'INSERT INTO models (KEY, VALUE) VALUES ("x::1", {"name": "x"})',
    "upsert": 'UPSERT INTO models (KEY, VALUE) VALUES ("mm::1", {})',
    "update": 'UPDATE models SET name = "pwned"',
    "delete": "DELETE FROM models",
    "merge": "MERGE INTO models m USING aliases a ON KEY a.name WHEN MATCHED THEN DELETE",
    "create index": "CREATE INDEX ix ON models(name)",
    "create primary index": "CREATE PRIMARY INDEX ON models",
    "drop collection": "DROP COLLECTION ml.catalog.models",
    "grant": "GRANT query_select ON models TO alice",
    "delete after a comment": "/* harmless */ DELETE FROM models",
    "delete after a select": "SELECT 1; DELETE FROM models",
    "lowercase delete": "delete from models",
    "null byte": "SELECT 1\x00; DELETE FROM models",
    "100 KB statement": "SELECT " + " + ".join(["1"] * 34_000),
    "deeply nested parentheses": "SELECT " + "(" * NESTING + "1" + ")" * NESTING,
    "deeply nested NOT": "SELECT " + "NOT " * NESTING + "true",
    "deeply nested arrays": "SELECT " + "[" * NESTING + "]" * NESTING,
    "deeply nested calls": "SELECT " + "ABS(" * NESTING + "1" + ")" * NESTING,
    "deeply nested subqueries": "SELECT " + "(SELECT " * 500 + "1" + ")" * 500,
    "only whitespace": "   \n\t ",
    # Issue 14/21: values too big for one statement, refused before they are built.
    "repeat of repeat": 'SELECT RAW LENGTH(REPEAT(REPEAT("x",100000),100000))',
    "rpad to 1e9": 'SELECT RAW LENGTH(RPAD("x",1e9,"y"))',
    "array range to 1e9": "SELECT RAW ARRAY_LENGTH(ARRAY_RANGE(0, 1e9))",
    "repeat 2^63 times": "SELECT RAW REPEAT('s', 9223372036854775808)",
    "regexp lookahead (not RE2)": 'SELECT RAW REGEXP_CONTAINS("ab", "a(?=b)")',
}

# Statements over the 20 MiB limit on one value.
TOO_BIG = {"repeat of repeat", "rpad to 1e9", "array range to 1e9", "repeat 2^63 times"}

# Statements that would write: refused as such before they are parsed.
WRITES = {"insert", "upsert", "update", "delete", "merge", "create index", "create primary index"}
WRITES |= {"drop collection", "grant", "delete after a comment", "lowercase delete"}


def _run_sqlpp_everywhere(client: Client, statement: str) -> list[str]:
    """Return the error messages of the statement on /api/query (GET, POST) and the page."""
    messages = []
    get = client.get("/api/query", {"statement": statement})
    messages.append(error_of(get, (400,)))
    post = client.post("/api/query", json.dumps({"statement": statement}), "application/json")
    messages.append(error_of(post, (400,)))
    page = client.get("/workbench", {"statement": statement, "format": "json"})
    messages.append(error_of(page, (400,)))
    html = client.get("/workbench", {"statement": statement})
    # The HTML page shows the form again with the error next to the statement.
    assert html.status_code in (200, 400), html.status_code
    assert b'id="statement-error" role="alert"' in html.content
    return messages


@pytest.mark.parametrize("case", list(SQLPP_CASES))
def test_a_bad_statement_is_refused_by_the_workbench(case, reg):
    client = Client()
    with refused(reg, client):
        messages = _run_sqlpp_everywhere(client, SQLPP_CASES[case])
    if case in WRITES:
        assert all(mentions(m, ("read-only", "not allowed", "SELECT only")) for m in messages), (
            messages
        )
    if case == "100 KB statement":
        assert all(mentions(m, ("at most", "characters")) for m in messages), messages
    if case in TOO_BIG:
        assert all(mentions(m, ("exceeds limit",)) for m in messages), messages


def test_bad_query_parameters_are_refused(reg):
    client = Client()
    with refused(reg, client):
        for params in ("{not json", "42", '"text"'):
            response = client.get("/api/query", {"statement": "SELECT $1", "params": params})
            assert mentions(error_of(response, (400,)), ("json", "object", "array"))
        body = client.post("/api/query", b"[1, 2]", content_type="application/json")
        assert "object" in error_of(body, (400,))
        broken = client.post("/api/query", b"{", content_type="application/json")
        assert "JSON" in error_of(broken, (400,))


# -- malformed search strings ------------------------------------------------------------------

SEARCH_CASES = {
    "unterminated phrase": '"iris svm',
    "empty field": "tags:",
    "lone plus": "+",
    "lone minus": "-",
    "unbalanced parenthesis": "(iris",
    "bad boost": "iris^abc",
    "bad fuzziness": "iris~abc",
    "too fuzzy": "iris~9",
    "unterminated regexp": "name:/iri",
    "bad range number": "summary.paramCount:>abc",
    "bad date": 'createdAt:>"2024-99-99"',
    "unknown field": "nosuchfield:iris",
    "dangling escape": "iris\\",
    "over the length limit": "iris " * 300,
}


@pytest.mark.parametrize("case", list(SEARCH_CASES))
def test_a_malformed_search_is_refused(case, reg):
    client = Client()
    with refused(reg, client):
        response = client.get("/api/search", {"q": SEARCH_CASES[case]})
        if response.status_code == 200:
            # bleve reads some of these as plain terms; then it must be a normal result.
            assert "results" in response.json() or "hits" in response.json(), response.json()
        else:
            error_of(response, (400,))
        page = client.get("/search", {"q": SEARCH_CASES[case]})
        assert page.status_code in (200, 400)


@pytest.mark.parametrize("case", [c for c in SEARCH_CASES if c != "over the length limit"])
def test_search_models_raises_only_search_errors(case, reg):
    try:
        search_models(reg.store, SEARCH_CASES[case])
    except SearchError as e:
        assert str(e)


def test_search_paging_out_of_range_is_refused(reg):
    client = Client()
    with refused(reg, client):
        for params in ({"limit": "0"}, {"limit": "100000"}, {"offset": "-1"}, {"limit": "x"}):
            error_of(client.get("/api/search", {"q": "iris", **params}), (400,))


# -- a stored document hand-edited into wrong shapes or types ----------------------------------


def damage(reg: Registry, version: int, case: str) -> tuple[str, ...]:
    """Replace a version document by a broken one; return the words naming the bad field."""
    edit, words = DOCUMENT_CASES[case]
    key = f"mm::{version}"
    doc, cas = reg.store.get(reg.ks.models, key)
    reg.store.replace(reg.ks.models, key, edit(doc), cas=cas)
    get_session_cache().clear()
    return words


@pytest.mark.parametrize("case", list(DOCUMENT_CASES))
def test_loading_a_damaged_document_names_the_bad_field(case, reg):
    words = damage(reg, 1, case)
    with pytest.raises(onnxdoc.DocumentError) as failed:
        reg.load("mm", 1)
    assert mentions(str(failed.value), words), str(failed.value)
    client = Client()
    with refused(reg, client):
        # A damaged document is the server's problem, not the request's: a handled 500
        # that says which field is wrong (catalog.web.errors.catalog_errors).
        twin = client.get("/models/mm/v/1/download.onnx", {"format": "json"})
        message = error_of(twin, (500,))
        assert "damaged" in message and mentions(message, words), message
        still_serving(client)  # version 2 is intact


def test_the_error_page_names_the_bad_field_of_a_damaged_document(reg):
    words = damage(reg, 1, "opType is a number")
    page = Client().get("/models/mm/v/1/download.onnx")
    assert page.status_code == 500 and mentions(page.content.decode(), words)


def test_the_inference_api_names_the_bad_field_of_a_damaged_document(reg):
    words = damage(reg, 1, "opType is a number")
    client = Client(raise_request_exception=False)
    with refused(reg, client):
        response = client.post(
            "/v2/models/mm/versions/1/infer",
            json.dumps({"inputs": X([1, 4], GOOD_ROW)}),
            content_type="application/json",
        )
        assert response.status_code >= 400
        message = response.json().get("error", "")
        assert mentions(message, words), (response.status_code, message)


# -- each limit is enforced (catalog.domain.limits names them) ---------------------------------------


def slow_model() -> bytes:
    """Return a model whose first node takes tens of milliseconds: X [1, 4] -> 16M floats."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    shape = numpy_helper.from_array(np.array([2000, 2000, 4], dtype=np.int64), "shape")
    graph = helper.make_graph(
        [
            helper.make_node("Expand", ["X", "shape"], ["big"]),
            helper.make_node("ReduceSum", ["big"], ["Y"], keepdims=0),
        ],
        "slow",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [])],
        [shape],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9
    ).SerializeToString()


def test_the_prediction_time_limit_stops_a_long_run(reg, settings):
    reg.publish("slow", slow_model())
    client = Client()
    assert infer(client, "slow", X([1, 4], GOOD_ROW)).status_code == 200
    before = counts(reg)
    settings.CATALOG_PREDICT_TIMEOUT_S = 0.001
    message = error_of(infer(client, "slow", X([1, 4], GOOD_ROW)), (503,))
    assert "longer than" in message
    assert counts(reg) == before
    # The server still serves once the limit is a sane one again (a 1 ms limit would also
    # stop the small model on a busy machine).
    settings.CATALOG_PREDICT_TIMEOUT_S = 30
    still_serving(client)


def test_the_query_time_limit_stops_a_long_statement(reg, settings, monkeypatch):

    settings.CATALOG_QUERY_TIMEOUT_S = 1e-6
    statement = "SELECT COUNT(*) FROM models a, models b, models c, ARRAY_RANGE(0, 2000) AS r"
    client = Client()
    with refused(reg, client):
        message = error_of(client.get("/api/query", {"statement": statement}), (400,))
        assert mentions(message, ("time", "timed out", "took longer")), message


def test_the_session_cache_stays_within_its_memory_limit(reg, settings):
    for _ in range(4):
        reg.publish("cached", good())
    settings.CATALOG_SESSION_CACHE_MB = 0.3
    client = Client()
    for version in range(1, 5):
        response = client.post(
            f"/v2/models/cached/versions/{version}/infer",
            json.dumps({"inputs": X([1, 4], GOOD_ROW)}),
            content_type="application/json",
        )
        assert response.status_code == 200
        cache = get_session_cache()
        assert cache.used_bytes <= cache.max_bytes, (cache.used_bytes, cache.max_bytes)
    assert len(get_session_cache().cached_keys()) <= 1
