"""The prediction page's form, generated from a model's inputs.

A model with one 2-D numeric input of fixed width gets one number field per feature
(named by metadata.featureNames, prefilled from metadata.sampleRow); any other model gets,
per input, a JSON textarea and a CSV / .npy upload. ``clean()`` turns what was entered
into an Open Inference Protocol request body, so the page runs exactly what the API runs.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
from django import forms

from catalog.domain.jsonbody import JsonBodyError, decode_json
from catalog.domain.limits import max_batch
from inference.sessions import LoadedModel, TensorSpec

# Up to this many features get one field each even without feature names.
MAX_UNNAMED_FIELDS = 32
# An uploaded input file may be this large (bytes).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
NUMERIC = (
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
)


def feature_names(model: LoadedModel) -> list[str] | None:
    """Return the names of the per-feature fields, or None when the model needs tensors."""
    if len(model.inputs) != 1:
        return None
    spec = model.inputs[0]
    if spec.datatype not in NUMERIC or not spec.shape or len(spec.shape) != 2:
        return None
    width = spec.shape[1]
    if not isinstance(width, int) or width <= 0:
        return None
    if isinstance(spec.shape[0], int) and spec.shape[0] != 1:
        return None
    names = model.metadata.get("featureNames")
    if isinstance(names, list) and len(names) == width:
        return [str(n) for n in names]
    if width <= MAX_UNNAMED_FIELDS:
        return [f"feature {i}" for i in range(width)]
    return None


def sample_row(model: LoadedModel, width: int) -> list[Any]:
    """Return metadata.sampleRow when it fits the input, else zeros."""
    row = model.metadata.get("sampleRow")
    if (
        isinstance(row, list)
        and len(row) == width
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)
    ):
        return row
    return [0] * width


def parse_number(text: str, datatype: str) -> int | float:
    """Return the number typed in a field, or raise ValidationError."""
    text = text.strip()
    if not text:
        raise forms.ValidationError("Enter a number.")
    if datatype.startswith("FP"):
        try:
            return float(text)  # "nan" is accepted: the runtime takes NaN for floats
        except ValueError:
            raise forms.ValidationError(f"{text!r} is not a number.") from None
    try:
        return int(text)
    except ValueError:
        raise forms.ValidationError(f"{text!r} is not a whole number ({datatype}).") from None


class PredictForm(forms.Form):
    """Fields for one model's inputs; ``oip_request`` holds the cleaned request body."""

    def __init__(self, model: LoadedModel, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.model = model
        self.features = feature_names(model)
        self.oip_request: dict[str, Any] | None = None
        if self.features is not None:
            sample = sample_row(model, len(self.features))
            for i, (label, value) in enumerate(zip(self.features, sample, strict=True)):
                self.fields[f"f{i}"] = forms.CharField(
                    label=label,
                    initial=value,
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )
        else:
            for i, spec in enumerate(model.inputs):
                self.fields[f"json{i}"] = forms.CharField(
                    label=f"{spec.name} ({spec.datatype}, shape {_shape_text(spec)})",
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
                    help_text="A JSON array, nested to the input's shape (a single row is"
                    " read as a batch of one).",
                )
                self.fields[f"file{i}"] = forms.FileField(
                    label=f"or upload {spec.name} as CSV or .npy", required=False
                )

    def field_for_input(self, name: str | None) -> str | None:
        """Return the form field an input's errors belong to."""
        if self.features is not None:
            return None
        for i, spec in enumerate(self.model.inputs):
            if spec.name == name:
                return f"json{i}"
        return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.features is not None:
            self._clean_features()
        else:
            self._clean_tensors()
        return data

    def _clean_features(self) -> None:
        spec = self.model.inputs[0]
        row = []
        for i in range(len(self.features or [])):
            field = f"f{i}"
            if field in self.errors:
                return
            try:
                row.append(parse_number(self.cleaned_data.get(field, ""), spec.datatype or ""))
            except forms.ValidationError as e:
                self.add_error(field, e)
        if not self.errors:
            self.oip_request = {"inputs": [_tensor(spec, [row], [1, len(row)])]}

    def _clean_tensors(self) -> None:
        tensors = []
        for i, spec in enumerate(self.model.inputs):
            upload = self.cleaned_data.get(f"file{i}")
            text = (self.cleaned_data.get(f"json{i}") or "").strip()
            try:
                if upload:
                    array = read_upload(upload)
                elif text:
                    array = _read_json(text)
                else:
                    raise forms.ValidationError("Enter a JSON array or upload a file.")
                array = _batch_of_one(array, spec)
            except forms.ValidationError as e:
                self.add_error(f"json{i}", e)
                continue
            tensors.append(_tensor(spec, array.tolist(), list(array.shape)))
        if not self.errors:
            self.oip_request = {"inputs": tensors}


def _tensor(spec: TensorSpec, data: Any, shape: list[int]) -> dict[str, Any]:
    return {"name": spec.name, "datatype": spec.datatype, "shape": shape, "data": data}


def _shape_text(spec: TensorSpec) -> str:
    if spec.shape is None:
        return "any"
    return "[" + ", ".join(str(d) if d is not None else "?" for d in spec.shape) + "]"


def _read_json(text: str) -> np.ndarray:
    try:
        value = decode_json(text)
    except JsonBodyError as e:
        raise forms.ValidationError(f"Not valid JSON: {e}.") from None
    if not isinstance(value, list):
        raise forms.ValidationError("Enter a JSON array, e.g. [[1, 2, 3]].")
    try:
        array = np.array(value)
    except ValueError:
        raise forms.ValidationError("Rows of the array must all have the same length.") from None
    if array.dtype.kind == "O":
        raise forms.ValidationError("The array must hold numbers (or strings) only, no null.")
    if array.size == 0:
        raise forms.ValidationError("The array is empty.")
    return array


def read_upload(upload: Any) -> np.ndarray:
    """Return the array in an uploaded .npy or CSV file."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(f"The file is over {MAX_UPLOAD_BYTES // 2**20} MB.")
    data = upload.read()
    if data.startswith(b"\x93NUMPY"):
        return read_npy(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError("Upload a CSV (UTF-8 text) or a .npy file.") from None
    return read_csv_numbers(text)


def read_npy(data: bytes) -> np.ndarray:
    """Return the array of a .npy file, its header checked before any memory is taken.

    The shape and dtype the header declares must fit the row limit (CATALOG_MAX_BATCH)
    and the bytes actually sent, so a header declaring (10**12,) is refused, not loaded.
    """
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version} is not supported")
    except (ValueError, OSError, TypeError, SyntaxError) as e:
        raise forms.ValidationError(f"Not a readable .npy file: {e}.") from None
    if dtype.kind not in "biufU" or dtype.hasobject:
        raise forms.ValidationError(f"A .npy of {dtype} cannot be sent.")
    rows = shape[0] if shape else 1
    if rows > max_batch():
        raise forms.ValidationError(
            f"The .npy has {rows} rows; at most {max_batch()} are accepted."
        )
    needed = math.prod(shape) * dtype.itemsize
    if needed != len(data) - stream.tell():
        raise forms.ValidationError(
            f"The .npy header declares shape {tuple(shape)} of {dtype} ({needed} bytes)"
            f" but the file holds {len(data) - stream.tell()} bytes of data."
        )
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError) as e:
        raise forms.ValidationError(f"Not a readable .npy file: {e}.") from None


def read_csv_numbers(text: str) -> np.ndarray:
    """Return the numbers of a CSV as a 2-D float array (a header row is skipped)."""
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    if rows and not _numeric_row(rows[0]):
        rows = rows[1:]
    if not rows:
        raise forms.ValidationError("The CSV has no data rows.")
    width = len(rows[0])
    values = []
    for n, row in enumerate(rows, start=1):
        if len(row) != width:
            raise forms.ValidationError(f"CSV row {n} has {len(row)} columns, not {width}.")
        try:
            values.append([float(c) for c in row])
        except ValueError:
            raise forms.ValidationError(
                f"CSV row {n} holds a value that is not a number."
            ) from None
    return np.array(values)


def _numeric_row(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def _batch_of_one(array: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Return a single row as a batch of one when the model's input has one more axis."""
    if spec.shape is not None and array.ndim == len(spec.shape) - 1:
        array = array.reshape((1, *array.shape))
    integral = array.dtype.kind == "f" and bool(np.all(array == np.round(array)))
    if integral and spec.datatype and not spec.datatype.startswith("FP"):
        array = array.astype(np.int64)  # CSV cells are read as floats: 3.0 -> 3
    return array
