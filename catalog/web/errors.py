"""Friendly 400/403/404/500 handlers, and domain errors mapped onto them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import loader

from catalog.domain.registry import AliasInUse, InvalidName, ModelNotFound, RegistryError
from catalog.onnxdoc import DocumentError
from catalog.store import Conflict, StoreUnavailable
from catalog.web.responses import error_response

View = Callable[..., HttpResponse]


def catalog_errors(view: View) -> View:
    """Turn domain errors into 4xx/5xx pages (or JSON), also when DEBUG is on."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (ModelNotFound, InvalidName) as e:
            return error_response(request, 404, str(e))
        except (AliasInUse, Conflict) as e:
            return error_response(request, 409, str(e))
        except RegistryError as e:
            return error_response(request, 400, str(e))
        except DocumentError as e:
            return error_response(request, 500, f"The stored document is damaged: {e}")
        except StoreUnavailable as e:
            return error_response(request, 503, str(e))

    return wrapper


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Return the 400 page."""
    return error_response(request, 400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Return the 403 page."""
    message = str(exception) if exception and str(exception) else "You may not do that."
    return error_response(request, 403, message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Return the 404 page."""
    text = str(exception) if exception else ""
    # Django's resolver puts a dict in the exception when no URL pattern matched.
    message = text if text and not text.startswith("{") else "There is no page at this address."
    return error_response(request, 404, message)


def server_error(request: HttpRequest) -> HttpResponse:
    """Return the 500 page, rendered without context processors (they may be what failed)."""
    if request.path.startswith("/api/") or request.GET.get("format") == "json":
        return error_response(request, 500, "Internal server error.", force_json=True)
    try:
        body = loader.render_to_string("errors/500.html", {"title": "Something went wrong"})
    except Exception:  # the error page itself must not fail
        body = "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
    return HttpResponse(body, status=500)
