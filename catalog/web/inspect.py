"""Looking inside a version: initializer tables, one tensor's values and histogram."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from catalog.onnxdoc.walk import main_graphs

# Columns of the initializer table a visitor may sort by: key -> value to sort on.
STAT_KEYS = ("min", "max", "mean", "std", "l2", "zeroFraction", "nanCount", "infCount")
SORT_KEYS = ("name", "shape", "dtype", "size", "bytes", *STAT_KEYS)
# Bars in a tensor's histogram.
HISTOGRAM_BINS = 40
# Rows and columns of a tensor shown in the values preview.
PREVIEW_ROWS = 12
PREVIEW_COLS = 12
# Histogram drawing area, in SVG user units.
CHART_W, CHART_H = 640, 180


def _itemsize(dtype: str) -> int | None:
    try:
        code = onnx.TensorProto.DataType.Value(dtype)
        return int(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(code)).itemsize)
    except (ValueError, KeyError, TypeError):
        return None


def initializer_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the summary's initializers with a display shape and a size in bytes."""
    rows = []
    for t in summary.get("initializers", []):
        size = _itemsize(t.get("dataType", ""))
        numel = t.get("numel") or 0
        rows.append(
            t
            | {
                "shape": "×".join(str(d) for d in t.get("dims", [])) or "scalar",
                "bytes": numel * size if size is not None else None,
                "stats": t.get("stats") or {},
            }
        )
    return rows


def _sort_value(key: str) -> Callable[[dict[str, Any]], Any]:
    getters: dict[str, Callable[[dict[str, Any]], Any]] = {
        "name": lambda t: t["name"],
        "shape": lambda t: (len(t.get("dims", [])), t.get("dims", [])),
        "dtype": lambda t: t.get("dataType", ""),
        "size": lambda t: t.get("numel") or 0,
        "bytes": lambda t: t.get("bytes"),
    }
    return getters.get(key) or (lambda t: t["stats"].get(key))


def sort_initializers(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict]:
    """Return ``rows`` sorted by a column; rows without a value (None, NaN) go last."""
    get = _sort_value(key if key in SORT_KEYS else "name")

    def missing(row: dict[str, Any]) -> bool:
        v = get(row)
        return v is None or (isinstance(v, float) and math.isnan(v))

    present = [r for r in rows if not missing(r)]
    absent = [r for r in rows if missing(r)]
    return sorted(present, key=get, reverse=descending) + absent


def find_initializer(model: onnx.ModelProto, name: str) -> np.ndarray | None:
    """Return the values of the initializer called ``name`` (dense), or None."""
    for _, graph in main_graphs(model):
        for tensor in graph.initializer:
            if tensor.name == name:
                return numpy_helper.to_array(tensor)
        for sparse in graph.sparse_initializer:
            if sparse.values.name == name:
                return _dense(sparse)
    return None


def _dense(sparse: onnx.SparseTensorProto) -> np.ndarray:
    values = numpy_helper.to_array(sparse.values)
    dense = np.zeros(tuple(sparse.dims), dtype=values.dtype)
    indices = numpy_helper.to_array(sparse.indices)
    if indices.ndim == 1:
        dense.reshape(-1)[indices] = values
    else:
        dense[tuple(indices.T)] = values
    return dense


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> dict[str, Any] | None:
    """Return the histogram of the finite values, with bar geometry for an SVG chart."""
    if values.dtype.kind not in "biuf" or values.size == 0:
        return None
    data = values.astype(np.float64, copy=False).ravel()
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    lo, hi = float(data.min()), float(data.max())
    if lo == hi:  # one value: a single bar, not a division by zero
        lo, hi = lo - 0.5, hi + 0.5
        bins = 1
    counts, edges = np.histogram(data, bins=bins, range=(lo, hi))
    top = int(counts.max()) or 1
    width = CHART_W / len(counts)
    bars = []
    for i, count in enumerate(counts.tolist()):
        h = 0.0 if count == 0 else max(1.5, CHART_H * count / top)
        bars.append(
            {
                "lo": float(edges[i]),
                "hi": float(edges[i + 1]),
                "count": count,
                "x": round(i * width + 1, 2),
                "y": round(CHART_H - h, 2),
                "w": round(max(width - 2, 1), 2),
                "h": round(h, 2),
            }
        )
    return {"bars": bars, "max": top, "lo": lo, "hi": hi, "width": CHART_W, "height": CHART_H}


def preview(values: np.ndarray) -> dict[str, Any]:
    """Return the top-left corner of a tensor as rows of text cells (2-D view)."""
    if values.ndim == 0:
        grid = values.reshape(1, 1)
    elif values.ndim == 1:
        grid = values.reshape(1, -1)
    else:
        grid = values.reshape(-1, values.shape[-1])
    rows, cols = grid.shape
    corner = grid[:PREVIEW_ROWS, :PREVIEW_COLS]
    return {
        "rows": [[_cell(v) for v in row] for row in corner.tolist()],
        "total_rows": rows,
        "total_cols": cols,
        "cut_rows": rows > PREVIEW_ROWS,
        "cut_cols": cols > PREVIEW_COLS,
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def values_json(values: np.ndarray, limit: int) -> dict[str, Any]:
    """Return the first ``limit`` values (flattened) for the JSON twin."""
    flat = values.ravel()[:limit]
    if flat.dtype.kind == "f":
        items: list[Any] = [v if math.isfinite(v) else str(v) for v in flat.tolist()]
    elif flat.dtype.kind in "SO":
        items = [_cell(v) for v in flat.tolist()]
    else:
        items = flat.tolist()
    return {"values": items, "truncated": values.size > limit}
