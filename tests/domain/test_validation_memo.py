"""Validation remembered by structure: a republished graph with new weights is not checked
again, and nothing whose values the checks read is left out of the structure key."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from catalog.domain import model_checks
from catalog.domain.errors import InvalidModel
from catalog.domain.model_checks import (
    forget_structures,
    remembered_structures,
    structure_key,
    validate_model,
)
from catalog.domain.model_input import to_model_proto
from tests.models import iris, matmul_model


@pytest.fixture(autouse=True)
def _fresh_memo():
    forget_structures()
    yield
    forget_structures()


def _sgd_batches() -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """Return one SGD classifier converted after one batch of iris and after two."""
    from sklearn.linear_model import SGDClassifier

    X, y = iris()
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    sgd = SGDClassifier(random_state=0)
    sgd.partial_fit(X[:75], y[:75], classes=np.unique(y))
    first = to_model_proto(sgd, X[:1])[0]
    sgd.partial_fit(X[75:], y[75:])
    return first, to_model_proto(sgd, X[:1])[0]


def _resize(scales: list[float]) -> onnx.ModelProto:
    """Return a Resize of a 2x2 image whose declared output is 4x4: only scales of 2 pass."""
    graph = helper.make_graph(
        [helper.make_node("Resize", ["X", "", "scales"], ["Y"], mode="nearest")],
        "resize",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1, 4, 4])],
        [numpy_helper.from_array(np.array(scales, np.float32), "scales")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def test_a_retrained_model_is_validated_once():
    first, second = _sgd_batches()
    weights = {t.name: numpy_helper.to_array(t) for t in first.graph.initializer}
    retrained = {t.name: numpy_helper.to_array(t) for t in second.graph.initializer}
    assert not np.array_equal(weights["coef"], retrained["coef"])  # new weights, same graph
    assert structure_key(first) == structure_key(second)
    validate_model(first)
    assert remembered_structures() == 1
    validate_model(second)
    assert remembered_structures() == 1


def test_a_weight_of_the_wrong_size_is_still_checked():
    good = matmul_model(4, 3)
    validate_model(good)
    bad = onnx.ModelProto()
    bad.CopyFrom(good)
    bad.graph.initializer[0].raw_data = bad.graph.initializer[0].raw_data[:-4]
    assert structure_key(bad) != structure_key(good)
    with pytest.raises(InvalidModel, match="ONNX checker"):
        validate_model(bad)
    assert remembered_structures() == 1


def test_values_an_operator_reads_stay_in_the_key():
    passes, fails = _resize([1, 1, 2, 2]), _resize([1, 1, 3, 3])
    assert structure_key(passes) != structure_key(fails)
    validate_model(passes)
    with pytest.raises(InvalidModel, match="Inferred shape and existing shape differ"):
        validate_model(fails)


def test_a_weight_also_read_by_another_operator_or_output_stays_in_the_key():
    base = matmul_model(2, 2)
    shared = onnx.ModelProto()
    shared.CopyFrom(base)
    # W also feeds an Identity: not a value-blind operator
    shared.graph.node.append(helper.make_node("Identity", ["W"], ["W2"]))
    shared.graph.output.append(helper.make_tensor_value_info("W2", TensorProto.FLOAT, [2, 2]))
    output = onnx.ModelProto()
    output.CopyFrom(base)
    output.graph.output.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [2, 2]))
    for model in (base, shared, output):
        other = onnx.ModelProto()
        other.CopyFrom(model)
        other.graph.initializer[0].CopyFrom(
            numpy_helper.from_array(np.full((2, 2), 7.0, np.float32), "W")
        )
        same = structure_key(other) == structure_key(model)
        assert same is (model is base)


def test_a_custom_domain_operator_of_the_same_name_is_not_value_blind():
    model = matmul_model(2, 2)
    model.graph.node[0].domain = "com.example"
    other = onnx.ModelProto()
    other.CopyFrom(model)
    other.graph.initializer[0].CopyFrom(
        numpy_helper.from_array(np.full((2, 2), 7.0, np.float32), "W")
    )
    assert structure_key(other) != structure_key(model)


def test_the_memo_keeps_at_most_its_bound(monkeypatch):
    monkeypatch.setattr(model_checks, "VALIDATED_STRUCTURES", 3)
    for cols in range(1, 6):
        validate_model(matmul_model(2, cols))
    assert remembered_structures() == 3


def test_a_failed_model_is_not_remembered():
    with pytest.raises(InvalidModel):
        validate_model(_resize([1, 1, 3, 3]))
    assert remembered_structures() == 0
    with pytest.raises(InvalidModel):
        validate_model(_resize([1, 1, 3, 3]))
