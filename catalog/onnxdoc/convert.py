"""ModelProto <-> stored document: JSON for the structure, chunks for the tensor bytes.

json_format writes the JSON; ``schema.parse`` reads it back (same result, faster, and
its errors name the field).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from google.protobuf import json_format

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


# Attribute lists at least this long are converted with numpy rather than json_format,
# which spends ~5 us per float finding its shortest decimal form (an SVM's support vectors
# or a tree ensemble's thresholds are thousands of values).
FAST_LIST_MIN = 32
_MARK = "\x00catalog-fast-list:"


def _message_to_dict(model: onnx.ModelProto) -> dict[str, Any]:
    """Return json_format.MessageToDict(model), faster for long float/int attribute lists.

    The values are the same: float32 as protobuf's ToShortestFloat writes them, and int64
    as decimal strings. Lists holding NaN or Inf are left to json_format.
    """
    stash: list[tuple[str, dict[str, list[Any]]]] = []
    for _, nodes in node_lists(model):
        for node in nodes:
            for attr in node.attribute:
                lists: dict[str, list[Any]] = {}
                if len(attr.floats) >= FAST_LIST_MIN:
                    values = np.asarray(attr.floats, dtype=np.float32)
                    if np.isfinite(values).all():
                        lists["floats"] = _shortest_floats(values)
                        attr.ClearField("floats")
                if len(attr.ints) >= FAST_LIST_MIN:
                    lists["ints"] = [str(v) for v in attr.ints]
                    attr.ClearField("ints")
                if lists:
                    stash.append((attr.doc_string, lists))
                    attr.doc_string = f"{_MARK}{len(stash) - 1}"
    doc = json_format.MessageToDict(model)
    if stash:
        _restore_lists(doc, stash)
    return doc


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


def _restore_lists(value: Any, stash: list[tuple[str, dict[str, list[Any]]]]) -> None:
    if isinstance(value, dict):
        mark = value.get("docString")
        if isinstance(mark, str) and mark.startswith(_MARK):
            doc_string, lists = stash[int(mark[len(_MARK) :])]
            value.update(lists)
            if doc_string:
                value["docString"] = doc_string
            else:
                del value["docString"]
        for key in ("graph", "node", "attribute", "g", "graphs", "functions"):
            if key in value:
                _restore_lists(value[key], stash)
    elif isinstance(value, list):
        for item in value:
            _restore_lists(item, stash)


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
