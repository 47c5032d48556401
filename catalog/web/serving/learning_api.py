"""``POST /api/models/<name>/learning`` starts learning; ``/learn`` is one step from a batch.

Start (``/learning``): an estimator specification (``inference.estimators``) and the
first rows, as JSON ``{"estimator", "params", "scaler", "label", "holdout", "metric",
"policy", "window", "rows": [{...}], "holdoutRows": [...]}`` or as a multipart form with a
``file`` (the first CSV), optional ``holdoutFile``, and the same names as fields.
Answers 201 with the first step's result; 409 if the model is already learning.

Step (``/learn``):

Bodies:
- ``text/csv``: a header row, then data rows; ``?label=COLUMN`` names the label column
  (multipart: a ``file`` field and a ``label`` field).
- ``application/json``: ``{"rows": [[...]], "labels": [...]}`` or
  ``{"rows": [{feature: value}], "label": "column"}``.
Optional: ``batchId`` (query or JSON; a batch id already learned gives 409) and
``policy`` (always, never, no-worse; ``tolerance`` for no-worse).
Writes need a bearer token or a session that passes the CSRF check (``api_write``).
Errors: 400 bad input, 404 no such model or no learning state, 409 duplicate batch or
contention, 503 the store failed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from catalog.domain.jsonbody import decode_json
from catalog.domain.registry import get_registry
from catalog.web.permissions import api_write
from inference.estimators import spec_from_mapping
from inference.learning import (
    learn,
    learn_csv_bytes,
    learning_head,
)
from inference.learning_input import LearningError, parse_json
from inference.learning_start import start_from_csv, start_from_json

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message, "status": status}, status=status)


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Allow POST only; domain errors are answered by ``catalog.web.errors.ErrorMiddleware``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            response = _error(f"method {request.method} not allowed", 405)
            response["Allow"] = "POST"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def _policy(request: HttpRequest, body: dict[str, Any]) -> Any:
    kind = body.get("policy", request.GET.get("policy"))
    if kind is None or isinstance(kind, dict):
        return kind
    tolerance = body.get("tolerance", request.GET.get("tolerance"))
    metric = body.get("metric", request.GET.get("metric"))
    return {"kind": str(kind), "tolerance": tolerance, "metric": metric}


@api_write
@_json_errors
def api_learn(request: HttpRequest, name: str) -> HttpResponse:
    """Learn from the batch in the request body; return the step's result."""
    reg = get_registry()
    user = request.user.get_username()
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise LearningError("send the CSV as a multipart 'file' field (and a 'label' field)")
        data = upload.read()
    elif not request.body:
        raise LearningError("the request body is empty: send a CSV or JSON batch")
    elif request.content_type in CSV_TYPES:
        data = request.body
    else:
        data = None
    if data is not None:
        result = learn_csv_bytes(
            reg,
            name,
            data,
            request.POST.get("label") or request.GET.get("label"),
            batch_id=request.POST.get("batchId") or request.GET.get("batchId"),
            policy=_policy(request, {}),
            user=user,
        )
        return JsonResponse(result.to_dict())
    if request.content_type != "application/json":
        raise LearningError(
            "send text/csv (with ?label=COLUMN), a multipart 'file', or application/json"
        )
    body = decode_json(request.body)
    head = learning_head(reg, name)
    raw = parse_json(body, head.get("featureNames"), head["nFeatures"], request.GET.get("label"))
    if raw.labels is None and head["task"] != "clustering":
        raise LearningError("missing labels: send 'labels', or 'label' naming the label field")
    batch_id = body.get("batchId", request.GET.get("batchId"))
    if batch_id is not None and (not isinstance(batch_id, str) or not batch_id.strip()):
        raise LearningError("'batchId' must be a non-empty string")
    result = learn(reg, name, raw.X, raw.labels, batch_id, _policy(request, body), user=user)
    return JsonResponse(result.to_dict())


# Form fields of a multipart start request that make up the estimator specification.
SPEC_FIELDS = ("estimator", "params", "scaler", "label", "holdout", "metric", "policy", "window")


@api_write
@_json_errors
def api_start_learning(request: HttpRequest, name: str) -> HttpResponse:
    """Start learning ``name`` from a specification and its first rows; return step one."""
    reg = get_registry()
    user = request.user.get_username()
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise LearningError("send the first CSV as a multipart 'file' field")
        spec = spec_from_mapping({k: request.POST.get(k) for k in SPEC_FIELDS})
        holdout = request.FILES.get("holdoutFile")
        result = start_from_csv(
            reg,
            name,
            spec,
            upload.read(),
            holdout_csv=holdout.read() if holdout is not None else None,
            batch_id=request.POST.get("batchId") or None,
            description=request.POST.get("description") or None,
            user=user,
        )
        return JsonResponse(result.to_dict(), status=201)
    if request.content_type != "application/json":
        raise LearningError("send application/json, or a multipart form with a CSV 'file'")
    body = decode_json(request.body or b"")
    if not isinstance(body, dict):
        raise LearningError('send a JSON object: {"estimator": ..., "label": ..., "rows": [...]}')
    spec = spec_from_mapping({k: body.get(k) for k in SPEC_FIELDS})
    result = start_from_json(reg, name, spec, body, user=user)
    return JsonResponse(result.to_dict(), status=201)
