"""Batch prediction: a CSV with a header row in, the same CSV with prediction columns out.

Feature columns are found by metadata.featureNames (extra columns pass through); a model
without feature names needs exactly as many columns as its input is wide. Empty cells are
NaN for float inputs (as pandas reads them). Classifiers get ``label`` and one
``probability_<class>`` column per class; other models one column per output value.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog.domain.registry import Registry
from inference.oip import InferRequest, InputTensor, ProtocolError
from inference.predict import classifier_outputs, infer, max_batch
from inference.prediction import Prediction
from inference.sessions import LoadedModel, load_model

# Largest CSV accepted (bytes); rows are limited by CATALOG_MAX_BATCH as well.
MAX_CSV_BYTES = 32 * 1024 * 1024


@dataclass
class BatchResult:
    """A predicted CSV and what produced it."""

    csv: str
    rows: int
    model: LoadedModel
    took_ms: float

    @property
    def filename(self) -> str:
        return f"{self.model.name}-v{self.model.version}-predictions.csv"


def predict_csv(reg: Registry, name: str, ref: int | str | None, data: bytes) -> BatchResult:
    """Return the CSV ``data`` with prediction columns added by model ``name`` at ``ref``."""
    model = load_model(reg, name, ref)
    spec = _single_matrix_input(model)
    header, rows, matrix = read_table(model, data)
    request = InferRequest(
        inputs=[InputTensor(spec.name, spec.datatype or "", list(matrix.shape), matrix.tolist())]
    )
    prediction = infer(reg, name, model.version, request)
    columns, values = prediction_columns(prediction, set(header))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header + columns)
    for row, extra in zip(rows, values, strict=True):
        writer.writerow(row + extra)
    return BatchResult(out.getvalue(), len(rows), model, prediction.took_ms)


def _single_matrix_input(model: LoadedModel):
    specs = model.inputs
    if len(specs) != 1 or not specs[0].shape or len(specs[0].shape) != 2:
        raise ProtocolError("batch CSV prediction needs a model with one 2-D input")
    spec = specs[0]
    if spec.datatype not in _PARSERS:
        raise ProtocolError(f"batch CSV prediction needs a numeric input, not {spec.datatype}")
    return spec


def read_table(model: LoadedModel, data: bytes) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Return (header, rows, feature matrix) of a CSV for the model's input, or raise."""
    if len(data) > MAX_CSV_BYTES:
        raise ProtocolError(f"the CSV is over {MAX_CSV_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProtocolError("the CSV is not UTF-8 text") from None
    try:  # the text is already in memory (bounded by the upload limit)
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise ProtocolError(f"the CSV cannot be read: {e}") from None
    reader = iter(table)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ProtocolError("the CSV is empty; it needs a header row with the feature names")
    header = [h.strip() for h in header]
    spec = model.inputs[0]
    indices = _feature_indices(model, header, spec.shape[1])
    parse = _PARSERS[spec.datatype]
    limit = max_batch()
    rows: list[list[str]] = []
    matrix: list[list[Any]] = []
    for line, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise ProtocolError(f"line {line}: {len(row)} values, the header has {len(header)}")
        if len(rows) == limit:
            raise ProtocolError(f"the CSV has more than {limit} rows, the limit of one batch")
        values = []
        for i in indices:
            try:
                values.append(parse(row[i].strip()))
            except ValueError:
                raise ProtocolError(
                    f"line {line}, column {header[i]!r}: {row[i]!r} is not a number"
                ) from None
        rows.append(row)
        matrix.append(values)
    if not rows:
        raise ProtocolError("the CSV has a header but no data rows")
    return header, rows, np.array(matrix)


def _feature_indices(model: LoadedModel, header: list[str], width: Any) -> list[int]:
    names = model.metadata.get("featureNames")
    if isinstance(names, list) and names:
        missing = [n for n in names if n not in header]
        if missing:
            raise ProtocolError(
                "the CSV lacks the feature column(s) " + ", ".join(map(repr, missing))
            )
        return [header.index(n) for n in names]
    if isinstance(width, int) and len(header) != width:
        raise ProtocolError(
            f"the model has no feature names, so the CSV must have exactly {width} columns"
            f" (it has {len(header)})"
        )
    return list(range(len(header)))


def _float(cell: str) -> float:
    return math.nan if cell == "" else float(cell)


def _int(cell: str) -> int:
    value = float(cell)
    if not value.is_integer():
        raise ValueError(cell)
    return int(value)


_PARSERS = {
    **{t: _float for t in ("FP16", "FP32", "FP64")},
    **{t: _int for t in ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")},
}


def prediction_columns(
    prediction: Prediction, taken: set[str]
) -> tuple[list[str], list[list[str]]]:
    """Return (column names, one list of cells per row) for a prediction's outputs."""
    columns: list[str] = []
    blocks: list[list[list[str]]] = []
    view = classifier_outputs(prediction.model)
    done: set[str] = set()
    if view is not None and view.label is not None and prediction.output(view.label) is not None:
        labels = prediction.output(view.label).reshape(-1)
        columns.append(_unique("label", taken))
        blocks.append([[view.display(v)] for v in labels.tolist()])
        done.add(view.label)
        scores = prediction.output(view.scores) if view.scores else None
        if scores is not None and scores.ndim == 2 and scores.shape[1] == len(view.names):
            columns += [_unique(f"probability_{n}", taken) for n in view.names]
            blocks.append([[_cell(v) for v in row] for row in scores.tolist()])
            done.add(view.scores)
    for name, array in prediction.outputs:
        if name in done:
            continue
        flat = array.reshape(array.shape[0], -1) if array.ndim else array.reshape(1, 1)
        if flat.shape[1] == 1:
            columns.append(_unique(name, taken))
        else:
            columns += [_unique(f"{name}_{j}", taken) for j in range(flat.shape[1])]
        blocks.append([[_cell(v) for v in row] for row in flat.tolist()])
    rows = (
        [sum((block[i] for block in blocks), []) for i in range(len(blocks[0]))] if blocks else []
    )
    return columns, rows


def _unique(name: str, taken: set[str]) -> str:
    candidate = name
    while candidate in taken:
        candidate = f"predicted_{candidate}"
    taken.add(candidate)
    return candidate


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)
