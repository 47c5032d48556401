"""ModelProto <-> stored document: JSON for the structure, chunks for the tensor bytes.

json_format writes the JSON; ``schema.parse`` reads it back (same result, faster, and
its errors name the field).
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from google.protobuf import descriptor, json_format
from google.protobuf.internal.type_checkers import ToShortestFloat

from catalog.onnxdoc import schema
from catalog.onnxdoc.errors import DocumentError
from catalog.onnxdoc.summary import summarize
from catalog.onnxdoc.tensors import (
    CHUNK_SIZE,
    CHUNK_THRESHOLD,
    STRING,
    FetchChunk,
    externalize,
    has_nan_typed_floats,
    is_external,
    parse_reference,
    raw_size,
    resolve,
    set_raw,
    split_bytes,
    typed_to_raw,
)
from catalog.onnxdoc.walk import ROOT, iter_tensors, node_lists


@dataclass
class ModelDocument:
    """A model as stored: the JSON document, its summary and the chunks it references."""

    onnx: dict[str, Any]
    summary: dict[str, Any]
    chunks: dict[str, bytes] = field(default_factory=dict)


def model_to_document(
    model: onnx.ModelProto, *, threshold: int = CHUNK_THRESHOLD, chunk_size: int = CHUNK_SIZE
) -> ModelDocument:
    """Return the document of a model; tensors over threshold bytes go to chunks.

    Externalized tensors are first converted to raw_data, so they come back bit for bit.
    STRING tensors stay inline. The model passed in is not modified.
    """
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    summary = summarize(model)
    work = onnx.ModelProto()
    work.CopyFrom(model)
    chunks: dict[str, bytes] = {}
    for path, tensor in iter_tensors(work):
        if is_external(tensor):
            raise DocumentError(
                f"{path}: tensor {tensor.name!r} keeps its data in an external file; "
                "load the model with its external data first"
            )
        if tensor.data_type == STRING:
            continue
        if tensor.HasField("raw_data"):
            data = tensor.raw_data
            if len(data) <= threshold:
                continue
        else:
            size = raw_size(tensor)
            if size is None or size <= threshold:
                # json_format writes NaN as "NaN", losing sign and payload: keep the bits
                if has_nan_typed_floats(tensor):
                    set_raw(tensor, typed_to_raw(tensor, path))
                continue
            data = typed_to_raw(tensor, path)
        keys, parts = split_bytes(data, chunk_size)
        chunks.update(parts)
        externalize(tensor, keys, len(data))
    return ModelDocument(onnx=_message_to_dict(work), summary=summary, chunks=chunks)


# Repeated float fields at least this long are converted with numpy rather than one value at
# a time, which spends ~5 us per float finding its shortest decimal form (an SVM's support
# vectors or a tree ensemble's thresholds are thousands of values).
FAST_LIST_MIN = 32

_FD = descriptor.FieldDescriptor
# How a field's value becomes JSON (the kinds json_format tells apart).
_MESSAGE, _ENUM, _BYTES, _TEXT, _BOOL, _INT64, _FLOAT, _DOUBLE, _AS_IS = range(9)
_AS_STR = frozenset((_TEXT, _INT64))
_REAL = frozenset((_FLOAT, _DOUBLE))
_INT64_TYPES = (_FD.CPPTYPE_INT64, _FD.CPPTYPE_UINT64)
# field descriptor -> (JSON name, kind, repeated, enum names by number)
_Plan = tuple[str, int, bool, dict[int, str] | None]
_PLANS: dict[Any, _Plan] = {}
MAX_PLANS = 4096


class _NotPlain(Exception):
    """A message json_format writes in a way of its own (maps, extensions, well-known types,
    an enum number its closed enum lacks): json_format converts the whole model."""


def _message_to_dict(model: onnx.ModelProto) -> dict[str, Any]:
    """Return json_format.MessageToDict(model): the same dict, built about twice as fast.

    json_format's general printer asks each field's descriptor the same questions for every
    value; here each field's answer is worked out once per process (``_plan``). Long
    repeated float fields are converted with numpy (``_shortest_floats``), int64 ones as
    decimal strings, as json_format writes them. Anything outside the plain messages ONNX is
    made of goes to json_format itself.
    """
    try:
        if _special(model.DESCRIPTOR):
            raise _NotPlain
        return _message(model)
    except (_NotPlain, ValueError):
        return json_format.MessageToDict(model)


def _special(message_type: Any) -> bool:
    """Return whether json_format may write a message type its own way (the well-known types
    and wrappers are all in the google.protobuf package)."""
    return message_type.full_name.startswith("google.protobuf.")


def _plan(field: Any) -> _Plan:
    if field.is_extension:
        raise _NotPlain
    cpp = field.cpp_type
    names = None
    if cpp == _FD.CPPTYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry or _special(field.message_type):
            raise _NotPlain
        kind = _MESSAGE
    elif cpp == _FD.CPPTYPE_ENUM:
        if field.enum_type.full_name == "google.protobuf.NullValue":
            raise _NotPlain
        kind, names = _ENUM, {v.number: v.name for v in field.enum_type.values}
    elif cpp == _FD.CPPTYPE_STRING:
        kind = _BYTES if field.type == _FD.TYPE_BYTES else _TEXT
    elif cpp == _FD.CPPTYPE_BOOL:
        kind = _BOOL
    elif cpp in _INT64_TYPES:
        kind = _INT64
    elif cpp == _FD.CPPTYPE_FLOAT:
        kind = _FLOAT
    elif cpp == _FD.CPPTYPE_DOUBLE:
        kind = _DOUBLE
    else:
        kind = _AS_IS
    plan = (field.json_name, kind, field.is_repeated, names)
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    _PLANS[field] = plan
    return plan


def _message(message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fd, value in message.ListFields():
        plan = _PLANS.get(fd)
        name, kind, repeated, names = plan if plan is not None else _plan(fd)
        if kind == _MESSAGE:
            out[name] = [_message(v) for v in value] if repeated else _message(value)
        elif kind in _AS_STR:
            out[name] = [str(v) for v in value] if repeated else str(value)
        elif kind == _AS_IS:
            out[name] = list(value) if repeated else value
        elif not repeated:
            out[name] = _scalar(kind, names, value)
        elif kind == _FLOAT and len(value) >= FAST_LIST_MIN:
            values = np.asarray(value, dtype=np.float32)
            if np.isfinite(values).all():
                out[name] = _shortest_floats(values)
            else:
                out[name] = [_scalar(kind, names, v) for v in value]
        else:
            out[name] = [_scalar(kind, names, v) for v in value]
    return out


def _scalar(kind: int, names: dict[int, str] | None, value: Any) -> Any:
    """Return one value as json_format writes it (``_FieldToJsonObject``)."""
    if kind in _REAL:
        if math.isinf(value):
            return "-Infinity" if value < 0.0 else "Infinity"
        if math.isnan(value):
            return "NaN"
        return _shortest_float(value) if kind == _FLOAT else value
    if kind == _ENUM:
        assert names is not None
        name = names.get(value)
        if name is None:  # json_format refuses it (closed enum) or writes the number
            raise _NotPlain
        return name
    if kind == _BYTES:
        return base64.b64encode(value).decode("utf-8")
    if kind == _BOOL:
        return bool(value)
    return str(value) if kind in _AS_STR else value


_FLOAT32 = struct.Struct("<f")


def _shortest_float(value: float) -> float:
    """Return protobuf's ToShortestFloat(value) of a finite float32: the value printed with 6
    significant digits, or 7, 8, 9 until it reads back as the same float32 (the same steps,
    with %-formatting and a compiled struct: 3x faster)."""
    pack, unpack = _FLOAT32.pack, _FLOAT32.unpack
    for precision in (6, 7, 8, 9):
        rounded = float("%.*g" % (precision, value))  # noqa: UP031 (faster than format)
        try:
            if unpack(pack(rounded))[0] == value:
                return rounded
        except OverflowError:  # ToShortestFloat raises it: let it say so
            break
    return ToShortestFloat(value)


def _shortest_floats(values: np.ndarray) -> list[float]:
    """Return protobuf's ToShortestFloat of each finite float32, vectorised.

    That is: the value printed with 6 significant digits, or 7, 8, 9 until it reads back
    as the same float32.
    """
    out = np.empty(len(values), dtype=np.float64)
    pending = np.arange(len(values))
    for precision in range(6, 10):
        candidates = np.char.mod(f"%.{precision}g", values[pending].astype(np.float64))
        parsed = candidates.astype(np.float64)
        exact = parsed.astype(np.float32) == values[pending]
        out[pending[exact]] = parsed[exact]
        pending = pending[~exact]
        if not len(pending):
            break
    out[pending] = values[pending]  # not reached: 9 digits always round-trip a float32
    return out.tolist()


def document_to_model(onnx_json: dict[str, Any], fetch_chunk: FetchChunk) -> onnx.ModelProto:
    """Return the ModelProto of a stored document, with every tensor inline as raw_data.

    fetch_chunk(key) returns the chunk's bytes (None or KeyError: missing). Raises
    DocumentError, naming the field, for a malformed document, an external reference
    that is not one of our chunks, or a missing chunk.
    """
    model = parse_document(onnx_json)
    cache: dict[str, bytes] = {}
    for path, tensor in iter_tensors(model):
        if is_external(tensor):
            resolve(tensor, path, fetch_chunk, cache)
    return model


def parse_document(onnx_json: dict[str, Any]) -> onnx.ModelProto:
    """Return the ModelProto of a document as stored, external references unresolved."""
    model = onnx.ModelProto()
    schema.parse(onnx_json, model, ROOT)
    if not model.HasField("graph"):
        raise DocumentError(f"{ROOT}.graph: missing")
    for path, nodes in node_lists(model):
        for i, node in enumerate(nodes):
            if not node.op_type:
                raise DocumentError(f"{path}[{i}].opType: missing (every node needs one)")
    return model


def chunk_keys(onnx_json: dict[str, Any]) -> set[str]:
    """Return every chunk key a document references (for delete and garbage collection).

    Walks the whole JSON, not only the places a tensor may be, so no reference is missed;
    raises DocumentError on a reference we did not write, rather than skip it.
    """
    keys: set[str] = set()
    for path, entries in _json_references(onnx_json, ROOT):
        if not isinstance(entries, list) or not all(
            isinstance(e, dict)
            and isinstance(e.get("key"), str)
            and isinstance(e.get("value", ""), str)
            for e in entries
        ):
            raise DocumentError(f"{path}.externalData: expected a list of key/value objects")
        pairs = ((e["key"], e.get("value", "")) for e in entries)
        chunk_list, _ = parse_reference(pairs, path)
        keys.update(chunk_list)
    return keys


def _json_references(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yield (path, externalData value) for every object holding external data."""
    if isinstance(value, dict):
        for name in ("externalData", "external_data"):
            if name in value:
                yield path, value[name]
        for key, item in value.items():
            if isinstance(item, dict | list):
                yield from _json_references(item, f"{path}.{key}")
    elif isinstance(value, list) and value and isinstance(value[0], dict | list):
        for i, item in enumerate(value):
            yield from _json_references(item, f"{path}[{i}]")
