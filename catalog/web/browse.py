"""Reading pages: the model list, a version's overview, its raw document and download."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog.domain.registry import Registry, get_registry, version_info
from catalog.web import jsontree
from catalog.web.errors import catalog_errors
from catalog.web.permissions import can_write, read_access
from catalog.web.responses import json_response, wants_json

# Metadata keys the overview shows in their own places; others go to "More metadata".
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


def version_context(reg: Registry, name: str, ref: str | int | None) -> dict[str, Any]:
    """Return what every page about one version shows in its header."""
    doc = reg.document(name, ref)
    aliases = reg.aliases(name)
    info = version_info(doc)
    return {
        "doc": doc,
        "info": info,
        "aliases": aliases,
        "here_aliases": sorted(a for a, v in aliases.items() if v == info["version"]),
        "ref": str(info["version"]),
    }


@require_GET
@read_access
@catalog_errors
def model_list(request: HttpRequest) -> HttpResponse:
    """Return the list of models, newest version of each."""
    models = get_registry().list_models()
    if wants_json(request):
        return json_response({"models": models})
    return render(request, "catalog/model_list.html", {"models": models})


@require_GET
@read_access
@catalog_errors
def model_detail(request: HttpRequest, name: str, ref: str = "latest") -> HttpResponse:
    """Return the overview of one model version (default: latest)."""
    reg = get_registry()
    ctx = version_context(reg, name, ref)
    versions = reg.list_versions(name)
    doc = ctx["doc"]
    if wants_json(request):
        document = {k: v for k, v in doc.items() if k != "onnx"}
        return json_response(
            {"document": document, "versions": versions, "aliases": ctx["aliases"]}
        )
    summary = doc.get("summary", {})
    metadata = doc.get("metadata", {})
    ctx |= {
        "tab": "overview",
        "summary": summary,
        "metadata": metadata,
        "lineage": doc.get("lineage", {}),
        "versions": versions[:10],
        "more_versions": max(len(versions) - 10, 0),
        "opsets": sorted(summary.get("opsets", {}).items()),
        "extra_metadata": _extra_metadata(metadata),
        "metadata_props": sorted(summary.get("metadataProps", {}).items()),
        "initializer_count": len(summary.get("initializers", [])),
        "can_write": can_write(request.user),
    }
    return render(request, "catalog/model_detail.html", ctx)


def _extra_metadata(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (k, v if isinstance(v, str) else json.dumps(v))
        for k, v in sorted(meta.items())
        if k not in _SHOWN
    ]


@require_GET
@read_access
@catalog_errors
def model_document(request: HttpRequest, name: str, ref: str) -> HttpResponse:
    """Return the stored JSON document of a version: a collapsible tree, or the raw JSON."""
    ctx = version_context(get_registry(), name, ref)
    doc = ctx["doc"]
    if wants_json(request):
        response = json_response(doc)
        if request.GET.get("download"):
            filename = f"{ctx['info']['name']}-v{ctx['info']['version']}.json"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    ctx |= {"tab": "document", "tree": jsontree.render(doc), "key": f"{name}::{ctx['ref']}"}
    return render(request, "catalog/model_document.html", ctx)


@require_GET
@read_access
@catalog_errors
def model_download(request: HttpRequest, name: str, ref: str) -> HttpResponse:
    """Return the version as a .onnx protobuf file."""
    reg = get_registry()
    version = reg.resolve(name, ref)
    data = reg.load_bytes(name, version)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}-v{version}.onnx"'
    response["Content-Length"] = str(len(data))
    return response
