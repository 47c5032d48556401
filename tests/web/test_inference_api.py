"""The Open Inference Protocol v2 REST API, through real HTTP requests."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from django.test import Client
from onnx import TensorProto

from tests.inference.test_inference_support import (
    add_model,
    identity_model,
    infer_body,
    iris_model_fixture,  # noqa: F401
    post_json,
    publish_iris,
    reg_fixture,  # noqa: F401
)
from tests.models import iris, matmul_model

INFER = "/v2/models/iris/infer"


def test_health_and_server_metadata(client, reg):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    body = client.get("/v2").json()
    assert body["name"] == "onnx-model-catalog"
    assert body["extensions"] == [
        "binary_tensor_data",
        "model_configuration",
        "model_repository",
        "statistics",
    ]
    assert "version" in body


def test_model_metadata_lists_versions_types_and_shapes(client, iris_model):
    publish_iris(iris_model)
    body = client.get("/v2/models/iris").json()
    assert body["name"] == "iris"
    assert body["versions"] == ["1", "2"]
    assert body["platform"] == "onnx"
    assert body["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]
    assert body["outputs"] == [
        {"name": "label", "datatype": "INT64", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]},
    ]
    assert body["parameters"]["version"] == "2"
    assert client.get("/v2/models/iris/versions/1").json()["parameters"]["version"] == "1"
    assert client.get("/v2/models/iris/versions/latest").json()["parameters"]["version"] == "2"


def test_model_ready_builds_the_session(client, iris_model):
    assert client.get("/v2/models/iris/ready").json() == {
        "name": "iris",
        "version": "1",
        "ready": True,
    }
    assert client.get("/v2/models/iris/versions/1/ready").status_code == 200
    assert client.get("/v2/models/iris/versions/latest/ready").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/v2/models/nope",
        "/v2/models/nope/ready",
        "/v2/models/iris/versions/9",
        "/v2/models/iris/versions/9/ready",
        "/v2/models/iris/versions/production",
        "/v2/models/bad%20name",
    ],
)
def test_unknown_models_versions_and_aliases_are_404(client, iris_model, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/v2/models/nope/infer",
        "/v2/models/iris/versions/7/infer",
        "/v2/models/iris/versions/staging/infer",
    ],
)
def test_infer_on_unknown_model_version_or_alias_is_404(client, iris_model, url):
    response = post_json(client, url, infer_body(iris()[0][:1]))
    assert response.status_code == 404
    assert response.json()["error"]


def test_infer_returns_labels_and_probabilities(client, iris_model):
    X, y = iris()
    response = post_json(client, INFER, infer_body(X[:5], id="req-1"))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "req-1"
    assert body["model_name"] == "iris" and body["model_version"] == "1"
    label, proba = body["outputs"]
    assert label == {"name": "label", "datatype": "INT64", "shape": [5], "data": y[:5].tolist()}
    assert proba["name"] == "probabilities" and proba["datatype"] == "FP32"
    assert proba["shape"] == [5, 3] and len(proba["data"]) == 15
    assert math.isclose(sum(proba["data"][:3]), 1.0, rel_tol=1e-5)
    assert "parameters" not in body  # no prediction log by default


def test_infer_accepts_flat_and_nested_data_alike(client, iris_model):
    X, _ = iris()
    nested = post_json(client, INFER, infer_body(X[:2])).json()
    flat = infer_body(X[:2])
    flat["inputs"][0]["data"] = X[:2].ravel().tolist()
    assert post_json(client, INFER, flat).json() == nested


def test_infer_on_a_version_number_or_alias(client, iris_model):
    publish_iris(iris_model)
    iris_model.set_alias("iris", "production", 1)
    row = infer_body(iris()[0][:1])
    assert post_json(client, "/v2/models/iris/versions/1/infer", row).json()["model_version"] == "1"
    assert (
        post_json(client, "/v2/models/iris/versions/production/infer", row).json()["model_version"]
        == "1"
    )
    assert post_json(client, INFER, row).json()["model_version"] == "2"


def test_outputs_selection(client, iris_model):
    body = infer_body(iris()[0][:2], outputs=[{"name": "probabilities"}])
    outputs = post_json(client, INFER, body).json()["outputs"]
    assert [o["name"] for o in outputs] == ["probabilities"]


def test_parameters_are_accepted(client, iris_model):
    body = infer_body(iris()[0][:1], parameters={"content_type": "np"})
    body["inputs"][0]["parameters"] = {"content_type": "np"}
    assert post_json(client, INFER, body).status_code == 200


def _error(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outputs": [{"name": "nope"}]}, "no output 'nope'"),
        ({"outputs": [{}]}, "needs a 'name'"),
        ({"outputs": "label"}, "'outputs' must be a list"),
        ({"id": 5}, "'id' must be a string"),
        ({"parameters": []}, "'parameters' must be an object"),
    ],
)
def test_bad_request_fields_are_400(client, iris_model, change, message):
    body = infer_body(iris()[0][:1]) | change
    assert message in _error(post_json(client, INFER, body))


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ({"datatype": "FP64"}, "datatype FP64 does not match the model's FP32"),
        ({"datatype": "FLOAT"}, "unknown datatype 'FLOAT'"),
        ({"shape": [4], "data": [1, 2, 3, 4]}, "rank 1"),
        ({"shape": [1, 1, 4], "data": [[[1, 2, 3, 4]]]}, "rank 3"),
        ({"shape": [1, 3], "data": [1, 2, 3]}, "dimension 1 is 3, the model needs 4"),
        ({"shape": [1, 4], "data": [1, 2, 3]}, "needs 4 values, got 3"),
        ({"shape": [2, 4], "data": [[1, 2, 3, 4], [1, 2, 3]]}, "ragged"),
        ({"shape": [2, 2], "data": [[1, 2], [3, 4]]}, "dimension 1 is 2"),
        ({"shape": [1, 4], "data": [["1", "2", "3", "4"]]}, "must be numbers, not strings"),
        ({"shape": [1, 4], "data": [1, 2, "x", 4]}, "must be numbers, not strings"),
        ({"shape": [1, 4], "data": [1, 2, None, 4]}, "numbers only"),
        ({"shape": [1, 4], "data": [True, False, True, True]}, "not true/false"),
        ({"shape": [1, 4], "data": "1,2,3,4"}, "'data' must be a (flat or nested) list"),
        ({"shape": [0, 4], "data": []}, "is empty"),
        ({"shape": "1x4"}, "'shape' must be a list of non-negative integers"),
        ({"shape": [1, -4]}, "'shape' must be a list of non-negative integers"),
        ({"name": "Z"}, "has no input 'Z'"),
    ],
)
def test_bad_inputs_are_400_with_a_message(client, iris_model, tensor, message):
    body = infer_body(iris()[0][:1])
    body["inputs"][0].update(tensor)
    assert message in _error(post_json(client, INFER, body))


def test_missing_data_is_400(client, iris_model):
    body = infer_body(iris()[0][:1])
    del body["inputs"][0]["data"]
    assert "has no 'data'" in _error(post_json(client, INFER, body))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "body is empty"),
        ("{not json", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({}, "'inputs' must be a non-empty list"),
        ({"inputs": []}, "'inputs' must be a non-empty list"),
        ({"inputs": [5]}, "inputs[0] must be an object"),
        ({"inputs": [{"datatype": "FP32"}]}, "needs a 'name'"),
    ],
)
def test_malformed_bodies_are_400(client, iris_model, body, message):
    assert message in _error(post_json(client, INFER, body))


def test_missing_and_repeated_inputs_are_400(client, reg):
    reg.publish("add", add_model())
    a = {"name": "A", "datatype": "FP32", "shape": [3], "data": [1, 2, 3]}
    b = {"name": "B", "datatype": "FP32", "shape": [3], "data": [10, 20, 30]}
    ok = post_json(client, "/v2/models/add/infer", {"inputs": [a, b]}).json()
    assert ok["outputs"][0]["data"] == [11, 22, 33]
    assert "missing input 'B'" in _error(post_json(client, "/v2/models/add/infer", {"inputs": [a]}))
    assert "given twice" in _error(post_json(client, "/v2/models/add/infer", {"inputs": [a, a, b]}))


def test_batch_over_the_limit_is_400(client, iris_model, settings):
    settings.CATALOG_MAX_BATCH = 10
    X, _ = iris()
    assert post_json(client, INFER, infer_body(X[:10])).status_code == 200
    assert "over the limit of 10" in _error(post_json(client, INFER, infer_body(X[:11])))


def test_nan_is_accepted_for_float_inputs_and_returned_as_null(client, reg):
    reg.publish("mm", matmul_model(2, 2))
    body = (
        '{"inputs": [{"name": "X", "datatype": "FP32", "shape": [2, 2],'
        ' "data": [NaN, 1, 2, Infinity]}]}'
    )
    response = post_json(client, "/v2/models/mm/infer", body)
    assert response.status_code == 200
    data = response.json()["outputs"][0]["data"]
    assert data[0] is None and data[1] is None  # NaN row stays NaN: JSON null
    assert json.loads(response.content)  # strict JSON: no NaN tokens


def test_nan_and_floats_are_refused_for_integer_inputs(client, reg):
    reg.publish("ints", identity_model(TensorProto.INT64))
    url = "/v2/models/ints/infer"
    nan = '{"inputs": [{"name": "X", "datatype": "INT64", "shape": [1, 2], "data": [1, NaN]}]}'
    assert "must be integers" in _error(post_json(client, url, nan))
    body = {"inputs": [{"name": "X", "datatype": "INT64", "shape": [1, 2], "data": [1, 2.5]}]}
    assert "must be integers" in _error(post_json(client, url, body))


DATATYPES = [
    ("BOOL", TensorProto.BOOL, [True, False, False, True]),
    ("UINT8", TensorProto.UINT8, [0, 1, 254, 255]),
    ("UINT16", TensorProto.UINT16, [0, 1, 2, 65535]),
    ("UINT32", TensorProto.UINT32, [0, 1, 2, 4294967295]),
    ("UINT64", TensorProto.UINT64, [0, 1, 2, 18446744073709551615]),
    ("INT8", TensorProto.INT8, [-128, -1, 0, 127]),
    ("INT16", TensorProto.INT16, [-32768, -1, 0, 32767]),
    ("INT32", TensorProto.INT32, [-2147483648, -1, 0, 2147483647]),
    ("INT64", TensorProto.INT64, [-9223372036854775808, -1, 0, 9223372036854775807]),
    ("FP16", TensorProto.FLOAT16, [0.5, -1.0, 2.0, 65504.0]),
    ("FP32", TensorProto.FLOAT, [0.5, -1.25, 3.0e38, 1e-30]),
    ("FP64", TensorProto.DOUBLE, [0.1, -1.25, 1e300, 5e-324]),
    ("BYTES", TensorProto.STRING, ["a", "b", "été", ""]),
]


@pytest.mark.parametrize(
    ("datatype", "elem_type", "data"), DATATYPES, ids=[d[0] for d in DATATYPES]
)
def test_every_datatype_round_trips(client, reg, datatype, elem_type, data):
    reg.publish("id", identity_model(elem_type))
    body = {
        "id": datatype,
        "inputs": [{"name": "X", "datatype": datatype, "shape": [2, 2], "data": data}],
    }
    response = post_json(client, "/v2/models/id/infer", body)
    assert response.status_code == 200, response.content
    out = response.json()["outputs"][0]
    assert out["datatype"] == datatype and out["shape"] == [2, 2]
    if datatype in ("FP16", "FP32"):
        assert np.allclose(out["data"], data, rtol=1e-3)
    else:
        assert out["data"] == data
    assert post_json(client, "/v2/models/id", None).status_code == 405
    meta = client.get("/v2/models/id").json()
    assert meta["inputs"][0]["datatype"] == datatype


@pytest.mark.parametrize(
    ("datatype", "elem_type", "data", "message"),
    [
        ("UINT8", TensorProto.UINT8, [0, 256], "out of range for UINT8"),
        ("INT8", TensorProto.INT8, [-129, 0], "out of range for INT8"),
        ("UINT32", TensorProto.UINT32, [-1, 0], "out of range for UINT32"),
        ("BOOL", TensorProto.BOOL, [0, 1], "must be true/false"),
        ("BYTES", TensorProto.STRING, [1, 2], "BYTES data must be strings"),
    ],
)
def test_values_the_datatype_cannot_hold_are_400(client, reg, datatype, elem_type, data, message):
    reg.publish("id", identity_model(elem_type))
    body = {"inputs": [{"name": "X", "datatype": datatype, "shape": [1, 2], "data": data}]}
    assert message in _error(post_json(client, "/v2/models/id/infer", body))


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("get", INFER, "POST"),
        ("put", INFER, "POST"),
        ("post", "/v2/models/iris", "GET"),
        ("post", "/v2/models/iris/ready", "GET"),
        ("delete", "/v2/health/live", "GET"),
        ("post", "/v2", "GET"),
        ("post", "/api/openapi.json", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(client, iris_model, method, url, allow):
    response = getattr(client, method)(url)
    assert _error(response, 405).startswith("method")
    assert response["Allow"] == allow


def test_the_api_is_csrf_exempt(iris_model):
    client = Client(enforce_csrf_checks=True)
    response = post_json(client, INFER, infer_body(iris()[0][:1]))
    assert response.status_code == 200


def test_body_over_the_upload_limit_is_413(client, iris_model, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    X, _ = iris()
    assert "too large" in _error(post_json(client, INFER, infer_body(X)), 413)


@pytest.mark.django_db
def test_private_catalogs_need_a_token_to_predict(client, iris_model, settings):
    from django.contrib.auth import get_user_model

    from catalog.domain.tokens import create_token

    settings.CATALOG_PUBLIC_READS = False
    body = infer_body(iris()[0][:1])
    assert post_json(client, INFER, body).status_code == 401
    assert client.get("/v2/health/live").status_code == 200  # probes stay open
    get_user_model().objects.create_user("reader")
    token = create_token("reader")
    response = client.post(
        INFER,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    bad = client.post(
        INFER,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": "Bearer nope"},
    )
    assert bad.status_code == 401


def chain_model(links: int, size: int):
    """Return Y = X @ W @ W ... (``links`` MatMul nodes): slow enough to time out."""
    from onnx import helper, numpy_helper

    w = (np.eye(size) * 0.5).astype(np.float32)
    nodes = [
        helper.make_node(
            "MatMul", ["X" if i == 0 else f"h{i}", "W"], ["Y" if i == links - 1 else f"h{i + 1}"]
        )
        for i in range(links)
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", size])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", size])],
        [numpy_helper.from_array(w, "W")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def test_a_run_over_the_time_limit_is_stopped_with_503(client, reg, settings):
    reg.publish("chain", chain_model(300, 256))
    settings.CATALOG_PREDICT_TIMEOUT_S = 0.05
    body = infer_body(np.ones((512, 256), np.float32))
    response = post_json(client, "/v2/models/chain/infer", body)
    assert response.status_code == 503
    assert "longer than 0.05 s" in response.json()["error"]
    settings.CATALOG_PREDICT_TIMEOUT_S = 0  # no limit
    assert post_json(client, "/v2/models/chain/infer", body).status_code == 200
