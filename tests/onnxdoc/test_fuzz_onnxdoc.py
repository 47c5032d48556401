"""Hypothesis on the document round trip: model -> document -> JSON text -> model, bit for bit.

Random small graphs with initializers of random element types, shapes and values (NaN
payloads, -0.0, infinities and subnormals included), stored as raw_data or typed fields,
as initializers or Constant attributes, inline or through chunks of random sizes.
"""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import onnx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from onnx import TensorProto, helper, numpy_helper

from catalog import onnxdoc
from tests.models import assert_same_model

DTYPES = [
    np.dtype(np.float32),
    np.dtype(np.float64),
    np.dtype(np.float16),
    np.dtype(ml_dtypes.bfloat16),
    np.dtype(np.int8),
    np.dtype(np.uint8),
    np.dtype(np.int16),
    np.dtype(np.uint16),
    np.dtype(np.int32),
    np.dtype(np.uint32),
    np.dtype(np.int64),
    np.dtype(np.uint64),
    np.dtype(np.bool_),
    np.dtype(np.complex64),
    np.dtype(np.complex128),
]
# Element types numpy_helper keeps as raw_data, and helper.make_tensor can write typed.
TYPED = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.uint64): TensorProto.UINT64,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.bool_): TensorProto.BOOL,
}


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))
    if dtype == np.dtype(ml_dtypes.bfloat16):
        bits = draw(hnp.arrays(np.uint16, shape))
        return bits.view(ml_dtypes.bfloat16)
    if dtype.kind == "f":
        # Any bit pattern: NaNs with payloads and signs, -0.0, infinities, subnormals.
        bits = draw(hnp.arrays(np.dtype(f"u{dtype.itemsize}"), shape))
        return bits.view(dtype)
    return draw(hnp.arrays(dtype, shape))


@st.composite
def tensors(draw: st.DrawFn, name: str) -> TensorProto:
    array = draw(arrays())
    if array.dtype in TYPED and draw(st.booleans()):
        values = array.flatten().tolist()
        if array.dtype.kind == "f":
            # typed float fields hold the values themselves; keep NaN bits via raw_data
            # only where they are not NaN-sensitive: the converter must cope either way.
            values = [float(v) for v in values]
        return helper.make_tensor(name, TYPED[array.dtype], list(array.shape), values)
    return numpy_helper.from_array(array, name)


@st.composite
def models(draw: st.DrawFn) -> onnx.ModelProto:
    count = draw(st.integers(1, 4))
    inits = [draw(tensors(f"w{i}")) for i in range(count)]
    nodes = [helper.make_node("Identity", [t.name], [f"y{i}"]) for i, t in enumerate(inits)]
    outputs = [
        helper.make_tensor_value_info(f"y{i}", t.data_type, list(t.dims))
        for i, t in enumerate(inits)
    ]
    if draw(st.booleans()):  # a Constant node holding a tensor attribute
        constant = draw(tensors("c"))
        nodes.append(helper.make_node("Constant", [], ["yc"], value=constant))
        outputs.append(helper.make_tensor_value_info("yc", constant.data_type, list(constant.dims)))
    attrs = draw(st.lists(st.floats(width=32, allow_nan=False), max_size=40))
    nodes.append(
        helper.make_node("Identity", ["x"], ["yx"], name="with-attrs", note=attrs or [0.0])
    )
    graph = helper.make_graph(
        nodes,
        draw(st.text(max_size=10)),
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [*outputs, helper.make_tensor_value_info("yx", TensorProto.FLOAT, ["N", 3])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    model.doc_string = draw(st.text(max_size=20))
    return model


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(models(), st.sampled_from([0, 1, 7, 64, onnxdoc.CHUNK_THRESHOLD]), st.integers(1, 50))
def test_a_model_comes_back_bit_for_bit_through_json(model, threshold, chunk_size):
    converted = onnxdoc.model_to_document(model, threshold=threshold, chunk_size=chunk_size)
    text = json.dumps(converted.onnx, allow_nan=False)  # the store writes strict JSON
    json.dumps(converted.summary, allow_nan=False)
    back = onnxdoc.document_to_model(json.loads(text), converted.chunks.__getitem__)
    assert_same_model(model, back)
