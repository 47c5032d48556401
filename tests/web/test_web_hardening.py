"""Request hardening: JSON nested 5,000 deep is a 400 everywhere JSON comes in, and a
multipart upload over the limit is refused while it streams in, before it is read whole."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.test import Client, RequestFactory, override_settings
from onnx import TensorProto, helper

from catalog.domain.jsonbody import JsonBodyError, decode_json, nesting_depth
from catalog.domain.registry import get_registry
from catalog.domain.tokens import create_token
from catalog.shell.wsgi import application
from catalog.web.uploads import LimitedUploadHandler
from tests.models import matmul_model
from tests.web.bad_input_cases import DEEP, DEEP_ARRAY, DEEP_JSON_REQUESTS

pytestmark = pytest.mark.django_db


def relu_3d() -> Any:
    """Return Y = Relu(X), X [N, 2, 2]: its prediction form has a JSON textarea."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["X"], ["Y"])],
        "relu",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2, 2])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


@pytest.fixture
def reg(catalog_store):
    registry = get_registry()
    registry.publish("mm", matmul_model(4, 2))
    registry.publish("cube", relu_3d())
    return registry


@pytest.fixture
def auth(db) -> dict[str, str]:
    User.objects.create_user("writer", password="pw", is_staff=True)
    return {"Authorization": f"Bearer {create_token('writer')}"}


def refused_as_too_deep(response: Any) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == 400 and "nested deeper than" in body["error"], body


# -- the parser ------------------------------------------------------------------------------


def test_the_parser_refuses_deep_nesting_with_a_message():
    for text in (DEEP_ARRAY, '{"a": ' * DEEP + "1" + "}" * DEEP, "[" * 100_000):
        with pytest.raises(JsonBodyError, match="nested deeper than 64 levels"):
            decode_json(text)
    assert decode_json("[" * 64 + "]" * 64) is not None
    with pytest.raises(JsonBodyError):
        decode_json("[" * 65 + "]" * 65)


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"a": "[" * DEEP, "b": '\\"[[[', "c": [[1]]})
    assert nesting_depth(text.encode()) == 3
    assert decode_json(text)["a"] == "[" * DEEP


def test_malformed_json_is_a_json_body_error():
    for text in (b"{", b"\xff\xfe", b"[1, 2", b""):
        with pytest.raises(JsonBodyError, match="malformed JSON"):
            decode_json(text)


# -- every JSON door -------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(DEEP_JSON_REQUESTS))
def test_a_deep_json_body_is_a_400(case, reg, auth):
    method, path, body, write = DEEP_JSON_REQUESTS[case]
    before = {ks: reg.store.count(ks) for ks in reg.ks.all()}
    response = getattr(Client(), method)(
        path, body, content_type="application/json", headers=auth if write else {}
    )
    refused_as_too_deep(response)
    assert {ks: reg.store.count(ks) for ks in reg.ks.all()} == before


def test_deep_query_parameters_are_a_400(reg):
    client = Client()
    refused_as_too_deep(client.get("/api/query", {"statement": "SELECT $1", "params": DEEP_ARRAY}))
    twin = client.get(
        "/workbench", {"statement": "SELECT $1", "params": DEEP_ARRAY, "format": "json"}
    )
    refused_as_too_deep(twin)


def test_a_deep_array_in_the_prediction_form_is_a_message_at_the_field(reg):
    client = Client()
    page = client.post("/models/cube/predict", {"json0": DEEP_ARRAY})
    assert page.status_code == 400
    assert "nested deeper than" in page.content.decode()
    twin = client.post("/models/cube/predict?format=json", {"json0": DEEP_ARRAY})
    assert twin.status_code == 400 and "nested deeper than" in twin.json()["error"]


# -- multipart uploads refused while streaming -----------------------------------------------


class CountingBody(io.RawIOBase):
    """A request body of ``size`` bytes made on the fly; counts what the server reads."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.read_bytes = head, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        if n <= 0:
            return 0
        start = self.read_bytes
        chunk = self.head[start : start + n] if start < len(self.head) else b""
        chunk += b"1,2,3,4\n" * ((n - len(chunk)) // 8 + 1)
        buffer[:n] = chunk[:n]
        self.read_bytes += n
        return n


def post_streamed(
    path: str, size: int, headers: dict[str, str] | None = None
) -> tuple[int, bytes, CountingBody]:
    """POST a multipart CSV upload of ``size`` bytes through the WSGI app; return what came back."""
    boundary = "BoUnDaRy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\na,b,c,d\n"
    ).encode()
    body = CountingBody(head, size)
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": io.BufferedReader(body)},
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
    )
    status: list[str] = []
    chunks = application(environ, lambda s, h, *a: status.append(s))
    content = b"".join(chunks)
    return int(status[0].split()[0]), content, body


@pytest.mark.parametrize(
    "path", ["/api/models/mm/predict.csv", "/api/models/mm/learn", "/api/models/mm/versions"]
)
def test_a_400_mb_multipart_upload_is_refused_before_it_is_read(path, reg, auth):
    status, content, stream = post_streamed(path, 400 * 2**20, auth)
    assert status == 413, content[:300]
    body = json.loads(content)
    assert body["status"] == 413 and "larger than" in body["error"]
    assert stream.read_bytes < 2**20, f"the server read {stream.read_bytes} bytes"


def test_the_batch_page_refuses_a_large_upload_while_streaming(reg):
    secret = "a" * 32  # a CSRF cookie and the same token: the CSRF check reads the form
    headers = {"Cookie": f"csrftoken={secret}", "X-CSRFToken": secret}
    status, content, stream = post_streamed("/models/mm/batch", 400 * 2**20, headers)
    assert status == 413 and stream.read_bytes < 2**20
    assert b"larger than 32 MB" in content


@override_settings(CATALOG_MAX_FILE_UPLOAD_MB=1)
def test_the_file_limit_is_a_setting(reg):
    status, content, stream = post_streamed("/api/models/mm/predict.csv", 2 * 2**20)
    assert status == 413 and "larger than 1 MB" in json.loads(content)["error"]
    assert stream.read_bytes == 0


def test_the_handler_stops_counting_bytes_past_the_limit():
    request = RequestFactory().post("/api/models/mm/predict.csv")
    with override_settings(CATALOG_MAX_FILE_UPLOAD_MB=1):
        handler = LimitedUploadHandler(request)
    chunk = b"x" * 64 * 1024
    passed = 0
    with pytest.raises(RequestDataTooBig, match="larger than 1 MB"):
        for _ in range(100):
            handler.receive_data_chunk(chunk, passed)
            passed += len(chunk)
    assert 2**20 <= passed < 2**20 + 512 * 1024


def test_an_upload_under_the_limit_still_works(reg):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = SimpleUploadedFile("rows.csv", b"a,b,c,d\n1,2,3,4\n", content_type="text/csv")
    response = Client().post("/api/models/mm/predict.csv", {"file": csv})
    assert response.status_code == 200, response.content[:300]
