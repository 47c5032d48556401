"""REST API: Open Inference Protocol v2, batch CSV prediction, prediction feedback.

Errors are ``{"error": "...", "status": N}`` (``catalog.web.errors``): 400 (bad request),
404 (no such model, version, alias or prediction), 405 (wrong method, with Allow), 413
(body too large) or 503.
The JSON API is CSRF-exempt: it is called by programs, not by browser forms. Predicting
is a read of the catalog (``read_access``: public unless CATALOG_PUBLIC_READS is off, then
a session or an API token). Feedback labels become training data, so they need write
access (``api_write``). Health, server metadata and OpenAPI stay open for probes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from catalog.domain.registry import get_registry
from catalog.store import StoreError
from catalog.web.listing import next_url, page_request
from catalog.web.permissions import api_write, read_access
from catalog.web.serving import infer_http, openapi
from inference import oip, oip_binary, oip_config
from inference.batch import predict_csv as run_predict_csv
from inference.oip import ProtocolError
from inference.prediction_log import attach_feedback, logged_predictions
from inference.serving import EXTENSIONS, SERVER_NAME, SERVER_VERSION
from inference.sessions import LoadedModel, load_model


def error(message: str, status: int) -> HttpResponse:
    """Return an API error response (the shape of ``catalog.web.responses.error_response``)."""
    return JsonResponse({"error": message, "status": status}, status=status)


def api(*methods: str) -> Callable:
    """Decorate a JSON API view: allowed methods (405 otherwise), CSRF-exempt.

    Domain errors the view raises are answered by ``catalog.web.errors.ErrorMiddleware``.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error(f"method {request.method} not allowed", 405)
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _ref(version: str | None) -> int | str | None:
    return (
        int(version) if version is not None and version.isascii() and version.isdigit() else version
    )


@api("GET")
def health_live(request: HttpRequest) -> HttpResponse:
    """Return 200 while the server process answers."""
    return JsonResponse({"live": True})


@api("GET")
def health_ready(request: HttpRequest) -> HttpResponse:
    """Return 200 when the document store answers, else 503."""
    reg = get_registry()
    try:
        reg.store.exists(reg.ks.aliases, "__ready__")
    except StoreError as e:
        return JsonResponse({"ready": False, "error": str(e)}, status=503)
    return JsonResponse({"ready": True})


@api("GET")
def server_metadata(request: HttpRequest) -> HttpResponse:
    """Return the OIP server metadata."""
    return JsonResponse(
        {"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": list(EXTENSIONS)}
    )


@api("GET")
@read_access
def model_metadata(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return the OIP metadata of a model (its latest version, or the one named)."""
    reg = get_registry()
    model = load_model(reg, name, _ref(version))
    return JsonResponse(metadata(model, oip_config.model_versions(reg, name)))


def metadata(model: LoadedModel, versions: list[str]) -> dict[str, Any]:
    """Return the OIP model metadata body of a loaded model."""
    return {
        "name": model.name,
        "versions": versions,
        "platform": "onnx",
        "inputs": [_tensor_metadata(s) for s in model.inputs],
        "outputs": [_tensor_metadata(s) for s in model.outputs],
        "parameters": {"version": str(model.version)},
    }


def _tensor_metadata(spec: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "datatype": spec.datatype or spec.ort_type,
        "shape": spec.oip_shape(),
    }


@api("GET")
@read_access
def model_ready(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return 200 once the version's session is built (this call builds it if cold)."""
    model = load_model(get_registry(), name, _ref(version))
    return JsonResponse({"name": model.name, "version": str(model.version), "ready": True})


@api("POST")
@read_access
def infer(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return the OIP inference response for a JSON or binary-tensor request body."""
    body, header_length = infer_http.infer_body(
        get_registry(), name, version, request.body, request.headers.get(oip_binary.HEADER)
    )
    response = HttpResponse(body, content_type=infer_http.content_type(header_length))
    if header_length is not None:
        response[oip_binary.HEADER] = str(header_length)
    return response


@api("POST")
@read_access
def predict_csv(request: HttpRequest, name: str, ref: str | None = None) -> HttpResponse:
    """Return the uploaded CSV (multipart ``file`` or a text/csv body) with predictions."""
    upload = request.FILES.get("file")
    if upload is not None:
        data = upload.read()
    elif request.content_type in ("text/csv", "text/plain", "application/octet-stream"):
        data = request.body
    else:
        raise ProtocolError("send the CSV as a multipart 'file' field or a text/csv body")
    result = run_predict_csv(get_registry(), name, _ref(ref or request.GET.get("version")), data)
    response = HttpResponse(result.csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@api("POST")
@api_write
def prediction_feedback(request: HttpRequest, prediction_id: str) -> HttpResponse:
    """Attach the true label (``{"label": ...}``) to a logged prediction."""
    body = oip.parse_json(request.body)
    if not isinstance(body, dict) or "label" not in body:
        raise ProtocolError('send {"label": ...} with the true label')
    if body["label"] is None or isinstance(body["label"], dict):
        raise ProtocolError("the label must be a string, a number, true/false or a list")
    doc = attach_feedback(get_registry(), prediction_id, body["label"])
    return JsonResponse({"id": prediction_id, "feedback": doc["feedback"]})


# Logged predictions per page of ``GET /api/models/NAME/predictions`` (``?limit=`` up to
# queries.MAX_PAGE).
PREDICTIONS_PAGE = 50


@api("GET")
@api_write
def predictions(request: HttpRequest, name: str) -> HttpResponse:
    """Return a page of a model's logged predictions, newest first (``?cursor=`` continues).

    Writers only: the log holds what other clients sent.
    """
    cursor, size = page_request(request, PREDICTIONS_PAGE)
    page = logged_predictions(get_registry(), name, cursor=cursor, limit=size)
    return JsonResponse(
        {"predictions": page.items, "next": page.next, "nextUrl": next_url(request, page.next)}
    )


@api("GET")
def openapi_json(request: HttpRequest) -> HttpResponse:
    """Return the OpenAPI 3 description of this API."""
    return JsonResponse(openapi.spec())
