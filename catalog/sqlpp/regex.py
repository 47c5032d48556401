"""Regular expressions in linear time: RE2, the syntax and engine family of Go's regexp.

Couchbase evaluates REGEXP_* with Go's ``regexp`` package (RE2 syntax, no backtracking), so
the embedded engine uses RE2 too (the ``google-re2`` package): a pattern such as
``(a+)+$`` runs in time linear in the input instead of backtracking for ever, and
backreferences or lookarounds are refused as Couchbase refuses them. Compiled patterns
are kept in a cache bounded in entries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import re2

from catalog.sqlpp.errors import SqlppError

# Compiled patterns kept (least recently used dropped first).
CACHE_ENTRIES = 256
# Longest pattern compiled: RE2's own program-size limit refuses far bigger ones anyway.
MAX_PATTERN_CHARS = 20_000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr
_CACHE: OrderedDict[str, Any] = OrderedDict()


def compile_go(pattern: str) -> Any:
    """Return the compiled RE2 pattern (cached); raise SqlppError for an invalid one."""
    rx = _CACHE.get(pattern)
    if rx is not None:
        _CACHE.move_to_end(pattern)
        return rx
    if len(pattern) > MAX_PATTERN_CHARS:
        raise SqlppError(f"error parsing regexp: pattern longer than {MAX_PATTERN_CHARS} chars")
    try:
        rx = re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        msg = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else e
        raise SqlppError(f"error parsing regexp: {msg}: `{pattern}`") from None
    _CACHE[pattern] = rx
    if len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)
    return rx


def go_spans(rx: Any, s: str) -> Iterator[tuple[int, int]]:
    """Yield match spans as Go's FindAll does: no empty match right after a previous match."""
    prev_end = -1
    for m in rx.finditer(s):
        start, end = m.span()
        if start == end and start == prev_end:
            continue
        prev_end = end
        yield start, end


def byte_offset(s: str, i: int) -> int:
    """Return the UTF-8 byte offset of character i of s (Couchbase counts bytes)."""
    return i if s.isascii() else len(s[:i].encode())


def like_regex(pattern: str, escape: str = "\\") -> Any:
    """Return the RE2 pattern for a LIKE pattern (% any run, _ one character)."""
    out, i = ["(?s)"], 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape and i + 1 < len(pattern):
            out.append(re2.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re2.escape(c))
        i += 1
    return compile_go("".join(out))


__all__ = ["CACHE_ENTRIES", "byte_offset", "compile_go", "go_spans", "like_regex"]
