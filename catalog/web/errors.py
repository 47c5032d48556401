"""Domain errors mapped to HTTP in one table, for pages, the catalog API, learning and OIP.

``ErrorMiddleware`` turns an exception a view raises into ``error_response`` (JSON
``{"error": message, "status": N}`` under /api/ and /v2/ or when JSON is asked for, the
friendly page otherwise) when ``STATUS_OF`` knows its class; anything else goes on to
Django's 500 handler. It also rewrites the bare 405 of ``require_http_methods`` into the
same shape, and the 404 of an unknown /api/ or /v2/ route (HTML with DEBUG on) into JSON.
The 400/403/404/500 handlers use the same table and the same responses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.template import loader

from catalog.domain.jsonbody import JsonBodyError
from catalog.domain.model_input import ModelInputError
from catalog.domain.queries import InvalidCursor
from catalog.domain.registry import (
    AliasInUse,
    InvalidName,
    ModelNotFound,
    ModelTooLarge,
    RegistryError,
)
from catalog.onnxdoc import DocumentError
from catalog.sqlpp.slots import StatementsBusy
from catalog.store import (
    Conflict,
    InvalidArgument,
    NotFound,
    QueryError,
    SearchError,
    StoreError,
    StoreUnavailable,
)
from catalog.web.responses import error_response, is_api
from catalog.web.uploads import UploadTooLarge
from inference.learning import AlreadyLearning, DuplicateBatch, NoLearningState
from inference.oip import ProtocolError
from inference.predict import InferenceFailed
from inference.prediction_log import PredictionNotFound
from inference.state import UntrustedState

log = logging.getLogger(__name__)
View = Callable[..., HttpResponse]

# Exception class -> HTTP status. The first class of an exception's MRO found here wins,
# so a subclass listed on its own (NoLearningState) beats its base (RegistryError).
# None: the exception carries its own ``status`` (InferenceFailed: 400, 503, ...).
STATUS_OF: dict[type[BaseException], int | None] = {
    # the thing asked for does not exist
    ModelNotFound: 404,
    InvalidName: 404,  # no model can have that name, so there is no such page
    PredictionNotFound: 404,
    NoLearningState: 404,
    NotFound: 404,
    # someone else changed it first, or it is in use
    AliasInUse: 409,
    Conflict: 409,
    DuplicateBatch: 409,
    AlreadyLearning: 409,
    # over a limit
    RequestDataTooBig: 413,
    ModelTooLarge: 413,
    # the request is wrong
    JsonBodyError: 400,
    InvalidCursor: 400,
    ProtocolError: 400,
    RegistryError: 400,  # LearningError, PolicyError, InvalidModel, ...
    QueryError: 400,
    SearchError: 400,
    InvalidArgument: 400,
    ModelInputError: 400,
    # the server's own data is broken: a handled 500 that says what is wrong
    DocumentError: 500,
    UntrustedState: 500,
    # too many statements at once: try again shortly
    StatementsBusy: 429,
    # the store does not answer
    StoreUnavailable: 503,
    StoreError: 503,
    InferenceFailed: None,
}

# Exception class -> how its message is written ("{}" is the exception's text).
MESSAGE_OF: dict[type[BaseException], str] = {
    UploadTooLarge: "{}",
    RequestDataTooBig: "the request body is too large",
    DocumentError: "the stored document is damaged: {}",
    StoreUnavailable: "the document store is unavailable: {}",
    StoreError: "the document store failed: {}",
}


def _first_known(exc: BaseException, table: dict[type[BaseException], Any]) -> Any:
    for cls in type(exc).__mro__:
        if cls in table:
            return cls
    return None


def status_of(exc: BaseException) -> int | None:
    """Return the HTTP status of a domain error, or None for an unexpected exception."""
    cls = _first_known(exc, STATUS_OF)
    if cls is None:
        return None
    status = STATUS_OF[cls]
    return int(getattr(exc, "status", 500)) if status is None else status


def message_of(exc: BaseException) -> str:
    """Return the message a client sees for a domain error."""
    cls = _first_known(exc, MESSAGE_OF)
    text = str(exc) or type(exc).__name__
    return MESSAGE_OF[cls].format(text) if cls is not None else text


def domain_error_response(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """Return the error response of a domain error, or None if ``exc`` is unexpected."""
    status = status_of(exc)
    if status is None:
        return None
    message = message_of(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.path, message)
    return error_response(request, status, message)


class ErrorMiddleware:
    """Map domain errors raised by views, and bare 405s, to the one error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 405:
            allow = response.get("Allow")
            response = error_response(request, 405, f"method {request.method} not allowed")
            if allow:
                response["Allow"] = allow
        elif response.status_code == 404 and is_api(request):
            # No route matched (with DEBUG on, Django's own HTML 404 page): JSON instead.
            response = error_response(request, 404, f"no such route: {request.path}")
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return domain_error_response(request, exc)


# -- Django's handlers (catalog.shell.urls) ---------------------------------------------------


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Return the 400 page (413 for a body over the size limit)."""
    if exception is not None and (mapped := domain_error_response(request, exception)):
        return mapped
    return error_response(request, 400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Return the 403 page."""
    message = str(exception) if exception and str(exception) else "You may not do that."
    return error_response(request, 403, message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Return the 404 page."""
    text = str(exception) if exception else ""
    # Django's resolver puts a dict in the exception when no URL pattern matched.
    if text and not text.startswith("{"):
        message = text
    elif is_api(request):
        message = f"no such route: {request.path}"
    else:
        message = "There is no page at this address."
    return error_response(request, 404, message)


def server_error(request: HttpRequest) -> HttpResponse:
    """Return the 500 page, rendered without context processors (they may be what failed)."""
    if is_api(request) or request.GET.get("format") == "json":
        return error_response(request, 500, "Internal server error.", force_json=True)
    try:
        body = loader.render_to_string("errors/500.html", {"title": "Something went wrong"})
    except Exception:  # the error page itself must not fail
        body = "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
    return HttpResponse(body, status=500)
