"""Date parsing and formatting for the date functions: N1QL date strings keep their layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

_DATE_RX = re.compile(
    r"^\s*(?:(?P<y>[+-]?\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2}))?"
    r"(?:(?P<sep>[T ]|^)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


@dataclass(frozen=True, slots=True)
class Layout:
    """How a date string was written: which parts, separator, fraction and zone style."""

    date: bool = True
    time: bool = True
    sep: str = "T"
    frac: int = 3  # 0: no fraction; n: up to n digits, trailing zeros trimmed
    zone: str = "Z"  # "": none, "Z": Z or +hh:mm, "num": +hh:mm always
    go: str = ""  # a Go layout (dates only Couchbase's default Go layouts parse)


DEFAULT_LAYOUT = Layout()


def parse_date(s: Any) -> tuple[datetime, Layout] | None:
    """Return (aware datetime, layout) for a supported N1QL date string, else None."""
    if not isinstance(s, str):
        return None
    m = _DATE_RX.match(s)
    if not m or (m.group("y") is None and m.group("h") is None):
        return _parse_go_default(s)
    g = m.groupdict()
    try:
        y, mo, d = (int(g["y"]), int(g["mo"]), int(g["d"])) if g["y"] else (1970, 1, 1)
        h, mi = (int(g["h"]), int(g["mi"])) if g["h"] else (0, 0)
        sec = int(g["s"]) if g["s"] else 0
        frac = g["f"] or ""
        us = int((frac + "000000")[:6]) if frac else 0
        tz = UTC
        if g["tz"] and g["tz"] != "Z":
            z = g["tz"].replace(":", "")
            off = int(z[1:3]) * 60 + (int(z[3:5]) if len(z) > 3 else 0)
            tz = timezone(timedelta(minutes=off if z[0] == "+" else -off))
        dt = datetime(y, mo, d, h, mi, sec, us, tzinfo=tz)
    except ValueError:
        return None
    layout = Layout(
        date=bool(g["y"]),
        time=bool(g["h"]),
        sep=(g["sep"] or "T") if g["y"] else "T",
        frac=max(3, len(frac)) if frac else 0,
        zone=("Z" if g["tz"] == "Z" else "num") if g["tz"] else "",
    )
    return dt, layout


def _parse_go_default(s: str) -> tuple[datetime, Layout] | None:
    """Couchbase's default Go layouts (``2012/01/02 00:00:00Z``) for what the regex refuses."""
    from catalog.sqlpp.dates_parse import parse_default

    p = parse_default(s)
    dt = p[0].to_datetime() if p else None
    return (dt, Layout(go=p[1])) if p and dt else None


def _zone(dt: datetime, style: str, colon: bool = True) -> str:
    off = dt.utcoffset() or timedelta(0)
    if style == "Z" and not off:
        return "Z"
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return f"{sign}{mins // 60:02d}{':' if colon else ''}{mins % 60:02d}"


def format_layout(dt: datetime, lay: Layout) -> str:
    """Return dt written in a layout."""
    if lay.go:
        from catalog.sqlpp.gotime import from_datetime, go_format

        return go_format(from_datetime(dt), lay.go)
    out = ""
    if lay.date:
        out = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    if lay.time:
        if lay.date:
            out += lay.sep
        out += f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        if lay.frac and dt.microsecond:
            digits = f"{dt.microsecond:06d}"[: min(lay.frac, 6)].rstrip("0")
            if digits:
                out += "." + digits
    if lay.zone and (lay.time or not lay.date):
        out += _zone(dt, "Z")
    return out


def format_date(dt: datetime, fmt: Any = None, default: Layout = DEFAULT_LAYOUT) -> str | None:
    """Return dt formatted by a N1QL format: an example date, Go layout, %-format or tokens."""
    if not isinstance(fmt, str) or not fmt:
        return format_layout(dt, default)
    from catalog.sqlpp.dates_parse import determine_format

    if determine_format(fmt) in ("percent", "common", "go"):
        from catalog.sqlpp.dates_format import time_to_str
        from catalog.sqlpp.gotime import from_datetime

        return time_to_str(from_datetime(dt), fmt)
    parsed = parse_date(fmt)
    if parsed is not None:
        return format_layout(dt, parsed[1])
    return format_layout(dt, default)


def millis_of(dt: datetime) -> int:
    """Return epoch milliseconds of an aware datetime."""
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400_000) + (delta.seconds * 1000) + delta.microseconds // 1000


def from_millis(ms: float, tz: Any = UTC) -> datetime:
    """Return the aware datetime of epoch milliseconds."""
    base = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(ms))
    return base.astimezone(tz)
