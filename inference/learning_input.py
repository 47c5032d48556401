"""Training batches from CSV (header row) and JSON, checked against the model's features.

Accepted shapes:
- CSV with a header row; ``label`` names the label column, every other column a feature.
- JSON ``{"rows": [[...], ...], "labels": [...]}`` (rows in the model's feature order).
- JSON ``{"rows": [{feature: value, ...}, ...], "label": "column"}``.
When the model knows its feature names, columns are picked by name (extra ones are
ignored); otherwise they are taken in order and must number exactly the model's inputs.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog.domain.registry import RegistryError

# Rows one learning step accepts (a request body is capped by Django's upload limits too).
MAX_BATCH_ROWS = 100_000


class LearningError(RegistryError):
    """A learning request that cannot be carried out as given (HTTP 400)."""


@dataclass
class RawBatch:
    """Features as float32 and labels as given (None when no label was sent)."""

    X: np.ndarray
    labels: list[Any] | None


def parse_csv(
    data: bytes | str, label: str | None, feature_names: list[str] | None, n_features: int
) -> RawBatch:
    """Return the batch in CSV text with a header row."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise LearningError("the CSV is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise LearningError("the CSV is empty: send a header row, then data rows") from None
    except csv.Error as e:
        raise LearningError(f"malformed CSV: {e}") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise LearningError("the CSV header names a column twice")
    if label is not None and label not in header:
        raise LearningError(f"no label column {label!r} in the CSV header ({', '.join(header)})")
    columns = _feature_columns(header, label, feature_names, n_features)
    rows: list[list[float]] = []
    labels: list[Any] = []
    label_at = header.index(label) if label is not None else None
    try:
        for line, record in enumerate(reader, start=2):
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) != len(header):
                raise LearningError(
                    f"CSV line {line} has {len(record)} fields, the header has {len(header)}"
                )
            rows.append([_number(record[i], line, header[i]) for i in columns])
            if label_at is not None:
                labels.append(_csv_label(record[label_at], line))
            if len(rows) > MAX_BATCH_ROWS:
                raise LearningError(f"more than {MAX_BATCH_ROWS} rows in one batch")
    except csv.Error as e:
        raise LearningError(f"malformed CSV: {e}") from None
    if not rows:
        raise LearningError("the CSV has a header but no data rows")
    return RawBatch(np.asarray(rows, dtype=np.float32), labels if label is not None else None)


def parse_json(
    value: Any, feature_names: list[str] | None, n_features: int, label: str | None = None
) -> RawBatch:
    """Return the batch in a decoded JSON body (``rows`` with ``labels`` or ``label``)."""
    if not isinstance(value, dict):
        raise LearningError('send a JSON object: {"rows": [[...]], "labels": [...]}')
    rows = value.get("rows")
    if not isinstance(rows, list) or not rows:
        raise LearningError("'rows' must be a non-empty list")
    if len(rows) > MAX_BATCH_ROWS:
        raise LearningError(f"more than {MAX_BATCH_ROWS} rows in one batch")
    label = value.get("label", label)
    if all(isinstance(r, dict) for r in rows):
        return _dict_rows(rows, label, feature_names, n_features)
    if not all(isinstance(r, list) for r in rows):
        raise LearningError("'rows' must hold lists (in feature order) or objects, not a mix")
    labels = value.get("labels")
    if labels is not None and (not isinstance(labels, list) or len(labels) != len(rows)):
        raise LearningError(f"'labels' must be a list of {len(rows)} values, one per row")
    matrix = []
    for i, row in enumerate(rows):
        if len(row) != n_features:
            raise LearningError(f"row {i} has {len(row)} values, the model takes {n_features}")
        matrix.append([_json_number(v, i, str(j)) for j, v in enumerate(row)])
    return RawBatch(np.asarray(matrix, dtype=np.float32), _json_labels(labels))


def _dict_rows(
    rows: list[dict[str, Any]], label: Any, feature_names: list[str] | None, n_features: int
) -> RawBatch:
    if label is not None and not isinstance(label, str):
        raise LearningError("'label' must name the label field of each row")
    keys = list(rows[0])
    names = _feature_columns(keys, label, feature_names, n_features)
    chosen = [keys[i] for i in names]
    matrix, labels = [], []
    for i, row in enumerate(rows):
        missing = [k for k in chosen if k not in row]
        if missing:
            raise LearningError(f"row {i} has no {', '.join(map(repr, missing))}")
        matrix.append([_json_number(row[k], i, k) for k in chosen])
        if label is not None:
            if label not in row:
                raise LearningError(f"row {i} has no label field {label!r}")
            labels.append(row[label])
    return RawBatch(
        np.asarray(matrix, dtype=np.float32), _json_labels(labels) if label is not None else None
    )


def _feature_columns(
    header: list[str], label: str | None, feature_names: list[str] | None, n_features: int
) -> list[int]:
    """Return the indexes of the feature columns, in the model's order."""
    if feature_names:
        missing = [f for f in feature_names if f not in header]
        if missing:
            raise LearningError(f"missing feature columns: {', '.join(missing)}")
        return [header.index(f) for f in feature_names]
    columns = [i for i, h in enumerate(header) if h != label]
    if len(columns) != n_features:
        raise LearningError(
            f"{len(columns)} feature columns ({', '.join(header[i] for i in columns)}),"
            f" the model takes {n_features}"
        )
    return columns


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LearningError(
            f"CSV line {line}, column {column!r}: {text!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise LearningError(f"CSV line {line}, column {column!r}: {text!r} is not finite")
    return value


def _csv_label(text: str, line: int) -> Any:
    text = text.strip()
    if not text:
        raise LearningError(f"CSV line {line} has an empty label")
    return text


def _json_number(value: Any, row: int, column: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LearningError(f"row {row}, feature {column!r}: {value!r} is not a number")
    if not math.isfinite(value):
        raise LearningError(f"row {row}, feature {column!r} is not finite")
    return float(value)


def _json_labels(labels: list[Any] | None) -> list[Any] | None:
    if labels is None:
        return None
    for i, v in enumerate(labels):
        if v is None or isinstance(v, (dict, list)):
            raise LearningError(f"label {i} must be a number or a string, not {v!r}")
    return list(labels)


def coerce_labels(labels: list[Any] | None, task: str, classes: list[Any] | None) -> np.ndarray:
    """Return labels as the estimator expects them: one of ``classes``, or numbers."""
    if task == "clustering":
        return np.zeros(0)
    if labels is None:
        raise LearningError("missing labels: name the label column (or send 'labels')")
    if task == "classification":
        known = {_key(c): c for c in classes or []}
        out = []
        for i, v in enumerate(labels):
            k = _key(v)
            if k not in known:
                shown = ", ".join(map(str, classes or []))
                raise LearningError(f"label {i} ({v!r}) is not one of the classes: {shown}")
            out.append(known[k])
        return np.asarray(out)
    values = []
    for i, v in enumerate(labels):
        try:
            number = float(v)
        except (TypeError, ValueError):
            raise LearningError(f"label {i} ({v!r}) is not a number") from None
        if isinstance(v, bool) or not math.isfinite(number):
            raise LearningError(f"label {i} ({v!r}) is not a finite number")
        values.append(number)
    return np.asarray(values, dtype=np.float64)


def _key(value: Any) -> str:
    """Return a label's comparison key: 1, 1.0 and "1" are the same class."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if number.is_integer():
            return str(int(number))
        return repr(number)
    return str(value)


def as_matrix(X: Any, n_features: int | None = None) -> np.ndarray:
    """Return features as a finite float32 matrix (a DataFrame or a list of rows)."""
    try:
        array = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError):
        raise LearningError("features must be numbers") from None
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[0] == 0:
        raise LearningError(f"features must be a non-empty 2-D array, not shape {array.shape}")
    if n_features is not None and array.shape[1] != n_features:
        raise LearningError(
            f"the batch has {array.shape[1]} features, the model takes {n_features}"
        )
    if not np.isfinite(array).all():
        raise LearningError("features must be finite (no NaN or infinity)")
    if array.shape[0] > MAX_BATCH_ROWS:
        raise LearningError(f"more than {MAX_BATCH_ROWS} rows in one batch")
    return array


def parse_first_csv(data: bytes | str, label: str | None) -> tuple[RawBatch, list[str]]:
    """Return a first batch and its feature names: every column but ``label``, in order."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    try:
        header = next(csv.reader(io.StringIO(text, newline="")))
    except StopIteration:
        raise LearningError("the CSV is empty: send a header row, then data rows") from None
    except csv.Error as e:
        raise LearningError(f"malformed CSV: {e}") from None
    header = [h.strip() for h in header]
    if label is not None and label not in header:
        raise LearningError(f"no label column {label!r} in the CSV header ({', '.join(header)})")
    names = [h for h in header if h != label]
    if not names:
        raise LearningError("the CSV has no feature columns")
    return parse_csv(data, label, names, len(names)), names
