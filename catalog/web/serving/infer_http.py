"""The OIP infer route over HTTP: one handler for the Django view and the WSGI fast path.

``infer_body`` turns a request body (JSON, or JSON header + binary tensor data) into a
response body, counting the request in ``inference.stats``. ``error_for`` maps the
exceptions a request can raise to an HTTP status and message, the same way the ``api``
decorator does, so the fast path answers errors exactly like the Django view.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.exceptions import RequestDataTooBig

from catalog.domain.registry import InvalidName, ModelNotFound, Registry, RegistryError
from catalog.onnxdoc import DocumentError
from catalog.store import StoreError
from inference import oip_binary, predict, stats
from inference.oip import ProtocolError
from inference.predict import InferenceFailed
from inference.prediction import Prediction

JSON_CONTENT_TYPE = "application/json"


def version_ref(version: str | None) -> int | str | None:
    """Return the ref a URL's version segment names: a number, an alias or None (latest)."""
    return int(version) if version is not None and version.isdigit() else version


def infer_body(
    reg: Registry, name: str, version: str | None, body: bytes, declared: str | None
) -> tuple[bytes, int | None]:
    """Return the response body of an infer request and its JSON header length (or None).

    ``declared`` is the request's Inference-Header-Content-Length header, if any.
    """
    started = time.perf_counter_ns()
    value, tail = oip_binary.split_body(body, declared)
    request = oip_binary.parse_request(value, tail)
    try:
        prediction = predict.infer(reg, name, version_ref(version), request)
    except (ProtocolError, InferenceFailed):
        stats.record_failure(name, time.perf_counter_ns() - started)
        raise
    result = oip_binary.encode_response(
        response_head(prediction), prediction.outputs, oip_binary.binary_outputs(value)
    )
    rows = _rows(prediction)
    stats.record_success(
        name,
        prediction.model.version,
        time.perf_counter_ns() - started,
        int(prediction.took_ms * 1e6),
        rows,
    )
    return result


def _rows(prediction: Prediction) -> int:
    for array in prediction.inputs.values():
        return int(array.shape[0]) if array.ndim else 1
    return 1


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


def content_type(header_length: int | None) -> str:
    """Return the content type of a response body with this JSON header length."""
    return JSON_CONTENT_TYPE if header_length is None else oip_binary.BINARY_CONTENT_TYPE


def error_for(exc: BaseException) -> tuple[int, str] | None:
    """Return the HTTP status and message of a request error, or None for a server bug."""
    if isinstance(exc, (ModelNotFound, InvalidName)):
        return 404, str(exc)
    if isinstance(exc, (ProtocolError, RegistryError)):
        return 400, str(exc)
    if isinstance(exc, InferenceFailed):
        return exc.status, str(exc)
    if isinstance(exc, RequestDataTooBig):
        return 413, "the request body is too large"
    if isinstance(exc, StoreError):
        return 503, f"the document store failed: {exc}"
    if isinstance(exc, DocumentError):  # the server's data is broken, not the request
        return 500, f"the stored model is damaged: {exc}"
    return None


def error_body(status: int, message: str) -> bytes:
    """Return the JSON body of an API error."""
    return json.dumps({"error": message, "status": status}).encode("utf-8")
