"""``%`` date formats (``%Y-%m-%d %H:%M:%S``), parsed as Couchbase's strToTimePercentFormat."""

from __future__ import annotations

from typing import Any

from catalog.sqlpp.dates_zone import TZ_ALL, gather_zone
from catalog.sqlpp.gotime import MONTHS, WEEKDAYS, GoTime

SHORT_DATE = "%Y-%m-%d"
FULL_DATE = SHORT_DATE + "T%T.%N%z"
PAD_ZERO, PAD_SPACE, NO_PAD = 0, 1, 2

# spec: (field, width, low, high, h12) for the plain numeric specifiers
_NUMERIC = {"y": ("year", 2, 0, 99, None), "m": ("month", 2, 1, 12, None),
            "d": ("day", 2, 1, 31, None), "H": ("hour", 2, 0, 23, False),
            "I": ("hour", 2, 1, 12, True), "M": ("minute", 2, 0, 59, None),
            "S": ("second", 2, 0, 59, None)}  # fmt: skip
# parsed and checked, then ignored: (width, low, high)
_IGNORED = {"V": (2, 1, 53), "G": (4, 0, 10**9), "j": (3, 1, 366), "q": (2, 1, 4),
            "u": (2, 1, 7), "w": (2, 0, 6), "U": (2, 0, 53), "W": (2, 0, 53)}  # fmt: skip


def _width_ok(pad: int, ln: int, width: int) -> bool:
    return ln >= 1 if pad == NO_PAD else ln == width


def _num(st: Any, pad: int, width: int, lo: int, hi: int) -> int | None:
    val, ln, _ = st.num(width, spaces=pad == PAD_SPACE)
    if not _width_ok(pad, ln, width) or not lo <= val <= hi:
        return None
    st.n += ln
    return val


def _ampm(st: Any, lower: bool, upper_ok: bool) -> bool:
    s, n = st.s, st.n
    if n + 1 >= len(s):
        return False
    a, m = s[n], s[n + 1]
    first = ("ap" if lower else "AP") + (("AP" if lower else "ap") if upper_ok else "")
    second = ("m" if lower else "M") + (("M" if lower else "m") if upper_ok else "")
    if a not in first or m not in second:
        return False
    st.f.pm = a in "pP"
    st.n += 2
    return True


def _clock(st: Any, pad: int, parts: int, h_lo: int = 0, h_hi: int = 23) -> bool:
    """%R, %T, %r: hour[:minute[:second]] with optional colons."""
    vals = []
    for k, (lo, hi) in enumerate([(h_lo, h_hi), (0, 59), (0, 59)][:parts]):
        if k and st.n < len(st.s) and st.s[st.n] == ":":
            st.n += 1
        v = _num(st, pad, 2, lo, hi)
        if v is None:
            return False
        vals.append(v)
    st.f.hour, st.f.minute = vals[0], vals[1]
    if parts == 3:
        st.f.second = vals[2]
    st.f.h12 = False
    return True


def _set_time(f: Any, t: GoTime) -> None:
    f.century, f.year = int(t.year / 100), t.year - 100 * int(t.year / 100)
    f.month, f.day, f.hour, f.minute, f.second = t.month, t.day, t.hour, t.minute, t.second
    f.h12 = False


def _spec(st: Any, fmt: str, i: int, pad: int, upper: bool) -> bool:
    """One specifier fmt[i] (after flags); False when the input does not match."""
    s, f, k = st.s, st.f, fmt[i]
    if k in _NUMERIC:
        name, width, lo, hi, h12 = _NUMERIC[k]
        v = _num(st, pad, width, lo, hi)
        if v is None:
            return False
        setattr(f, name, v)
        if k == "y":
            f.year_seen = True
        if h12 is not None:
            f.h12 = h12
        return True
    if k in _IGNORED:
        width, lo, hi = _IGNORED[k]
        return _num(st, pad, width, lo, hi) is not None
    if k == "%":
        return s[st.n] == "%"
    if k in "YC":
        width = 4 if k == "Y" else 2
        val, ln, sgn = st.num(width, spaces=pad == PAD_SPACE, sign=True)
        bad = ln < 1 if pad == NO_PAD else (not sgn and ln != width) or (sgn and ln != width + 1)
        if bad or val < (-9999 if k == "Y" else -99):
            return False
        if k == "Y":
            f.century, f.year = int(val / 100), val - 100 * int(val / 100)
        else:
            f.century = val
        st.n += ln
        return True
    if k in "Bb":
        names = MONTHS if k == "B" else [m[:3] for m in MONTHS]
        m = st.names(names, fold=upper)
        if m < 0:
            return False
        f.month = m + 1
        return True
    if k in "Aa":
        return st.names(WEEKDAYS if k == "A" else [w[:3] for w in WEEKDAYS], fold=upper) >= 0
    if k in "ekl":
        lo, hi = {"e": (1, 31), "k": (0, 23), "l": (0, 11)}[k]
        val, ln, _ = st.num(2, spaces=True)
        if ln != 2 or not lo <= val <= hi:
            return False
        st.n += ln
        if k == "e":
            f.day = val
        else:
            f.hour, f.h12 = val, k == "l"
        return True
    if k == "f":
        if st.n + 1 < len(s):
            suffix = s[st.n : st.n + 2]
            if (suffix.lower() if upper else suffix) in ("st", "rd", "th", "nd"):
                st.n += 2
        return True
    if k in "pP":
        return _ampm(st, k == "P", upper)
    if k == "R":
        return _clock(st, pad, 2)
    if k in "XT":
        return _clock(st, pad, 3)
    if k == "r":
        if not _clock(st, pad, 3, 1, 12):
            return False
        return _ampm(st, True, upper)
    if k in "nN":
        val, ln, _ = st.num(9, spaces=pad == PAD_SPACE)
        if ln == 0:
            return False
        f.fraction = val * 10 ** (9 - min(ln, 9))
        st.n += ln
        return True
    if k in "Zz":
        return gather_zone(st, TZ_ALL)
    if k == "s":
        val, ln, _ = st.num(19 if upper else 10, spaces=pad == PAD_SPACE)
        if ln == 0:
            return False
        nanos = val if upper else val * 1_000_000_000
        _set_time(f, GoTime.from_unix_nanos(nanos))
        f.loc, f.zoneh, f.zonem = None, 0, 0
        st.n += ln
        return True
    if k in "@#":
        return _duration(st, fmt, i, pad)
    return False


def _duration(st: Any, fmt: str, i: int, pad: int) -> bool:
    """%# (h:mm:ss) and %@ (h:mm:ss.fff) as a time since the epoch."""
    s = st.s
    hh, ln, _ = st.num(10, spaces=pad == PAD_SPACE)
    if ln < 1:
        return False
    st.n += ln
    parts = []
    for _ in range(2):
        if st.n < len(s) and s[st.n] == ":":
            st.n += 1
        v = _num(st, pad, 2, 0, 59)
        if v is None:
            return False
        parts.append(v)
    ff = 0
    if fmt[i] == "@":
        if st.n < len(s) and s[st.n] == ".":
            st.n += 1
        v = _num(st, pad, 3, 0, 999)
        if v is None:
            return False
        ff = v
    ms = hh * 3_600_000 + parts[0] * 60_000 + parts[1] * 1000 + ff
    t = GoTime.from_millis(ms)
    _set_time(st.f, t)
    st.f.fraction = t.nanos
    return True


def parse_percent_into(st: Any, fmt: str) -> bool:
    """Read st.s by a % format into st.f; False when it does not parse."""
    s = st.s
    i = 0
    while i < len(fmt) and st.n < len(s):
        c = fmt[i]
        if c != "%":
            if c != " " and c != s[st.n]:
                return False
            st.n += 1  # a space in the format matches any character
            i += 1
            continue
        if i + 1 == len(fmt):
            return False
        i += 1
        pad, upper = PAD_ZERO, False
        if fmt[i] in "_-0^":
            pad = {"_": PAD_SPACE, "-": NO_PAD, "0": PAD_ZERO, "^": PAD_ZERO}[fmt[i]]
            upper = fmt[i] == "^"
            i += 1
        while i < len(fmt) and fmt[i].isdigit():
            i += 1  # the width is ignored when parsing
        if i < len(fmt) and fmt[i] in "EO":
            i += 1
        colons = 0
        while i < len(fmt) and fmt[i] == ":":
            colons += 1
            i += 1
        if i >= len(fmt) or (colons and fmt[i] != "z"):
            return False
        if fmt[i] in "xDF":
            # expand and read again from the '%'
            fmt = fmt[: i - 1] + (FULL_DATE if fmt[i] == "F" else SHORT_DATE) + fmt[i + 1 :]
            i -= 1
            continue
        if not _spec(st, fmt, i, pad, upper):
            return False
        i += 1
    return i == len(fmt) and st.n == len(s)
