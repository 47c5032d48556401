"""MASK's algorithm, ported from Couchbase's func_str.go (Mask.Evaluate)."""

from __future__ import annotations

from typing import Any

from catalog.sqlpp.errors import SqlppError
from catalog.sqlpp.regex import compile_go


def _anchor(opts: dict[str, Any], s: str) -> tuple[str, int] | None:
    """(kind, position) of the anchor option; None when a text anchor is not found."""
    a = opts.get("anchor")
    if isinstance(a, bool) or a is None:
        return "start", 0
    if isinstance(a, (int, float)):
        return "position", int(a)
    if not isinstance(a, str):
        return "start", 0
    if a.lower() in ("start", "end"):
        return a.lower(), 0
    try:
        m = compile_go(a).search(s)
    except SqlppError:
        raise
    if m is None:
        return None
    return "text", len(s[: m.start()])


def mask_text(s: str, opts: dict[str, Any]) -> str:
    """The masked string."""
    text = lambda k, d: opts[k] if isinstance(opts.get(k), str) else d  # noqa: E731
    mask, hole, inject = text("mask", ""), text("hole", " "), text("inject", "")
    preserve = isinstance(opts.get("length"), str) and opts["length"].lower() == "source"
    mask = mask or "********"
    anchor = _anchor(opts, s)
    if anchor is None:
        return s
    kind, pos = anchor
    size = len(s) if preserve else len(mask)
    if preserve:
        size += sum(1 for c in mask if c in inject)
    right = kind == "end" or pos < 0
    pos = abs(pos)
    if pos > len(s):
        return s
    if not preserve:
        size += pos
    out = ["\x00"] * size
    mr = iter(reversed(mask) if right else mask)
    sr = iter(reversed(s) if right else s)
    order = range(size - 1, -1, -1) if right else range(size)
    for i in order:
        if pos > 0:
            c = next(sr, None)
            if c is not None:
                out[i] = c
                pos -= 1
                continue
            pos = 0
        mc = next(mr, None)
        if mc is None:
            c = next(sr, None)
            if c is not None:
                out[i] = c
        elif mc in hole:
            c = next(sr, None)
            out[i] = mc if c is None else c
        elif mc in inject:
            out[i] = mc
        else:
            out[i] = mc
            next(sr, None)
    return "".join(out)
