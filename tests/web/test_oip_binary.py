"""The binary tensor data extension: the codec, the infer view, the WSGI fast path.

The malformed corpus (tests/web/oip_binary_cases.py) goes through both ways in (the Django
view and the fast path in front of it); each request must get a 400 JSON error and
nothing may be logged as a server error.
"""

from __future__ import annotations

import io
import json
import logging
import struct
from typing import Any

import numpy as np
import pytest

from catalog.web.serving import fastpath
from inference import oip, oip_binary
from inference.oip import ProtocolError
from tests.inference.test_inference_support import reg_fixture  # noqa: F401
from tests.web import oip_binary_cases as cases

ALL_TYPES = [t for t in oip.DATATYPES if t != "BYTES"]


@pytest.mark.parametrize("datatype", ALL_TYPES)
def test_every_fixed_size_datatype_round_trips(datatype):
    dtype = oip.NUMPY_TYPES[datatype]
    array = (np.arange(6) % 2 == 1) if datatype == "BOOL" else np.arange(6).astype(dtype)
    array = array.reshape(2, 3)
    raw = oip_binary.encode_tensor(array)
    assert len(raw) == 6 * dtype.itemsize
    back = oip_binary.decode_tensor("X", datatype, [2, 3], raw)
    assert back.dtype == dtype and back.shape == (2, 3)
    assert np.array_equal(back, array)


def test_values_are_little_endian():
    assert oip_binary.encode_tensor(np.array([1], np.int32)) == b"\x01\x00\x00\x00"
    assert oip_binary.decode_tensor("X", "INT32", [1], b"\x00\x01\x00\x00")[0] == 256
    big = np.array([1], dtype=">i4")
    assert oip_binary.encode_tensor(big) == b"\x01\x00\x00\x00"


def test_bytes_have_four_byte_little_endian_length_prefixes():
    raw = oip_binary.encode_tensor(np.array(["ab", "", "été"], dtype=object))
    assert raw == b"\x02\x00\x00\x00ab" + b"\x00" * 4 + struct.pack("<I", 5) + "été".encode()
    back = oip_binary.decode_tensor("X", "BYTES", [3], raw)
    assert back.dtype == object and back.tolist() == ["ab", "", "été"]


def test_any_nonzero_byte_is_true_for_bool():
    back = oip_binary.decode_tensor("X", "BOOL", [3], b"\x00\x01\x07")
    assert back.tolist() == [False, True, True]


def test_a_request_splits_into_json_header_and_inputs():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    head = json.dumps(
        {
            "id": "r1",
            "inputs": [
                {
                    "name": "X",
                    "datatype": "FP32",
                    "shape": [2, 3],
                    "parameters": {"binary_data_size": 24},
                },
                {"name": "Z", "datatype": "INT64", "shape": [1], "data": [7]},
            ],
        }
    ).encode()
    value, tail = oip_binary.split_body(head + x.tobytes(), str(len(head)))
    request = oip_binary.parse_request(value, tail)
    assert request.id == "r1"
    assert np.array_equal(oip.to_array(request.inputs[0]), x)
    assert oip.to_array(request.inputs[1]).tolist() == [7]


def test_without_the_header_the_body_is_plain_json():
    value, tail = oip_binary.split_body(b'{"inputs": []}', None)
    assert value == {"inputs": []} and len(tail) == 0


def test_outputs_are_binary_when_asked_per_output_or_for_all():
    assert not oip_binary.binary_outputs({"inputs": []}).any
    everything = oip_binary.binary_outputs({"parameters": {"binary_data_output": True}})
    assert everything("Y") and everything("Z")
    some = oip_binary.binary_outputs(
        {
            "parameters": {"binary_data_output": True},
            "outputs": [{"name": "Y", "parameters": {"binary_data": False}}, {"name": "Z"}],
        }
    )
    assert not some("Y") and some("Z")
    one = oip_binary.binary_outputs(
        {"outputs": [{"name": "Y", "parameters": {"binary_data": True}}]}
    )
    assert one("Y") and not one("Z")


def test_a_binary_response_has_its_header_length_and_sizes():
    y = np.array([[1.5, 2.5]], np.float32)
    labels = np.array(["a", "bc"], dtype=object)
    body, length = oip_binary.encode_response(
        {"model_name": "m", "model_version": "1"},
        [("Y", y), ("L", labels)],
        oip_binary.BinaryChoice(False, {"Y": True}),
    )
    head = json.loads(body[:length])
    assert head["outputs"][0] == {
        "name": "Y",
        "datatype": "FP32",
        "shape": [1, 2],
        "parameters": {"binary_data_size": 8},
    }
    assert head["outputs"][1]["data"] == ["a", "bc"]
    assert body[length:] == y.tobytes()


def test_plain_json_responses_have_no_header_length():
    body, length = oip_binary.encode_response(
        {"model_name": "m"}, [("Y", np.array([1], np.int64))], oip_binary.BinaryChoice(False, {})
    )
    assert length is None and json.loads(body)["outputs"][0]["data"] == [1]


@pytest.mark.parametrize(
    "raw", [b"\x01\x00", b"\x05\x00\x00\x00ab", struct.pack("<I", 1) + b"\xff"]
)
def test_broken_bytes_elements_are_protocol_errors(raw):
    with pytest.raises(ProtocolError):
        oip_binary.decode_tensor("X", "BYTES", [1], raw)


# -- the corpus through both ways in --------------------------------------------------------


@pytest.fixture
def oip_models(reg):
    reg.publish("scale", cases.scale_fp32())
    reg.publish("exclaim", cases.exclaim_bytes())
    return reg


def test_the_corpus_has_at_least_thirty_cases():
    corpus = cases.cases()
    assert len(corpus) >= 30 and len({c.id for c in corpus}) == len(corpus)


def _error_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("case", cases.cases(), ids=lambda c: c.id)
def test_malformed_binary_requests_get_400_json_from_the_view(client, oip_models, caplog, case):
    extra = {} if case.header is None else {"HTTP_INFERENCE_HEADER_CONTENT_LENGTH": case.header}
    response = client.post(
        f"/v2/models/{case.model}/infer",
        data=case.body,
        content_type="application/octet-stream",
        **extra,
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] and body.get("status", 400) == 400
    assert not _error_records(caplog)


def _not_django(environ, start_response):
    raise AssertionError("the fast path handed the request to Django")


def call_fast_path(path: str, body: bytes, header: str | None, **environ_extra):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        **environ_extra,
    }
    if header is not None:
        environ[oip_binary.ENVIRON_KEY] = header
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    app = fastpath.wrap(_not_django, warm_sessions=False)
    chunks = app(environ, start_response)
    return int(seen["status"].split()[0]), seen["headers"], b"".join(chunks)


@pytest.mark.parametrize("case", cases.cases(), ids=lambda c: c.id)
def test_malformed_binary_requests_get_400_json_from_the_fast_path(oip_models, caplog, case):
    status, headers, body = call_fast_path(f"/v2/models/{case.model}/infer", case.body, case.header)
    assert status == 400, body
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["status"] == 400 and json.loads(body)["error"]
    assert not _error_records(caplog)


def test_the_fast_path_answers_like_the_view(client, oip_models):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "X",
                    "datatype": "FP32",
                    "shape": [2, 3],
                    "parameters": {"binary_data_size": 24},
                }
            ],
            "outputs": [{"name": "Y", "parameters": {"binary_data": True}}],
        }
    ).encode()
    status, headers, fast = call_fast_path(
        "/v2/models/scale/infer", head + x.tobytes(), str(len(head))
    )
    view = client.post(
        "/v2/models/scale/infer",
        data=head + x.tobytes(),
        content_type="application/octet-stream",
        HTTP_INFERENCE_HEADER_CONTENT_LENGTH=str(len(head)),
    )
    assert status == view.status_code == 200
    assert fast == view.content
    length = int(headers[oip_binary.HEADER])
    assert length == int(view[oip_binary.HEADER])
    assert np.array_equal(np.frombuffer(fast[length:], "<f4").reshape(2, 3), 2 * x)
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"):
        assert headers[name] == view[name]


def _behind_recording_django() -> tuple[Any, list[str]]:
    """Return the fast path in front of an app that records the paths handed to it."""
    calls: list[str] = []

    def django(environ, start_response):
        calls.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return [b""]

    return fastpath.wrap(django, warm_sessions=False), calls


def test_the_fast_path_hands_other_requests_to_django(oip_models):
    app, calls = _behind_recording_django()
    base = {"REQUEST_METHOD": "POST", "HTTP_HOST": "testserver", "CONTENT_LENGTH": "2"}
    for extra in (
        {"PATH_INFO": "/v2/models/scale/infer", "HTTP_AUTHORIZATION": "Bearer x"},
        {"PATH_INFO": "/v2/models/scale/infer", "HTTP_HOST": "evil.example"},
        {"PATH_INFO": "/v2/models/scale/ready"},
        {"PATH_INFO": "/v2/models/scale/infer", "REQUEST_METHOD": "GET"},
        {"PATH_INFO": "/v2/models/scale/infer", "CONTENT_LENGTH": ""},
    ):
        app({**base, **extra, "wsgi.input": io.BytesIO(b"{}")}, lambda *a: None)
    assert len(calls) == 5


def test_the_fast_path_refuses_bodies_over_the_limit(oip_models, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    status, _, body = call_fast_path("/v2/models/scale/infer", b"x" * 11, None)
    assert status == 413 and json.loads(body)["status"] == 413


def test_an_unknown_model_is_404_on_the_fast_path(oip_models):
    request = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}]}
    status, _, body = call_fast_path("/v2/models/nope/infer", json.dumps(request).encode(), None)
    assert status == 404 and "nope" in json.loads(body)["error"]


def test_the_fast_path_reads_path_segments_as_utf8_and_hands_bad_ones_to_django(oip_models):
    request = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}]}
    body = json.dumps(request).encode()
    # WSGI gives the path's UTF-8 bytes as latin-1 text; the answer names the decoded name
    wsgi_path = "/v2/models/modèle/infer".encode().decode("latin-1")
    status, _, answer = call_fast_path(wsgi_path, body, None)
    assert status == 404 and "modèle" in json.loads(answer)["error"], answer
    wsgi_path = "/v2/models/scale/versions/é/infer".encode().decode("latin-1")
    status, _, answer = call_fast_path(wsgi_path, body, None)
    assert status == 404 and "é" in json.loads(answer)["error"], answer

    app, calls = _behind_recording_django()
    for path in ("/v2/models/\xff/infer", "/v2/models/scale/versions/\xc3/infer"):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "HTTP_HOST": "testserver",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}  # fmt: skip
        app(environ, lambda *a: None)
    assert calls == ["/v2/models/\xff/infer", "/v2/models/scale/versions/\xc3/infer"]
