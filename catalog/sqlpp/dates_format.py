"""Dates written by a format of any kind, as Couchbase's timeToStr (func_date.go)."""

from __future__ import annotations

from catalog.sqlpp.dates_parse import determine_format, parse_default
from catalog.sqlpp.gotime import (
    DEFAULT_FORMAT,
    MONTHS,
    WEEKDAYS,
    GoTime,
    days_from_civil,
    go_format,
)

PAD_ZERO, PAD_SPACE, NO_PAD = 0, 1, 2


def _int(width: int, default: int, pad: int, val: int) -> str:
    """Go's formatInt."""
    w = width if width > 0 else default
    if pad == PAD_SPACE:
        return f"{val:{w}d}"
    if pad == NO_PAD:
        return str(val)
    return f"{val:0{w}d}" if val >= 0 else "-" + f"{-val:0{w - 1}d}"


def _zone_z(off: int, colons: int) -> str | None:
    h = int(off / 3600)
    rest = off - h * 3600
    s, m = int(rest % 60 if rest >= 0 else -((-rest) % 60)), int(rest / 60)
    m, s = abs(m), abs(s)
    sign = "-" if off < 0 else "+"
    hh = f"{sign}{abs(h):02d}"
    if colons == 0:
        return f"{hh}{m:02d}"
    if colons == 1:
        return f"{hh}:{m:02d}"
    if colons == 2:
        return f"{hh}:{m:02d}:{s:02d}"
    if colons == 3:
        return hh if m == s == 0 else f"{hh}:{m:02d}" if s == 0 else f"{hh}:{m:02d}:{s:02d}"
    return None


def _ordinal(day: int, upper: bool) -> str:
    suffix = {3: "rd", 23: "rd", 1: "st", 21: "st", 2: "nd", 22: "nd"}.get(day, "th")
    return suffix.upper() if upper else suffix


def _week(t: GoTime, monday: bool) -> int:
    first = (days_from_civil(t.year, 1, 1) + 4) % 7
    if monday:
        first = (first - 1) % 7
    return (t.yday() - 1 + first) // 7


def _spec(t: GoTime, k: str, width: int, pad: int, upper: bool, colons: int) -> str | None:
    hour12 = (t.hour % 12) or 12
    ms = (t.nanos + 500_000) // 1_000_000
    up = str.upper if upper else str
    numeric = {"Y": (4, t.year), "C": (2, int(t.year / 100)), "y": (2, t.year % 100),
               "m": (2, t.month), "d": (2, t.day), "H": (2, t.hour), "I": (2, hour12),
               "M": (2, t.minute), "S": (2, t.second), "N": (9, t.nanos), "n": (3, ms % 1000),
               "V": (1, t.iso_week()[1]), "G": (1, t.iso_week()[0]), "j": (1, t.yday()),
               "q": (1, (t.month - 1) // 3 + 1), "u": (1, t.weekday() or 7),
               "w": (1, t.weekday()), "U": (1, _week(t, False)), "W": (1, _week(t, True))}  # fmt: skip
    if k in numeric:
        default, val = numeric[k]
        return _int(width, default, pad, val)
    two = lambda v: _int(width, 2, pad, v)  # noqa: E731
    simple = {
        "F": lambda: go_format(t, DEFAULT_FORMAT),
        "B": lambda: up(MONTHS[t.month - 1]), "b": lambda: up(MONTHS[t.month - 1][:3]),
        "A": lambda: up(WEEKDAYS[t.weekday()]), "a": lambda: up(WEEKDAYS[t.weekday()][:3]),
        "f": lambda: _ordinal(t.day, upper), "p": lambda: "AM" if t.hour < 12 else "PM",
        "P": lambda: up("am" if t.hour < 12 else "pm"),
        "s": lambda: _int(width, 0, pad, t.unix_nanos() if upper else t.unix_seconds()),
        "r": lambda: f"{two(hour12)}:{two(t.minute)}:{two(t.second)} "
        + ("PM" if t.hour > 12 else "AM"),
        "R": lambda: f"{two(t.hour)}:{two(t.minute)}",
        "T": lambda: f"{two(t.hour)}:{two(t.minute)}:{two(t.second)}",
        "%": lambda: "%",
    }  # fmt: skip
    simple["X"] = simple["T"]
    if k in simple:
        return simple[k]()
    if k == "z":
        return _zone_z(t.offset, colons)
    if k == "Z":
        if pad == NO_PAD and t.offset == 0:
            return "Z"
        return t.location if upper else t.abbr
    if k in "#@":
        n = max(t.unix_nanos() // 1_000_000, 0)
        if k == "#":
            n //= 1000
            return f"{n // 3600}:{n % 3600 // 60:02d}:{n % 60:02d}"
        h, n = divmod(n, 3_600_000)
        return f"{h}:{n // 60_000:02d}:{n % 60_000 // 1000:02d}.{n % 1000:03d}"
    return None


def percent_format(t: GoTime, fmt: str) -> str | None:
    """timeToStrPercentFormat; None for an invalid format."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] != "%" or i + 1 >= len(fmt):
            out.append(fmt[i])
            i += 1
            continue
        i += 1
        pad, upper = PAD_ZERO, False
        if fmt[i] in "_-0^":
            pad = {"_": PAD_SPACE, "-": NO_PAD, "0": PAD_ZERO, "^": PAD_ZERO}[fmt[i]]
            upper = fmt[i] == "^"
            i += 1
        st = i
        while i < len(fmt) and fmt[i].isdigit():
            i += 1
        width = int(fmt[st:i]) if st < i else 0
        if i < len(fmt) and fmt[i] in "EO":
            i += 1
        colons = 0
        while i < len(fmt) and fmt[i] == ":":
            colons += 1
            i += 1
        if i >= len(fmt) or (colons and fmt[i] != "z"):
            return None
        if fmt[i] in "xD":
            fmt = fmt[: i - 1] + "%Y-%m-%d" + fmt[i + 1 :]
            i -= 1
            continue
        text = _spec(t, fmt[i], width, pad, upper, colons)
        if text is None:
            return None
        out.append(text)
        i += 1
    return "".join(out)


def common_format(t: GoTime, fmt: str) -> str:
    """timeToStrCommonFormat."""
    from catalog.sqlpp.dates_format_common import common_format as fmt_common

    return fmt_common(t, fmt)


def time_to_str(t: GoTime, fmt: str) -> str | None:
    """timeToStr: t written by a format of any kind ('' = DEFAULT_FORMAT)."""
    kind = determine_format(fmt)
    if kind == "default":
        return go_format(t, DEFAULT_FORMAT)
    if kind == "percent":
        return percent_format(t, fmt)
    if kind == "common":
        return common_format(t, fmt)
    if kind == "go":
        return go_format(t, fmt)
    closest = parse_default(fmt)
    return go_format(t, closest[1] if closest else DEFAULT_FORMAT)
