"""The initializers of a version: a sortable table, and one tensor's values and histogram."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from catalog.domain.registry import get_registry
from catalog.web import inspect
from catalog.web.browse import version_context
from catalog.web.forms import InitializerTableForm
from catalog.web.permissions import read_access
from catalog.web.responses import error_response
from catalog.web.twins import Page, twin

# Rows per page of the initializer table.
PAGE_SIZE = 100
# Values the JSON twin of a tensor returns at most.
MAX_JSON_VALUES = 10_000


@require_safe
@read_access
@twin
def initializers(request: HttpRequest, name: str, ref: str) -> HttpResponse | Page:
    """Return the initializer table of a version, sorted by any column."""
    form = InitializerTableForm(request.GET)
    if not form.is_valid():
        return error_response(request, 400, "Invalid table options: " + form.errors.as_text())
    q = form.cleaned_data["q"].strip().lower()
    sort, order, page_number = (form.cleaned_data[k] for k in ("sort", "order", "page"))

    ctx = version_context(get_registry(), name, ref)
    rows = inspect.initializer_rows(ctx["doc"].get("summary", {}))
    total = len(rows)
    if q:
        rows = [r for r in rows if q in r["name"].lower()]
    rows = inspect.sort_initializers(rows, sort, order == "desc")
    page = Paginator(rows, PAGE_SIZE).get_page(page_number)
    data = {
        "name": name,
        "version": ctx["info"]["version"],
        "total": total,
        "matching": len(rows),
        "page": page.number,
        "pages": page.paginator.num_pages,
        "initializers": list(page.object_list),
    }
    ctx |= {
        "tab": "initializers",
        "form": form,
        "q": form.cleaned_data["q"],
        "sort": sort,
        "order": order,
        "page": page,
        "total": total,
        "matching": len(rows),
        "columns": _columns(sort, order),
    }
    return Page("catalog/initializers.html", data, ctx)


_COLUMN_LABELS = [
    ("name", "Name"),
    ("shape", "Shape"),
    ("dtype", "Type"),
    ("size", "Elements"),
    ("bytes", "Bytes"),
    ("min", "Min"),
    ("max", "Max"),
    ("mean", "Mean"),
    ("std", "Std"),
    ("l2", "L2"),
    ("zeroFraction", "Zeros"),
    ("nanCount", "NaN"),
]


def _columns(sort: str, order: str) -> list[dict[str, str]]:
    """Return each header with the order a click asks for and its aria-sort state."""
    cols = []
    for key, label in _COLUMN_LABELS:
        current = key == sort
        cols.append(
            {
                "key": key,
                "label": label,
                "next": "desc" if current and order == "asc" else "asc",
                "aria": ("ascending" if order == "asc" else "descending") if current else "",
                "numeric": key not in ("name", "shape", "dtype"),
            }
        )
    return cols


@require_safe
@read_access
@twin
def tensor(request: HttpRequest, name: str, ref: str, tensor: str) -> HttpResponse | Page:
    """Return one initializer: its statistics, a histogram and a preview of its values."""
    reg = get_registry()
    ctx = version_context(reg, name, ref)
    entry = next(
        (t for t in inspect.initializer_rows(ctx["doc"].get("summary", {})) if t["name"] == tensor),
        None,
    )
    if entry is None:
        return error_response(request, 404, f"version {ctx['ref']} has no initializer {tensor!r}")
    values = inspect.find_initializer(reg.load(name, ctx["info"]["version"]), tensor)
    if values is None:
        return error_response(request, 404, f"initializer {tensor!r} is not in the model")
    hist = inspect.histogram(values)
    bins = [{k: b[k] for k in ("lo", "hi", "count")} for b in hist["bars"]] if hist else []
    data = {"initializer": entry, "histogram": bins} | inspect.values_json(values, MAX_JSON_VALUES)

    def html() -> dict[str, Any]:
        return ctx | {
            "tab": "initializers",
            "t": entry,
            "histogram": hist,
            "preview": inspect.preview(values),
            "numpy_dtype": str(values.dtype),
        }

    return Page("catalog/tensor.html", data, html)
