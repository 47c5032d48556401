"""Common date formats (``YYYY-MM-DD hh:mm:ss.s TZD``), parsed as Couchbase's strToTimeCommonFormat."""

from __future__ import annotations

from typing import Any

from catalog.sqlpp.dates_zone import TZ_ALL, gather_zone, is_punct
from catalog.sqlpp.gotime import MONTHS, WEEKDAYS


def _cased(names: list[str], fmt: str, i: int, upper_at: str) -> list[str]:
    """Names in the case the format token asks: lower for 'mon', upper for 'MON', else Title."""
    if fmt[i].islower():
        return [x.lower() for x in names]
    if fmt[i + 1] == upper_at:
        return [x.upper() for x in names]
    return names


def _number(st: Any, name: str, lo: int, hi: int) -> bool:
    val, ln, _ = st.num(2)
    if ln not in (1, 2) or not lo <= val <= hi:
        return False
    setattr(st.f, name, val)
    st.n += ln
    return True


def _double(st: Any, fmt: str, i: int) -> int | None:
    """A doubled letter (CC, MM, DD, hh, HH[12|24], pp, mm) at fmt[i]; new index or None."""
    s, f = st.s, st.f
    c = fmt[i + 1]
    i += 1
    if c == "C":
        val, ln, sgn = st.num(2, sign=True)
        if (not sgn and ln != 2) or (sgn and ln != 3) or val < -99:
            return None
        f.century = val
        st.n += ln
    elif c in "MDhm":
        name, lo, hi = {"M": ("month", 1, 12), "D": ("day", 1, 31), "h": ("hour", 0, 23),
                        "m": ("minute", 0, 59)}[c]  # fmt: skip
        if not _number(st, name, lo, hi):
            return None
        if c == "h":
            f.h12 = False
    elif c == "H":
        val, ln, _ = st.num(2)
        f.h12, lo, hi = True, 1, 12
        if i + 2 < len(fmt):
            if fmt[i + 1] == "1":
                if fmt[i + 2] != "2":
                    return None
                i += 2
            elif fmt[i + 1] == "2":
                if fmt[i + 2] != "4":
                    return None
                f.h12, lo, hi = False, 0, 23
                i += 2
        if ln not in (1, 2) or not lo <= val <= hi:
            return None
        f.hour = val
        st.n += ln
    elif c == "p":
        if st.n + 1 < len(s) and s[st.n] in "pP":
            f.pm = True
        elif st.n + 1 < len(s) and s[st.n] in "aA":
            f.pm = False
        else:
            return None
        st.n += 2
    else:
        return None
    return i


def parse_common_into(st: Any, fmt: str) -> bool:
    """Read st.s by a common format into st.f; False when it does not parse."""
    s, f = st.s, st.f
    i = 0
    while i < len(fmt) and st.n < len(s):
        c = fmt[i]
        if c == " ":
            st.n += 1
        elif c == "Y":
            if fmt.startswith("YYYY", i):
                val, ln, sgn = st.num(4, sign=True)
                if (not sgn and ln != 4) or (sgn and ln != 5):
                    return False
                f.century, f.year = int(val / 100), val - 100 * int(val / 100)
                i += 3
            elif i + 1 < len(fmt) and fmt[i + 1] == "Y":
                val, ln, _ = st.num(2)
                if ln != 2 or not 0 <= val <= 99:
                    return False
                f.year, f.year_seen = val, True
                i += 1
            else:
                return False
            st.n += ln
        elif i + 1 < len(fmt) and c == fmt[i + 1] and c not in "sS":
            nxt = _double(st, fmt, i)
            if nxt is None:
                return False
            i = nxt
        elif fmt.startswith("MI", i):
            i += 1
            if not _number(st, "minute", 0, 59):
                return False
        elif fmt[i : i + 2] in ("AM", "PM", "am", "pm"):
            up = c.isupper()
            got = s[st.n : st.n + 2]
            if got == ("PM" if up else "pm"):
                f.pm = True
            elif got == ("AM" if up else "am"):
                f.pm = False
            else:
                return False
            st.n += 2
            i += 1
        elif c in "sS":
            j = 0
            while i + j < len(fmt) and fmt[i + j] == c:
                j += 1
            if j == 2:
                if not _number(st, "second", 0, 59):
                    return False
                ln = 0
            elif j in (1, 3):
                val, ln, _ = st.num(9)
                if ln == 0:
                    return False
                f.fraction = val * 10 ** (9 - min(ln, 9))
            else:
                return False
            i += j - 1
            st.n += ln
        elif fmt[i : i + 3] in ("TZD", "TZN", "TZF") and i + 2 < len(fmt):
            if not gather_zone(st, TZ_ALL):
                return False
            i += 2
        elif fmt[i : i + 5] in ("MONTH", "Month", "month") and i + 4 < len(fmt):
            k = st.names(_cased(MONTHS, fmt, i, "O"))
            i += 4
            if k < 0:
                return False
            f.month = k + 1
        elif fmt[i : i + 3] in ("MON", "Mon", "mon") and i + 2 < len(fmt):
            k = st.names(_cased([m[:3] for m in MONTHS], fmt, i, "O"))
            i += 2
            if k < 0:
                return False
            f.month = k + 1
        elif fmt[i : i + 3] in ("DAY", "Day", "day") and i + 2 < len(fmt):
            k = st.names(_cased(WEEKDAYS, fmt, i, "A"))
            i += 2
            if k < 0:
                return False
        elif fmt[i : i + 2] in ("DY", "Dy", "dy") and i + 1 < len(fmt):
            k = st.names(_cased([w[:3] for w in WEEKDAYS], fmt, i, "Y"))
            i += 1
            if k < 0:
                return False
        elif not is_punct(c) and c != "T":
            return False
        else:
            if c != "T" and c != s[st.n]:
                return False
            st.n += 1
        i += 1
    return i == len(fmt) and st.n == len(s)
