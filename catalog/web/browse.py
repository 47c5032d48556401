"""Reading pages: the model list, a version's overview, its raw document and download."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from catalog.domain.registry import Registry, get_registry, listing_problem, version_info
from catalog.onnxdoc import DocumentError
from catalog.web import jsontree
from catalog.web.listing import Skipped, next_url, page_request
from catalog.web.model_cards import model_cards
from catalog.web.permissions import can_write, read_access
from catalog.web.twins import Page, twin

# Models per page of the model list; ``?limit=`` up to MODELS_HTML_MAX on the page, up to
# queries.MAX_PAGE in its JSON twin.
MODELS_PAGE = 50
MODELS_HTML_MAX = 100
# Versions the overview of a model lists (the versions page has them all).
NEWEST_VERSIONS = 10
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
    problem = listing_problem(doc)
    if problem is not None:
        raise DocumentError(problem)
    aliases = reg.aliases(name)
    info = version_info(doc)
    return {
        "doc": doc,
        "info": info,
        "aliases": aliases,
        "here_aliases": sorted(a for a, v in aliases.items() if v == info["version"]),
        "ref": str(info["version"]),
    }


@require_safe
@read_access
@twin
def model_list(request: HttpRequest) -> Page:
    """Return a page of the models by name, newest version of each (``?cursor=`` continues)."""
    reg = get_registry()
    skipped = Skipped("model list")
    cursor, size = page_request(request, MODELS_PAGE, html_max=MODELS_HTML_MAX)
    page = reg.models_page(cursor=cursor, limit=size, on_damaged=skipped)
    data = {
        "models": page.items,
        "total": reg.model_count(),
        "next": page.next,
        "nextUrl": next_url(request, page.next),
        "skipped": skipped.count,
    }

    def html() -> dict[str, Any]:
        # A listed model's page is this plus its name and "/" (listed names are URL-safe:
        # validation.NAME_PATTERN); one reverse() instead of one per model.
        models_url = reverse("model-list")
        return data | {
            "next_url": data["nextUrl"],
            "first_url": request.path if cursor else None,
            "model_cards": model_cards(page.items, models_url),
        }

    return Page("catalog/model_list.html", data, html)


@require_safe
@read_access
@twin
def model_detail(request: HttpRequest, name: str, ref: str = "latest") -> Page:
    """Return the overview of one model version (default: latest), with the newest
    versions of the model (the versions page lists them all, a page at a time)."""
    reg = get_registry()
    ctx = version_context(reg, name, ref)
    skipped = Skipped(f"versions of {name}")
    newest = reg.versions_page(name, limit=NEWEST_VERSIONS, on_damaged=skipped)
    total = reg.version_count(name)
    doc = ctx["doc"]
    document = {k: v for k, v in doc.items() if k != "onnx"}
    data = {
        "document": document,
        "versions": newest.items,
        "versionCount": total,
        "versionsUrl": reverse("model-versions", args=[name]),
        "aliases": ctx["aliases"],
        "skipped": skipped.count,
    }
    summary = doc.get("summary") or {}
    metadata = doc.get("metadata") or {}
    ctx |= {
        "tab": "overview",
        "summary": summary,
        "metadata": metadata,
        "lineage": doc.get("lineage", {}),
        "versions": newest.items,
        "more_versions": max(total - len(newest.items) - skipped.count, 0),
        "opsets": sorted(summary.get("opsets", {}).items()),
        "extra_metadata": _extra_metadata(metadata),
        "metadata_props": sorted(summary.get("metadataProps", {}).items()),
        "initializer_count": len(summary.get("initializers", [])),
        "can_write": can_write(request.user),
        "skipped": skipped.count,
    }
    return Page("catalog/model_detail.html", data, ctx)


def _extra_metadata(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (k, v if isinstance(v, str) else json.dumps(v))
        for k, v in sorted(meta.items())
        if k not in _SHOWN
    ]


@require_safe
@read_access
@twin
def model_document(request: HttpRequest, name: str, ref: str) -> Page:
    """Return the stored JSON document of a version: a collapsible tree, or the raw JSON."""
    ctx = version_context(get_registry(), name, ref)
    doc = ctx["doc"]
    headers = {}
    if request.GET.get("download"):
        filename = f"{ctx['info']['name']}-v{ctx['info']['version']}.json"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'

    def html() -> dict[str, Any]:
        tree = jsontree.render(doc)
        return ctx | {"tab": "document", "tree": tree, "key": f"{name}::{ctx['ref']}"}

    return Page("catalog/model_document.html", doc, html, json_headers=headers)


@require_safe
@read_access
def model_download(request: HttpRequest, name: str, ref: str) -> HttpResponse:
    """Return the version as a .onnx protobuf file."""
    reg = get_registry()
    version = reg.resolve(name, ref)
    data = reg.load_bytes(name, version)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}-v{version}.onnx"'
    response["Content-Length"] = str(len(data))
    return response
