"""The graph view: Netron's viewer (served by catalog.web.netron) opening our .onnx download."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from catalog.domain.registry import get_registry
from catalog.web import netron
from catalog.web.browse import version_context
from catalog.web.errors import catalog_errors
from catalog.web.permissions import read_access
from catalog.web.responses import json_response, wants_json


@require_GET
@read_access
@catalog_errors
def model_graph(request: HttpRequest, name: str, ref: str) -> HttpResponse:
    """Return the page that shows a version's graph in Netron."""
    ctx = version_context(get_registry(), name, ref)
    download = reverse("model-download", args=[name, ctx["ref"]])
    viewer = reverse("netron", args=["index.html"]) + "?" + urlencode({"url": download})
    if wants_json(request):
        return json_response(
            {"download": download, "viewer": viewer if netron.available() else None}
        )
    summary = ctx["doc"].get("summary", {})
    ctx |= {
        "tab": "graph",
        "viewer": viewer,
        "download": download,
        "netron": netron.available(),
        "summary": summary,
    }
    return render(request, "catalog/model_graph.html", ctx)
