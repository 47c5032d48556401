"""Publishing from the browser (the upload page) and the API (POST .../versions)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from catalog.domain import limits
from catalog.domain.registry import InvalidName, RegistryError, check_name, get_registry
from catalog.web.forms import UploadForm, publish_options
from catalog.web.permissions import api_write, write_access
from catalog.web.responses import error_response, json_response
from catalog.web.twins import Page, twin

# Bytes read from a raw request body at a time.
READ_CHUNK = 1 << 20


def max_upload_bytes() -> int:
    """Return the largest model the catalog accepts (``CATALOG_MAX_UPLOAD_MB``, default 200)."""
    return limits.max_upload_bytes()


@require_http_methods(["GET", "HEAD", "POST"])
@write_access
@twin
def upload(request: HttpRequest) -> HttpResponse | Page:
    """Return the upload form, or publish the uploaded model and go to its new version."""
    limit = max_upload_bytes()
    if request.method in ("GET", "HEAD"):
        form = UploadForm(initial={"name": request.GET.get("name", "")}, max_bytes=limit)
        return _page(request, form, limit)
    form = UploadForm(request.POST, request.FILES, max_bytes=limit)
    if not form.is_valid():
        return _page(request, form, limit, status=400)
    name = form.cleaned_data["name"]
    try:
        ref = get_registry().publish(
            name, form.cleaned_data["file"].read(), **form.publish_options()
        )
    except InvalidName as e:
        form.add_error("name", str(e))
        return _page(request, form, limit, status=400)
    except RegistryError as e:
        form.add_error("file", str(e))
        return _page(request, form, limit, status=400)
    return redirect(reverse("model-version", args=[ref.name, ref.version]))


def _page(request: HttpRequest, form: UploadForm, limit: int, status: int = 200) -> Page:
    ctx = {"form": form, "max_mb": limit // 2**20}
    data: dict[str, Any] = {"maxMb": limit // 2**20, "fields": list(form.fields)}
    if form.errors:
        errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
        data = {"error": next(iter(errors.values()))[0], "status": status, "errors": errors}
    return Page("catalog/upload.html", data, ctx, status=status)


def _raw_body(request: HttpRequest, limit: int) -> bytes | None:
    """Return the request body, or None when it is larger than ``limit`` bytes."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > limit:
        return None
    parts, size = [], 0
    # request.read() streams past DATA_UPLOAD_MAX_MEMORY_SIZE, which guards form posts only.
    while chunk := request.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


@api_write
@require_http_methods(["POST"])
def api_publish(request: HttpRequest, name: str) -> HttpResponse:
    """Publish a version: multipart (file + fields) or a raw .onnx body with query params."""
    try:
        check_name(name)
    except InvalidName as e:
        return error_response(request, 400, str(e))
    limit = max_upload_bytes()
    if request.content_type == "multipart/form-data":
        upload_file = request.FILES.get("file") or request.FILES.get("model")
        if upload_file is None:
            return error_response(request, 400, "send the model in a 'file' field")
        if upload_file.size > limit:
            return _too_large(request, limit)
        data, fields = upload_file.read(), request.POST
    else:
        body = _raw_body(request, limit)
        if body is None:
            return _too_large(request, limit)
        data, fields = body, request.GET
    if not data:
        return error_response(request, 400, "the request holds no model")
    options = publish_options(
        {k: fields.get(k) for k in ("description", "task", "framework", "format", "alias")}
        | {"tags": [t for v in fields.getlist("tags") for t in v.split(",") if t.strip()]}
    )
    ref = get_registry().publish(name, data, **options)
    url = reverse("model-version", args=[ref.name, ref.version])
    response = json_response({"name": ref.name, "version": ref.version, "url": url}, status=201)
    response["Location"] = url
    return response


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    return error_response(request, 413, f"the model is larger than {limit // 2**20} MB")


@api_write
@require_http_methods(["DELETE"])
def api_delete_version(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """Delete a version (?force=1 also removes the aliases pointing at it)."""
    force = request.GET.get("force") in ("1", "true", "yes")
    removed = get_registry().delete_version(
        name, version, force=force, user=request.user.get_username()
    )
    return json_response({"name": name, "version": version, "removedAliases": removed})
