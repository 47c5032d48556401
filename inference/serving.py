"""What every OIP transport (HTTP, the WSGI fast path, gRPC) shares around ``predict.infer``.

``run`` predicts and counts the request in ``inference.stats``; ``inference.statuses`` maps the
exceptions a request can raise to an HTTP status and message (the gRPC server turns the
status into a gRPC code), so every transport answers the same error the same way.
"""

from __future__ import annotations

import time
from typing import Any

from catalog.domain.registry import Registry
from inference import predict, stats, warm
from inference.oip import InferRequest, ProtocolError
from inference.predict import InferenceFailed
from inference.prediction import Prediction

SERVER_NAME = "onnx-model-catalog"
SERVER_VERSION = "0.1.0"
# The protocol extensions served, by Triton's names.
EXTENSIONS = ("binary_tensor_data", "model_configuration", "model_repository", "statistics")


def version_ref(version: str | None) -> int | str | None:
    """Return the ref a version segment names: a number, an alias, or None (latest)."""
    if version and version.isascii() and version.isdigit():  # not "²", which int() refuses
        return int(version)
    return version or None


def run(reg: Registry, name: str, version: str | None, request: InferRequest) -> Prediction:
    """Return the prediction of a parsed request, counting it in the statistics."""
    started = time.perf_counter_ns()
    try:
        prediction = predict.infer(reg, name, version_ref(version), request)
    except (ProtocolError, InferenceFailed):  # the model exists: count the failure
        stats.record_failure(name, time.perf_counter_ns() - started)
        raise
    count_success(name, prediction, started)
    return prediction


def count_success(name: str, prediction: Prediction, started_ns: int) -> None:
    """Count a request that began at ``started_ns`` (perf_counter_ns) and gave ``prediction``
    in the statistics and the warm list."""
    first = next(iter(prediction.inputs.values()), None)
    rows = int(first.shape[0]) if first is not None and first.ndim else 1
    stats.record_success(
        name,
        prediction.model.version,
        time.perf_counter_ns() - started_ns,
        int(prediction.took_ms * 1e6),
        rows,
    )
    warm.note_use(name)


def response_head(prediction: Prediction) -> dict[str, Any]:
    """Return the OIP response body of a prediction without its outputs."""
    head: dict[str, Any] = {
        "model_name": prediction.model.name,
        "model_version": str(prediction.model.version),
    }
    if prediction.request_id is not None:
        head["id"] = prediction.request_id
    if prediction.prediction_id is not None:
        head["parameters"] = {"prediction_id": prediction.prediction_id}
    return head
