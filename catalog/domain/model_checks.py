"""The checks a model passes before it is published: ONNX's checker and an onnxruntime session.

Online learning republishes the same graph with new weights after every batch. Whether the
checker passes and onnxruntime builds a session does not depend on the values of a weight
that only arithmetic reads (MatMul, Gemm, Add, Conv...: their shape inference reads shapes,
not values), so a model whose structure has passed before is not checked again: its
*structure key* (the model with those weights' values left out, their sizes kept) is
remembered per process (``VALIDATED_STRUCTURES`` of them, least recently used dropped).
A small model's checks cost 1.7 ms of a 7 ms publish; the key costs tens of microseconds.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import onnx

from catalog.domain import limits
from catalog.domain.errors import InvalidModel, ModelTooLarge
from catalog.onnxdoc.walk import iter_tensors, main_graphs, node_lists

# Structure keys of models that passed, per process.
VALIDATED_STRUCTURES = 1024
# Operators (default domain) whose type and shape inference and kernels never read the
# values of a floating-point input: weights fed only to these are left out of the key.
# (Resize, Range, Upsample... read them: a weight any other operator reads stays in.)
VALUE_BLIND_OPS = frozenset(
    {
        "Add", "BatchNormalization", "Conv", "ConvTranspose", "Div", "Gemm",
        "InstanceNormalization", "LayerNormalization", "MatMul", "Max", "Min", "Mul",
        "PRelu", "Sub", "Sum",
    }
)  # fmt: skip
_FLOATS = frozenset(
    {
        onnx.TensorProto.FLOAT,
        onnx.TensorProto.DOUBLE,
        onnx.TensorProto.FLOAT16,
        onnx.TensorProto.BFLOAT16,
    }
)
_passed: OrderedDict[bytes, None] = OrderedDict()
_passed_lock = threading.Lock()


def validate_model(model: onnx.ModelProto) -> None:
    """Raise InvalidModel unless the checker passes and onnxruntime can build a session
    (or a model of the same structure key has passed in this process)."""
    _refuse_external_files(model)
    key = structure_key(model)
    with _passed_lock:
        if key in _passed:
            _passed.move_to_end(key)
            return
    _check(model)
    with _passed_lock:
        _passed[key] = None
        while len(_passed) > VALIDATED_STRUCTURES:
            _passed.popitem(last=False)


def remembered_structures() -> int:
    """Return how many structure keys this process remembers as validated."""
    with _passed_lock:
        return len(_passed)


def forget_structures() -> None:
    """Forget every validated structure (the next model is checked in full)."""
    with _passed_lock:
        _passed.clear()


def structure_key(model: onnx.ModelProto) -> bytes:
    """Return a digest of the model without the values of its value-blind weights.

    A weight is left out when it is a floating-point initializer of the main graph or a
    subgraph, every node of the model that names it as an input is a VALUE_BLIND_OPS
    operator of the default domain, and no graph outputs it. Its type, dims and the size
    of its data stay in the key, so a weight of the wrong size is still checked.
    """
    readers_ok: dict[str, bool] = {}
    for _, nodes in node_lists(model):
        for node in nodes:
            blind = node.op_type in VALUE_BLIND_OPS and node.domain in ("", "ai.onnx")
            for name in node.input:
                readers_ok[name] = readers_ok.get(name, True) and blind
    outputs = {o.name for _, graph in main_graphs(model) for o in graph.output}
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    sizes: list[str] = []
    for path, graph in main_graphs(stripped):
        for i, tensor in enumerate(graph.initializer):
            if (
                tensor.data_type in _FLOATS
                and readers_ok.get(tensor.name, False)
                and tensor.name not in outputs
            ):
                sizes.append(
                    f"{path}[{i}]:{len(tensor.raw_data)},{len(tensor.float_data)},"
                    f"{len(tensor.double_data)},{len(tensor.int32_data)}"
                )
                tensor.ClearField("raw_data")
                tensor.ClearField("float_data")
                tensor.ClearField("double_data")
                tensor.ClearField("int32_data")
    digest = hashlib.sha256(stripped.SerializeToString(deterministic=True))
    digest.update(";".join(sizes).encode())
    return digest.digest()


def _check(model: onnx.ModelProto) -> None:
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
