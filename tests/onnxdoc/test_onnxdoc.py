"""Unit tests of catalog.onnxdoc: ModelProto <-> document, chunks, summary (issue 2, point 4)."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import struct
from pathlib import Path

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from catalog import onnxdoc
from catalog.onnxdoc import summary as summary_module
from tests.onnx_factories import (
    OPSET,
    all_tensors,
    assert_same_model,
    matmul_model,
    mlp_model,
    store_and_load,
    tensor_model,
)

SMALL = 64  # a threshold in bytes that externalizes the test tensors
MiB = 1024 * 1024


def _session(model: onnx.ModelProto):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _external_paths(document: onnxdoc.ModelDocument) -> list[str]:
    """Return where the document keeps external references, as JSON text fragments."""
    text = json.dumps(document.onnx)
    return [part for part in text.split('"dataLocation"')[1:]]


def _float_bits(*words: int) -> np.ndarray:
    return np.frombuffer(struct.pack(f"<{len(words)}I", *words), dtype=np.float32)


SPECIALS = [0.0, -0.0, 1.5, float("nan"), float("inf"), float("-inf"), -2.25, 1e-40]

# (id, tensor): every element type, as raw_data and as typed fields, with special values
DTYPE_CASES = [
    ("float32", numpy_helper.from_array(np.array(SPECIALS * 8, dtype=np.float32))),
    ("float32-typed", helper.make_tensor("t", TensorProto.FLOAT, [64], SPECIALS * 8)),
    # a negative NaN with a payload: JSON's "NaN" would lose both
    (
        "float32-nan-payload",
        numpy_helper.from_array(_float_bits(0xFFC00001, 0x7F800001, 0x80000000)),
    ),
    ("float32-typed-nan-payload", helper.make_tensor("t", TensorProto.FLOAT, [2], [0.0, 0.0])),
    ("float16", numpy_helper.from_array(np.array(SPECIALS * 8, dtype=np.float16))),
    ("float16-typed", helper.make_tensor("t", TensorProto.FLOAT16, [64], SPECIALS * 8)),
    ("bfloat16", numpy_helper.from_array(np.array(SPECIALS * 8, dtype=ml_dtypes.bfloat16))),
    ("bfloat16-typed", helper.make_tensor("t", TensorProto.BFLOAT16, [64], SPECIALS * 8)),
    ("double", numpy_helper.from_array(np.array(SPECIALS * 8, dtype=np.float64))),
    ("double-typed", helper.make_tensor("t", TensorProto.DOUBLE, [64], SPECIALS * 8)),
    ("int8", numpy_helper.from_array(np.arange(-128, 128, dtype=np.int8))),
    ("int8-typed", helper.make_tensor("t", TensorProto.INT8, [256], list(range(-128, 128)))),
    ("uint8", numpy_helper.from_array(np.arange(256, dtype=np.uint8))),
    ("uint8-typed", helper.make_tensor("t", TensorProto.UINT8, [256], list(range(256)))),
    ("int16", numpy_helper.from_array(np.arange(-500, 500, 7, dtype=np.int16))),
    ("uint16", numpy_helper.from_array(np.arange(0, 65535, 999, dtype=np.uint16))),
    ("int32-typed", helper.make_tensor("t", TensorProto.INT32, [40], list(range(-20, 20)))),
    ("uint32", numpy_helper.from_array(np.array([0, 1, 2**32 - 1] * 10, dtype=np.uint32))),
    ("int64", numpy_helper.from_array(np.array([-(2**63), -1, 0, 2**63 - 1] * 5, dtype=np.int64))),
    ("int64-typed", helper.make_tensor("t", TensorProto.INT64, [20], [-(2**63), 2**63 - 1] * 10)),
    ("uint64-typed", helper.make_tensor("t", TensorProto.UINT64, [20], [0, 2**64 - 1] * 10)),
    ("bool", numpy_helper.from_array(np.array([True, False, True] * 30))),
    ("bool-typed", helper.make_tensor("t", TensorProto.BOOL, [90], [True, False, True] * 30)),
    ("complex64", numpy_helper.from_array(np.array([1 + 2j, -0.0 - 1j] * 20, dtype=np.complex64))),
    (
        "complex64-typed",
        helper.make_tensor("t", TensorProto.COMPLEX64, [20], [1 + 2j, 3 - 1j] * 10),
    ),
    ("complex128", numpy_helper.from_array(np.array([1 + 2j, np.nan] * 20, dtype=np.complex128))),
    ("float8e4m3fn", numpy_helper.from_array(np.arange(100).astype(ml_dtypes.float8_e4m3fn))),
    ("float8e5m2-typed", helper.make_tensor("t", TensorProto.FLOAT8E5M2, [80], [0.5, -2.0] * 40)),
    ("int4-typed", helper.make_tensor("t", TensorProto.INT4, [201], [1, -8, 7] * 67)),
    ("uint4-odd-count", numpy_helper.from_array(np.arange(201).astype(ml_dtypes.uint4))),
    ("scalar", numpy_helper.from_array(np.array(3.5, dtype=np.float32))),
    ("empty", numpy_helper.from_array(np.zeros((0, 3), dtype=np.float32))),
]
DTYPE_CASES[3][1].float_data[:] = list(_float_bits(0xFFC00001, 0x7FC00000))


@pytest.mark.parametrize("threshold", [SMALL, onnxdoc.CHUNK_THRESHOLD], ids=["chunked", "inline"])
@pytest.mark.parametrize("tensor", [t for _, t in DTYPE_CASES], ids=[n for n, _ in DTYPE_CASES])
def test_it_round_trips_every_element_type_bit_for_bit(tensor, threshold):
    for as_constant in (False, True):
        model = tensor_model(copy.deepcopy(tensor), as_constant=as_constant)
        _, rebuilt = store_and_load(model, threshold=threshold)
        assert_same_model(model, rebuilt)


def test_it_externalizes_large_tensors_as_raw_data_with_catalog_references():
    model = tensor_model(helper.make_tensor("t", TensorProto.FLOAT, [64], SPECIALS * 8))
    document, rebuilt = store_and_load(model, threshold=SMALL)

    stored = document.onnx["graph"]["initializer"][0]
    assert stored["dataLocation"] == "EXTERNAL"
    assert "floatData" not in stored and "rawData" not in stored
    entries = {e["key"]: e["value"] for e in stored["externalData"]}
    assert entries == {"location": entries["location"], "offset": "0", "length": "256"}
    assert entries["location"] in document.chunks
    assert rebuilt.graph.initializer[0].HasField("raw_data")
    assert not rebuilt.graph.initializer[0].external_data
    assert not rebuilt.graph.initializer[0].HasField("data_location")


def test_it_keeps_string_tensors_inline():
    strings = np.array(["a", "é", "", "x" * 5000], dtype=object)
    model = tensor_model(numpy_helper.from_array(strings))
    document, rebuilt = store_and_load(model, threshold=SMALL)
    assert document.chunks == {}
    assert "stringData" in document.onnx["graph"]["initializer"][0]
    assert_same_model(model, rebuilt)
    assert document.summary["initializers"][0]["stats"]["mean"] is None


def test_it_keeps_a_tensor_exactly_at_the_threshold_inline():
    at = numpy_helper.from_array(np.arange(256, dtype=np.float32), "at")  # 1024 bytes
    above = numpy_helper.from_array(np.arange(1025, dtype=np.uint8), "above")
    typed_at = helper.make_tensor("typed_at", TensorProto.FLOAT, [256], list(range(256)))
    typed_above = helper.make_tensor("typed_above", TensorProto.INT64, [129], list(range(129)))
    graph = helper.make_graph([], "g", [], [], [at, above, typed_at, typed_above])
    model = helper.make_model(graph)
    document, rebuilt = store_and_load(model, threshold=1024)

    stored = {t["name"]: t for t in document.onnx["graph"]["initializer"]}
    assert "dataLocation" not in stored["at"]
    assert "dataLocation" not in stored["typed_at"]
    assert stored["above"]["dataLocation"] == "EXTERNAL"
    assert stored["typed_above"]["dataLocation"] == "EXTERNAL"
    assert len(document.chunks) == 2
    assert_same_model(model, rebuilt)


def test_it_splits_a_tensor_larger_than_chunk_size_and_reassembles_it():
    values = np.random.default_rng(1).standard_normal(1125).astype(np.float32)  # 4500 bytes
    model = tensor_model(numpy_helper.from_array(values))
    document, rebuilt = store_and_load(model, threshold=SMALL, chunk_size=1000)

    entries = {
        e["key"]: e["value"] for e in document.onnx["graph"]["initializer"][0]["externalData"]
    }
    keys = entries["chunks"].split(",")
    assert len(keys) == 5 and keys[0] == entries["location"]
    assert [len(document.chunks[k]) for k in keys] == [1000, 1000, 1000, 1000, 500]
    assert b"".join(document.chunks[k] for k in keys) == values.tobytes()
    assert onnxdoc.chunk_keys(document.onnx) == set(keys)
    assert_same_model(model, rebuilt)


def test_chunk_keys_are_the_sha256_of_their_bytes():
    document, _ = store_and_load(mlp_model((20, 30, 10)), threshold=SMALL, chunk_size=700)
    assert len(document.chunks) > 3
    for key, data in document.chunks.items():
        assert key == hashlib.sha256(data).hexdigest()
    assert onnxdoc.chunk_keys(document.onnx) == set(document.chunks)


def test_identical_tensors_share_their_chunks():
    weight = numpy_helper.from_array(np.ones((50, 50), dtype=np.float32), "a")
    twin = numpy_helper.from_array(np.ones((50, 50), dtype=np.float32), "b")
    model = helper.make_model(helper.make_graph([], "g", [], [], [weight, twin]))
    document, rebuilt = store_and_load(model, threshold=SMALL)
    assert len(document.chunks) == 1
    assert_same_model(model, rebuilt)


def test_it_does_not_modify_the_model_it_converts():
    model = mlp_model((20, 30, 10))
    before = model.SerializeToString()
    onnxdoc.model_to_document(model, threshold=SMALL)
    assert model.SerializeToString() == before


def test_a_model_over_50_mb_goes_through_chunks_with_default_settings():
    model = matmul_model(3700, 3700)
    assert model.ByteSize() > 50 * MiB
    document, rebuilt = store_and_load(model)

    assert len(json.dumps(document.onnx)) < 4096
    assert len(document.chunks) == 7
    assert all(
        len(chunk) <= onnxdoc.CHUNK_SIZE < 20 * 1000 * 1000 for chunk in document.chunks.values()
    )
    assert rebuilt.graph.initializer[0].raw_data == model.graph.initializer[0].raw_data
    assert rebuilt.SerializeToString() == model.SerializeToString()
    x = np.random.default_rng(2).standard_normal((2, 3700)).astype(np.float32)
    weight = numpy_helper.to_array(model.graph.initializer[0])
    (y,) = _session(rebuilt).run(None, {"x": x})
    np.testing.assert_allclose(y, x @ weight, rtol=1e-4, atol=1e-3)


def test_a_12_mb_mlp_document_is_small_json():
    model = mlp_model()
    assert model.ByteSize() > 6 * MiB
    document, rebuilt = store_and_load(model)
    assert len(json.dumps(document.onnx)) < 64 * 1024  # the biases stay inline, not megabytes
    assert rebuilt.SerializeToString() == model.SerializeToString()


def test_the_document_and_summary_are_json_safe():
    values = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    model = tensor_model(numpy_helper.from_array(values))
    model.graph.node[0].attribute.append(helper.make_attribute("alpha", float("nan")))
    document = onnxdoc.model_to_document(model, threshold=0)
    text = json.dumps({"onnx": document.onnx, "summary": document.summary}, allow_nan=False)
    assert json.loads(text)["summary"]["initializers"][0]["stats"]["nanCount"] == 1


def _if_model() -> onnx.ModelProto:
    """Return y = cond ? x + A : x * B, with A and B initializers of the branches."""
    rng = np.random.default_rng(3)
    a = numpy_helper.from_array(rng.standard_normal(100).astype(np.float32), "A")
    b = numpy_helper.from_array(rng.standard_normal(100).astype(np.float32), "B")
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [100])
    then_graph = helper.make_graph(
        [helper.make_node("Add", ["x", "A"], ["y_then"])], "then", [],
        [helper.make_tensor_value_info("y_then", TensorProto.FLOAT, [100])], [a],
    )  # fmt: skip
    else_graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "B"], ["y_else"])], "else", [],
        [helper.make_tensor_value_info("y_else", TensorProto.FLOAT, [100])], [b],
    )  # fmt: skip
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_graph, else_branch=else_graph)
    graph = helper.make_graph(
        [node], "if",
        [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [100])],
        [out],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def _loop_model() -> onnx.ModelProto:
    """Return a Loop that adds a body initializer S to its carried value trip_count times."""
    step = numpy_helper.from_array(np.full(64, 0.5, dtype=np.float32), "S")
    body = helper.make_graph(
        [helper.make_node("Add", ["v_in", "S"], ["v_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [64])],
        [step],
    )  # fmt: skip
    graph = helper.make_graph(
        [helper.make_node("Loop", ["n", "", "v0"], ["v"], body=body)], "loop",
        [helper.make_tensor_value_info("n", TensorProto.INT64, []),
         helper.make_tensor_value_info("v0", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("v", TensorProto.FLOAT, [64])],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def test_it_externalizes_initializers_inside_if_branches():
    model = _if_model()
    document, rebuilt = store_and_load(model, threshold=SMALL)

    node = document.onnx["graph"]["node"][0]
    for attribute in node["attribute"]:
        assert attribute["g"]["initializer"][0]["dataLocation"] == "EXTERNAL"
    assert len(document.chunks) == 2
    assert_same_model(model, rebuilt)
    onnx.checker.check_model(rebuilt, full_check=True)
    x = np.arange(100, dtype=np.float32)
    branches = {a.name: a.g for a in model.graph.node[0].attribute}
    a = numpy_helper.to_array(branches["then_branch"].initializer[0])
    b = numpy_helper.to_array(branches["else_branch"].initializer[0])
    session = _session(rebuilt)
    np.testing.assert_array_equal(session.run(None, {"cond": np.array(True), "x": x})[0], x + a)
    np.testing.assert_array_equal(session.run(None, {"cond": np.array(False), "x": x})[0], x * b)


def test_it_externalizes_initializers_inside_loop_bodies():
    model = _loop_model()
    document, rebuilt = store_and_load(model, threshold=SMALL)

    body = document.onnx["graph"]["node"][0]["attribute"][0]["g"]
    assert body["initializer"][0]["dataLocation"] == "EXTERNAL"
    assert_same_model(model, rebuilt)
    feeds = {"n": np.array(4, dtype=np.int64), "v0": np.zeros(64, dtype=np.float32)}
    np.testing.assert_array_equal(_session(rebuilt).run(None, feeds)[0], np.full(64, 2.0))


def test_it_externalizes_a_large_tensor_in_a_constant_node():
    values = np.random.default_rng(4).standard_normal((300, 300)).astype(np.float32)
    model = tensor_model(numpy_helper.from_array(values), as_constant=True)
    document, rebuilt = store_and_load(model)

    attribute = document.onnx["graph"]["node"][0]["attribute"][0]
    assert attribute["t"]["dataLocation"] == "EXTERNAL"
    assert_same_model(model, rebuilt)
    np.testing.assert_array_equal(_session(rebuilt).run(None, {})[0], values)


def test_it_externalizes_tensors_of_a_tensors_attribute():
    tensors = [numpy_helper.from_array(np.full(100, i, dtype=np.int32), f"t{i}") for i in range(3)]
    node = helper.make_node("Custom", [], ["y"], domain="test.custom", values=tensors)
    model = helper.make_model(helper.make_graph([node], "g", [], []))
    document, rebuilt = store_and_load(model, threshold=SMALL)
    stored = document.onnx["graph"]["node"][0]["attribute"][0]["tensors"]
    assert [t["dataLocation"] for t in stored] == ["EXTERNAL"] * 3
    assert_same_model(model, rebuilt)


def _function_model() -> onnx.ModelProto:
    """Return a model calling a local function whose body holds a large Constant."""
    weight = numpy_helper.from_array(np.linspace(-1, 1, 500, dtype=np.float32), "k")
    function = helper.make_function(
        "local.fns", "AddK", ["x"], ["y"],
        [helper.make_node("Constant", [], ["k"], value=weight),
         helper.make_node("Add", ["x", "k"], ["y"])],
        [helper.make_opsetid("", OPSET)],
    )  # fmt: skip
    graph = helper.make_graph(
        [helper.make_node("AddK", ["x"], ["y"], domain="local.fns")], "uses_function",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [500])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [500])],
    )  # fmt: skip
    return helper.make_model(
        graph,
        functions=[function],
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("local.fns", 1)],
    )


def test_it_externalizes_constants_of_model_local_functions():
    model = _function_model()
    document, rebuilt = store_and_load(model, threshold=SMALL)

    constant = document.onnx["functions"][0]["node"][0]["attribute"][0]["t"]
    assert constant["dataLocation"] == "EXTERNAL"
    assert_same_model(model, rebuilt)
    onnx.checker.check_model(rebuilt, full_check=True)
    x = np.ones(500, dtype=np.float32)
    np.testing.assert_array_equal(
        _session(rebuilt).run(None, {"x": x})[0], x + np.linspace(-1, 1, 500, dtype=np.float32)
    )
    assert document.summary["functions"] == ["AddK"]
    assert document.summary["opTypes"] == ["Add", "AddK", "Constant"]


def _sparse_model() -> onnx.ModelProto:
    values = numpy_helper.from_array(np.arange(1, 201, dtype=np.float32), "S")
    indices = numpy_helper.from_array(np.arange(0, 1000, 5, dtype=np.int64), "S_indices")
    sparse = helper.make_sparse_tensor(values, indices, [1000])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["S"], ["y"])], "sparse", [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1000])],
        sparse_initializer=[sparse],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def test_it_externalizes_sparse_initializers():
    model = _sparse_model()
    document, rebuilt = store_and_load(model, threshold=SMALL)

    stored = document.onnx["graph"]["sparseInitializer"][0]
    assert stored["values"]["dataLocation"] == stored["indices"]["dataLocation"] == "EXTERNAL"
    assert_same_model(model, rebuilt)
    expected = np.zeros(1000, dtype=np.float32)
    expected[::5] = np.arange(1, 201)
    np.testing.assert_array_equal(_session(rebuilt).run(None, {})[0], expected)

    (entry,) = document.summary["initializers"]
    assert (entry["numel"], entry["nnz"], entry["sparse"]) == (1000, 200, True)
    stats = entry["stats"]
    assert stats["zeroFraction"] == 0.8
    assert stats["min"] == 0.0 and stats["max"] == 200.0
    assert stats["mean"] == pytest.approx(expected.mean())
    assert stats["std"] == pytest.approx(expected.astype(np.float64).std())
    assert stats["l2"] == pytest.approx(np.linalg.norm(expected.astype(np.float64)))
    assert document.summary["paramCount"] == 1000


def test_it_keeps_metadata_props_and_model_fields():
    model = mlp_model((4, 8, 3))
    helper.set_model_props(model, {"author": "ana", "task": "iris"})
    model.producer_name, model.producer_version = "skl2onnx", "1.17"
    model.domain, model.model_version, model.doc_string = "ai.test", 42, "a model"
    document, rebuilt = store_and_load(model, threshold=SMALL)

    assert_same_model(model, rebuilt)
    summary = document.summary
    assert summary["metadataProps"] == {"author": "ana", "task": "iris"}
    assert summary["producer"] == {"name": "skl2onnx", "version": "1.17"}
    assert (summary["domain"], summary["modelVersion"], summary["docString"]) == (
        "ai.test", 42, "a model",
    )  # fmt: skip


def test_the_summary_describes_the_graph_with_real_numbers():
    model = _if_model()
    model.graph.initializer.append(numpy_helper.from_array(np.zeros(3, np.float32), "x"))
    model.graph.input[1].type.tensor_type.shape.dim[0].dim_param = "N"
    model.graph.output[0].type.tensor_type.shape.dim.add()  # a dimension with no value
    summary = onnxdoc.summarize(model)

    assert summary["opTypes"] == ["Add", "If", "Mul"]
    assert summary["opsets"] == {"ai.onnx": OPSET}
    assert summary["irVersion"] == model.ir_version and isinstance(summary["irVersion"], int)
    assert summary["nodeCount"] == 3
    assert summary["inputs"] == [{"name": "cond", "dataType": "BOOL", "shape": []}]
    assert summary["outputs"] == [{"name": "y", "dataType": "FLOAT", "shape": [100, None]}]
    assert sorted(i["name"] for i in summary["initializers"]) == ["A", "B", "x"]
    assert [i["dims"] for i in summary["initializers"]] == [[3], [100], [100]]
    assert summary["paramCount"] == 203
    assert summary["sizeBytes"] == model.ByteSize()
    json.dumps(summary, allow_nan=False)


def test_the_summary_types_sequences_and_maps():
    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None)
    zipmap = helper.make_value_info(
        "z", helper.make_sequence_type_proto(
            helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(1, None))
        ),
    )  # fmt: skip
    graph = helper.make_graph([], "g", [seq], [zipmap])
    summary = onnxdoc.summarize(helper.make_model(graph))
    assert summary["inputs"] == [{"name": "s", "dataType": "sequence(FLOAT)", "shape": None}]
    assert summary["outputs"][0]["dataType"] == "sequence(map(INT64, FLOAT))"


def test_the_summary_stats_are_right_on_a_hand_built_tensor():
    values = np.array([0.0, 1.0, -2.0, 3.0, np.nan, np.inf, 0.0, -0.0, 5.0, -np.inf], np.float32)
    stats = onnxdoc.tensor_stats(numpy_helper.from_array(values))

    finite = np.array([0.0, 1.0, -2.0, 3.0, 0.0, -0.0, 5.0])
    assert stats["min"] == -2.0 and stats["max"] == 5.0
    assert stats["mean"] == pytest.approx(7 / 7)
    assert stats["std"] == pytest.approx(math.sqrt(((finite - 1) ** 2).sum() / 7))
    assert stats["l2"] == pytest.approx(math.sqrt(1 + 4 + 9 + 25))
    assert stats["zeroFraction"] == pytest.approx(3 / 10)
    assert stats["nanCount"] == 1 and stats["infCount"] == 2


def test_the_summary_stats_stream_in_blocks(monkeypatch):
    values = np.random.default_rng(5).standard_normal(10_001).astype(np.float32) * 7 + 3
    values[::17] = 0
    whole = onnxdoc.tensor_stats(numpy_helper.from_array(values))
    monkeypatch.setattr(summary_module, "STATS_BLOCK", 97)
    blocked = onnxdoc.tensor_stats(numpy_helper.from_array(values))

    as64 = values.astype(np.float64)
    for stats in (whole, blocked):
        assert stats["min"] == as64.min() and stats["max"] == as64.max()
        assert stats["mean"] == pytest.approx(as64.mean(), rel=1e-12)
        assert stats["std"] == pytest.approx(as64.std(), rel=1e-12)
        assert stats["l2"] == pytest.approx(np.linalg.norm(as64), rel=1e-12)
        assert stats["zeroFraction"] == pytest.approx(np.mean(as64 == 0))


@given(
    st.lists(
        st.one_of(
            st.floats(width=32, allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, 1e-30, 3e38, -3e38]),
        ),
        max_size=40,
    ),
    st.integers(0, 5),
)
def test_few_values_summed_in_python_give_the_numpy_stats(values, implicit_zeros):
    """Tensors up to STATS_IN_PYTHON elements skip numpy: the same stats either way."""
    tensor = numpy_helper.from_array(np.array(values, np.float32))
    few = onnxdoc.tensor_stats(tensor, implicit_zeros=implicit_zeros)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(summary_module, "STATS_IN_PYTHON", -1)
        blocks = onnxdoc.tensor_stats(tensor, implicit_zeros=implicit_zeros)
    assert few.keys() == blocks.keys()
    for key, expected in blocks.items():
        if isinstance(expected, float):
            assert few[key] == pytest.approx(expected, rel=1e-9, abs=1e-300), key
        else:
            assert few[key] == expected, key


@pytest.mark.parametrize("in_python", [256, -1])
def test_squares_past_float64_are_scaled_by_the_peak_in_both_paths(in_python, monkeypatch):
    monkeypatch.setattr(summary_module, "STATS_IN_PYTHON", in_python)
    huge = onnxdoc.tensor_stats(numpy_helper.from_array(np.array([1e308, -1e308, 0.0])))
    assert huge["l2"] == pytest.approx(math.sqrt(2) * 1e308)
    tiny = onnxdoc.tensor_stats(numpy_helper.from_array(np.array([3e-200, 4e-200])))
    assert tiny["l2"] == pytest.approx(5e-200)  # the squares underflow below 1e-280


def test_the_summary_stats_are_null_without_finite_values():
    assert onnxdoc.tensor_stats(numpy_helper.from_array(np.zeros(0, np.float32)))["mean"] is None
    nan_only = onnxdoc.tensor_stats(numpy_helper.from_array(np.full(3, np.nan, np.float32)))
    assert nan_only["min"] is None and nan_only["nanCount"] == 3
    huge = onnxdoc.tensor_stats(numpy_helper.from_array(np.array([1e308, 1e308])))
    assert huge["max"] == 1e308 and huge["mean"] is None  # the float64 sum overflows
    assert huge["l2"] == pytest.approx(math.sqrt(2) * 1e308)
    ints = onnxdoc.tensor_stats(helper.make_tensor("t", TensorProto.INT64, [3], [1, 2, 6]))
    assert (ints["min"], ints["max"], ints["mean"]) == (1.0, 6.0, 3.0)


# --- refusing documents we did not write -------------------------------------------


def _stored(model: onnx.ModelProto | None = None, **options: int):
    """Return (JSON document as a store gives it back, chunks)."""
    document = onnxdoc.model_to_document(
        model or mlp_model((20, 30, 10)), threshold=SMALL, **options
    )
    return json.loads(json.dumps(document.onnx)), dict(document.chunks)


def _set_entry(tensor: dict, key: str, value: str) -> None:
    entries = [e for e in tensor["externalData"] if e["key"] != key]
    tensor["externalData"] = [*entries, {"key": key, "value": value}]


@pytest.mark.parametrize(
    "location", ["/etc/passwd", "../x", "weights.bin", "file:///etc/passwd", "A" * 64, ""]
)
def test_it_refuses_external_data_that_is_not_a_catalog_chunk(location):
    document, chunks = _stored()
    _set_entry(document["graph"]["initializer"][0], "location", location)
    with pytest.raises(
        onnxdoc.DocumentError, match=r"onnx\.graph\.initializer\[0\]\.externalData.*not a chunk key"
    ):
        onnxdoc.document_to_model(document, chunks.__getitem__)
    with pytest.raises(onnxdoc.DocumentError, match="not a chunk key"):
        onnxdoc.chunk_keys(document)


def test_it_refuses_a_file_reference_on_a_tensor_that_was_inline():
    model = tensor_model(numpy_helper.from_array(np.ones(2, np.float32)))
    document, _ = _stored(model)
    tensor = document["graph"]["initializer"][0]
    tensor.pop("rawData")
    tensor["dataLocation"] = "EXTERNAL"
    tensor["externalData"] = [{"key": "location", "value": "/etc/passwd"}]
    with pytest.raises(onnxdoc.DocumentError, match="/etc/passwd"):
        onnxdoc.document_to_model(document, {}.__getitem__)


def test_it_refuses_external_data_without_the_external_location():
    document, chunks = _stored()
    tensor = document["graph"]["initializer"][0]
    tensor.pop("dataLocation")
    with pytest.raises(onnxdoc.DocumentError, match="dataLocation is not EXTERNAL"):
        onnxdoc.document_to_model(document, chunks.__getitem__)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("offset", "4", "offset must be 0"),
        ("length", "12", "length is 12 bytes"),
        ("length", "-1", "decimal byte count"),
        ("basepath", "/tmp", "unknown key 'basepath'"),
        ("chunks", "abc", "not a chunk key"),
        ("chunks", "0" * 64, "must start with the location"),
    ],
)
def test_it_refuses_a_malformed_reference(key, value, message):
    document, chunks = _stored()
    _set_entry(document["graph"]["initializer"][0], key, value)
    with pytest.raises(onnxdoc.DocumentError, match=message):
        onnxdoc.document_to_model(document, chunks.__getitem__)


def test_it_reports_a_missing_chunk():
    document, chunks = _stored()
    location = document["graph"]["initializer"][0]["externalData"][0]["value"]
    del chunks[location]
    with pytest.raises(
        onnxdoc.DocumentError, match=rf"initializer\[0\]: chunk {location} is missing"
    ):
        onnxdoc.document_to_model(document, chunks.__getitem__)
    with pytest.raises(onnxdoc.DocumentError, match="is missing"):
        onnxdoc.document_to_model(document, chunks.get)


def test_it_reports_a_chunk_of_the_wrong_size():
    document, chunks = _stored()
    location = document["graph"]["initializer"][0]["externalData"][0]["value"]
    chunks[location] = chunks[location][:-4]
    with pytest.raises(onnxdoc.DocumentError, match="chunks hold"):
        onnxdoc.document_to_model(document, chunks.__getitem__)


def test_it_adds_the_field_path_to_errors_of_fetch_chunk():
    document, _ = _stored()

    def fetch(key: str) -> bytes:
        raise onnxdoc.DocumentError(f"chunk {key} is not a binary document")

    with pytest.raises(onnxdoc.DocumentError, match=r"^onnx\.graph\.initializer\[0\]: chunk"):
        onnxdoc.document_to_model(document, fetch)


def test_it_refuses_an_external_string_tensor():
    strings = numpy_helper.from_array(np.array(["a"], dtype=object))
    document, _ = _stored(tensor_model(strings))
    tensor = document["graph"]["initializer"][0]
    tensor.pop("stringData")
    tensor["dataLocation"] = "EXTERNAL"
    tensor["externalData"] = [
        {"key": "location", "value": "0" * 64},
        {"key": "length", "value": "1"},
    ]
    with pytest.raises(onnxdoc.DocumentError, match="STRING tensor"):
        onnxdoc.document_to_model(document, {"0" * 64: b"a"}.__getitem__)


def test_it_refuses_to_convert_a_model_with_file_external_data():
    model = tensor_model(numpy_helper.from_array(np.ones(2, np.float32)))
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="weights.bin")
    with pytest.raises(onnxdoc.DocumentError, match="external file"):
        onnxdoc.model_to_document(model)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["graph"]["initializer"][0].update(dims="20,30"),
         r"^onnx\.graph\.initializer\[0\]\.dims: expected a list of integers, got a string$"),
        (lambda d: d["graph"]["initializer"][1].update(dims=["20", "x"]),
         r"^onnx\.graph\.initializer\[1\]\.dims\[1\]: expected an integer, got a string \('x'\)$"),
        (lambda d: d["graph"]["node"][2].pop("opType"),
         r"^onnx\.graph\.node\[2\]\.opType: missing"),
        (lambda d: d["graph"]["node"][0].update(opType=7),
         r"^onnx\.graph\.node\[0\]\.opType: expected a string, got a number \(7\)$"),
        (lambda d: d.update(graph=[]), r"^onnx\.graph: expected an object, got a list$"),
        (lambda d: d.pop("graph"), r"^onnx\.graph: missing$"),
        (lambda d: d["graph"].update(node={}), r"^onnx\.graph\.node: expected a list of objects"),
        (lambda d: d["graph"]["initializer"][0].update(dataType="FLOAT"),
         r"^onnx\.graph\.initializer\[0\]\.dataType: expected an integer"),
        (lambda d: d["graph"]["initializer"][0].update(dataLocation="FILE"),
         r"^onnx\.graph\.initializer\[0\]\.dataLocation: expected one of DEFAULT, EXTERNAL"),
        (lambda d: d["graph"].update(weights=[]), r"^onnx\.graph\.weights: GraphProto has no such field$"),
        (lambda d: d.update(irVersion=None), r"^onnx\.irVersion: expected an integer, got null$"),
        (lambda d: d["graph"]["node"][0].update(op_type="Relu"), r"node\[0\]\.op_type: the field is given twice$"),
        (lambda d: d["graph"]["initializer"][0].update(dims=["1e999"]), r"dims\[0\]: expected an integer"),
        (lambda d: d["graph"]["initializer"][0].update(rawData=7), r"rawData: expected a base64 string"),
        (lambda d: d["graph"]["input"][0]["type"].update(sequenceType={}), r"one-of 'value'"),
    ],
)  # fmt: skip
def test_it_names_the_field_of_a_hand_edited_document(edit, message):
    document, chunks = _stored()
    edit(document)
    with pytest.raises(onnxdoc.DocumentError, match=message):
        onnxdoc.document_to_model(document, chunks.__getitem__)


def test_it_refuses_a_document_that_is_not_an_object():
    with pytest.raises(onnxdoc.DocumentError, match=r"^onnx: expected an object, got a list$"):
        onnxdoc.document_to_model([], {}.__getitem__)


def test_it_names_a_node_without_op_type_inside_a_subgraph():
    document, chunks = _stored(_if_model())
    document["graph"]["node"][0]["attribute"][1]["g"]["node"][0]["opType"] = ""
    with pytest.raises(
        onnxdoc.DocumentError,
        match=r"^onnx\.graph\.node\[0\]\.attribute\[1\]\.g\.node\[0\]\.opType",
    ):
        onnxdoc.document_to_model(document, chunks.__getitem__)


def test_it_accepts_proto_field_names_as_json_format_does():
    model = mlp_model((4, 8, 3))
    document = onnxdoc.model_to_document(model, threshold=SMALL)
    snake = json_format.MessageToDict(
        onnxdoc.document_to_model(document.onnx, document.chunks.__getitem__),
        preserving_proto_field_name=True,
    )
    assert_same_model(model, onnxdoc.document_to_model(snake, {}.__getitem__))


# --- chunks of binary documents -------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 4000, 4321])
def test_split_bytes_and_join_chunks_round_trip(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    keys, chunks = onnxdoc.split_bytes(data, chunk_size=1000)
    assert len(keys) == max(1, math.ceil(size / 1000))
    assert all(len(chunks[k]) <= 1000 and hashlib.sha256(chunks[k]).hexdigest() == k for k in keys)
    assert onnxdoc.join_chunks(keys, chunks.__getitem__) == data


def test_split_bytes_stores_repeated_chunks_once():
    keys, chunks = onnxdoc.split_bytes(b"a" * 3000 + b"b", chunk_size=1000)
    assert len(keys) == 4 and keys[0] == keys[1] == keys[2]
    assert len(chunks) == 2


def test_split_bytes_uses_default_chunks_for_a_whole_model():
    data = matmul_model(1600, 1600).SerializeToString()  # ~10 MB
    keys, chunks = onnxdoc.split_bytes(data)
    assert len(keys) == 2 and len(chunks[keys[0]]) == onnxdoc.CHUNK_SIZE
    model = onnx.ModelProto()
    model.ParseFromString(onnxdoc.join_chunks(keys, chunks.get))
    assert model.SerializeToString() == data


def test_join_chunks_reports_missing_and_bad_keys():
    keys, chunks = onnxdoc.split_bytes(b"x" * 10, chunk_size=4)
    with pytest.raises(onnxdoc.DocumentError, match=r"chunks\[2\]: chunk .* is missing"):
        onnxdoc.join_chunks(keys, {keys[0]: chunks[keys[0]]}.__getitem__)
    with pytest.raises(onnxdoc.DocumentError, match=r"chunks\[0\]: '\.\./x' is not a chunk key"):
        onnxdoc.join_chunks(["../x"], chunks.__getitem__)


def test_every_rebuilt_tensor_is_inline():
    model = _function_model()
    model.graph.initializer.append(numpy_helper.from_array(np.ones(100, np.float32), "extra"))
    _, rebuilt = store_and_load(model, threshold=0)
    for tensor in all_tensors(rebuilt):
        assert not tensor.external_data
        assert tensor.data_location == TensorProto.DEFAULT


def test_it_reads_documents_exactly_as_json_format_does():
    """Our parser stands in for json_format.ParseDict: same message from the same JSON."""
    model = _if_model()
    model.graph.node[0].attribute.append(helper.make_attribute("alpha", float("-inf")))
    model.graph.node[0].attribute.append(helper.make_attribute("ratio", float("nan")))
    model.graph.node[0].attribute.append(helper.make_attribute("blob", b"\xfb\xff\x00-_"))
    model.graph.input[1].type.tensor_type.shape.dim.add()  # an empty Dimension object
    model.graph.value_info.add(name="empty").type.tensor_type.shape.SetInParent()
    model.graph.initializer.append(helper.make_tensor("f", TensorProto.FLOAT, [2], [1e-45, -0.0]))
    document = json_format.MessageToDict(model)
    document["graph"]["initializer"][0]["dataType"] = "1"  # an int32 as a string
    document["graph"]["node"][0]["attribute"][0]["type"] = 5  # an enum as a number
    mine = onnxdoc.convert.parse_document(document)
    theirs = json_format.ParseDict(document, onnx.ModelProto())
    assert mine.SerializeToString(deterministic=True) == theirs.SerializeToString(
        deterministic=True
    )


def test_chunk_keys_finds_every_reference_whatever_the_field_names():
    document, chunks = _stored(_function_model())
    assert onnxdoc.chunk_keys(document) == set(chunks) != set()
    snake = json.loads(json.dumps(document).replace('"externalData"', '"external_data"'))
    assert onnxdoc.chunk_keys(snake) == set(chunks)
    inline, _ = _stored(mlp_model((2, 3, 2)))
    assert onnxdoc.chunk_keys(inline) == set()


def test_chunk_keys_refuses_references_it_cannot_read():
    document, _ = _stored()
    document["graph"]["initializer"][0]["externalData"] = "0" * 64
    with pytest.raises(
        onnxdoc.DocumentError, match=r"initializer\[0\]\.externalData: expected a list"
    ):
        onnxdoc.chunk_keys(document)


def test_long_attribute_lists_convert_exactly_as_json_format_does():
    import json

    import numpy as np
    from google.protobuf import json_format
    from onnx import helper

    from catalog.onnxdoc.convert import FAST_LIST_MIN, _message_to_dict, parse_document

    rng = np.random.default_rng(7)
    floats = list(rng.standard_normal(500).astype(np.float32) * 10.0 ** rng.integers(-30, 30, 500))
    floats += [0.0, -0.0, 1e-45, 3.4028235e38, 0.1, 5.1]
    ints = [int(v) for v in rng.integers(-(2**62), 2**62, 100)]
    node = helper.make_node("Foo", ["X"], ["Y"], domain="test", values=floats, ids=ints)
    node.attribute[0].doc_string = "kept"
    with_nan = helper.make_node(
        "Foo", ["X"], ["Z"], domain="test", vals=[float("nan")] * FAST_LIST_MIN
    )
    short = helper.make_node("Foo", ["X"], ["W"], domain="test", few=[1.5, 2.5])
    graph = helper.make_graph([node, with_nan, short], "g", [], [])
    model = helper.make_model(graph)
    expected = json_format.MessageToDict(model)
    work = onnx.ModelProto()
    work.CopyFrom(model)  # _message_to_dict works on model_to_document's own copy
    fast = _message_to_dict(work)
    assert fast == expected
    back = parse_document(json.loads(json.dumps(fast)))
    assert back.SerializeToString() == model.SerializeToString()


def _edge_model() -> onnx.ModelProto:
    """Return a model holding every kind of value json_format writes its own way."""
    specials = [float("nan"), float("inf"), float("-inf"), -0.0, 1e-45, 3.4028235e38, 0.1]
    floats = TensorProto(name="f", data_type=TensorProto.FLOAT, dims=[len(specials)])
    floats.float_data.extend(specials)
    long_floats = TensorProto(name="lf", data_type=TensorProto.FLOAT, dims=[40])
    long_floats.float_data.extend([*np.linspace(-3, 3, 39).tolist(), float("nan")])
    doubles = TensorProto(name="d", data_type=TensorProto.DOUBLE, dims=[len(specials)])
    doubles.double_data.extend([*specials[:-1], 1e300])
    ints = TensorProto(name="i", data_type=TensorProto.INT64, dims=[3])
    ints.int64_data.extend([-(2**63), 0, 2**63 - 1])
    uints = TensorProto(name="u", data_type=TensorProto.UINT64, dims=[2])
    uints.uint64_data.extend([0, 2**64 - 1])
    strings = TensorProto(name="s", data_type=TensorProto.STRING, dims=[2])
    strings.string_data.extend([b"\x00\xff bytes", "héllo ✓".encode()])
    raw = numpy_helper.from_array(np.arange(6, dtype=np.int32).reshape(2, 3), "raw")
    node = helper.make_node(
        "Foo", ["X"], ["Y"], domain="test", name="ñode", alpha=-0.0, beta=float("inf"),
        count=2**62, names=["a", "ß"], t=floats, blob=b"\x01\x02",
    )  # fmt: skip
    sequence = helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, ["N", 3])
    optional = helper.make_value_info(
        "opt",
        helper.make_optional_type_proto(helper.make_tensor_type_proto(TensorProto.INT64, [None])),
    )
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", 3])],
        [sequence, optional], [long_floats, doubles, ints, uints, strings, raw],
    )  # fmt: skip
    model = helper.make_model(graph, producer_name="tést", doc_string="doc")
    helper.set_model_props(model, {"k": "v", "ü": "w"})
    return model


@pytest.mark.parametrize("name", ["edge", "matmul", "mlp-small", "corpus"])
def test_model_json_is_exactly_json_format_text(name):
    """The document's ``onnx`` is json_format's MessageToDict, key order and float forms
    included (documents are compared as text: -0.0 and 0.0, 1 and 1.0 differ there)."""
    from catalog.onnxdoc.convert import _message_to_dict

    if name == "corpus":
        data = Path(onnx.__file__).parent / "backend" / "test" / "data"
        models = [onnx.load(p, load_external_data=False) for p in sorted(data.rglob("*.onnx"))]
        assert models
    else:
        models = {
            "edge": lambda: [_edge_model()],
            "matmul": lambda: [matmul_model(5, 7)],
            "mlp-small": lambda: [mlp_model((6, 40, 3))],
        }[name]()
    for model in models:
        expected = json.dumps(json_format.MessageToDict(model), ensure_ascii=False)
        assert json.dumps(_message_to_dict(model), ensure_ascii=False) == expected


def test_shortest_float_is_protobufs_on_random_float32_bits():
    from google.protobuf.internal.type_checkers import ToShortestFloat

    from catalog.onnxdoc.convert import _shortest_float

    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2**32, 20_000, dtype=np.uint64).astype(np.uint32)
    with np.errstate(invalid="ignore"):
        values = bits.view(np.float32).astype(np.float64).tolist()
    values += [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0.0]
    for value in values:
        if math.isfinite(value):
            assert repr(_shortest_float(value)) == repr(ToShortestFloat(value)), value
