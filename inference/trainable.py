"""What learning does to an estimator: fit transformers once, partial_fit, convert, evaluate."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from catalog.domain.model_input import ModelInputError, from_sklearn
from inference.learning_input import LearningError, coerce_labels
from inference.state import learner_of


def is_fitted(estimator: Any) -> bool:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(learner_of(estimator))
    except NotFittedError:
        return False
    return True


def task_of(estimator: Any) -> str:
    from sklearn.base import is_classifier, is_regressor

    learner = learner_of(estimator)
    if is_classifier(learner):
        return "classification"
    if is_regressor(learner):
        return "regression"
    return "clustering"


def first_labels(y0: Any, task: str, classes: list[Any] | None) -> np.ndarray:
    labels = None if y0 is None else list(np.asarray(y0).tolist())
    return coerce_labels(labels, task, classes)


def fit_transformers(estimator: Any, X: np.ndarray) -> None:
    """Fit a Pipeline's transformers once (they stay fixed while the last step learns)."""
    for _, step in getattr(estimator, "steps", [])[:-1]:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(step)
        except NotFittedError:
            step.fit(X)
        X = step.transform(X)


def partial_fit(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    classes: list[Any] | None = None,
    *,
    update_transformers: bool = False,
) -> None:
    """partial_fit the learner; ``update_transformers``: its scalers partial_fit first."""
    learner = learner_of(estimator)
    for _, step in getattr(estimator, "steps", [])[:-1]:
        if update_transformers and hasattr(step, "partial_fit"):
            step.partial_fit(X)
        X = step.transform(X)
    task = task_of(estimator)
    if task == "clustering":
        learner.partial_fit(X)
    elif task == "classification" and classes is not None:
        learner.partial_fit(X, y, classes=np.asarray(classes))
    else:
        learner.partial_fit(X, y)


def convert(estimator: Any, X: np.ndarray) -> tuple[onnx.ModelProto, dict[str, Any]]:
    try:
        return from_sklearn(estimator, X[:1])
    except ModelInputError as e:
        raise LearningError(str(e)) from None


def plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def evaluate(proto: onnx.ModelProto, holdout: dict[str, Any], task: str) -> dict[str, float]:
    """Return the metrics of an ONNX model on a holdout set, run with onnxruntime.

    Evaluating the converted model (not the estimator) measures what will be served.
    """
    if not holdout.get("rows"):
        return {}
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    X = np.asarray(holdout["X"], dtype=np.float32)
    outputs = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, {session.get_inputs()[0].name: X}),
            strict=True,
        )
    )
    if task == "classification":
        label = np.asarray(outputs.get("label", next(iter(outputs.values())))).ravel()
        truth = np.asarray(holdout["y"])
        if truth.dtype.kind in "iuf" and label.dtype.kind in "iuf":
            hits = label.astype(np.float64) == truth.astype(np.float64)
        else:
            hits = label.astype(str) == truth.astype(str)
        return {"accuracy": float(np.mean(hits))}
    if task == "regression":
        pred = np.asarray(next(iter(outputs.values())), dtype=np.float64).ravel()
        truth = np.asarray(holdout["y"], dtype=np.float64)
        err = pred - truth
        ss_tot = float(np.sum((truth - truth.mean()) ** 2))
        r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else 0.0
        return {
            "r2": r2,
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mae": float(np.mean(np.abs(err))),
        }
    scores = np.asarray(outputs.get("scores", list(outputs.values())[-1]), dtype=np.float64)
    return {"inertia": float(np.sum(np.min(scores, axis=1) ** 2))}
