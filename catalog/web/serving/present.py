"""What the prediction page shows of a prediction: labels, class bars, raw tensors, JSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from django.urls import reverse

from inference import oip
from inference.predict import classifier_outputs
from inference.prediction import Prediction
from inference.sessions import LoadedModel

# Rows of a prediction shown with their own label and bars; the rest only in raw outputs.
MAX_SHOWN_ROWS = 20
# Characters of JSON shown on the page per block (a copy of a huge tensor helps nobody).
MAX_JSON_CHARS = 200_000


def infer_url(model: LoadedModel) -> str:
    """Return the path of the model version's OIP infer endpoint."""
    return reverse("v2-infer-version", args=[model.name, str(model.version)])


def example_request(model: LoadedModel) -> str:
    """Return an OIP request for the model as indented JSON (the sample row, or zeros)."""
    from catalog.web.serving.forms import feature_names, sample_row

    names = feature_names(model)
    if names is not None:
        spec = model.inputs[0]
        row = sample_row(model, len(names))
        inputs = [
            {"name": spec.name, "datatype": spec.datatype, "shape": [1, len(row)], "data": [row]}
        ]
    else:
        inputs = []
        for spec in model.inputs:
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in (spec.shape or [1])]
            zero = "" if spec.datatype == "BYTES" else 0
            inputs.append(
                {
                    "name": spec.name,
                    "datatype": spec.datatype,
                    "shape": shape,
                    "data": [zero] * int(np.prod(shape)),
                }
            )
    return _json({"inputs": inputs})


def result(prediction: Prediction, oip_request: dict[str, Any]) -> dict[str, Any]:
    """Return the page context of a prediction."""
    return {
        "took_ms": prediction.took_ms,
        "rows": _rows(prediction),
        "raw_outputs": [
            {
                "name": n,
                "datatype": oip.datatype_of(a),
                "shape": list(a.shape),
                "json": _json(oip.flat_data(a) if a.ndim <= 1 else _nested(a)),
            }
            for n, a in prediction.outputs
        ],
        "request_json": _json(oip_request),
        "response_json": _json(prediction.response()),
    }


def _rows(prediction: Prediction) -> list[dict[str, Any]]:
    view = classifier_outputs(prediction.model)
    if view is None:
        return []
    labels = prediction.output(view.label) if view.label else None
    scores = prediction.output(view.scores) if view.scores else None
    if scores is not None and (scores.ndim != 2 or scores.shape[1] != len(view.names)):
        scores = None
    count = len(labels.reshape(-1)) if labels is not None else len(scores)
    probabilities = scores is not None and _are_probabilities(scores)
    rows = []
    for i in range(min(count, MAX_SHOWN_ROWS)):
        row: dict[str, Any] = {"index": i}
        if labels is not None:
            row["label"] = view.display(labels.reshape(-1)[i])
        if scores is not None:
            values = scores[i].astype(float)
            if "label" not in row:
                row["label"] = view.names[int(np.nanargmax(values))]
            row["bars"] = _bars(view.names, values, probabilities)
            row["probabilities"] = probabilities
        rows.append(row)
    return rows


def _are_probabilities(scores: np.ndarray) -> bool:
    finite = np.isfinite(scores).all()
    return bool(
        finite
        and (scores >= 0).all()
        and (scores <= 1).all()
        and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)
    )


def _bars(names: list[str], values: np.ndarray, probabilities: bool) -> list[dict[str, Any]]:
    """Return one bar per class; widths are percentages (scores are scaled min..max)."""
    if probabilities:
        widths = values * 100
    else:
        finite = values[np.isfinite(values)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        span = high - low or 1.0
        widths = (np.nan_to_num(values, nan=low) - low) / span * 100
    best = int(np.nanargmax(values)) if np.isfinite(values).any() else -1
    return [
        {"name": n, "value": float(v), "width": round(float(w), 1), "best": i == best}
        for i, (n, v, w) in enumerate(zip(names, values, widths, strict=True))
    ]


def _nested(array: np.ndarray) -> Any:
    return np.array(oip.flat_data(array), dtype=object).reshape(array.shape).tolist()


def _json(value: Any) -> str:
    text = pretty_json(value)
    if len(text) > MAX_JSON_CHARS:
        return text[:MAX_JSON_CHARS] + "\n... (truncated)"
    return text


def pretty_json(value: Any, indent: int = 0) -> str:
    """Return indented JSON that keeps lists of scalars (tensor rows) on one line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {pretty_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [inner + pretty_json(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value)
