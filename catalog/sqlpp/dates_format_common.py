"""Dates written by a common format (``YYYY-MM-DD hh:mm:ss``), as Couchbase's timeToStrCommonFormat."""

from __future__ import annotations

from catalog.sqlpp.gotime import MONTHS, WEEKDAYS, GoTime


def _cased(name: str, fmt: str, i: int, upper_at: str) -> str:
    if fmt[i].islower():
        return name.lower()
    return name.upper() if fmt[i + 1] == upper_at else name


def _double(t: GoTime, fmt: str, i: int) -> tuple[str, int]:
    """A doubled letter at fmt[i]: (text, index of its last character)."""
    i += 1
    c = fmt[i]
    hour12 = (t.hour % 12) or 12
    if c == "H":
        if fmt[i + 1 : i + 3] == "12" and i + 2 < len(fmt):
            return f"{hour12:02d}", i + 2
        if fmt[i + 1 : i + 3] == "24" and i + 2 < len(fmt):
            return f"{t.hour:02d}", i + 2
        return f"{hour12:02d}", i
    vals = {"C": int(t.year / 100), "Y": t.year % 100, "M": t.month, "D": t.day, "h": t.hour,
            "m": t.minute}  # fmt: skip
    if c in vals:
        return f"{vals[c]:02d}", i
    if c in "Pp":
        ampm = "AM" if t.hour < 12 else "PM"
        return (ampm if c == "P" else ampm.lower()), i
    return c + c, i


def common_format(t: GoTime, fmt: str) -> str:
    """t written by a common format."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if fmt.startswith("YYYY", i):
            out.append(f"{t.year:04d}")
            i += 3
        elif i + 1 < len(fmt) and c == fmt[i + 1] and c not in "sS":
            text, i = _double(t, fmt, i)
            out.append(text)
        elif fmt.startswith("MI", i):
            out.append(f"{t.minute:02d}")
            i += 1
        elif fmt[i : i + 2] in ("AM", "PM", "am", "pm"):
            ampm = "AM" if t.hour < 12 else "PM"
            out.append(ampm if c.isupper() else ampm.lower())
            i += 1
        elif fmt.startswith("TZD", i) and i + 2 < len(fmt):
            off = t.offset
            if off == 0:
                out.append("Z")
            else:
                h = int(off / 3600)
                m = abs(int((off - h * 3600) / 60))
                out.append(f"{'-' if off < 0 else '+'}{abs(h):02d}:{m:02d}")
            i += 2
        elif fmt.startswith("TZN", i) and i + 2 < len(fmt):
            out.append(t.abbr)
            i += 2
        elif fmt.startswith("TZF", i) and i + 2 < len(fmt):
            out.append(t.location)
            i += 2
        elif c in "sS":
            n = 0
            while i + n < len(fmt) and fmt[i + n] == c:
                n += 1
            if n == 2:
                out.append(f"{t.second:02d}")
            elif n == 1:
                out.append(f"{(t.nanos + 500_000) // 1_000_000 % 1000:03d}")
            elif n == 3:
                out.append(f"{t.nanos:09d}")
            i += n - 1
        elif fmt[i : i + 5] in ("MONTH", "Month", "month"):
            out.append(_cased(MONTHS[t.month - 1], fmt, i, "O"))
            i += 4
        elif fmt[i : i + 3] in ("MON", "Mon", "mon"):
            out.append(_cased(MONTHS[t.month - 1][:3], fmt, i, "O"))
            i += 2
        elif fmt[i : i + 3] in ("DAY", "Day", "day"):
            out.append(_cased(WEEKDAYS[t.weekday()], fmt, i, "A"))
            i += 2
        elif fmt[i : i + 2] in ("DY", "Dy", "dy"):
            out.append(_cased(WEEKDAYS[t.weekday()][:3], fmt, i, "Y"))
            i += 1
        else:
            out.append(c)
        i += 1
    return "".join(out)
