"""Small charts drawn on the server as SVG geometry (no chart library, no JavaScript)."""

from __future__ import annotations

import html
import math
from typing import Any

from django.utils.safestring import mark_safe

# Drawing area of the line chart in SVG units (it scales to the page width).
WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 30


def _nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high == low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= step * factor:
            step *= factor
            break
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(points: list[tuple[int, float]]) -> dict[str, Any] | None:
    """Return the geometry of a line chart of (version, value) points, or None if empty."""
    points = [(x, y) for x, y in points if isinstance(y, (int, float)) and math.isfinite(y)]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or abs(y0) * 0.05 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (inner_w / 2 if x1 == x0 else (x - x0) / (x1 - x0) * inner_w)

    def sy(y: float) -> float:
        return TOP + (1 - (y - y0) / (y1 - y0)) * inner_h

    dots = [
        {"cx": round(sx(x), 1), "cy": round(sy(y), 1), "version": x, "value": _label(y)}
        for x, y in points
    ]
    step = max(1, math.ceil(len(points) / 12))
    # Up to hundreds of dots: written here once, not by the template engine per attribute
    # (labels are numbers formatted by _label; html.escape, not Django's slower escape).
    svg_dots = "".join(
        f'<circle class="dot" cx="{d["cx"]}" cy="{d["cy"]}" r="4">'
        f"<title>v{d['version']}: {html.escape(d['value'])}</title></circle>"
        for d in dots
    )
    desc = ", ".join(f"v{d['version']} {d['value']}" for d in dots)
    return {
        "svg_dots": mark_safe(svg_dots),  # noqa: S308 - numbers and escaped labels only
        "desc": desc,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "path": " ".join(f"{d['cx']},{d['cy']}" for d in dots),
        "dots": dots,
        "yticks": [{"y": round(sy(t), 1), "label": _label(t)} for t in _nice_ticks(y0, y1)],
        "xticks": [{"x": d["cx"], "label": f"v{d['version']}"} for d in dots[::step]],
        "label_y": HEIGHT - 8,
    }


def bars(rows: list[dict[str, Any]], key: str, limit: int = 25) -> dict[str, Any]:
    """Return the largest ``limit`` rows with a bar width (percent of the largest value)."""
    measured = [r for r in rows if isinstance(r.get(key), (int, float))]
    top = max((r[key] for r in measured), default=0.0)
    shown = [
        r | {"bar": round(100 * r[key] / top, 2) if top else 0.0, "value": _label(r[key])}
        for r in measured[:limit]
    ]
    return {
        "rows": shown,
        "hidden": max(len(measured) - limit, 0),
        "unmeasured": len(rows) - len(measured),
    }
