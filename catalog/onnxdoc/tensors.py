"""Tensor bytes: content-addressed chunks, raw conversion, external-data references.

An externalized tensor keeps ONNX's own external-data fields, pointing at our chunks
instead of a file::

    "dataLocation": "EXTERNAL",
    "externalData": [
        {"key": "location", "value": "<sha256 hex of the first chunk>"},
        {"key": "offset", "value": "0"},
        {"key": "length", "value": "<bytes of raw_data>"},
        {"key": "chunks", "value": "<key0>,<key1>,..."}   # only when split in several
    ]

``location`` is therefore always a key of the ``tensors`` collection; anything else
(a file name, ``../x``) is refused when a document is read.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable

import numpy as np
import onnx
from onnx import helper, numpy_helper

from catalog.onnxdoc.errors import DocumentError

# bytes: tensors with raw data larger than this are externalized
CHUNK_THRESHOLD = 64 * 1024
# bytes per chunk: well under Couchbase's 20 MB value limit
CHUNK_SIZE = 8 * 1024 * 1024

FetchChunk = Callable[[str], bytes]

EXTERNAL = onnx.TensorProto.EXTERNAL
STRING = onnx.TensorProto.STRING
DATA_FIELDS = (
    "float_data",
    "int32_data",
    "string_data",
    "int64_data",
    "double_data",
    "uint64_data",
    "raw_data",
)
REFERENCE_KEYS = ("location", "offset", "length", "chunks")

_CHUNK_KEY = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"[0-9]{1,20}")


def _element_sizes() -> tuple[dict[int, int], dict[int, int]]:
    """Return (bytes per element, elements per byte for packed sub-byte types)."""
    packed = {}
    for name, per_byte in (
        ("INT4", 2),
        ("UINT4", 2),
        ("FLOAT4E2M1", 2),
        ("INT2", 4),
        ("UINT2", 4),
    ):
        value = getattr(onnx.TensorProto, name, None)
        if value is not None:
            packed[value] = per_byte
    sizes = {}
    for name, value in onnx.TensorProto.DataType.items():
        if value in packed or name in ("UNDEFINED", "STRING") or name.startswith("FLOAT6"):
            continue
        try:
            sizes[value] = np.dtype(helper.tensor_dtype_to_np_dtype(value)).itemsize
        except (KeyError, TypeError, ValueError):
            continue
    return sizes, packed


_ITEMSIZE, _PACKED = _element_sizes()


def dtype_name(data_type: int) -> str:
    """Return the TensorProto.DataType name ("FLOAT"), or "UNKNOWN(n)"."""
    try:
        return onnx.TensorProto.DataType.Name(data_type)
    except ValueError:
        return f"UNKNOWN({data_type})"


def numel(tensor: onnx.TensorProto) -> int:
    """Return the number of elements the dims describe (1 for a scalar)."""
    return math.prod(tensor.dims)


def raw_size(tensor: onnx.TensorProto) -> int | None:
    """Return the byte length raw_data must have, or None if it cannot be known."""
    if any(d < 0 for d in tensor.dims):
        return None
    count = numel(tensor)
    per_byte = _PACKED.get(tensor.data_type)
    if per_byte is not None:
        return -(-count // per_byte)
    itemsize = _ITEMSIZE.get(tensor.data_type)
    return None if itemsize is None else count * itemsize


def has_inline_data(tensor: onnx.TensorProto) -> bool:
    """Return True if any data field of the tensor is set."""
    return tensor.HasField("raw_data") or any(
        len(getattr(tensor, field)) for field in DATA_FIELDS[:-1]
    )


def is_external(tensor: onnx.TensorProto) -> bool:
    """Return True if the tensor points at external data (ours or anyone's)."""
    return tensor.data_location == EXTERNAL or len(tensor.external_data) > 0


def typed_to_raw(tensor: onnx.TensorProto, path: str) -> bytes:
    """Return the typed fields (float_data, int32_data, ...) as little-endian raw bytes."""
    try:
        converted = numpy_helper.from_array(numpy_helper.to_array(tensor))
    except Exception as exc:  # onnx raises a mix of TypeError/ValueError/KeyError here
        raise DocumentError(
            f"{path}: cannot convert {dtype_name(tensor.data_type)} data to raw bytes: {exc}"
        ) from exc
    if converted.data_type != tensor.data_type:
        raise DocumentError(
            f"{path}: cannot convert {dtype_name(tensor.data_type)} data to raw bytes "
            f"(numpy gives {dtype_name(converted.data_type)})"
        )
    return converted.raw_data


def has_nan_typed_floats(tensor: onnx.TensorProto) -> bool:
    """Return True if float_data/double_data hold a NaN (JSON would lose its bit pattern)."""
    return any(v != v for v in tensor.float_data) or any(v != v for v in tensor.double_data)


def set_raw(tensor: onnx.TensorProto, data: bytes) -> None:
    """Replace every data field of the tensor with raw_data."""
    for field in DATA_FIELDS:
        tensor.ClearField(field)
    tensor.raw_data = data


def chunk_key(data: bytes | memoryview) -> str:
    """Return the key of a chunk: the sha256 hex digest of its bytes."""
    return hashlib.sha256(data).hexdigest()


def split_bytes(data: bytes, chunk_size: int = CHUNK_SIZE) -> tuple[list[str], dict[str, bytes]]:
    """Return the ordered chunk keys of data and the chunks by key (duplicates stored once)."""
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    if len(data) <= chunk_size:
        data = bytes(data)  # no copy when data is already bytes
        key = chunk_key(data)
        return [key], {key: data}
    view = memoryview(data)
    keys: list[str] = []
    chunks: dict[str, bytes] = {}
    for start in range(0, len(view), chunk_size):
        part = bytes(view[start : start + chunk_size])
        key = chunk_key(part)
        keys.append(key)
        chunks.setdefault(key, part)
    return keys, chunks


def fetch(fetch_chunk: FetchChunk, key: str, path: str, cache: dict[str, bytes]) -> bytes:
    """Return one chunk through fetch_chunk (None or KeyError mean missing), memoized."""
    data = cache.get(key)
    if data is not None:
        return data
    try:
        data = fetch_chunk(key)
    except LookupError:
        data = None
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from exc
    if data is None:
        raise DocumentError(f"{path}: chunk {key} is missing from the tensors store")
    if not isinstance(data, bytes):
        if not isinstance(data, bytearray | memoryview):
            raise DocumentError(f"{path}: chunk {key} is not binary ({type(data).__name__})")
        data = bytes(data)
    cache[key] = data
    return data


def join_chunks(keys: list[str], fetch_chunk: FetchChunk) -> bytes:
    """Return the bytes of the chunks, in order (the inverse of split_bytes)."""
    if not isinstance(keys, list):
        raise DocumentError(f"chunks: expected a list of chunk keys, got {_kind(keys)}")
    cache: dict[str, bytes] = {}
    parts = []
    for i, key in enumerate(keys):
        if not isinstance(key, str) or not _CHUNK_KEY.fullmatch(key):
            raise DocumentError(f"chunks[{i}]: {_show(key)} is not a chunk key")
        parts.append(fetch(fetch_chunk, key, f"chunks[{i}]", cache))
    if len(parts) == 1:
        return parts[0]
    return b"".join(parts)


def externalize(tensor: onnx.TensorProto, keys: list[str], length: int) -> None:
    """Replace the tensor's data by a reference to its chunks."""
    for field in DATA_FIELDS:
        tensor.ClearField(field)
    del tensor.external_data[:]
    tensor.data_location = EXTERNAL
    entries = [("location", keys[0]), ("offset", "0"), ("length", str(length))]
    if len(keys) > 1:
        entries.append(("chunks", ",".join(keys)))
    for key, value in entries:
        entry = tensor.external_data.add()
        entry.key = key
        entry.value = value


def parse_reference(entries: Iterable[tuple[str, str]], path: str) -> tuple[list[str], int]:
    """Return (chunk keys in order, length) of an external-data reference we wrote."""
    where = f"{path}.externalData"
    seen: dict[str, str] = {}
    for key, value in entries:
        if key not in REFERENCE_KEYS:
            raise DocumentError(
                f"{where}: unknown key {_show(key)} (a catalog reference has only "
                f"{', '.join(REFERENCE_KEYS)})"
            )
        if key in seen:
            raise DocumentError(f"{where}: key {key!r} appears twice")
        seen[key] = value
    location = seen.get("location")
    if location is None:
        raise DocumentError(f"{where}: no location")
    if not _CHUNK_KEY.fullmatch(location):
        raise DocumentError(
            f"{where}: location {_show(location)} is not a chunk key written by the catalog "
            "(64 lowercase hex digits); references to files are refused"
        )
    if seen.get("offset", "0") != "0":
        raise DocumentError(f"{where}: offset must be 0, got {_show(seen['offset'])}")
    length = seen.get("length")
    if length is None or not _DECIMAL.fullmatch(length):
        raise DocumentError(f"{where}: length must be a decimal byte count, got {_show(length)}")
    keys = seen["chunks"].split(",") if "chunks" in seen else [location]
    for key in keys:
        if not _CHUNK_KEY.fullmatch(key):
            raise DocumentError(f"{where}: chunks entry {_show(key)} is not a chunk key")
    if keys[0] != location:
        raise DocumentError(f"{where}: chunks must start with the location chunk")
    return keys, int(length)


def resolve(
    tensor: onnx.TensorProto, path: str, fetch_chunk: FetchChunk, cache: dict[str, bytes]
) -> None:
    """Replace the tensor's chunk reference by its bytes as raw_data."""
    if tensor.data_location != EXTERNAL:
        raise DocumentError(f"{path}.externalData: set, but dataLocation is not EXTERNAL")
    if not tensor.external_data:
        raise DocumentError(f"{path}.dataLocation: EXTERNAL without externalData")
    keys, length = parse_reference(((e.key, e.value) for e in tensor.external_data), path)
    if tensor.data_type == STRING:
        raise DocumentError(f"{path}: a STRING tensor cannot have external data")
    if has_inline_data(tensor):
        raise DocumentError(f"{path}: holds both inline data and an external reference")
    expected = raw_size(tensor)
    if expected is not None and expected != length:
        raise DocumentError(
            f"{path}.externalData: length is {length} bytes, but dims and dataType need {expected}"
        )
    parts = [fetch(fetch_chunk, key, path, cache) for key in keys]
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    if len(data) != length:
        raise DocumentError(
            f"{path}: its chunks hold {len(data)} bytes, externalData says {length}"
        )
    tensor.ClearField("external_data")
    tensor.ClearField("data_location")
    tensor.raw_data = data


def _show(value: object, limit: int = 80) -> str:
    """Return a short repr for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
