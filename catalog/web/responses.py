"""Shared response helpers: JSON or HTML, and friendly error pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

TITLES = {
    400: "Bad request",
    401: "Login required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Store unavailable",
}


def is_api(request: HttpRequest) -> bool:
    """Return True for the JSON APIs: everything under /api/ and /v2/ (OIP)."""
    path = request.path
    return path in ("/api", "/v2") or path.startswith(("/api/", "/v2/"))


def wants_json(request: HttpRequest) -> bool:
    """Return True for the APIs, and when the client asked for the JSON twin of a page."""
    if request.GET.get("format") == "json" or is_api(request):
        return True
    accept = request.headers.get("Accept", "")
    return accept.startswith("application/json")


def json_response(data: Any, status: int = 200) -> JsonResponse:
    """Return ``data`` as JSON (any JSON-able value, not only dicts)."""
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"allow_nan": False})


def error_response(
    request: HttpRequest, status: int, message: str, *, force_json: bool = False
) -> HttpResponse:
    """Return an error as JSON ({"error": ...}) or as the friendly error page."""
    title = TITLES.get(status, "Error")
    if force_json or wants_json(request):
        return JsonResponse({"error": message, "status": status}, status=status)
    ctx = {"status": status, "title": title, "message": message}
    try:
        body = loader.render_to_string(_template(status), ctx, request=request)
    except Exception:  # a broken page must never hide the original error
        body = f"<!doctype html><title>{status} {title}</title><h1>{title}</h1>"
    return HttpResponse(body, status=status)


def _template(status: int) -> str:
    return f"errors/{status}.html" if status in (400, 403, 404, 500) else "errors/error.html"
