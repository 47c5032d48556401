"""Shared fixtures and helpers of the inference tests (imported by test_inference_*.py).

Fixtures are imported under their function names (``reg_fixture``) and used by their
fixture names (``reg``), so the import does not shadow test arguments.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import pytest

from catalog.domain.registry import Registry, get_registry
from tests.models import iris, iris_logreg, iris_svc

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


@functools.cache
def trained_logreg() -> Any:
    """Return one logistic regression on iris, trained once per test run."""
    return iris_logreg()


@functools.cache
def trained_svc() -> Any:
    """Return one SVC on iris, trained once per test run."""
    return iris_svc()


def publish_iris(reg: Registry, name: str = "iris", estimator: Any = None, **kwargs: Any):
    """Publish an iris classifier with feature names, class names and a sample row."""
    X, _ = iris()
    metadata = {
        "featureNames": IRIS_FEATURES,
        "classNames": IRIS_CLASSES,
        "sampleRow": [float(v) for v in X[100]],
        **kwargs.pop("metadata", {}),
    }
    return reg.publish(
        name, estimator or trained_logreg(), sample_input=X[:1], metadata=metadata, **kwargs
    )


@pytest.fixture(name="reg")
def reg_fixture(catalog_store) -> Registry:
    """Return the app's registry on a fresh embedded store."""
    return get_registry()


@pytest.fixture(name="iris_model")
def iris_model_fixture(reg):
    """Publish the iris logistic regression as "iris" (version 1); return the registry."""
    publish_iris(reg)
    return reg


def infer_body(rows: Any, datatype: str = "FP32", name: str = "X", **extra: Any) -> dict:
    """Return an OIP request body for a 2-D input."""
    array = np.asarray(rows)
    return {
        "inputs": [
            {"name": name, "datatype": datatype, "shape": list(array.shape), "data": array.tolist()}
        ],
        **extra,
    }


def post_json(client, url: str, body: Any):
    """POST a JSON body (a str is sent as it is) and return the response."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def identity_model(elem_type: int, width: int = 2) -> Any:
    """Return an ONNX model whose output Y is its input X ([N, width] of ``elem_type``)."""
    from onnx import helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["X"], ["Y"])],
        "identity",
        [helper.make_tensor_value_info("X", elem_type, ["N", width])],
        [helper.make_tensor_value_info("Y", elem_type, ["N", width])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def add_model() -> Any:
    """Return an ONNX model C = A + B over float vectors of length 3 (two inputs)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Add", ["A", "B"], ["C"])],
        "add",
        [
            helper.make_tensor_value_info("A", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("B", TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("C", TensorProto.FLOAT, [3])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
