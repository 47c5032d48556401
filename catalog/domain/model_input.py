"""Turn what users hand to publish (ModelProto, bytes, a path, a fitted estimator) into ONNX."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError

# A ModelProto, ONNX bytes, a path to a .onnx file, or a fitted scikit-learn estimator.
ModelInput = onnx.ModelProto | bytes | str | Path | Any


class ModelInputError(ValueError):
    """What was given cannot be turned into an ONNX model."""


def to_model_proto(model: ModelInput, sample_input: Any = None) -> tuple[onnx.ModelProto, dict]:
    """Return (ModelProto, metadata derived from the source) for a publishable object."""
    if isinstance(model, onnx.ModelProto):
        return model, {}
    if isinstance(model, (bytes, bytearray, memoryview)):
        return parse_onnx_bytes(bytes(model)), {}
    if isinstance(model, (str, Path)):
        path = Path(model)
        if not path.is_file():
            raise ModelInputError(f"no such file: {path}")
        return parse_onnx_bytes(path.read_bytes()), {}
    if hasattr(model, "fit") and hasattr(model, "get_params"):
        return from_sklearn(model, sample_input)
    raise ModelInputError(
        f"cannot publish a {type(model).__name__}: give a ModelProto, ONNX bytes, a path to"
        " a .onnx file, or a fitted scikit-learn estimator"
    )


def parse_onnx_bytes(data: bytes) -> onnx.ModelProto:
    """Return the ModelProto in ``data``; raise ModelInputError if it is not one."""
    if not data:
        raise ModelInputError("the ONNX file is empty")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise ModelInputError(f"not an ONNX model (protobuf decode failed: {e})") from None
    if not model.HasField("graph") or model.ir_version <= 0:
        raise ModelInputError("not an ONNX model: no graph or no IR version")
    return model


def from_sklearn(estimator: Any, sample_input: Any) -> tuple[onnx.ModelProto, dict]:
    """Convert a fitted scikit-learn estimator with skl2onnx; return (model, metadata).

    Classifiers keep plain tensor outputs (label, probabilities) rather than ZipMap, so
    every runtime can read them; feature names and class labels go to the metadata.
    """
    from skl2onnx import to_onnx
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ModelInputError(f"the {type(estimator).__name__} is not fitted") from None
    if sample_input is None:
        raise ModelInputError("publishing an estimator needs a sample_input (a row of X)")
    columns = list(getattr(sample_input, "columns", [])) or None
    sample = np.asarray(sample_input)
    if sample.ndim == 1:
        sample = sample.reshape(1, -1)
    if sample.dtype.kind in "iufb":
        sample = sample.astype(np.float32)
    options = {"zipmap": False} if is_classifier(estimator) else None
    try:
        with warnings.catch_warnings():  # converters read attributes sklearn deprecates
            warnings.simplefilter("ignore", FutureWarning)
            model = to_onnx(estimator, sample[:1], options=options)
    except Exception as e:  # skl2onnx raises many types for unsupported estimators
        raise ModelInputError(
            f"skl2onnx could not convert the {type(estimator).__name__}: {e}"
        ) from None
    meta: dict[str, Any] = {"framework": "scikit-learn", "estimator": type(estimator).__name__}
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        meta["featureNames"] = [str(n) for n in names]
    elif columns:
        meta["featureNames"] = [str(c) for c in columns]
    if is_classifier(estimator):
        meta["task"] = "classification"
        meta["classLabels"] = [_plain(c) for c in estimator.classes_]
    elif is_regressor(estimator):
        meta["task"] = "regression"
    elif hasattr(estimator, "cluster_centers_"):
        meta["task"] = "clustering"
    elif hasattr(estimator, "transform"):
        meta["task"] = "transform"
    return model, meta


def _plain(value: Any) -> Any:
    """Return a JSON-able Python value for a numpy scalar."""
    return value.item() if isinstance(value, np.generic) else value
