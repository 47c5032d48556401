"""Small ONNX models for the OIP tests, and a corpus of malformed binary infer requests.

Every case is a request a client could send to ``POST /v2/models/NAME/infer`` with the
binary tensor data extension, and every one must get a 400 JSON error (never a 500).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper

OPSET = [helper.make_opsetid("", 17)]


def _model(nodes, inputs, outputs, initializers=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=OPSET, ir_version=9)


def scale_fp32() -> onnx.ModelProto:
    """Y = 2 * X, X FP32 [N, 3]."""
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    return _model(
        [helper.make_node("Mul", ["X", "two"], ["Y"])],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3])],
        [two],
    )


def add_one_int64() -> onnx.ModelProto:
    """Y = X + 1, X INT64 [N, 3]."""
    one = helper.make_tensor("one", TensorProto.INT64, [], [1])
    return _model(
        [helper.make_node("Add", ["X", "one"], ["Y"])],
        [helper.make_tensor_value_info("X", TensorProto.INT64, ["N", 3])],
        [helper.make_tensor_value_info("Y", TensorProto.INT64, ["N", 3])],
        [one],
    )


def negate_bool() -> onnx.ModelProto:
    """Y = not X, X BOOL [N, 2]."""
    return _model(
        [helper.make_node("Not", ["X"], ["Y"])],
        [helper.make_tensor_value_info("X", TensorProto.BOOL, ["N", 2])],
        [helper.make_tensor_value_info("Y", TensorProto.BOOL, ["N", 2])],
    )


def exclaim_bytes() -> onnx.ModelProto:
    """Y = X + "!", X BYTES (strings) [N] (StringConcat, opset 20)."""
    bang = helper.make_tensor("bang", TensorProto.STRING, [], [b"!"])
    graph = helper.make_graph(
        [helper.make_node("StringConcat", ["X", "bang"], ["Y"])],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.STRING, ["N"])],
        [helper.make_tensor_value_info("Y", TensorProto.STRING, ["N"])],
        [bang],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=9)


def two_inputs() -> onnx.ModelProto:
    """SUM = A + float(B), TWICE = 2 * B; A FP32 [N, 2], B INT64 [N, 2]."""
    two = helper.make_tensor("two", TensorProto.INT64, [], [2])
    return _model(
        [
            helper.make_node("Cast", ["B"], ["Bf"], to=TensorProto.FLOAT),
            helper.make_node("Add", ["A", "Bf"], ["SUM"]),
            helper.make_node("Mul", ["B", "two"], ["TWICE"]),
        ],
        [
            helper.make_tensor_value_info("A", TensorProto.FLOAT, ["N", 2]),
            helper.make_tensor_value_info("B", TensorProto.INT64, ["N", 2]),
        ],
        [
            helper.make_tensor_value_info("SUM", TensorProto.FLOAT, ["N", 2]),
            helper.make_tensor_value_info("TWICE", TensorProto.INT64, ["N", 2]),
        ],
        [two],
    )


# -- malformed binary requests ------------------------------------------------------------


@dataclass
class Case:
    """A request body and its Inference-Header-Content-Length header (None: no header)."""

    id: str
    body: bytes
    header: str | None
    model: str = "scale"
    extra_headers: dict[str, str] = field(default_factory=dict)


def _head(inputs: list[dict], **extra) -> bytes:
    return json.dumps({"inputs": inputs, **extra}).encode()


def _fp32(size: int | object = 24, shape=(2, 3), name="X", datatype="FP32") -> dict:
    return {
        "name": name,
        "datatype": datatype,
        "shape": list(shape),
        "parameters": {"binary_data_size": size},
    }


def _case(id: str, head: bytes, tail: bytes, header: str | None = "auto", **kw) -> Case:
    return Case(id, head + tail, str(len(head)) if header == "auto" else header, **kw)


def _prefixed(*items: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(i)) + i for i in items)


ROWS = np.arange(6, dtype="<f4").tobytes()  # 2 x 3 FP32


def cases() -> list[Case]:
    """Return the corpus (at least 30 cases)."""
    fp = _head([_fp32()])
    byte_head = _head(
        [{"name": "X", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": 0}}]
    )

    def bytes_case(id: str, tail: bytes, shape=(2,), size: int | None = None) -> Case:
        head = _head(
            [
                {
                    "name": "X",
                    "datatype": "BYTES",
                    "shape": list(shape),
                    "parameters": {"binary_data_size": len(tail) if size is None else size},
                }
            ]
        )
        return _case(id, head, tail, model="exclaim")

    return [
        # the header itself
        _case("header-not-a-number", fp, ROWS, header="abc"),
        _case("header-negative", fp, ROWS, header="-5"),
        _case("header-zero", fp, ROWS, header="0"),
        _case("header-float", fp, ROWS, header="12.5"),
        _case("header-longer-than-body", fp, ROWS, header=str(len(fp) + len(ROWS) + 1)),
        _case("header-huge", fp, ROWS, header="9" * 30),
        _case("header-empty", fp, ROWS, header=""),
        _case("header-unicode-digits", fp, ROWS, header="\u0661\u0662"),
        _case("header-cuts-json", fp, ROWS, header=str(len(fp) - 3)),
        _case("header-too-short-json-in-tail", fp, ROWS, header="1"),
        _case("missing-header-binary-body", fp, ROWS, header=None),
        _case("header-points-into-tail", fp, ROWS, header=str(len(fp) + 4)),
        # binary_data_size
        _case("size-negative", _head([_fp32(-24)]), ROWS),
        _case("size-string", _head([_fp32("24")]), ROWS),
        _case("size-float", _head([_fp32(24.0)]), ROWS),
        _case("size-bool", _head([_fp32(True)]), ROWS),
        _case("size-null", _head([_fp32(None)]), ROWS),
        _case("size-too-small-for-shape", _head([_fp32(20)]), ROWS[:20]),
        _case("size-too-big-for-shape", _head([_fp32(28)]), ROWS + b"\0" * 4),
        _case("size-past-end-of-body", _head([_fp32(48)]), ROWS),
        _case("size-huge", _head([_fp32(2**62)]), ROWS),
        _case("trailing-bytes", fp, ROWS + b"junk"),
        _case("truncated-body", fp, ROWS[:10]),
        _case("size-not-multiple-of-item", _head([_fp32(23)]), ROWS[:23]),
        _case("data-and-size", _head([dict(_fp32(), data=[1, 2, 3, 4, 5, 6])]), ROWS),
        _case("no-tail-for-size", fp, b""),
        _case("wrong-shape-for-bytes", _head([_fp32(24, shape=(3, 3))]), ROWS),
        _case("fp64-size-for-fp32", _head([_fp32(48, datatype="FP64")]), ROWS * 2),
        _case("shape-negative", _head([_fp32(24, shape=(-2, 3))]), ROWS),
        _case("parameters-not-object", _head([dict(_fp32(), parameters=[24])]), ROWS),
        _case("inputs-not-list", json.dumps({"inputs": {"X": 1}}).encode(), ROWS),
        _case("header-not-json", b"\xff\xfe not json", ROWS),
        _case("header-json-array", b"[1, 2, 3]", ROWS),
        # BYTES with broken length prefixes
        bytes_case("bytes-truncated-prefix", _prefixed(b"ab") + b"\x01\x00"),
        bytes_case("bytes-prefix-past-end", _prefixed(b"ab") + struct.pack("<I", 50) + b"xy"),
        bytes_case("bytes-too-few-elements", _prefixed(b"ab")),
        bytes_case("bytes-too-many-elements", _prefixed(b"a", b"b", b"c")),
        bytes_case("bytes-not-utf8", _prefixed(b"ok", b"\xff\xfe")),
        bytes_case("bytes-size-mismatch", _prefixed(b"ab", b"cd"), size=3),
        bytes_case("bytes-empty-for-two", b"", size=0),
        _case("bytes-size-zero-with-tail", byte_head, _prefixed(b"a", b"b"), model="exclaim"),
        bytes_case("bytes-huge-prefix", struct.pack("<I", 2**32 - 1) + b"x"),
    ]
