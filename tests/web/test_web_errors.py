"""One error mapping: the same status and JSON shape from pages, the catalog API, learning
and OIP; unknown routes and wrong methods under /api/ and /v2/ answer JSON, never HTML."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.test import Client, override_settings

from catalog.domain.jsonbody import JsonBodyError
from catalog.domain.registry import (
    AliasInUse,
    InvalidModel,
    InvalidName,
    ModelNotFound,
    get_registry,
)
from catalog.domain.tokens import create_token
from catalog.onnxdoc import DocumentError
from catalog.store import Conflict, NotFound, QueryError, SearchError, StoreError, StoreUnavailable
from catalog.web.errors import message_of, status_of
from catalog.web.uploads import UploadTooLarge
from inference.learning import DuplicateBatch, NoLearningState
from inference.learning_input import LearningError
from inference.oip import ProtocolError
from inference.policy import PolicyError
from inference.predict import InferenceFailed
from inference.prediction_log import PredictionNotFound
from inference.state import UntrustedState
from tests.models import matmul_model
from tests.web.bad_input_cases import ODD_VERSION_REFS

pytestmark = pytest.mark.django_db


@pytest.fixture
def reg(catalog_store):
    registry = get_registry()
    registry.publish("mm", matmul_model(4, 2))
    return registry


@pytest.fixture
def auth(db) -> dict[str, str]:
    User.objects.create_user("writer", password="pw", is_staff=True)
    return {"Authorization": f"Bearer {create_token('writer')}"}


def json_error(response, status: int) -> str:
    """Return the message of a JSON error of ``status``; check the shape on the way."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"error", "status"}, body
    assert body["status"] == status and isinstance(body["error"], str) and body["error"]
    return body["error"]


# -- the table ---------------------------------------------------------------------------------

TABLE = [
    (ModelNotFound("no model 'x'"), 404),
    (InvalidName("bad name"), 404),
    (PredictionNotFound("no prediction"), 404),
    (NoLearningState("no state"), 404),
    (NotFound("no key"), 404),
    (AliasInUse("in use"), 409),
    (Conflict("cas"), 409),
    (DuplicateBatch("seen"), 409),
    (RequestDataTooBig("big"), 413),
    (UploadTooLarge("the upload is larger than 1 MB"), 413),
    (JsonBodyError("deep"), 400),
    (ProtocolError("bad tensor"), 400),
    (LearningError("bad batch"), 400),
    (PolicyError("bad policy"), 400),
    (InvalidModel("bad onnx"), 400),
    (QueryError("bad statement"), 400),
    (SearchError("bad search"), 400),
    (DocumentError("onnx.graph: not an object"), 500),
    (UntrustedState("untrusted type"), 500),
    (StoreUnavailable("down"), 503),
    (StoreError("broken"), 503),
    (InferenceFailed("took too long", 503), 503),
    (InferenceFailed("runtime failed"), 500),
]


@pytest.mark.parametrize("exc, status", TABLE, ids=[type(e).__name__ for e, _ in TABLE])
def test_each_domain_error_has_one_status(exc, status):
    assert status_of(exc) == status
    assert message_of(exc)


def test_an_unexpected_exception_is_not_mapped():
    assert status_of(KeyError("x")) is None
    assert status_of(RecursionError()) is None


def test_messages_say_what_failed():
    assert message_of(DocumentError("opType: not a string")).startswith("the stored document")
    assert (
        message_of(UploadTooLarge("the upload is larger than 1 MB"))
        == "the upload is larger than 1 MB"
    )
    assert message_of(RequestDataTooBig("x")) == "the request body is too large"


# -- the same shape from every part of the site ----------------------------------------------


def test_a_missing_model_is_the_same_404_everywhere(reg, auth):
    client = Client()
    answers = [
        client.get("/models/nope/", {"format": "json"}),
        client.get("/models/nope/versions", HTTP_ACCEPT="application/json"),
        client.post("/api/models/nope/aliases/production", {"version": 1}, headers=auth),
        client.get("/v2/models/nope"),
        client.post(
            "/v2/models/nope/infer",
            json.dumps(
                {
                    "inputs": [
                        {"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}
                    ]
                }
            ),
            content_type="application/json",
        ),
        client.post("/api/models/nope/learn", b"a,b\n1,2\n", "text/csv", headers=auth),
        client.get("/models/nope/v/1/initializers", {"format": "json"}),
    ]
    for response in answers:
        assert "nope" in json_error(response, 404)


def test_a_missing_model_page_is_an_html_404(reg):
    response = Client().get("/models/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"nope" in response.content


def test_a_damaged_document_is_a_500_that_names_the_field(reg):
    doc, cas = reg.store.get(reg.ks.models, "mm::1")
    doc["onnx"]["graph"]["node"][0]["opType"] = 42
    reg.store.replace(reg.ks.models, "mm::1", doc, cas=cas)
    client = Client()
    for response in (
        client.get("/models/mm/v/1/download.onnx", {"format": "json"}),
        client.get("/v2/models/mm/versions/1"),
    ):
        message = json_error(response, 500)
        assert "damaged" in message and "opType" in message


# -- unknown routes and wrong methods under the APIs -------------------------------------------

UNKNOWN = [
    "/api/nope",
    "/api/",
    "/api",
    "/api/models/mm/nothing-here",
    "/api/models/mm/versions/notanumber",
    "/v2/nope",
    "/v2/models/mm/infer/extra",
    "/v2/",
    "/v2/models/mm/versions/1/nothing",
]


@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_api_route_is_a_json_404(path, method, reg):
    response = getattr(Client(), method)(path)
    assert "no such route" in json_error(response, 404)


@pytest.mark.parametrize("path", ["/api/nope", "/v2/nope", "/api/models/mm/versions"])
def test_an_unknown_api_route_is_json_even_with_debug_on(path, reg):
    with override_settings(DEBUG=True):
        response = Client().get(path + "/x/y")
    json_error(response, 404)


WRONG_METHODS = [
    ("put", "/api/query", "GET, HEAD, POST"),
    ("post", "/api/search", "GET, HEAD"),
    ("delete", "/api/openapi.json", "GET"),
    ("get", "/api/models/mm/learn", "POST"),
    ("get", "/api/models/mm/aliases/production", "POST, PUT, DELETE"),
    ("get", "/api/models/mm/versions", "POST"),
    ("get", "/api/models/mm/versions/1", "DELETE"),
    ("get", "/v2/models/mm/infer", "POST"),
    ("post", "/v2/models/mm", "GET"),
    ("put", "/v2/health/live", "GET"),
    ("get", "/api/predictions/abc/feedback", "POST"),
]


@pytest.mark.parametrize("method, path, allow", WRONG_METHODS)
def test_a_wrong_method_on_an_api_route_is_a_json_405(method, path, allow, reg, auth):
    response = getattr(Client(), method)(path, headers=auth)
    assert json_error(response, 405).startswith("method")
    assert {m.strip() for m in response["Allow"].split(",")} == {
        m.strip() for m in allow.split(",")
    }


def test_a_wrong_method_on_a_page_is_a_405_page_or_its_json_twin(reg):
    client = Client()
    page = client.post("/models/")
    assert page.status_code == 405 and page["Content-Type"].startswith("text/html")
    assert page["Allow"] == "GET, HEAD"
    assert b"not allowed" in page.content
    twin = client.post("/models/?format=json")
    json_error(twin, 405)


def test_known_routes_still_answer(reg):
    client = Client()
    assert client.get("/v2").status_code == 200
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/v2/models/mm").status_code == 200


@pytest.mark.parametrize("ref", ODD_VERSION_REFS)
def test_a_version_that_is_not_an_ascii_number_is_a_404(ref, reg):
    client = Client()
    for response in (
        client.get(f"/models/mm/v/{ref}/", {"format": "json"}),
        client.get(f"/v2/models/mm/versions/{ref}"),
        client.post(f"/api/models/mm/v/{ref}/predict.csv", b"a,b,c,d\n1,2,3,4\n", "text/csv"),
    ):
        json_error(response, 404)
    assert client.get(f"/models/mm/v/{ref}/").status_code == 404


def test_pages_answer_head_as_get_without_a_body(reg):
    # link checkers and uptime monitors send HEAD; a page that answers GET answers it too
    for path in ("/models/", "/models/mm/", "/search?q=mm", "/upload"):
        get, head = Client().get(path), Client().head(path)
        assert head.status_code == get.status_code, path
        assert head["Content-Type"] == get["Content-Type"] and head.content == b"", path
