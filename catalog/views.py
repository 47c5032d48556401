"""Catalog pages: the model list and the model page, each with a JSON twin."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog.registry import InvalidName, ModelNotFound, get_registry, version_info


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json"


@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    """Return the list of models, newest version of each."""
    models = get_registry().list_models()
    if _wants_json(request):
        return JsonResponse({"models": models})
    return render(request, "catalog/model_list.html", {"models": models})


@require_GET
def model_detail(request: HttpRequest, name: str, ref: str = "latest") -> HttpResponse:
    """Return the page of one model version (default: latest)."""
    reg = get_registry()
    try:
        doc = reg.document(name, ref)
        versions = reg.list_versions(name)
    except (ModelNotFound, InvalidName) as e:
        if _wants_json(request):
            return JsonResponse({"error": str(e)}, status=404)
        raise Http404(str(e)) from None
    if _wants_json(request):
        return JsonResponse(
            {"document": _without_onnx(doc), "versions": versions, "aliases": reg.aliases(name)}
        )
    summary = doc.get("summary", {})
    ctx: dict[str, Any] = {
        "info": version_info(doc),
        "doc": doc,
        "summary": summary,
        "metadata": doc.get("metadata", {}),
        "lineage": doc.get("lineage", {}),
        "versions": versions,
        "aliases": reg.aliases(name),
        "opsets": sorted(summary.get("opsets", {}).items()),
        "extra_metadata": _extra_metadata(doc.get("metadata", {})),
        "initializers": summary.get("initializers", [])[:50],
        "initializer_count": len(summary.get("initializers", [])),
    }
    return render(request, "catalog/model_detail.html", ctx)


_SHOWN = {
    "description",
    "tags",
    "task",
    "framework",
    "featureNames",
    "classLabels",
    "classNames",
    "metrics",
    "sampleRow",
}


def _extra_metadata(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (k, v if isinstance(v, str) else json.dumps(v))
        for k, v in sorted(meta.items())
        if k not in _SHOWN
    ]


def _without_onnx(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "onnx"}
