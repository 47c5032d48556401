"""Real models for tests: trained here on scikit-learn's shipped datasets, or built with onnx."""

from __future__ import annotations

import functools

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.onnx_factories import assert_same_model  # noqa: F401  (re-exported for tests)


@functools.cache
def iris():
    """Return (X, y) of the iris data set as float32 features."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return X.astype(np.float32), y


def iris_svc():
    """Return an SVC fitted on iris (the source article's example)."""
    from sklearn.svm import SVC

    X, y = iris()
    return SVC(kernel="rbf", C=1.0).fit(X, y)


def iris_logreg():
    """Return a logistic regression fitted on iris."""
    from sklearn.linear_model import LogisticRegression

    X, y = iris()
    return LogisticRegression(max_iter=500).fit(X, y)


def matmul_model(rows: int, cols: int, seed: int = 0, name: str = "W") -> onnx.ModelProto:
    """Return Y = X @ W with a random float32 W of shape (rows, cols)."""
    w = np.random.default_rng(seed).standard_normal((rows, cols)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", name], ["Y"], name="matmul")],
        "matmul",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", rows])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", cols])],
        [numpy_helper.from_array(w, name)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def publish_iris_svc(reg) -> None:
    """Publish the iris SVC the page tests look for: tags iris/svm, a description, task."""
    X, _ = iris()
    reg.publish(
        "iris-svc",
        iris_svc(),
        sample_input=X[:1],
        tags=["iris", "svm"],
        description="SVM on the iris flowers",
        metadata={"task": "classification", "framework": "scikit-learn"},
    )
