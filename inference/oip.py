"""Open Inference Protocol v2 (KServe/Triton REST): datatypes, request parsing, encoding.

Decisions the protocol leaves open:
- ``data`` is row-major, flat or nested; nested data must have exactly the declared shape.
- A request's datatype must equal the model input's (as Triton does): no silent casts.
- Numbers only for numeric inputs: strings (even "1.5"), null and booleans are refused.
  NaN and Infinity (the JSON extensions Python reads) are accepted for FP inputs and
  passed to the runtime as they are; integer and BOOL inputs refuse them.
- Non-finite output values are written as ``null`` (JSON has no NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalog.domain.jsonbody import JsonBodyError, decode_json

# OIP datatype -> numpy dtype.
NUMPY_TYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
DATATYPES = tuple(NUMPY_TYPES)
# numpy dtype -> OIP datatype (one dict lookup per output on the hot path).
_DATATYPE_OF_DTYPE = {dtype: name for name, dtype in NUMPY_TYPES.items() if name != "BYTES"}

# onnxruntime's type strings -> OIP datatype.
ORT_TYPES: dict[str, str] = {
    "tensor(bool)": "BOOL",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(int8)": "INT8",
    "tensor(int16)": "INT16",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(float16)": "FP16",
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(string)": "BYTES",
}

# Which numpy kinds (of np.array(data) without a dtype) each datatype family accepts.
_ACCEPTED_KINDS = {"f": "iuf", "i": "iu", "u": "iu", "b": "b", "O": "U"}


class ProtocolError(ValueError):
    """A request the protocol (or the model's signature) does not allow: HTTP 400.

    ``field`` names the input it concerns, when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class InputTensor:
    """One decoded request input."""

    name: str
    datatype: str
    shape: list[int]
    data: Any
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class InferRequest:
    """A parsed inference request: inputs not yet checked against a model."""

    inputs: list[InputTensor]
    id: str | None = None
    outputs: list[str] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


def parse_json(body: bytes) -> Any:
    """Return the JSON value of a request body, or raise ProtocolError."""
    if not body:
        raise ProtocolError("the request body is empty; send a JSON object")
    try:
        return decode_json(body)
    except JsonBodyError as e:
        raise ProtocolError(str(e)) from None


def parse_infer_request(value: Any) -> InferRequest:
    """Return the InferRequest in a decoded JSON body, or raise ProtocolError."""
    if not isinstance(value, dict):
        raise ProtocolError("the request must be a JSON object with an 'inputs' list")
    inputs = value.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError("'inputs' must be a non-empty list of tensors")
    request_id = value.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ProtocolError("'id' must be a string")
    parameters = _parameters(value.get("parameters"), "request")
    return InferRequest(
        inputs=[_input(i, item) for i, item in enumerate(inputs)],
        id=request_id,
        outputs=_outputs(value.get("outputs")),
        parameters=parameters,
    )


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"{where} 'parameters' must be an object")
    return value


def _input(index: int, item: Any) -> InputTensor:
    if not isinstance(item, dict):
        raise ProtocolError(f"inputs[{index}] must be an object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError(f"inputs[{index}] needs a 'name'")
    datatype = item.get("datatype")
    if datatype not in NUMPY_TYPES:
        raise ProtocolError(
            f"input {name!r}: unknown datatype {datatype!r} (one of {', '.join(DATATYPES)})",
            name,
        )
    shape = item.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ProtocolError(
            f"input {name!r}: 'shape' must be a list of non-negative integers", name
        )
    if "data" not in item:
        raise ProtocolError(f"input {name!r} has no 'data'", name)
    return InputTensor(
        name, datatype, shape, item["data"], _parameters(item.get("parameters"), name)
    )


def _outputs(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ProtocolError("'outputs' must be a list of {\"name\": ...} objects")
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise ProtocolError("each requested output needs a 'name'")
        names.append(name)
    return names


def to_array(tensor: InputTensor) -> np.ndarray:
    """Return the tensor's data as a numpy array of its datatype and shape, or raise."""
    name, dtype = tensor.name, NUMPY_TYPES[tensor.datatype]
    data = tensor.data
    if isinstance(data, np.ndarray):  # decoded from binary tensor data (oip_binary)
        return data
    if not isinstance(data, list):
        raise ProtocolError(f"input {name!r}: 'data' must be a (flat or nested) list", name)
    plain = plain_array(data, dtype, tensor.shape)
    if plain is not None:
        return plain
    try:
        raw = np.array(data)
    except ValueError:  # ragged nesting
        raise ProtocolError(
            f"input {name!r}: nested 'data' is ragged; rows must all have the same length", name
        ) from None
    expected = math.prod(tensor.shape)
    if raw.size != expected:
        raise ProtocolError(
            f"input {name!r}: shape {tensor.shape} needs {expected} values, got {raw.size}", name
        )
    if raw.ndim > 1 and list(raw.shape) != tensor.shape:
        raise ProtocolError(
            f"input {name!r}: nested data has shape {list(raw.shape)}, not {tensor.shape}", name
        )
    if tensor.datatype == "UINT64" and raw.dtype.kind in "fO" and _all_python_ints(data):
        # numpy reads ints above the INT64 range as float64 (losing digits): read them again
        raw = np.array(data, dtype=np.uint64) if _fits_uint64(data) else raw
    if raw.size and raw.dtype.kind not in _ACCEPTED_KINDS[dtype.kind]:
        raise ProtocolError(f"input {name!r}: {_kind_problem(raw, tensor.datatype)}", name)
    if dtype.kind in "iu" and raw.size:
        info = np.iinfo(dtype)
        if raw.min() < info.min or raw.max() > info.max:
            raise ProtocolError(f"input {name!r}: values out of range for {tensor.datatype}", name)
    return raw.astype(dtype, copy=False).reshape(tensor.shape)


# The common request, a short flat list of one Python type the datatype takes as it is, is
# made into its array in one step; anything else takes the general path of ``to_array``,
# which gives the same array. (Its extra numpy steps cost more than their own time: they
# slow the model run that follows, measured on the prediction route.)
_PLAIN_MAX = 1024
_PLAIN_TYPES = {"f": float, "b": bool, "i": int, "u": int}


def plain_array(data: list[Any], dtype: np.dtype, shape: list[int]) -> np.ndarray | None:
    """Return ``data`` as an array when it is short, flat and plain; None otherwise."""
    if len(data) > _PLAIN_MAX or len(data) != math.prod(shape) or dtype == np.uint64:
        return None
    kind = _PLAIN_TYPES.get(dtype.kind)
    if kind is None or not data or {*map(type, data)} != {kind}:
        return None  # also nested lists, bools among ints, ints among floats
    if kind is int:
        info = np.iinfo(dtype)
        if min(data) < info.min or max(data) > info.max:
            return None  # the general path says which
    return np.array(data, dtype=dtype).reshape(shape)


def _flatten(data: list[Any]) -> list[Any]:
    out: list[Any] = []
    stack = [data]
    while stack:
        for item in stack.pop():
            if isinstance(item, list):
                stack.append(item)
            else:
                out.append(item)
    return out


def _all_python_ints(data: list[Any]) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in _flatten(data))


def _fits_uint64(data: list[Any]) -> bool:
    return all(0 <= v < 2**64 for v in _flatten(data))


def _kind_problem(raw: np.ndarray, datatype: str) -> str:
    if datatype == "BYTES":
        return "BYTES data must be strings"
    if raw.dtype.kind == "U":
        return f"{datatype} data must be numbers, not strings"
    if raw.dtype.kind == "O":
        return f"{datatype} data must hold numbers only (no null, objects or mixed types)"
    if raw.dtype.kind == "b":
        return f"{datatype} data must be numbers, not true/false"
    if raw.dtype.kind == "f" and datatype != "BOOL":
        return f"{datatype} data must be integers"
    return (
        f"{datatype} data must be true/false"
        if datatype == "BOOL"
        else f"wrong data for {datatype}"
    )


def encode_output(name: str, array: np.ndarray) -> dict[str, Any]:
    """Return the OIP output tensor for a runtime result."""
    return {
        "name": name,
        "datatype": datatype_of(array),
        "shape": list(array.shape),
        "data": flat_data(array),
    }


def datatype_of(array: np.ndarray) -> str:
    """Return the OIP datatype of a numpy array."""
    if array.dtype.kind in "OUS":
        return "BYTES"
    datatype = _DATATYPE_OF_DTYPE.get(array.dtype)
    if datatype is None:
        raise ValueError(f"no OIP datatype for {array.dtype}")
    return datatype


def flat_data(array: np.ndarray) -> list[Any]:
    """Return an array's values, row-major, as JSON-able Python values (NaN -> None)."""
    if array.dtype.kind in "SO":
        return [
            v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            for v in array.ravel().tolist()
        ]
    values = array.ravel().tolist()
    if array.dtype.kind == "f" and not _all_finite(array, values):
        values = [v if math.isfinite(v) else None for v in values]
    return values


# Up to this many values, finiteness is checked on the Python floats: a numpy ufunc right
# after an onnxruntime run costs about 15 µs (measured on the prediction route), a loop over
# a few floats well under one.
_FINITE_IN_PYTHON = 256


def _all_finite(array: np.ndarray, values: list[float]) -> bool:
    if len(values) <= _FINITE_IN_PYTHON:
        return all(map(math.isfinite, values))
    return bool(np.isfinite(array).all())
