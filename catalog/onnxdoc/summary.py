"""The queryable summary of a model: real numbers where json_format writes strings."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from catalog.onnxdoc.tensors import STRING, dtype_name, is_external, numel
from catalog.onnxdoc.walk import main_graphs_and_node_lists

# elements per block when computing stats: 64 KB of float64 at a time, whatever the tensor
# size; small enough to stay in cache and under malloc's mmap threshold (bigger is slower)
STATS_BLOCK = 1 << 13
# Tensors up to this many elements are summed in Python: numpy's dozen calls a tensor cost
# more than the arithmetic (4 tensors of a linear model: 270 µs with numpy, 50 µs without).
STATS_IN_PYTHON = 256

_STAT_KEYS = ("min", "max", "mean", "std", "l2", "zeroFraction", "nanCount", "infCount")
_NO_STATS = dict.fromkeys(_STAT_KEYS)
# below this a sum of squares may have lost precision to underflow
_SAFE_LOW = 1e-280
_COMPLEX = {onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128}


def summarize(model: onnx.ModelProto) -> dict[str, Any]:
    """Return the JSON-safe summary of a model (stored for both JSON and binary formats).

    ``nodeCount`` counts the main graph and its subgraphs; ``opTypes`` also covers
    model-local functions and training graphs. ``initializers`` (and ``paramCount``) cover
    the main graph and its subgraphs, sparse initializers with their dense numel.
    """
    graph = model.graph
    main, lists = main_graphs_and_node_lists(model)
    op_types: set[str] = set()
    for _, nodes in lists:
        op_types.update(node.op_type for node in nodes)
    node_count = 0
    initializers = []
    for _, sub in main:
        node_count += len(sub.node)
        initializers.extend(_initializer(t) for t in sub.initializer)
        initializers.extend(_sparse_initializer(s) for s in sub.sparse_initializer)
    initializer_names = {t.name for t in graph.initializer}
    initializer_names.update(s.values.name for s in graph.sparse_initializer)
    return {
        "opTypes": sorted(op_types),
        "opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import},
        "irVersion": model.ir_version,
        "producer": {"name": model.producer_name, "version": model.producer_version},
        "domain": model.domain,
        "modelVersion": model.model_version,
        "docString": model.doc_string,
        "inputs": [_value_info(v) for v in graph.input if v.name not in initializer_names],
        "outputs": [_value_info(v) for v in graph.output],
        "nodeCount": node_count,
        "paramCount": sum(entry["numel"] for entry in initializers),
        "sizeBytes": model.ByteSize(),
        "initializers": initializers,
        "functions": [f.name for f in model.functions],
        "metadataProps": {p.key: p.value for p in model.metadata_props},
    }


def _initializer(tensor: onnx.TensorProto) -> dict[str, Any]:
    return {
        "name": tensor.name,
        "dims": list(tensor.dims),
        "dataType": dtype_name(tensor.data_type),
        "numel": numel(tensor),
        "stats": tensor_stats(tensor),
    }


def _sparse_initializer(sparse: onnx.SparseTensorProto) -> dict[str, Any]:
    values = sparse.values
    dense = math.prod(sparse.dims)
    stats = tensor_stats(values, implicit_zeros=max(dense - numel(values), 0))
    return {
        "name": values.name,
        "dims": list(sparse.dims),
        "dataType": dtype_name(values.data_type),
        "numel": dense,
        "nnz": numel(values),
        "sparse": True,
        "stats": stats,
    }


def _value_info(info: onnx.ValueInfoProto) -> dict[str, Any]:
    kind = info.type.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        tensor_type = getattr(info.type, kind)
        shape = None
        if tensor_type.HasField("shape"):
            shape = [_dim(d) for d in tensor_type.shape.dim]
        entry = {"name": info.name, "dataType": dtype_name(tensor_type.elem_type), "shape": shape}
        if kind == "sparse_tensor_type":
            entry["sparse"] = True
        return entry
    return {"name": info.name, "dataType": type_string(info.type), "shape": None}


def _dim(dim: onnx.TensorShapeProto.Dimension) -> int | str | None:
    which = dim.WhichOneof("value")
    if which == "dim_value":
        return dim.dim_value
    if which == "dim_param":
        return dim.dim_param
    return None


def type_string(type_proto: onnx.TypeProto) -> str:
    """Return a type as text: "FLOAT", "sequence(map(INT64, FLOAT))", "optional(...)"."""
    kind = type_proto.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        name = dtype_name(getattr(type_proto, kind).elem_type)
        return f"sparse({name})" if kind == "sparse_tensor_type" else name
    if kind == "sequence_type":
        return f"sequence({type_string(type_proto.sequence_type.elem_type)})"
    if kind == "optional_type":
        return f"optional({type_string(type_proto.optional_type.elem_type)})"
    if kind == "map_type":
        key = dtype_name(type_proto.map_type.key_type)
        return f"map({key}, {type_string(type_proto.map_type.value_type)})"
    return "UNDEFINED"


def tensor_stats(tensor: onnx.TensorProto, implicit_zeros: int = 0) -> dict[str, Any]:
    """Return min/max/mean/std/l2 over the finite values, zeroFraction, nanCount, infCount.

    Computed in float64, block by block, so a huge tensor needs little extra memory.
    Nulls for strings, complex numbers and data that is not inline.
    """
    if tensor.data_type in _COMPLEX or tensor.data_type == STRING or is_external(tensor):
        return dict(_NO_STATS)
    try:
        values = numpy_helper.to_array(tensor).reshape(-1)
    except Exception:  # an unknown or malformed dtype: a summary must not fail on it
        return dict(_NO_STATS)
    moments = _Moments()
    try:
        # signalling NaNs warn when cast; they are counted as NaN all the same
        with np.errstate(invalid="ignore", over="ignore"):
            if values.size <= STATS_IN_PYTHON:
                moments.add_few(values.astype(np.float64).tolist())
            else:
                for start in range(0, values.size, STATS_BLOCK):
                    moments.add(values[start : start + STATS_BLOCK].astype(np.float64))
    except (TypeError, ValueError):
        return dict(_NO_STATS)
    moments.add_zeros(implicit_zeros)
    return moments.result()


def _part(peak: float, squares: float, scaled: Callable[[], float]) -> float:
    """Return a block's sum of squares divided by its peak squared (0 for a block of zeros);
    ``scaled()`` sums the squares of the values divided by the peak, for when the plain sum
    overflows or underflows."""
    if peak == 0:
        return 0.0
    if _SAFE_LOW < squares < math.inf:
        return squares / (peak * peak)
    return scaled()


class _Moments:
    """Streaming statistics (Chan et al. for the variance, scaled sum of squares for l2)."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0  # finite values
        self.mean = 0.0
        self.m2 = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.scale = 0.0
        self.sumsq = 0.0
        self.zeros = 0
        self.nans = 0
        self.infs = 0

    def add(self, block: np.ndarray) -> None:
        self.total += block.size
        finite = np.isfinite(block)
        n_finite = int(np.count_nonzero(finite))
        if n_finite < block.size:
            nans = int(np.count_nonzero(np.isnan(block)))
            self.nans += nans
            self.infs += block.size - n_finite - nans
            block = block[finite]
        self.zeros += block.size - int(np.count_nonzero(block))
        if block.size:
            mean = float(block.mean())
            centered = block - mean
            low, high = float(block.min()), float(block.max())
            peak = max(abs(low), abs(high))
            part = _part(
                peak, float(np.dot(block, block)), lambda: float(np.sum((block / peak) ** 2))
            )
            self._merge(block.size, mean, float(np.dot(centered, centered)), low, high, part)

    def add_few(self, values: list[float]) -> None:
        """``add`` for a few values, in Python (the same sums, taken in order)."""
        self.total += len(values)
        finite = [x for x in values if math.isfinite(x)]
        if len(finite) < len(values):
            nans = sum(1 for x in values if x != x)
            self.nans += nans
            self.infs += len(values) - len(finite) - nans
        self.zeros += sum(1 for x in finite if x == 0.0)
        if finite:
            n = len(finite)
            mean = sum(finite) / n
            low, high = min(finite), max(finite)
            peak = max(abs(low), abs(high))
            part = _part(
                peak, sum(x * x for x in finite), lambda: sum((x / peak) ** 2 for x in finite)
            )
            m2 = sum((x - mean) * (x - mean) for x in finite)
            self._merge(n, mean, m2, low, high, part)

    def add_zeros(self, count: int) -> None:
        if count > 0:
            self.total += count
            self.zeros += count
            self._merge(count, 0.0, 0.0, 0.0, 0.0, 0.0)

    def _merge(self, n: int, mean: float, m2: float, low: float, high: float, part: float) -> None:
        """Merge a block's count, mean, centred sum of squares, extremes and its sum of
        squares divided by its peak squared (``part``; 0 for a block of zeros)."""
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total
        self.low = min(self.low, low)
        self.high = max(self.high, high)
        peak = max(abs(low), abs(high))
        if peak > 0 and part > 0:
            if peak > self.scale:
                self.sumsq = self.sumsq * (self.scale / peak) ** 2 + part
                self.scale = peak
            else:
                self.sumsq += part * (peak / self.scale) ** 2

    def result(self) -> dict[str, Any]:
        if self.count == 0:
            stats = dict(_NO_STATS)
        else:
            stats = {
                "min": _finite(self.low),
                "max": _finite(self.high),
                "mean": _finite(self.mean),
                "std": _finite(math.sqrt(self.m2 / self.count)),
                "l2": _finite(self.scale * math.sqrt(self.sumsq)),
            }
        stats["zeroFraction"] = self.zeros / self.total if self.total else None
        stats["nanCount"] = self.nans
        stats["infCount"] = self.infs
        return stats


def _finite(value: float) -> float | None:
    """Return value as a float, or None if it is NaN or infinite (JSON has neither)."""
    return value if math.isfinite(value) else None
