"""Helpers for the onnxdoc tests: small models, tensor walks, bit-for-bit comparisons."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import onnx
from google.protobuf.message import Message
from onnx import TensorProto, helper, numpy_helper

from catalog import onnxdoc

OPSET = 21


def all_tensors(message: Message) -> Iterator[TensorProto]:
    """Yield every TensorProto inside a message, found through the descriptors.

    Independent of catalog.onnxdoc's own walk, so a place it forgets shows up here.
    """
    if isinstance(message, TensorProto):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.is_repeated:
            for item in value:
                yield from all_tensors(item)
        else:
            yield from all_tensors(value)


def to_raw_form(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return a copy whose non-string tensors all keep their data in raw_data."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for tensor in all_tensors(copy):
        if tensor.data_type == TensorProto.STRING or tensor.HasField("raw_data"):
            continue
        raw = numpy_helper.from_array(numpy_helper.to_array(tensor)).raw_data
        for name in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
            tensor.ClearField(name)
        tensor.raw_data = raw
    return copy


def tensor_bytes(tensor: TensorProto) -> bytes | list[bytes]:
    """Return the tensor's values as bytes (so NaN payloads and -0.0 count), or its strings."""
    if tensor.data_type == TensorProto.STRING:
        return list(tensor.string_data)
    array = numpy_helper.to_array(tensor)
    return np.ascontiguousarray(array).view(np.uint8).tobytes()


def assert_same_model(original: onnx.ModelProto, rebuilt: onnx.ModelProto) -> None:
    """Assert every tensor is equal bit for bit and every other field is equal."""
    before = list(all_tensors(original))
    after = list(all_tensors(rebuilt))
    assert len(before) == len(after)
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        where = f"tensor #{i} {a.name!r}"
        assert not b.external_data and b.data_location != TensorProto.EXTERNAL, where
        assert (a.name, list(a.dims), a.data_type) == (b.name, list(b.dims), b.data_type), where
        assert tensor_bytes(a) == tensor_bytes(b), where
    left = to_raw_form(original).SerializeToString(deterministic=True)
    right = to_raw_form(rebuilt).SerializeToString(deterministic=True)
    assert left == right


def store_and_load(
    model: onnx.ModelProto, **options: int
) -> tuple[onnxdoc.ModelDocument, onnx.ModelProto]:
    """Return the document and the model rebuilt from it after a trip through JSON text."""
    document = onnxdoc.model_to_document(model, **options)
    stored = json.loads(json.dumps(document.onnx, allow_nan=False))
    json.dumps(document.summary, allow_nan=False)
    chunks = {key: bytes(value) for key, value in document.chunks.items()}
    return document, onnxdoc.document_to_model(stored, chunks.__getitem__)


def tensor_model(tensor: TensorProto, *, as_constant: bool = False) -> onnx.ModelProto:
    """Return a model that outputs the tensor, as an initializer or a Constant node."""
    dtype = tensor.data_type
    out = helper.make_tensor_value_info("y", dtype, list(tensor.dims))
    if as_constant:
        nodes = [helper.make_node("Constant", [], ["y"], value=tensor)]
        graph = helper.make_graph(nodes, "constant", [], [out])
    else:
        tensor.name = "w"
        nodes = [helper.make_node("Identity", ["w"], ["y"])]
        graph = helper.make_graph(nodes, "identity", [], [out], [tensor])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def matmul_model(rows: int, cols: int, seed: int = 0) -> onnx.ModelProto:
    """Return y = x @ W with a random float32 W of rows x cols."""
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((rows, cols), dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", cols])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def mlp_model(sizes: tuple[int, ...] = (784, 2048, 512, 10), seed: int = 0) -> onnx.ModelProto:
    """Return a float32 MLP (MatMul + Add + Relu layers) with random weights."""
    rng = np.random.default_rng(seed)
    nodes, inits, current = [], [], "x"
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        w = rng.standard_normal((n_in, n_out), dtype=np.float32) / np.sqrt(n_in)
        inits += [
            numpy_helper.from_array(w.astype(np.float32), f"W{i}"),
            numpy_helper.from_array(rng.standard_normal(n_out, dtype=np.float32), f"b{i}"),
        ]
        nodes += [
            helper.make_node("MatMul", [current, f"W{i}"], [f"m{i}"]),
            helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"]),
        ]
        current = f"a{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [current], [f"r{i}"]))
            current = f"r{i}"
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", sizes[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", sizes[-1]])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
