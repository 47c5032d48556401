"""JSON twins of pages, made in one place.

A page view decorated with ``@twin`` returns a ``Page``: its data once (the JSON twin),
the template, and what only the HTML needs (``context``, a dict or a function that builds
it, so a JSON request does not pay for charts or trees). ``twin`` picks the form the client
asked for (``?format=json`` or ``Accept: application/json``: ``responses.wants_json``),
and every HTML page it renders names its twin in a header:
``Link: </models/?format=json>; rel="alternate"; type="application/json"``.
A view may still return any HttpResponse (a redirect, a download, an error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.encoding import iri_to_uri

from catalog.web.responses import json_response, wants_json

View = Callable[..., Any]


@dataclass
class Page:
    """What a page view returns: the data of its JSON twin and how to show it as HTML."""

    template: str
    data: Any
    context: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    # Status of the JSON twin when it differs (a form error: 400, while the page shows it).
    json_status: int | None = None
    # Headers of the JSON twin only (e.g. Content-Disposition of a download).
    json_headers: dict[str, str] = field(default_factory=dict)

    def html_context(self) -> dict[str, Any]:
        """Return the template context (built now if it is a function)."""
        return self.context() if callable(self.context) else self.context


def twin_url(request: HttpRequest) -> str:
    """Return the address of the JSON twin of the page ``request`` asked for."""
    query = request.GET.copy()
    query["format"] = "json"
    return iri_to_uri(request.path) + "?" + query.urlencode()


def link_header(request: HttpRequest) -> str:
    """Return the Link header that names the JSON twin of a page."""
    return f'<{twin_url(request)}>; rel="alternate"; type="application/json"'


def twin(view: View) -> Callable[..., HttpResponse]:
    """Render the ``Page`` a view returns as HTML or as its JSON twin."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        result = view(request, *args, **kwargs)
        if not isinstance(result, Page):
            return result
        if wants_json(request):
            status = result.status if result.json_status is None else result.json_status
            response: HttpResponse = json_response(result.data, status=status)
            for header, value in result.json_headers.items():
                response[header] = value
        else:
            response = render(request, result.template, result.html_context(), status=result.status)
            response["Link"] = link_header(request)
        patch_vary_headers(response, ["Accept"])
        return response

    return wrapper
