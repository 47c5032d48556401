"""Render a JSON document as collapsible HTML (``<details>``), readable without JavaScript."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

# Objects and arrays deeper than this start folded.
OPEN_DEPTH = 2
# Items shown per array; the JSON twin has them all.
MAX_ITEMS = 200
# Characters shown of a long string (base64 tensors would bury the page).
MAX_STRING = 240
# Values rendered in one page before the rest is left to the JSON twin.
MAX_NODES = 25_000


class _Budget:
    def __init__(self, nodes: int):
        self.left = nodes


def render(value: Any) -> SafeString:
    """Return the HTML of a collapsible tree for ``value``."""
    out: list[str] = []
    _value(value, 0, _Budget(MAX_NODES), out)
    return mark_safe("".join(out))  # every piece of data below goes through escape()


def _scalar(value: Any) -> str:
    if value is None:
        return '<span class="j-null">null</span>'
    if isinstance(value, bool):
        return f'<span class="j-bool">{"true" if value else "false"}</span>'
    if isinstance(value, (int, float)):
        return f'<span class="j-num">{escape(json.dumps(value), quote=False)}</span>'
    text = str(value)
    if len(text) > MAX_STRING:
        shown = escape(json.dumps(text[:MAX_STRING])[:-1], quote=False)
        return (
            f'<span class="j-str">{shown}…"</span>'
            f' <span class="j-note">({len(text):,} characters)</span>'
        )
    return f'<span class="j-str">{escape(json.dumps(text), quote=False)}</span>'


def _value(value: Any, depth: int, budget: _Budget, out: list[str], key: str | None = None) -> None:
    budget.left -= 1
    label = (
        ""
        if key is None
        else f'<span class="j-key">{escape(json.dumps(key), quote=False)}</span>: '
    )
    if not isinstance(value, (dict, list)):
        out.append(f'<div class="j-row">{label}{_scalar(value)}</div>')
        return
    is_obj = isinstance(value, dict)
    opening, closing = ("{", "}") if is_obj else ("[", "]")
    if not value:
        out.append(f'<div class="j-row">{label}{opening}{closing}</div>')
        return
    count = f"{len(value):,} {'key' if is_obj else 'item'}{'' if len(value) == 1 else 's'}"
    is_open = " open" if depth < OPEN_DEPTH else ""
    out.append(
        f'<details class="j-node"{is_open}><summary data-close="{closing}">{label}{opening}'
        f'<span class="j-count"> {count} </span></summary><div class="j-body">'
    )
    items = list(value.items()) if is_obj else list(enumerate(value))
    shown = items if is_obj else items[:MAX_ITEMS]
    for k, v in shown:
        if budget.left <= 0:
            out.append('<div class="j-note">… more in the JSON download</div>')
            break
        _value(v, depth + 1, budget, out, key=k if is_obj else None)
    if len(shown) < len(items) and budget.left > 0:
        rest = len(items) - len(shown)
        out.append(f'<div class="j-note">… {rest:,} more items in the JSON download</div>')
    out.append(f"</div>{closing}</details>")
