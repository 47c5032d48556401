"""String functions (byte-based LENGTH/POSITION/SUBSTR like Couchbase, MB_ forms by character).

Functions that build a string check its size with the statement's budget BEFORE building
it (REPEAT, LPAD/RPAD, ``||``, REPLACE, SUFFIXES, SPLIT); REGEXP_* run on RE2
(``catalog.sqlpp.regex``) with Couchbase's semantics (Go's regexp).
"""

from __future__ import annotations

import math
import re
from typing import Any

from catalog.sqlpp import budget
from catalog.sqlpp.budget import str_bytes, work_units
from catalog.sqlpp.functions_mask import mask_text
from catalog.sqlpp.regex import byte_offset, compile_go, go_spans, like_regex
from catalog.sqlpp.registry import ABSENT, fn, unknown
from catalog.sqlpp.values import MISSING, is_num

__all__ = ["like_regex", "regex"]

_WHITESPACE = " \t\n\r\f\v"
# Strings shorter than this are built without asking the budget (the loops that build
# many of them are counted where they loop).
SMALL = 4096


def regex(p: str) -> Any:
    """Return a compiled (cached) RE2 pattern; raise SqlppError when it is invalid."""
    return compile_go(p)


def _width(s: str) -> int:
    """Return bytes per character CPython uses for s, at most (1 for ASCII, else 4)."""
    return 1 if s.isascii() else 4


def _strs(*args: Any) -> bool:
    return all(isinstance(a, str) for a in args)


def _int(v: Any) -> int | None:
    if is_num(v) and v == v and v not in (math.inf, -math.inf) and v == int(v):
        return int(v)
    return None


@fn("||", "concat", lo=1, hi=None)
def concat(*args: Any) -> Any:
    u = unknown(*args)
    if u is not False:
        return u
    if not _strs(*args):
        return None
    if sum(map(len, args)) >= SMALL:
        size = sum(len(a) * _width(a) for a in args)
        budget.reserve("concat()", size, size + 49)
    return "".join(args)


@fn("concat2", lo=2, hi=None)
def concat2(sep: Any, *args: Any) -> Any:
    if sep is MISSING:
        return MISSING
    if not isinstance(sep, str):
        return None
    parts: list[str] = []
    for a in args:
        if isinstance(a, list):
            if not _strs(*a):
                return None
            parts.extend(a)
        elif isinstance(a, str):
            parts.append(a)
        elif a is MISSING:
            return MISSING
        else:
            return None
    size = sum(len(a) * _width(a) for a in parts) + len(sep) * _width(sep) * len(parts)
    budget.reserve("concat2()", size, size + 49)
    return sep.join(parts)


def _s1(f: Any, builds: bool = False) -> Any:
    def g(s: Any) -> Any:
        if not isinstance(s, str):
            return MISSING if s is MISSING else None
        if builds and len(s) >= SMALL:
            budget.charge(str_bytes(s))
        return f(s)

    return g


def _suffixes(s: str) -> list[str]:
    n = len(s)
    budget.reserve("suffixes()", n * (n + 1) // 2 * _width(s) + 8 * n)
    return [s[i:] for i in range(n)]


fn("lower")(_s1(str.lower, True))
fn("upper")(_s1(str.upper, True))
fn("reverse")(_s1(lambda s: s[::-1], True))
fn("length")(_s1(lambda s: len(s.encode())))
fn("mb_length")(_s1(len))
fn("initcap", "title")(
    _s1(lambda s: re.sub(r"[^\W_]+", lambda m: m.group(0).capitalize(), s), True)
)
fn("suffixes")(_s1(_suffixes))


def _trimmer(kind: str) -> Any:
    def g(s: Any, chars: Any = " \t\n\f\r\v") -> Any:
        u = unknown(s, chars)
        if u is not False:
            return u
        if not _strs(s, chars):
            return None
        return {"l": s.lstrip, "r": s.rstrip, "b": s.strip}[kind](chars)

    return g


fn("ltrim", lo=1, hi=2)(_trimmer("l"))
fn("rtrim", lo=1, hi=2)(_trimmer("r"))
fn("trim", lo=1, hi=2)(_trimmer("b"))


@fn("contains", lo=2)
def contains(s: Any, sub: Any) -> Any:
    u = unknown(s, sub)
    if u is not False:
        return u
    return sub in s if _strs(s, sub) else None


def _position(base: int, mb: bool) -> Any:
    def g(s: Any, sub: Any) -> Any:
        u = unknown(s, sub)
        if u is not False:
            return u
        if not _strs(s, sub):
            return None
        i = s.find(sub) if mb else s.encode().find(sub.encode())
        return i + base if i >= 0 else -1

    return g


fn("position", "position0", "pos", "pos0", lo=2)(_position(0, False))
fn("position1", "pos1", lo=2)(_position(1, False))
fn("mb_position", "mb_position0", "mb_pos", "mb_pos0", lo=2)(_position(0, True))
fn("mb_position1", "mb_pos1", lo=2)(_position(1, True))


def _substr(base: int, mb: bool) -> Any:
    def g(s: Any, start: Any, length: Any = ABSENT, *rest: Any) -> Any:
        has_len = length is not ABSENT or rest
        u = unknown(s, start, *((length,) if has_len else ()))
        if u is not False:
            return u
        st, ln = _int(start), _int(length) if has_len else None
        if not isinstance(s, str) or st is None or (has_len and ln is None):
            return None
        data: Any = s if mb else s.encode()
        st = st + len(data) if st < 0 else st - base
        if st < 0 or st > len(data):
            return None
        out = data[st:] if ln is None else (data[st : st + ln] if ln >= 0 else None)
        if out is None:
            return None
        return out if mb else out.decode(errors="ignore")

    return g


fn("substr", "substr0", "substring", "substring0", lo=2, hi=3)(_substr(0, False))
fn("substr1", "substring1", lo=2, hi=3)(_substr(1, False))
fn("mb_substr", "mb_substr0", lo=2, hi=3)(_substr(0, True))
fn("mb_substr1", lo=2, hi=3)(_substr(1, True))


@fn("repeat", lo=2)
def repeat(s: Any, n: Any) -> Any:
    u = unknown(s, n)
    if u is not False:
        return u
    k = _int(n)
    if not isinstance(s, str) or k is None or k < 0:
        return None
    size = len(s) * _width(s) * k
    budget.reserve("repeat()", size, size + 49)
    return s * k


@fn("replace", lo=3, hi=4)
def replace(s: Any, old: Any, new: Any, n: Any = -1) -> Any:
    u = unknown(s, old, new, n)
    if u is not False:
        return u
    k = _int(n)
    if not _strs(s, old, new) or k is None:
        return None
    if len(new) > len(old):
        budget.tick(work_units(len(s)))
        hits = s.count(old) if old else len(s) + 1
        if k >= 0:
            hits = min(hits, k)
        size = (len(s) + hits * (len(new) - len(old))) * max(_width(s), _width(new))
        budget.reserve("replace()", size, size + 49)
    # a count past the string's length replaces every occurrence (and fits a C ssize_t)
    return s.replace(old, new, min(k, len(s) + 1) if k >= 0 else -1)


@fn("split", lo=1, hi=2)
def split(s: Any, sep: Any = ABSENT) -> Any:
    if sep is ABSENT:
        if not isinstance(s, str):
            return unknown(s) or None
        _reserve_parts("split()", s, sum(s.count(c) for c in _WHITESPACE) + 1)
        return s.split()
    u = unknown(s, sep)
    if u is not False:
        return u
    if not _strs(s, sep):
        return None
    if sep == "":
        _reserve_parts("split()", s, len(s))
        return list(s)
    _reserve_parts("split()", s, s.count(sep) + 1)
    return s.split(sep)


def _reserve_parts(what: str, s: str, parts: int) -> None:
    """Reserve a list of ``parts`` pieces of s (8 bytes a slot, each piece a new string)."""
    budget.reserve(what, len(s) * _width(s) + 8 * parts, str_bytes(s) + 57 * parts)


def _pad(left: bool, mb: bool) -> Any:
    def g(s: Any, n: Any, pad: Any = " ") -> Any:
        u = unknown(s, n, pad)
        if u is not False:
            return u
        k = _int(n)
        if not _strs(s, pad) or k is None or k < 0:
            return None
        size = (lambda x: len(x)) if mb else (lambda x: len(x.encode()))
        if size(s) >= k:
            return s[:k] if mb else s.encode()[:k].decode(errors="ignore")
        if pad == "":
            return s
        need = k - size(s)
        wide = max(_width(s), _width(pad))
        budget.reserve("rpad()" if not left else "lpad()", k * wide, k * wide + 49)
        fill = pad * (need // size(pad) + 1)  # one copy more than needed, then cut
        fill = fill[:need] if mb else fill.encode()[:need].decode(errors="ignore")
        return fill + s if left else s + fill

    return g


fn("lpad", lo=2, hi=3)(_pad(True, False))
fn("rpad", lo=2, hi=3)(_pad(False, False))
fn("mb_lpad", lo=2, hi=3)(_pad(True, True))
fn("mb_rpad", lo=2, hi=3)(_pad(False, True))


def _re_args(s: Any, p: Any) -> Any:
    u = unknown(s, p)
    if u is not False:
        return u
    if not _strs(s, p):
        return None
    return True


@fn("regexp_contains", "regex_contains", lo=2)
def regexp_contains(s: Any, p: Any) -> Any:
    ok = _re_args(s, p)
    if ok is not True:
        return ok
    rx = regex(p)
    budget.tick(work_units(len(s)))
    return rx.search(s) is not None


@fn("regexp_like", "regex_like", lo=2)
def regexp_like(s: Any, p: Any) -> Any:
    ok = _re_args(s, p)
    if ok is not True:
        return ok
    regex(p)  # an invalid pattern is refused as such, not as its anchored form
    rx = regex("^" + p + "$")  # as Couchbase anchors it: ^a|b$ means (^a)|(b$)
    budget.tick(work_units(len(s)))
    return rx.search(s) is not None


def _re_pos(base: int) -> Any:
    def g(s: Any, p: Any) -> Any:
        ok = _re_args(s, p)
        if ok is not True:
            return ok
        rx = regex(p)
        budget.tick(work_units(len(s)))
        m = rx.search(s)
        return byte_offset(s, m.start()) + base if m else -1

    return g


fn("regexp_position", "regex_position", "regexp_position0", "regex_position0", lo=2)(_re_pos(0))
fn("regexp_position1", "regex_position1", lo=2)(_re_pos(1))


class _Pieces:
    """A list of strings built piece by piece, checked against the budget as it grows."""

    def __init__(self, what: str) -> None:
        self.what, self.items, self.size = what, [], 0
        self.b = budget.current()

    def add(self, piece: str, slot: int = 0) -> None:
        self.size += len(piece) + slot
        self.items.append(piece)
        if len(self.items) & 1023 == 0:
            self.b.reserve(self.what, self.size, 0)  # size check and clock; charged once below

    def done(self, slot: int) -> list[str]:
        self.b.reserve(self.what, self.size, self.size + (49 + slot) * len(self.items))
        return self.items


@fn("regexp_replace", "regex_replace", lo=3, hi=4)
def regexp_replace(s: Any, p: Any, r: Any, *n: Any) -> Any:
    """Replace matches by r taken literally (Go's ReplaceAllLiteralString); n: the first n."""
    u = unknown(s, p, r, *n)
    if u is not False:
        return u
    if not _strs(s, p, r) or (n and not is_num(n[0])):
        return None
    k = -1
    if n:
        k = _int(n[0])  # type: ignore[assignment]
        if k is None:
            return None
        if k <= 0:
            return s
    rx = regex(p)
    out = _Pieces("regexp_replace()")
    pos = done = 0
    for start, end in go_spans(rx, s):
        if 0 <= k <= done:
            break
        out.add(s[pos:start])
        out.add(r)
        pos, done = end, done + 1
    out.add(s[pos:])
    return "".join(out.done(0))


@fn("regexp_matches", "regex_matches", lo=2)
def regexp_matches(s: Any, p: Any) -> Any:
    ok = _re_args(s, p)
    if ok is not True:
        return ok
    rx = regex(p)
    out = _Pieces("regexp_matches()")
    for start, end in go_spans(rx, s):
        out.add(s[start:end], 8)
    return out.done(8) or None


@fn("regexp_split", "regex_split", lo=2)
def regexp_split(s: Any, p: Any) -> Any:
    """Split s around matches as Couchbase does (no empty piece before the first character)."""
    ok = _re_args(s, p)
    if ok is not True:
        return ok
    rx = regex(p)
    out = _Pieces("regexp_split()")
    start = 0
    for a, b in go_spans(rx, s):
        if a == b == 0:
            continue
        out.add(s[start:a], 8)
        start = b
    if out.items and start < len(s):
        out.add(s[start:], 8)
    return out.done(8) or None


@fn("mask", lo=1, hi=2)
def mask(s: Any, *opts: Any) -> Any:
    """Couchbase's MASK: mask characters replace the source's, hole characters let it through."""
    if s is MISSING or MISSING in opts:
        return MISSING
    if not isinstance(s, str) or (opts and not isinstance(opts[0], dict)):
        return None
    return mask_text(s, opts[0] if opts else {})
