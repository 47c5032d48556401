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


DEFAULT_LAYOUT = Layout()


def parse_date(s: Any) -> tuple[datetime, Layout] | None:
    """Return (aware datetime, layout) for a supported N1QL date string, else None."""
    if not isinstance(s, str):
        return None
    m = _DATE_RX.match(s)
    if not m or (m.group("y") is None and m.group("h") is None):
        return None
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


_GO_TOKENS = [
    ("2006", "%Y"), ("January", "%B"), ("Monday", "%A"), ("MST", "%Z"), ("Z07:00", "%z:"),
    ("-07:00", "%z:"), ("-0700", "%z"), ("Jan", "%b"), ("Mon", "%a"), ("15", "%H"),
    ("01", "%m"), ("02", "%d"), ("03", "%I"), ("04", "%M"), ("05", "%S"), ("06", "%y"),
    ("PM", "%p"), (".000", ".%L"), (".999", ".%L"),
]  # fmt: skip
_CB_TOKENS = [
    ("YYYY", "%Y"), ("CC", "%C"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("hh", "%H"),
    ("HH", "%I"), ("mm", "%M"), ("ss", "%S"), ("sss", "%L"), ("TZD", "%Zd"), ("PP", "%p"),
    ("pp", "%P"), ("s", "%L"),
]  # fmt: skip


def _strftime(dt: datetime, fmt: str) -> str:
    out, i = [], 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%" or i + 1 >= len(fmt):
            out.append(c)
            i += 1
            continue
        k = fmt[i + 1]
        i += 2
        if k == "z" and fmt[i : i + 1] == ":":
            out.append(_zone(dt, "Z"))
            i += 1
            continue
        if k == "Z" and fmt[i : i + 1] == "d":
            out.append(_zone(dt, "Z"))
            i += 1
            continue
        out.append(_spec(dt, k))
    return "".join(out)


def _spec(dt: datetime, k: str) -> str:
    simple = {"Y": f"{dt.year:04d}", "m": f"{dt.month:02d}", "d": f"{dt.day:02d}",
              "H": f"{dt.hour:02d}", "M": f"{dt.minute:02d}", "S": f"{dt.second:02d}",
              "y": f"{dt.year % 100:02d}", "C": f"{dt.year // 100:02d}",
              "I": f"{(dt.hour % 12) or 12:02d}", "p": "AM" if dt.hour < 12 else "PM",
              "P": "am" if dt.hour < 12 else "pm", "L": f"{dt.microsecond // 1000:03d}",
              "N": f"{dt.microsecond * 1000:09d}", "j": f"{dt.timetuple().tm_yday:03d}",
              "e": f"{dt.day:2d}", "%": "%"}  # fmt: skip
    if k in simple:
        return simple[k]
    if k == "T":
        return f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if k in ("D", "F"):
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    if k == "z":
        return _zone(dt, "num", colon=False)
    if k == "Z":
        return dt.tzname() or "UTC"
    if k in "aAbB":
        return dt.strftime("%" + k)
    return "%" + k


def _translate(fmt: str, tokens: list[tuple[str, str]]) -> str:
    out, i = [], 0
    while i < len(fmt):
        for tok, spec in tokens:
            if fmt.startswith(tok, i):
                out.append(spec)
                i += len(tok)
                break
        else:
            out.append(fmt[i].replace("%", "%%"))
            i += 1
    return "".join(out)


def format_date(dt: datetime, fmt: Any = None, default: Layout = DEFAULT_LAYOUT) -> str:
    """Return dt formatted by a N1QL format: an example date, Go layout, %-format or tokens."""
    if not isinstance(fmt, str) or not fmt:
        return format_layout(dt, default)
    parsed = parse_date(fmt)
    if parsed is not None:
        return format_layout(dt, parsed[1])
    if "%" in fmt:
        return _strftime(dt, fmt)
    if "2006" in fmt or "15:04" in fmt or "01-02" in fmt or "Jan" in fmt:
        return _strftime(dt, _translate(fmt, _GO_TOKENS))
    if any(t in fmt for t in ("YYYY", "YY", "MM", "DD", "hh", "HH", "mm", "ss")):
        return _strftime(dt, _translate(fmt, _CB_TOKENS))
    return format_layout(dt, default)


def millis_of(dt: datetime) -> int:
    """Return epoch milliseconds of an aware datetime."""
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400_000) + (delta.seconds * 1000) + delta.microseconds // 1000


def from_millis(ms: float, tz: Any = UTC) -> datetime:
    """Return the aware datetime of epoch milliseconds."""
    base = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(ms))
    return base.astimezone(tz)
