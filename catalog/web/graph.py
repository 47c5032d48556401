"""The graph view: Netron's viewer (served by catalog.web.netron) opening our .onnx download."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_safe

from catalog.domain.registry import get_registry
from catalog.web import netron
from catalog.web.browse import version_context
from catalog.web.permissions import read_access
from catalog.web.twins import Page, twin


@require_safe
@read_access
@twin
def model_graph(request: HttpRequest, name: str, ref: str) -> Page:
    """Return the page that shows a version's graph in Netron."""
    ctx = version_context(get_registry(), name, ref)
    download = reverse("model-download", args=[name, ctx["ref"]])
    viewer = reverse("netron", args=["index.html"]) + "?" + urlencode({"url": download})
    data = {"download": download, "viewer": viewer if netron.available() else None}
    ctx |= {
        "tab": "graph",
        "viewer": viewer,
        "download": download,
        "netron": netron.available(),
        "summary": ctx["doc"].get("summary", {}),
    }
    return Page("catalog/model_graph.html", data, ctx)
