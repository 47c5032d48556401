"""LIKE_PREFIX/STOP/SUFFIX and REGEXP_PREFIX/STOP/SUFFIX: a pattern's literal prefix (func_like.go).

The literal prefix of a LIKE pattern is everything before the first unescaped ``%`` or ``_``;
of a regular expression, what Go's ``Regexp.LiteralPrefix`` gives: the literal characters the
compiled program starts with. The *_STOP forms give the first string after every string with
that prefix (the prefix with its last byte incremented, or the prefix + NUL when the pattern
is all literal); *_SUFFIX gives the first suffix of the pattern that starts with a literal.
"""

from __future__ import annotations

from typing import Any

from catalog.sqlpp.errors import SqlppError
from catalog.sqlpp.regex import compile_go
from catalog.sqlpp.registry import fn
from catalog.sqlpp.values import MISSING

_META = set("\\.+*?()|[]{}^$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}


def like_literal_prefix(s: str, escape: str) -> tuple[str, bool]:
    """(prefix, complete): the literal start of a LIKE pattern."""
    out: list[str] = []
    escaped = False
    for c in s:
        if not escaped:
            if c == escape:
                escaped = True
                continue
            if c in "%_":
                return "".join(out), False
        escaped = False
        out.append(c)
    return "".join(out), True


def _atom(p: str, i: int) -> tuple[str | None, int]:
    """The literal character at p[i] and the index after it, or (None, i) for a non-literal."""
    c = p[i]
    if c == "\\" and i + 1 < len(p):
        e = p[i + 1]
        if not e.isalnum():
            return e, i + 2
        if e in _ESCAPES:
            return _ESCAPES[e], i + 2
        if e == "x" and i + 3 < len(p) and p[i + 2] != "{":
            try:
                return chr(int(p[i + 2 : i + 4], 16)), i + 4
            except ValueError:
                return None, i
        return None, i
    if c == "[" and i + 2 < len(p) and p[i + 2] == "]" and p[i + 1] not in "^\\[]":
        return p[i + 1], i + 3  # a one-character class is that character
    if c in _META:
        return None, i
    return c, i + 1


def _close(p: str, i: int) -> int:
    """Index of the ')' closing the group opened at p[i], or -1."""
    depth, k = 0, i
    while k < len(p):
        if p[k] == "\\":
            k += 2
            continue
        if p[k] == "[":
            k = p.find("]", k + 2)
            if k < 0:
                return -1
        elif p[k] == "(":
            depth += 1
        elif p[k] == ")":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return -1


def _split_top(p: str) -> list[str]:
    """The alternatives of p at its top level."""
    parts, depth, start, k = [], 0, 0, 0
    while k < len(p):
        c = p[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            end = p.find("]", k + 2)
            k = len(p) if end < 0 else end + 1
            continue
        depth += c == "("
        depth -= c == ")"
        if c == "|" and depth == 0:
            parts.append(p[start:k])
            start = k + 1
        k += 1
    return parts + [p[start:]]


def _quantifier(p: str, j: int) -> tuple[int, bool, int] | None:
    """A quantifier at p[j]: (copies kept in the prefix, prefix goes on, index after)."""
    q = p[j] if j < len(p) else ""
    if q in ("*", "?"):
        return 0, False, j + 1
    if q == "+":
        return 1, False, j + 1
    if q == "{":
        end = p.find("}", j)
        body = p[j + 1 : end] if end > 0 else ""
        lo, _, hi = body.partition(",")
        if lo.isdigit():
            exact = "," not in body
            return int(lo), exact, end + 1
    return None


def _seq_prefix(p: str) -> tuple[str, bool]:
    """(prefix, complete) of a sequence without a top-level '|'."""
    out: list[str] = []
    i = 0
    while i < len(p):
        if p[i] == "(" and (not p.startswith("(?", i) or p.startswith("(?:", i)):
            end = _close(p, i)
            if end < 0 or _quantifier(p, end + 1) is not None:
                return "".join(out), False
            start = i + (3 if p.startswith("(?:", i) else 1)
            inner, complete = _alt_prefix(p[start:end])
            out.append(inner)
            if not complete:
                return "".join(out), False
            i = end + 1
            continue
        c, j = _atom(p, i)
        if c is None:
            return "".join(out), False
        q = _quantifier(p, j)
        if q is None:
            out.append(c)
            i = j
            continue
        copies, goes_on, i = q
        out.append(c * copies)
        if not goes_on:
            return "".join(out), False
    return "".join(out), True


def _alt_prefix(p: str) -> tuple[str, bool]:
    """(prefix, complete) of a pattern: the common prefix of its alternatives."""
    alts = _split_top(p)
    if len(alts) == 1:
        return _seq_prefix(p)
    prefixes = [_seq_prefix(a)[0] for a in alts]
    common = prefixes[0]
    for x in prefixes[1:]:
        while not x.startswith(common):
            common = common[:-1]
    return common, False


def regexp_literal_prefix(p: str) -> tuple[str, bool]:
    """(prefix, complete) as Go's Regexp.LiteralPrefix, for the patterns it can tell."""
    compile_go(p)
    if p.startswith("(?"):
        return "", False
    if p.startswith("^") and "|" not in p:
        body = p[1:]
        anchored_end = body.endswith("$") and not body.endswith("\\$")
        prefix, complete = _seq_prefix(body[:-1] if anchored_end else body)
        return prefix, complete and anchored_end
    return _alt_prefix(p)


def _stop(prefix: str, complete: bool) -> Any:
    if complete:
        return prefix + "\x00"
    data = prefix.encode()
    if data and data[-1] < 0xFF:
        return (data[:-1] + bytes([data[-1] + 1])).decode("utf-8", "replace")
    return []


def _like_args(s: Any, esc: Any) -> tuple[str, str] | Any:
    if s is MISSING or esc is MISSING:
        return MISSING
    if not isinstance(s, str) or not isinstance(esc, str):
        return None
    if len(esc) != 1:
        raise SqlppError("ESCAPE clause must resolve to a single character")
    return s, esc


@fn("like_prefix", lo=1, hi=2)
def like_prefix(s: Any, esc: Any = "\\") -> Any:
    a = _like_args(s, esc)
    return like_literal_prefix(*a)[0] if isinstance(a, tuple) else a


@fn("like_stop", lo=1, hi=2)
def like_stop(s: Any, esc: Any = "\\") -> Any:
    a = _like_args(s, esc)
    return _stop(*like_literal_prefix(*a)) if isinstance(a, tuple) else a


@fn("like_suffix", lo=1, hi=2)
def like_suffix(s: Any, esc: Any = "\\") -> Any:
    a = _like_args(s, esc)
    if not isinstance(a, tuple):
        return a
    text, escape = a
    while text:
        if like_literal_prefix(text, escape)[0]:
            return text
        text = text[1:]
    return ""


@fn("regexp_prefix", lo=1)
def regexp_prefix(p: Any) -> Any:
    if not isinstance(p, str):
        return MISSING if p is MISSING else None
    return regexp_literal_prefix(p)[0]


@fn("regexp_stop", lo=1)
def regexp_stop(p: Any) -> Any:
    if not isinstance(p, str):
        return MISSING if p is MISSING else None
    return _stop(*regexp_literal_prefix(p))


@fn("regexp_suffix", lo=1)
def regexp_suffix(p: Any) -> Any:
    if not isinstance(p, str):
        return MISSING if p is MISSING else None
    while p:
        if regexp_literal_prefix(p)[0]:
            return p
        p = p[1:]
    return ""
