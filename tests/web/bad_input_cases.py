"""Bad inputs for the catalog: broken ONNX files, damaged stored documents, bad requests.

Each builder returns bytes (or a document edit) that the catalog must refuse with a clear
message and without storing anything; ``tests/web/test_bad_input.py`` runs them through the
HTTP API, the pages and the command line.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.models import matmul_model

OPSET = 17
IR = 9


def good() -> onnx.ModelProto:
    """Return the valid model the bad ones are derived from: Y = X @ W, X [N, 4]."""
    return matmul_model(4, 2, seed=7)


def _model(
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto] | None = None,
    *,
    opsets: list[onnx.OperatorSetIdProto] | None = None,
    ir: int = IR,
    inputs: list[onnx.ValueInfoProto] | None = None,
    outputs: list[onnx.ValueInfoProto] | None = None,
) -> bytes:
    graph = helper.make_graph(
        nodes,
        "bad",
        inputs
        if inputs is not None
        else [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])],
        outputs
        if outputs is not None
        else [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])],
        inits or [],
    )
    model = helper.make_model(
        graph, opset_imports=opsets or [helper.make_opsetid("", OPSET)], ir_version=ir
    )
    return model.SerializeToString()


def _external(location: str) -> bytes:
    w = numpy_helper.from_array(np.ones((4, 2), np.float32), "W")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "32")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    return _model([helper.make_node("MatMul", ["X", "W"], ["Y"])], [w])


def _huge_initializer() -> bytes:
    w = TensorProto()
    w.name, w.data_type = "W", TensorProto.FLOAT
    w.dims.extend([1_000_000, 1_000_000])
    return _model(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        [w],
        outputs=[ANY_Y],
    )


def _huge_constant() -> bytes:
    t = TensorProto()
    t.name, t.data_type = "c", TensorProto.FLOAT
    t.dims.extend([1_000_000, 1_000_000])
    return _model(
        [
            helper.make_node("Constant", [], ["C"], value=t),
            helper.make_node("Add", ["X", "C"], ["Y"]),
        ],
        outputs=[ANY_Y],
    )


def _short_raw_data() -> bytes:
    w = TensorProto()
    w.name, w.data_type = "W", TensorProto.FLOAT
    w.dims.extend([4, 2])
    w.raw_data = np.ones(3, np.float32).tobytes()  # 12 bytes for 8 floats
    return _model([helper.make_node("MatMul", ["X", "W"], ["Y"])], [w])


def _truncated() -> bytes:
    data = good().SerializeToString()
    return data[: len(data) // 2]


def _not_a_model() -> bytes:
    # A valid protobuf message of another type: parses, but has no graph or IR version.
    return numpy_helper.from_array(np.arange(6, dtype=np.float32), "t").SerializeToString()


def _no_graph() -> bytes:
    model = onnx.ModelProto()
    model.ir_version = IR
    model.opset_import.add().version = OPSET
    return model.SerializeToString()


ANY_Y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["A", "B"])
W = numpy_helper.from_array(np.ones((4, 2), np.float32), "W")

# name -> (bytes of the .onnx file, words one of which the error message must contain)
ONNX_CASES: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "empty file": (lambda: b"", ("empty", "no model")),
    "truncated protobuf": (_truncated, ("onnx", "decode", "protobuf")),
    "random garbage": (
        lambda: np.random.default_rng(1).bytes(4096),
        ("onnx", "decode", "protobuf"),
    ),
    "text file": (lambda: b"this is not a model\n" * 10, ("onnx", "decode", "protobuf")),
    "another protobuf message": (_not_a_model, ("onnx", "graph", "ir")),
    "model without a graph": (_no_graph, ("graph", "ir")),
    "undefined node input": (
        lambda: _model([helper.make_node("MatMul", ["X", "nowhere"], ["Y"])]),
        ("checker", "nowhere"),
    ),
    "unknown operator": (
        lambda: _model([helper.make_node("NoSuchOp", ["X"], ["Y"])]),
        ("NoSuchOp",),
    ),
    "unknown operator domain": (
        lambda: _model(
            [helper.make_node("Frobnicate", ["X"], ["Y"], domain="com.example.secret")],
            opsets=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.example.secret", 1)],
        ),
        ("com.example.secret", "Frobnicate"),
    ),
    "opset newer than the runtime": (
        lambda: _model(
            [helper.make_node("MatMul", ["X", "W"], ["Y"])],
            [W],
            opsets=[helper.make_opsetid("", 99)],
        ),
        ("opset", "99"),
    ),
    "IR version newer than the runtime": (
        lambda: _model([helper.make_node("MatMul", ["X", "W"], ["Y"])], [W], ir=99),
        ("ir", "99"),
    ),
    "external data at /etc/passwd": (lambda: _external("/etc/passwd"), ("external",)),
    "external data at ../": (lambda: _external("../../../secret.bin"), ("external",)),
    "initializer of 10^12 elements without data": (
        _huge_initializer,
        ("W", "data", "size", "1000000"),
    ),
    "constant of 10^12 elements without data": (
        _huge_constant,
        ("data", "size", "1000000", "value"),
    ),
    "raw data shorter than its dims": (_short_raw_data, ("W", "size", "data")),
    "node output used before it is made": (
        lambda: _model(
            [
                helper.make_node("Relu", ["T"], ["Y"]),
                helper.make_node("Relu", ["X"], ["T"]),
            ],
            outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 4])],
        ),
        ("topolog", "T"),
    ),
    "wrong attribute type": (
        lambda: _model(
            [helper.make_node("Transpose", ["X"], ["Y"], perm="not a list")],
            outputs=[ANY_Y],
        ),
        ("perm", "attribute"),
    ),
}


# -- damaged stored documents: (edit of the version document, words naming the bad field) --


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Return an edit that sets ``doc[path]`` (dots and [i] in path) to ``value``."""

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        target: Any = out
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return out

    return edit


_DELETE = object()

DOCUMENT_CASES: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], tuple[str, ...]]] = {
    "graph is a string": (_set("onnx.graph", "oops"), ("graph",)),
    "graph missing": (_set("onnx.graph", _DELETE), ("graph",)),
    "node list is an object": (_set("onnx.graph.node", {"opType": "MatMul"}), ("node",)),
    "opType is a number": (_set("onnx.graph.node[0].opType", 42), ("opType",)),
    "opType missing": (_set("onnx.graph.node[0].opType", _DELETE), ("opType",)),
    "dims are words": (_set("onnx.graph.initializer[0].dims", ["four", "two"]), ("dims",)),
    "rawData is not base64": (
        _set("onnx.graph.initializer[0].rawData", "%%%not base64%%%"),
        ("rawData",),
    ),
    "irVersion is an object": (_set("onnx.irVersion", {"v": 9}), ("irVersion",)),
    "dataType unknown": (_set("onnx.graph.initializer[0].dataType", "NOT_A_TYPE"), ("dataType",)),
    "onnx is a list": (_set("onnx", [1, 2, 3]), ("onnx",)),
}


# -- harden (issue 14, points 4 and 5): documents import refuses, names publish refuses,
# -- .npy headers the predict form refuses, statements anonymous SQL++ may not run -----------


def nested_object(depth: int) -> dict[str, Any]:
    """Return {"a": {"a": ... {}}}, ``depth`` objects deep."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


# A stand-in replaced by 950 levels of {"a": ...} when a record is written as text.
DEEP_950 = "<950 levels of nested objects>"


def deep_json_text(depth: int) -> str:
    """Return the JSON text of an object ``depth`` levels deep, built without recursion."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


# Changes to a healthy version document that `catalog import` must refuse (with the line
# number, before writing anything), and words of the message.
SCHEMA_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "name a/b": ({"name": "a/b"}, "not a valid model name"),
    "name with a trailing newline": ({"name": "nl\n"}, "not a valid model name"),
    "metadata is a list": ({"metadata": [1, 2]}, "metadata must be a JSON object, not a list"),
    "metadata 40 deep": ({"metadata": nested_object(40)}, "nested more than 32 levels deep"),
    # 950 deep, written as text (json.dumps would recurse); json.loads itself may hit
    # the recursion limit first, so the message says "nested" either way.
    "metadata 950 deep": ({"metadata": DEEP_950}, "nested"),
    "version 1x": ({"version": "1x"}, "version '1x' is not a positive integer"),
    "version true": ({"version": True}, "is not a positive integer"),
    "tags a string": ({"metadata": {"tags": "a,b"}}, "tags must be a list"),
    "format unknown": ({"format": "pickle"}, "format 'pickle'"),
    "summary a list": ({"summary": []}, "summary must be a JSON object"),
}

# Model names and aliases publish and the alias API refuse ($ used to match before "\n").
BAD_MODEL_NAMES = ["nl\n", "a/b", "", ".x", "x y", "x\n\n", "é", "a\x00b"]
BAD_ALIASES = ["prod\n", "1", "p/q", "", "_x", "a" * 65]

# .npy files the predict form refuses before loading: (shape, dtype descr, data bytes, words).
NPY_HEADER_CASES: dict[str, tuple[tuple[int, ...], str, int, str]] = {
    "1e12 rows": ((10**12,), "<f8", 64, "at most 10000 are accepted"),
    "1e12 x 40": ((10**12, 40), "<f8", 64, "at most 10000 are accepted"),
    "2 x 1e12": ((2, 10**12), "<f8", 64, "the file holds 64 bytes of data"),
    "short data": ((3, 40), "<f8", 8, "the file holds 8 bytes of data"),
    "objects": ((1, 40), "|O", 320, "cannot be sent"),
    "datetimes": ((2,), "<M8[s]", 16, "cannot be sent"),
}

# Statements anonymous and non-staff users may not run (they read audit, states or
# predictions, or cannot be parsed and so cannot be checked).
PRIVATE_QUERIES = [
    "SELECT * FROM audit",
    "SELECT * FROM `audit`",
    "SELECT * FROM ml.catalog.audit",
    "SELECT * FROM default:ml.catalog.audit",
    "SELECT * FROM catalog.states",
    "SELECT * FROM ml.catalog.states AS s",
    "SELECT * FROM other._default._default",
    "SELECT * FROM models m JOIN predictions p ON KEYS m.name",
    "SELECT * FROM models m NEST states s ON KEYS m.name",
    "SELECT * FROM models m LEFT JOIN audit a ON a.name = m.name",
    "SELECT (SELECT RAW 1 FROM audit) AS x",
    "SELECT * FROM models m WHERE EXISTS (SELECT 1 FROM audit a)",
    "SELECT * FROM models WHERE name IN (SELECT RAW a.name FROM audit a)",
    "SELECT RAW 1 FROM models UNION SELECT RAW 1 FROM states",
    "WITH x AS (SELECT * FROM audit) SELECT * FROM x",
    "WITH audit AS (SELECT * FROM audit) SELECT * FROM audit",
    "SELECT * FROM (SELECT * FROM states) AS s",
    "SELECT * FROM (SELECT * FROM ml.catalog.audit) AS s, models ml",
    "SELECT * FROM models, (WITH audit AS (1) SELECT 1) AS q, audit",
    "SELECT ARRAY (SELECT RAW 1 FROM predictions) FOR v IN [1] END AS x",
    "SELECT * FROM models m USE KEYS (SELECT RAW 1 FROM audit)",
    "SELECT * FROM (SELECT * FROM models) AS q ORDER BY (SELECT RAW 1 FROM audit)",
    "SELECT * FROM m.summary.initializers AS t",  # a path is checked as a keyspace
    "SELECT FROM audit",  # cannot be parsed, so cannot be checked
]


# -- damaged documents that list pages must skip (tests/test_web_damaged.py) -----------------


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _with(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(doc) | changes

    return edit


# case -> (key the damaged copy of a good version document is stored under, edit of it).
# Issue 14's red team: a name "a/b", metadata a list, metadata 950 deep (700 here: see
# tests/test_web_damaged.py), a version "1x"; plus two shapes the pages read.
LISTED_DOCUMENT_CASES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "metadata is a list": ("listmeta::1", _with(name="listmeta", metadata=[1, 2])),
    "metadata nested 700 deep": ("deep::1", _with(name="deep", metadata=_nested(700))),
    "a name with a slash": ("a/b::1", _with(name="a/b")),
    "a version 1x": ("mm::1x", _with(version="1x")),
    "summary is a string": ("strsum::1", _with(name="strsum", summary="oops")),
    "tags are a number": (
        "numtags::1",
        _with(name="numtags", metadata={"description": "", "tags": 7}),
    ),
}

# -- JSON nested past the parser's limit, at every door (tests/test_web_hardening.py) ------

DEEP = 5000
DEEP_ARRAY = "[" * DEEP + "]" * DEEP
# case -> (method, path, body, needs a writer's token)
DEEP_JSON_REQUESTS: dict[str, tuple[str, str, str, bool]] = {
    "infer": ("post", "/v2/models/mm/infer", '{"inputs": ' + DEEP_ARRAY + "}", False),
    "infer a version": (
        "post",
        "/v2/models/mm/versions/1/infer",
        '{"inputs": ' + DEEP_ARRAY + "}",
        False,
    ),
    "query": (
        "post",
        "/api/query",
        '{"statement": "SELECT $1", "params": ' + DEEP_ARRAY + "}",
        False,
    ),
    "alias": (
        "post",
        "/api/models/mm/aliases/production",
        '{"version": 1, "expected": ' + DEEP_ARRAY + "}",
        True,
    ),
    "learn": ("post", "/api/models/mm/learn", '{"rows": ' + DEEP_ARRAY + ', "labels": [1]}', True),
    "feedback": ("post", "/api/predictions/abc/feedback", '{"label": ' + DEEP_ARRAY + "}", True),
}

# Version references that look like numbers to str.isdigit() but not to int() (found by the
# API fuzzer: "²" gave a 500 on every route that takes a version).
ODD_VERSION_REFS = ["\u00b2", "\u0663", "\uff11", "1\u00b2"]
