"""Domain errors mapped to HTTP in one table, for pages, the catalog API, learning and OIP.

``ErrorMiddleware`` turns an exception a view raises into ``error_response`` (JSON
``{"error": message, "status": N}`` under /api/ and /v2/ or when JSON is asked for, the
friendly page otherwise) when the shared table (``inference.statuses``) knows its class;
anything else goes on to
Django's 500 handler. It also rewrites the bare 405 of ``require_http_methods`` into the
same shape, and the 404 of an unknown /api/ or /v2/ route (HTML with DEBUG on) into JSON.
The 400/403/404/500 handlers use the same table and the same responses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template import loader

from catalog.web.responses import error_response, is_api, wants_json
from catalog.web.uploads import UploadTooLarge
from inference import statuses

log = logging.getLogger(__name__)
View = Callable[..., HttpResponse]

# The shared messages, plus the web's own: an upload over its route's limit says which limit.
# (Its status needs no entry: UploadTooLarge is a RequestDataTooBig, 413 in the shared table.)
MESSAGE_OF: dict[type[BaseException], str] = {**statuses.MESSAGE_OF, UploadTooLarge: "{}"}


def status_of(exc: BaseException) -> int | None:
    """Return the HTTP status of a domain error, or None for an unexpected exception."""
    return statuses.status_of(exc)


def message_of(exc: BaseException) -> str:
    """Return the message a client sees for a domain error."""
    return statuses.message_of(exc, MESSAGE_OF)


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


# -- Django's handlers (catalog.shell.urls); Django always passes the exception -------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return the 400 page (413 for a body over the size limit)."""
    if mapped := domain_error_response(request, exception):
        return mapped
    return error_response(request, 400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return the 403 page (no view raises PermissionDenied today: they answer 401/403)."""
    return error_response(request, 403, str(exception) or "You may not do that.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return the 404 page."""
    text = str(exception)
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
    if wants_json(request):
        return error_response(request, 500, "Internal server error.")
    try:
        body = loader.render_to_string("errors/500.html")
    except Exception:  # the error page itself must not fail
        body = "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
    return HttpResponse(body, status=500)


def csrf_failure(request: HttpRequest, reason: str) -> HttpResponse:
    """Return the 403 of a failed CSRF check (CSRF_FAILURE_VIEW) in the one error shape."""
    return error_response(request, 403, f"CSRF check failed: {reason}")
