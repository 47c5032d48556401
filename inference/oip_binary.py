"""The binary tensor data extension of the Open Inference Protocol (Triton / KServe).

A request with an ``Inference-Header-Content-Length: N`` header has a body made of a
JSON header of N bytes followed by raw tensor bytes. An input whose parameters hold
``binary_data_size: S`` has no ``data``: its values are the next S bytes of the tail,
row-major, little-endian; BOOL is one byte per value, BYTES is each element as a 4-byte
little-endian length followed by that many bytes. The sizes must add up to the tail.

A response carries an output in binary form when the request asks for it (the output's
``parameters.binary_data`` or the request's ``parameters.binary_data_output``): the
output then has ``parameters.binary_data_size`` and no ``data``, its bytes follow the
JSON header in output order, and the response has the same header naming the JSON length.

The same tensor codec serves gRPC's ``raw_input_contents``/``raw_output_contents``.
Everything here is pure (bytes and numpy); errors are ProtocolError (HTTP 400).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from inference import oip
from inference.oip import InferRequest, ProtocolError

HEADER = "Inference-Header-Content-Length"
# The WSGI environ key of HEADER.
ENVIRON_KEY = "HTTP_INFERENCE_HEADER_CONTENT_LENGTH"
BINARY_CONTENT_TYPE = "application/octet-stream"

# Little-endian fixed-size dtypes of the non-BYTES datatypes (BOOL read as bytes).
_WIRE_TYPES: dict[str, np.dtype] = {
    name: (np.dtype(np.uint8) if name == "BOOL" else dtype.newbyteorder("<"))
    for name, dtype in oip.NUMPY_TYPES.items()
    if name != "BYTES"
}
_LENGTH = struct.Struct("<I")


def header_length(value: str | None, body_size: int) -> int | None:
    """Return the JSON header length a request declares (None without the header), or raise."""
    if value is None:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise ProtocolError(f"{HEADER} must be a non-negative integer, not {value[:40]!r}")
    length = int(text)
    if length == 0:
        raise ProtocolError(f"{HEADER} is 0: the JSON header cannot be empty")
    if length > body_size:
        raise ProtocolError(f"{HEADER} is {length} but the body has only {body_size} bytes", None)
    return length


def split_body(body: bytes, declared: str | None) -> tuple[Any, memoryview]:
    """Return the decoded JSON header of a request and its binary tail (empty if none)."""
    length = header_length(declared, len(body))
    if length is None:
        return oip.parse_json(body), memoryview(b"")
    view = memoryview(body)
    return oip.parse_json(bytes(view[:length])), view[length:]


def parse_request(value: Any, tail: memoryview) -> InferRequest:
    """Return the InferRequest of a JSON header whose binary inputs are read from ``tail``."""
    if not isinstance(value, dict) or not isinstance(value.get("inputs"), list):
        return oip.parse_infer_request(value)  # it explains what is wrong
    offset = 0
    binary: dict[int, np.ndarray] = {}
    for index, item in enumerate(value["inputs"]):
        size = _binary_size(index, item)
        if size is None:
            continue
        if "data" in item:
            raise ProtocolError(
                f"input {item.get('name')!r} has both 'data' and binary_data_size",
                item.get("name"),
            )
        if offset + size > len(tail):
            raise ProtocolError(
                f"input {item.get('name')!r}: binary_data_size {size} runs past the end of"
                f" the body ({len(tail) - offset} bytes left)",
                item.get("name"),
            )
        binary[index] = tail[offset : offset + size]  # type: ignore[assignment]
        offset += size
        item = dict(item, data=[])  # a placeholder: the parser needs a 'data' key
        value["inputs"][index] = item
    if offset != len(tail):
        raise ProtocolError(
            f"the body has {len(tail) - offset} bytes after the binary inputs"
            f" ({offset} bytes declared by binary_data_size, {len(tail)} sent)"
        )
    request = oip.parse_infer_request(value)
    for index, chunk in binary.items():
        tensor = request.inputs[index]
        tensor.data = decode_tensor(tensor.name, tensor.datatype, tensor.shape, chunk)
    return request


def _binary_size(index: int, item: Any) -> int | None:
    if not isinstance(item, dict):
        return None
    params = item.get("parameters")
    if not isinstance(params, dict) or "binary_data_size" not in params:
        return None
    size = params["binary_data_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ProtocolError(
            f"inputs[{index}]: binary_data_size must be a non-negative integer, not {size!r}",
            item.get("name") if isinstance(item.get("name"), str) else None,
        )
    return size


def decode_tensor(name: str, datatype: str, shape: list[int], raw: bytes | memoryview) -> Any:
    """Return the array raw little-endian bytes hold for a datatype and shape, or raise."""
    count = math.prod(shape)
    if datatype == "BYTES":
        return np.array(_split_bytes(name, raw, count), dtype=object).reshape(shape)
    wire = _WIRE_TYPES[datatype]
    if len(raw) != count * wire.itemsize:
        raise ProtocolError(
            f"input {name!r}: {len(raw)} bytes of binary data, but shape {shape} of"
            f" {datatype} needs {count * wire.itemsize}",
            name,
        )
    array = np.frombuffer(raw, dtype=wire).reshape(shape)
    if datatype == "BOOL":
        return array != 0
    return array.astype(oip.NUMPY_TYPES[datatype], copy=False)


def _split_bytes(name: str, raw: bytes | memoryview, count: int) -> list[str]:
    data = bytes(raw)
    items: list[str] = []
    offset, end = 0, len(data)
    while offset < end:
        if offset + 4 > end:
            raise ProtocolError(
                f"input {name!r}: BYTES element {len(items)} has a truncated length prefix",
                name,
            )
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += 4
        if offset + length > end:
            raise ProtocolError(
                f"input {name!r}: BYTES element {len(items)} declares {length} bytes but"
                f" only {end - offset} remain",
                name,
            )
        try:
            items.append(data[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(
                f"input {name!r}: BYTES element {len(items)} is not UTF-8 text", name
            ) from None
        offset += length
        if len(items) > count:
            break
    if len(items) != count:
        raise ProtocolError(
            f"input {name!r}: the shape needs {count} BYTES elements, the data holds"
            f" {len(items)}{' or more' if len(items) > count else ''}",
            name,
        )
    return items


def encode_tensor(array: np.ndarray) -> bytes:
    """Return an output array as raw little-endian bytes (BYTES with length prefixes)."""
    if array.dtype.kind in "OUS":
        parts = []
        for value in array.ravel().tolist():
            data = value if isinstance(value, bytes) else str(value).encode("utf-8")
            parts.append(_LENGTH.pack(len(data)))
            parts.append(data)
        return b"".join(parts)
    if array.dtype == np.bool_:
        return array.astype(np.uint8).tobytes()
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def binary_outputs(value: Any) -> BinaryChoice:
    """Return which outputs of a request's JSON header are asked for in binary form."""
    if not isinstance(value, dict):
        return ALL_JSON
    params = value.get("parameters")
    default = isinstance(params, dict) and params.get("binary_data_output") is True
    overrides: dict[str, bool] = {}
    outputs = value.get("outputs")
    for item in outputs if isinstance(outputs, list) else ():
        if isinstance(item, dict) and isinstance(item.get("parameters"), dict):
            flag = item["parameters"].get("binary_data")
            if isinstance(flag, bool) and isinstance(item.get("name"), str):
                overrides[item["name"]] = flag
    return BinaryChoice(default, overrides)


@dataclass(frozen=True)
class BinaryChoice:
    """Which outputs go in binary: the request's default and per-output choices."""

    default: bool
    overrides: dict[str, bool]

    def __call__(self, name: str) -> bool:
        return self.overrides.get(name, self.default)

    @property
    def any(self) -> bool:
        return self.default or any(self.overrides.values())


# The choices of a request that names no output: every output in JSON, or every one in binary.
ALL_JSON = BinaryChoice(False, {})
ALL_BINARY = BinaryChoice(True, {})


def encode_json(value: Any) -> bytes:
    """Return a response's JSON text: orjson's (compact, UTF-8), or json's for what orjson
    cannot write (integers past 64 bits in an object output)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value).encode("utf-8")


def encode_response(
    head: dict[str, Any], outputs: list[tuple[str, np.ndarray]], binary: BinaryChoice
) -> tuple[bytes, int | None]:
    """Return a response body and its JSON header length (None when it is plain JSON).

    ``head`` is the response without ``outputs``.
    """
    encoded, tails = [], []
    for name, array in outputs:
        if binary(name):
            data = encode_tensor(array)
            encoded.append(
                {
                    "name": name,
                    "datatype": oip.datatype_of(array),
                    "shape": list(array.shape),
                    "parameters": {"binary_data_size": len(data)},
                }
            )
            tails.append(data)
        else:
            encoded.append(oip.encode_output(name, array))
    header = encode_json({**head, "outputs": encoded})
    if not tails:
        return header, None
    return header + b"".join(tails), len(header)
