"""The checks a model passes before it is published: ONNX's checker and an onnxruntime session."""

from __future__ import annotations

import onnx

from catalog.domain import limits
from catalog.domain.errors import InvalidModel, ModelTooLarge
from catalog.onnxdoc.walk import iter_tensors, node_lists


def validate_model(model: onnx.ModelProto) -> None:
    """Raise InvalidModel unless the checker passes and onnxruntime can build a session."""
    _refuse_external_files(model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker raises several types (ValidationError, InferenceError)
        raise InvalidModel(f"ONNX checker: {_first_line(e)}") from None
    import onnxruntime as ort

    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Building the session is the check (kernels exist for every node and type);
        # graph optimisations would only slow it down.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1  # no thread pool to start for a session never run
        options.inter_op_num_threads = 1
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types per failure
        raise InvalidModel(f"onnxruntime cannot run this model: {_first_line(e)}") from None


def _refuse_external_files(model: onnx.ModelProto) -> None:
    for _, tensor in iter_tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise InvalidModel(
                f"tensor {tensor.name!r} keeps its data in an external file; the catalog"
                " accepts only self-contained models (onnx.load with load_external_data)"
            )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:500] if text else type(error).__name__


def check_node_count(model: onnx.ModelProto) -> None:
    """Raise ModelTooLarge if the model has more nodes (subgraphs included) than allowed."""
    limit = limits.max_nodes()
    count = len(model.graph.node)  # the usual case, without walking every node's attributes
    if count > limit:
        raise ModelTooLarge(
            f"the model has {count} nodes; at most {limit} are accepted (CATALOG_MAX_NODES)"
        )
    count = 0
    for _, nodes in node_lists(model):
        count += len(nodes)
        if count > limit:
            raise ModelTooLarge(
                f"the model has more than {limit} nodes, subgraphs and functions included;"
                f" at most {limit} are accepted (CATALOG_MAX_NODES)"
            )
