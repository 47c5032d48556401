"""String functions (byte-based LENGTH/POSITION/SUBSTR like Couchbase, MB_ forms by character)."""

from __future__ import annotations

import re
from typing import Any

from catalog.sqlpp.registry import fn, unknown
from catalog.sqlpp.values import MISSING, is_num

_RX_CACHE: dict[str, re.Pattern[str]] = {}


def regex(p: str) -> re.Pattern[str]:
    """Return a compiled (cached) regular expression, Go RE2 syntax mapped onto Python's."""
    rx = _RX_CACHE.get(p)
    if rx is None:
        if len(_RX_CACHE) > 512:
            _RX_CACHE.clear()
        rx = _RX_CACHE[p] = re.compile(re.sub(r"\(\?P<", "(?P<", p))
    return rx


def like_regex(pattern: str, escape: str = "\\") -> re.Pattern[str]:
    """Return the regex for a LIKE pattern (% any run, _ one character)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _strs(*args: Any) -> bool:
    return all(isinstance(a, str) for a in args)


def _int(v: Any) -> int | None:
    if is_num(v) and v == int(v):
        return int(v)
    return None


@fn("||", "concat", lo=1, hi=None)
def concat(*args: Any) -> Any:
    u = unknown(*args)
    if u is not False:
        return u
    if not _strs(*args):
        return None
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
    return sep.join(parts)


def _s1(f: Any) -> Any:
    def g(s: Any) -> Any:
        if not isinstance(s, str):
            return MISSING if s is MISSING else None
        return f(s)

    return g


fn("lower")(_s1(str.lower))
fn("upper")(_s1(str.upper))
fn("reverse")(_s1(lambda s: s[::-1]))
fn("length")(_s1(lambda s: len(s.encode())))
fn("mb_length")(_s1(len))
fn("initcap", "title")(_s1(lambda s: re.sub(r"[^\W_]+", lambda m: m.group(0).capitalize(), s)))
fn("suffixes")(_s1(lambda s: [s[i:] for i in range(len(s))]))


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
    def g(s: Any, start: Any, length: Any = MISSING, *rest: Any) -> Any:
        has_len = length is not MISSING or rest
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
    return s * k


@fn("replace", lo=3, hi=4)
def replace(s: Any, old: Any, new: Any, n: Any = -1) -> Any:
    u = unknown(s, old, new, n)
    if u is not False:
        return u
    k = _int(n)
    if not _strs(s, old, new) or k is None:
        return None
    return s.replace(old, new, k if k >= 0 else -1)


@fn("split", lo=1, hi=2)
def split(s: Any, sep: Any = MISSING) -> Any:
    if sep is MISSING:
        return s.split() if isinstance(s, str) else unknown(s) or None
    u = unknown(s, sep)
    if u is not False:
        return u
    if not _strs(s, sep):
        return None
    if sep == "":
        return list(s)
    return s.split(sep)


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
        fill = ""
        while size(fill) + size(s) < k:
            fill += pad
        need = k - size(s)
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


@fn("regexp_contains", "regex_contains", lo=2, hi=3)
def regexp_contains(s: Any, p: Any, flags: Any = MISSING) -> Any:
    ok = _re_args(s, p)
    return regex(p).search(s) is not None if ok is True else ok


@fn("regexp_like", "regex_like", lo=2, hi=3)
def regexp_like(s: Any, p: Any, flags: Any = MISSING) -> Any:
    ok = _re_args(s, p)
    return regex(p).fullmatch(s) is not None if ok is True else ok


def _re_pos(base: int) -> Any:
    def g(s: Any, p: Any, flags: Any = MISSING) -> Any:
        ok = _re_args(s, p)
        if ok is not True:
            return ok
        m = regex(p).search(s)
        return m.start() + base if m else -1

    return g


fn("regexp_position", "regex_position", "regexp_position0", "regex_position0", lo=2, hi=3)(
    _re_pos(0)
)
fn("regexp_position1", "regex_position1", lo=2, hi=3)(_re_pos(1))


@fn("regexp_replace", "regex_replace", lo=3, hi=4)
def regexp_replace(s: Any, p: Any, r: Any, n: Any = -1) -> Any:
    u = unknown(s, p, r, n)
    if u is not False:
        return u
    k = _int(n)
    if not _strs(s, p, r) or k is None:
        return None
    repl = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", r.replace("\\", "\\\\"))
    return regex(p).sub(repl, s, count=k if k > 0 else 0)


@fn("regexp_matches", "regex_matches", lo=2, hi=3)
def regexp_matches(s: Any, p: Any, flags: Any = MISSING) -> Any:
    ok = _re_args(s, p)
    return [m.group(0) for m in regex(p).finditer(s)] if ok is True else ok


@fn("regexp_split", "regex_split", lo=2, hi=3)
def regexp_split(s: Any, p: Any, flags: Any = MISSING) -> Any:
    ok = _re_args(s, p)
    return [x for x in regex(p).split(s) if x] if ok is True else ok


@fn("mask", lo=1, hi=2)
def mask(s: Any, opts: Any = MISSING) -> Any:
    if not isinstance(s, str):
        return MISSING if s is MISSING else None
    o = opts if isinstance(opts, dict) else {}
    m = o.get("mask", "********")
    hole = o.get("hole", " ")
    inject = o.get("inject")
    if not isinstance(m, str) or not isinstance(hole, str):
        return None
    src = s
    if inject:
        return s
    if o.get("length") == "source":
        m = (
            (m * (len(src) // max(len(m), 1) + 1))[: len(src)]
            if len(m) < len(src)
            else m[: len(src)]
        )
    out = list(src) if len(m) <= len(src) else list(m)
    if len(m) > len(src):
        return "".join(c if c != hole else " " for c in m)
    off = len(src) - len(m) if o.get("anchor") == "end" else 0
    for i, c in enumerate(m):
        if hole and c == hole:
            continue
        out[off + i] = c
    res = "".join(out)
    if o.get("length") != "source":
        res = res[off : off + len(m)] if o.get("anchor") != "end" else res[off:]
    return res
