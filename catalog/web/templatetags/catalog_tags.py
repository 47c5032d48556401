"""Template helpers of the catalog pages."""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from catalog.web.permissions import can_write as _can_write

register = template.Library()


@register.filter
def can_write(user: Any) -> bool:
    """Return True if the user may change the catalog (shows the write actions)."""
    return _can_write(user)


@register.simple_tag
def version_options(numbers: list[int], selected: int) -> SafeString:
    """Return an ``<option>`` per version number, ``selected`` marked (one node for the diff
    form's 100 or so versions: through a template loop they cost 3-4 ms a menu)."""
    return mark_safe(  # noqa: S308 - escaped numbers
        "".join(
            f'<option value="{v}"{" selected" if n == selected else ""}>v{v}</option>'
            for n in numbers
            for v in (escape(str(n)),)
        )
    )


@register.filter
def shape(dims: Any) -> str:
    """Return a shape such as [None, 4] as "N × 4" (symbolic dims by name)."""
    if not isinstance(dims, list):
        return "?" if dims is None else str(dims)
    if not dims:
        return "scalar"
    return " × ".join("?" if d is None else str(d) for d in dims)


@register.filter
def compact(n: Any) -> str:
    """Return a count as 1.2K / 3.4M / 5.6B."""
    if not isinstance(n, (int, float)):
        return "—"
    for factor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            return f"{n / factor:.1f}".rstrip("0").rstrip(".") + suffix
    return str(int(n)) if float(n).is_integer() else f"{n:.3g}"


@register.filter
def num(value: Any) -> str:
    """Return a statistic with 4 significant digits (— when missing)."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@register.filter
def get(mapping: Any, key: str) -> Any:
    """Return mapping[key] (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def when(value: Any) -> str:
    """Return an ISO timestamp such as 2026-11-25T03:02:32.536Z as "2026-11-25 03:02 UTC"."""
    if not isinstance(value, str) or len(value) < 16:
        return "" if value is None else str(value)
    suffix = " UTC" if value.endswith("Z") or value.endswith("+00:00") else ""
    return f"{value[:10]} {value[11:16]}{suffix}"


@register.filter
def pct(fraction: Any) -> str:
    """Return a fraction such as 0.0123 as "1.2%" (— when missing)."""
    if not isinstance(fraction, (int, float)):
        return "—"
    value = fraction * 100
    if value == 0 or value >= 10:
        return f"{value:.0f}%"
    return f"{value:.2g}%"


# Indexed field -> the word a search result shows before its highlighted fragment.
_FIELD_LABELS = {
    "metadata.description": "description",
    "summary.opTypes": "operator",
    "onnx.graph.node.name": "node",
    "summary.initializers.name": "initializer",
    "summary.inputs.name": "input",
    "summary.outputs.name": "output",
    "summary.producer.name": "producer",
    "onnx.docString": "doc",
    "onnx.graph.docString": "doc",
    "onnx.graph.node.docString": "doc",
    "summary.metadataProps": "property",
}


@register.filter
def field_label(field: Any) -> str:
    """Return a short label for an indexed field path (metadata.description -> description)."""
    text = str(field)
    return _FIELD_LABELS.get(text, text.rsplit(".", 1)[-1])


@register.filter
def sign(delta: Any) -> str:
    """Return "up", "down" or "same" for a change (a CSS class)."""
    if not isinstance(delta, (int, float)) or delta == 0:
        return "same"
    return "up" if delta > 0 else "down"


@register.filter
def signed(delta: Any) -> str:
    """Return a change as +1.2K / −34 / ±0."""
    if not isinstance(delta, (int, float)):
        return ""
    if delta == 0:
        return "±0"
    return ("+" if delta > 0 else "−") + compact(abs(delta))


@register.filter
def signed_bytes(delta: Any) -> str:
    """Return a change of size as +1.2 KB / −3 bytes."""
    from django.template.defaultfilters import filesizeformat

    if not isinstance(delta, (int, float)):
        return ""
    if delta == 0:
        return "±0"
    return ("+" if delta > 0 else "−") + str(filesizeformat(abs(delta)))


@register.filter
def brief(value: Any) -> str:
    """Return a metadata value as short text (— when missing)."""
    import json

    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 160 else text[:157] + "…"
