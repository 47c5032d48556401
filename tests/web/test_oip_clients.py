"""The real tritonclient (HTTP and gRPC), default settings, against the catalog's servers.

HTTP: gunicorn serving catalog.shell.wsgi (the fast path in front of Django) in a
subprocess. gRPC: the gRPC server in this process on a free port. Both read one embedded
store in a temporary directory, published here: an iris classifier (two versions and a
``production`` alias), and small ONNX models for FP32, INT64, BOOL, BYTES and two inputs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as triton_grpc  # noqa: E402
import tritonclient.http as triton_http  # noqa: E402
from django.test import override_settings
from tritonclient.utils import InferenceServerException  # noqa: E402

from catalog.domain.registry import Registry
from catalog.store import open_store
from tests.inference.test_inference_support import publish_iris
from tests.models import iris
from tests.web import oip_binary_cases as models

ROOT = Path(__file__).resolve().parents[2]
X = iris()[0][[0, 60, 120]]  # one row of each class


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    """Return an embedded store with the test models published."""
    from sklearn.linear_model import LogisticRegression

    path = tmp_path_factory.mktemp("oip") / "catalog.sqlite3"
    url = f"embedded://{path}"
    reg = Registry(open_store(url))
    publish_iris(reg, "iris", alias="production")  # version 1
    X_all, y_all = iris()
    publish_iris(reg, "iris", LogisticRegression(C=0.01, max_iter=500).fit(X_all, y_all))
    reg.publish("scale", models.scale_fp32())
    reg.publish("add-one", models.add_one_int64())
    reg.publish("negate", models.negate_bool())
    reg.publish("exclaim", models.exclaim_bytes())
    reg.publish("two-inputs", models.two_inputs())
    reg.store.close()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _has_control_socket() -> bool:
    """Return True when gunicorn opens a control socket (24+), which tests turn off."""
    import gunicorn.config

    return hasattr(gunicorn.config, "ControlSocketDisable")


@pytest.fixture(scope="module")
def http_url(store_url, tmp_path_factory):
    """Serve catalog.shell.wsgi with gunicorn on a free port; return host:port."""
    port = free_port()
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "CATALOG_STORE": store_url,
        "CATALOG_VAR_DIR": str(var),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "catalog.shell.settings",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "catalog.shell.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--worker-class", "gthread", "--threads", "4"]
        + ["--log-level", "warning"]
        + (["--no-control-socket"] if _has_control_socket() else []),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(var / "gunicorn.log").open("w"),
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if triton_http.InferenceServerClient(address).is_server_live():
                    break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((var / "gunicorn.log").read_text()) from None
                time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def grpc_url(store_url):
    """Start the gRPC server in this process on a free port; return host:port."""
    from inference.grpc.server import build_server

    with override_settings(CATALOG_STORE=store_url):
        server, port = build_server("127.0.0.1:0", threads=4)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            server.stop(0).wait()


class Client:
    """One tritonclient (HTTP or gRPC) with the few differences between them smoothed."""

    def __init__(self, kind: str, address: str):
        self.kind = kind
        self.lib = triton_http if kind == "http" else triton_grpc
        self.client = self.lib.InferenceServerClient(address)

    def json(self, method: str, *args, **kwargs):
        """Return a metadata call's answer as JSON (gRPC: int64 values become strings)."""
        if self.kind == "grpc":
            kwargs["as_json"] = True
        return getattr(self.client, method)(*args, **kwargs)

    def infer(self, model: str, arrays: dict[str, np.ndarray], datatypes: dict, **kwargs):
        inputs = []
        for name, array in arrays.items():
            tensor = self.lib.InferInput(name, list(array.shape), datatypes[name])
            tensor.set_data_from_numpy(array)  # the default: binary data
            inputs.append(tensor)
        return self.client.infer(model, inputs, **kwargs)


@pytest.fixture(params=["http", "grpc"])
def triton(request) -> Client:
    address = request.getfixturevalue(f"{request.param}_url")
    return Client(request.param, address)


def ints(values) -> list[int]:
    return [int(v) for v in values]


def local_run(store_url: str, name: str, version: int, feeds: dict) -> list[np.ndarray]:
    """Return what onnxruntime computes for a stored version, in this process."""
    data = Registry(open_store(store_url)).load_bytes(name, version)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)


# -- server and model information ---------------------------------------------------------


def test_the_server_is_live_and_ready_and_names_its_extensions(triton):
    assert triton.client.is_server_live() and triton.client.is_server_ready()
    meta = triton.json("get_server_metadata")
    assert meta["name"] == "onnx-model-catalog"
    assert "binary_tensor_data" in meta["extensions"]


def test_models_are_ready_by_version_and_alias(triton):
    assert triton.client.is_model_ready("iris")
    assert triton.client.is_model_ready("iris", "1")
    assert triton.client.is_model_ready("iris", "production")


def test_model_metadata_lists_versions_inputs_and_outputs(triton):
    meta = triton.json("get_model_metadata", "iris")
    assert meta["name"] == "iris" and meta["versions"] == ["1", "2"]
    assert [(t["name"], t["datatype"], ints(t["shape"])) for t in meta["inputs"]] == [
        ("X", "FP32", [-1, 4])
    ]
    outputs = {t["name"]: (t["datatype"], ints(t["shape"])) for t in meta["outputs"]}
    assert outputs == {"label": ("INT64", [-1]), "probabilities": ("FP32", [-1, 3])}


def test_model_config_is_derived_from_the_onnx_signature(triton):
    answer = triton.json("get_model_config", "two-inputs", "1")
    config = answer["config"] if triton.kind == "grpc" else answer
    assert config["name"] == "two-inputs" and config["platform"] == "onnxruntime_onnx"
    assert int(config["max_batch_size"]) > 0  # every tensor has a dynamic first dimension
    inputs = {t["name"]: (t["data_type"], ints(t["dims"])) for t in config["input"]}
    assert inputs == {"A": ("TYPE_FP32", [2]), "B": ("TYPE_INT64", [2])}
    outputs = {t["name"]: (t["data_type"], ints(t["dims"])) for t in config["output"]}
    assert outputs == {"SUM": ("TYPE_FP32", [2]), "TWICE": ("TYPE_INT64", [2])}


def test_bytes_inputs_are_type_string_in_the_config(triton):
    answer = triton.json("get_model_config", "exclaim")
    config = answer["config"] if triton.kind == "grpc" else answer
    assert config["input"][0]["data_type"] == "TYPE_STRING"


def test_the_repository_index_lists_every_version(triton):
    answer = triton.json("get_model_repository_index")
    rows = answer["models"] if triton.kind == "grpc" else answer
    versions = {(r["name"], r["version"]) for r in rows}
    assert {("iris", "1"), ("iris", "2"), ("scale", "1"), ("exclaim", "1")} <= versions
    assert {r["state"] for r in rows} == {"READY"}


# -- inference ---------------------------------------------------------------------------


def test_a_classifier_returns_its_labels_and_probabilities(triton, store_url):
    result = triton.infer("iris", {"X": X}, {"X": "FP32"}, model_version="1")
    label, probabilities = local_run(store_url, "iris", 1, {"X": X})
    assert result.as_numpy("label").tolist() == label.tolist() == [0, 1, 2]
    np.testing.assert_allclose(result.as_numpy("probabilities"), probabilities, rtol=1e-6)


def test_versions_are_chosen_by_number_and_alias(triton, store_url):
    def version_and_scores(**kwargs):
        result = triton.infer("iris", {"X": X}, {"X": "FP32"}, **kwargs)
        response = (
            result.get_response(as_json=True) if triton.kind == "grpc" else result.get_response()
        )
        return response["model_version"], result.as_numpy("probabilities")

    v1, p1 = version_and_scores(model_version="1")
    alias, p_alias = version_and_scores(model_version="production")
    latest, p_latest = version_and_scores()
    assert (v1, alias, latest) == ("1", "1", "2")
    np.testing.assert_array_equal(p1, p_alias)
    assert not np.allclose(p1, p_latest)  # version 2 is another model
    np.testing.assert_allclose(p_latest, local_run(store_url, "iris", 2, {"X": X})[1], rtol=1e-6)


@pytest.mark.parametrize(
    ("model", "datatype", "array", "expected"),
    [
        ("scale", "FP32", np.array([[1.5, -2, 0]], np.float32), np.array([[3, -4, 0]], np.float32)),
        ("add-one", "INT64", np.array([[1, -5, 2**40]], np.int64), np.array([[2, -4, 2**40 + 1]])),
        ("negate", "BOOL", np.array([[True, False]]), np.array([[False, True]])),
        (
            "exclaim",
            "BYTES",
            np.array([b"ab", "été".encode()], dtype=object),
            np.array([b"ab!", "été!".encode()], dtype=object),
        ),
    ],
)
def test_each_datatype_round_trips_in_binary(triton, model, datatype, array, expected):
    result = triton.infer(model, {"X": array}, {"X": datatype})
    got = result.as_numpy("Y")
    assert got.shape == expected.shape and got.tolist() == expected.tolist()


def test_json_tensors_work_too_over_http(http_url):
    client = triton_http.InferenceServerClient(http_url)
    tensor = triton_http.InferInput("X", [2], "BYTES")
    tensor.set_data_from_numpy(np.array([b"x", b"yz"], dtype=object), binary_data=False)
    out = triton_http.InferRequestedOutput("Y", binary_data=False)
    result = client.infer("exclaim", [tensor], outputs=[out])
    assert result.get_response()["outputs"][0]["data"] == ["x!", "yz!"]
    assert result.as_numpy("Y").tolist() == ["x!", "yz!"]  # JSON gives tritonclient str
    features = triton_http.InferInput("X", list(X.shape), "FP32")
    features.set_data_from_numpy(X, binary_data=False)
    out = triton_http.InferRequestedOutput("label", binary_data=False)
    result = client.infer("iris", [features], outputs=[out], model_version="1")
    assert result.get_response()["outputs"][0]["data"] == [0, 1, 2]


def test_a_model_with_two_inputs_and_two_outputs(triton):
    a = np.array([[0.5, 1.5], [2.0, -1.0]], np.float32)
    b = np.array([[1, 2], [3, 4]], np.int64)
    result = triton.infer("two-inputs", {"A": a, "B": b}, {"A": "FP32", "B": "INT64"})
    np.testing.assert_array_equal(result.as_numpy("SUM"), a + b)
    np.testing.assert_array_equal(result.as_numpy("TWICE"), 2 * b)


def test_only_the_requested_outputs_are_returned(triton):
    a = np.ones((1, 2), np.float32)
    b = np.ones((1, 2), np.int64)
    inputs = []
    for name, array, dt in (("A", a, "FP32"), ("B", b, "INT64")):
        tensor = triton.lib.InferInput(name, [1, 2], dt)
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    result = triton.client.infer(
        "two-inputs", inputs, outputs=[triton.lib.InferRequestedOutput("TWICE")]
    )
    assert result.as_numpy("TWICE").tolist() == [[2, 2]] and result.as_numpy("SUM") is None


def test_statistics_count_this_process_requests(triton):
    triton.infer("negate", {"X": np.array([[True, True]])}, {"X": "BOOL"})
    answer = triton.json("get_inference_statistics", "negate")
    row = answer["model_stats"][0]
    assert row["name"] == "negate" and row["version"] == "1"
    assert int(row["execution_count"]) >= 1
    assert int(row["inference_stats"]["success"]["count"]) >= 1
    assert int(row["inference_stats"]["compute_infer"]["ns"]) > 0


def test_errors_are_404_and_400_statuses(triton):
    with pytest.raises(InferenceServerException) as missing:
        triton.infer("no-such-model", {"X": X}, {"X": "FP32"})
    with pytest.raises(InferenceServerException) as wrong_type:
        triton.infer("iris", {"X": X.astype(np.float64)}, {"X": "FP64"})
    if triton.kind == "http":
        assert (missing.value.status(), wrong_type.value.status()) == ("404", "400")
    else:
        assert missing.value.status() == "StatusCode.NOT_FOUND"
        assert wrong_type.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "FP32" in wrong_type.value.message()


# -- gRPC only: typed contents, access tokens, the .proto against tritonclient's -------------


def grpc_call(address: str, rpc: str, request, metadata=()):
    from inference.grpc import protocol

    _, response_name = protocol.METHODS[rpc]
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(
            protocol.method_path(rpc),
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=protocol.message(response_name).FromString,
        )
        return call(request, metadata=metadata, timeout=30)


def test_grpc_typed_contents_are_accepted(grpc_url):
    from inference.grpc import protocol

    request = protocol.message("ModelInferRequest")(model_name="add-one", id="req-7")
    tensor = request.inputs.add(name="X", datatype="INT64", shape=[2, 3])
    tensor.contents.int64_contents.extend([1, 2, 3, 4, 5, 6])
    response = grpc_call(grpc_url, "ModelInfer", request)
    assert response.id == "req-7" and response.model_version == "1"
    (raw,) = response.raw_output_contents
    assert np.frombuffer(raw, "<i8").tolist() == [2, 3, 4, 5, 6, 7]


def test_grpc_raw_and_typed_contents_cannot_be_mixed(grpc_url):
    from inference.grpc import protocol

    request = protocol.message("ModelInferRequest")(model_name="add-one")
    tensor = request.inputs.add(name="X", datatype="INT64", shape=[1, 3])
    tensor.contents.int64_contents.extend([1, 2, 3])
    request.raw_input_contents.append(np.array([1, 2, 3], "<i8").tobytes())
    with pytest.raises(grpc.RpcError) as error:
        grpc_call(grpc_url, "ModelInfer", request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_grpc_truncated_raw_contents_are_invalid_argument(grpc_url):
    client = triton_grpc.InferenceServerClient(grpc_url)
    tensor = triton_grpc.InferInput("X", [2, 3], "FP32")
    tensor.set_data_from_numpy(np.zeros((2, 3), np.float32))
    tensor._raw_content = tensor._raw_content[:-4]  # what a broken client would send
    with pytest.raises(InferenceServerException) as error:
        client.infer("scale", [tensor])
    assert error.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "20 bytes" in error.value.message()


@pytest.mark.django_db(transaction=True)
def test_grpc_needs_a_valid_token_when_reads_are_private(grpc_url, django_user_model):
    from catalog.domain.tokens import create_token

    django_user_model.objects.create_user("reader", password="x")
    token = create_token("reader")
    client = triton_grpc.InferenceServerClient(grpc_url)
    with override_settings(CATALOG_PUBLIC_READS=False):
        assert client.is_server_live()  # health stays open for probes
        for headers in (None, {"authorization": "Bearer mct_not-a-token"}):
            with pytest.raises(InferenceServerException) as error:
                client.get_model_metadata("iris", headers=headers)
            assert error.value.status() == "StatusCode.UNAUTHENTICATED"
        meta = client.get_model_metadata("iris", headers={"authorization": f"Bearer {token}"})
        assert meta.name == "iris"


def test_the_proto_matches_tritonclients_field_for_field():
    """Every message the catalog declares has tritonclient's names, numbers and types."""
    from google.protobuf import descriptor_pool
    from tritonclient.grpc import model_config_pb2, service_pb2  # noqa: F401  (fill the pool)

    from inference.grpc import protocol

    theirs = descriptor_pool.Default()
    checked = 0
    for file in protocol.descriptor_set().file:
        ours_file = protocol.pool().FindFileByName(file.name)
        stack = list(ours_file.message_types_by_name.values())
        while stack:
            ours = stack.pop()
            stack.extend(ours.nested_types)
            if ours.GetOptions().map_entry:
                continue
            other = theirs.FindMessageTypeByName(ours.full_name)
            for field in ours.fields:
                match = other.fields_by_name.get(field.name)
                assert match is not None, f"{ours.full_name}.{field.name}"
                assert (field.number, field.type) == (match.number, match.type), field.full_name
                checked += 1
        service = ours_file.services_by_name["GRPCInferenceService"]
        their_service = theirs.FindServiceByName("inference.GRPCInferenceService")
        for method in service.methods:
            match = their_service.methods_by_name[method.name]
            assert method.input_type.full_name == match.input_type.full_name
            assert method.output_type.full_name == match.output_type.full_name
    assert checked > 80


def test_the_serve_grpc_command_serves_until_terminated(store_url, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "CATALOG_STORE": store_url,
        "CATALOG_VAR_DIR": str(tmp_path),
        "CATALOG_WARM_MODELS": "iris:production",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "catalog", "serve-grpc", "--host", "127.0.0.1"]
        + ["--port", str(port), "--threads", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = server.stdout.readline()  # printed once it listens, after warming
        assert f"127.0.0.1:{port}" in banner and "warmed iris v1" in banner, banner
        client = triton_grpc.InferenceServerClient(f"127.0.0.1:{port}")
        assert client.is_server_live() and client.is_model_ready("iris", "production")
    finally:
        server.terminate()
        assert server.wait(30) == 0
