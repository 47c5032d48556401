"""Date functions: DATE_ADD/DIFF/PART/RANGE/TRUNC (_MILLIS/_STR), MILLIS_TO_*, STR_TO_*, NOW_*."""

from __future__ import annotations

import calendar
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.sqlpp.dates import (
    DEFAULT_LAYOUT,
    format_date,
    format_layout,
    from_millis,
    millis_of,
    parse_date,
)
from catalog.sqlpp.registry import fn, unknown
from catalog.sqlpp.values import MISSING, is_num

# A range longer than this is refused (Couchbase caps DATE_RANGE similarly).
MAX_RANGE_ITEMS = 100_000

_FIXED = {"millisecond": timedelta(milliseconds=1), "second": timedelta(seconds=1),
          "minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
          "week": timedelta(weeks=1)}  # fmt: skip
_MONTHS = {"month": 1, "calendar_month": 1, "quarter": 3, "year": 12, "decade": 120,
           "century": 1200, "millennium": 12000}  # fmt: skip


def _zone(name: Any) -> Any:
    if not isinstance(name, str):
        return None
    if name.upper() in ("UTC", "Z", "GMT", ""):
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # unknown zone names give NULL, as in Couchbase
        return None


def add_months(dt: datetime, n: int, clamp: bool) -> datetime:
    """Return dt + n months: clamp to month end, or roll over like Go's AddDate."""
    y, m = divmod(dt.month - 1 + n, 12)
    y += dt.year
    m += 1
    last = calendar.monthrange(y, m)[1]
    if clamp and dt.day == calendar.monthrange(dt.year, dt.month)[1]:
        return dt.replace(year=y, month=m, day=last)
    if dt.day <= last:
        return dt.replace(year=y, month=m)
    if clamp:
        return dt.replace(year=y, month=m, day=last)
    return dt.replace(year=y, month=m, day=1) + timedelta(days=dt.day - 1)


def date_add(dt: datetime, n: int, part: str) -> datetime | None:
    """Return dt + n parts, or None for an unknown part."""
    p = part.lower()
    if p in _FIXED:
        return dt + _FIXED[p] * n
    if p in _MONTHS:
        return add_months(dt, n * _MONTHS[p], p == "calendar_month")
    return None


def _ordinal_units(dt: datetime, part: str) -> int | None:
    p = part.lower()
    if p == "year":
        return dt.year
    if p == "decade":
        return dt.year // 10
    if p == "century":
        return dt.year // 100
    if p == "millennium":
        return dt.year // 1000
    if p in ("month", "calendar_month"):
        return dt.year * 12 + dt.month - 1
    if p == "quarter":
        return dt.year * 4 + (dt.month - 1) // 3
    days = dt.toordinal()
    if p == "day":
        return days
    if p == "week":
        return (days - 1) // 7
    secs = days * 86400 + dt.hour * 3600 + dt.minute * 60 + dt.second
    if p == "hour":
        return secs // 3600
    if p == "minute":
        return secs // 60
    if p == "second":
        return secs
    if p == "millisecond":
        return secs * 1000 + dt.microsecond // 1000
    return None


def date_diff(a: datetime, b: datetime, part: str) -> int | None:
    """Return a - b counted in whole calendar parts."""
    b = b.astimezone(a.tzinfo)
    x, y = _ordinal_units(a, part), _ordinal_units(b, part)
    return None if x is None or y is None else x - y


def date_part(dt: datetime, part: str) -> Any:
    """Return one component of dt."""
    p = part.lower()
    iso = dt.isocalendar()
    off = dt.utcoffset() or timedelta(0)
    parts = {"millennium": dt.year // 1000 + 1, "century": dt.year // 100 + 1,
             "decade": dt.year // 10, "year": dt.year, "quarter": (dt.month - 1) // 3 + 1,
             "month": dt.month, "day": dt.day, "hour": dt.hour, "minute": dt.minute,
             "second": dt.second, "millisecond": dt.microsecond // 1000,
             "week": (dt.timetuple().tm_yday - 1) // 7 + 1,
             "day_of_year": dt.timetuple().tm_yday, "doy": dt.timetuple().tm_yday,
             "day_of_week": (dt.weekday() + 1) % 7, "dow": (dt.weekday() + 1) % 7,
             "iso_week": iso[1], "iso_year": iso[0], "iso_dow": iso[2],
             "timezone": int(off.total_seconds()),
             "timezone_hour": int(off.total_seconds()) // 3600,
             "timezone_minute": int(off.total_seconds()) % 3600 // 60}  # fmt: skip
    return parts.get(p)


def date_trunc(dt: datetime, part: str) -> datetime | None:
    """Return dt truncated to a part."""
    p = part.lower()
    if p == "millisecond":
        return dt.replace(microsecond=dt.microsecond // 1000 * 1000)
    if p == "second":
        return dt.replace(microsecond=0)
    if p == "minute":
        return dt.replace(second=0, microsecond=0)
    if p == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if p == "day":
        return day
    if p == "week":
        return day - timedelta(days=(dt.weekday() + 1) % 7)
    if p == "iso_week":
        return day - timedelta(days=dt.weekday())
    if p == "month":
        return day.replace(day=1)
    if p == "quarter":
        return day.replace(day=1, month=(dt.month - 1) // 3 * 3 + 1)
    if p == "year":
        return day.replace(day=1, month=1)
    if p in ("decade", "century", "millennium"):
        size = {"decade": 10, "century": 100, "millennium": 1000}[p]
        return day.replace(day=1, month=1, year=max(1, dt.year // size * size))
    return None


def _parts_ok(*vals: Any) -> bool:
    return all(isinstance(v, str) for v in vals)


def _int(v: Any) -> int | None:
    if is_num(v) and not math.isinf(v) and v == v and v == int(v):
        return int(v)
    return None


# --- string forms -----------------------------------------------------------------


@fn("date_add_str", lo=3)
def date_add_str(s: Any, n: Any, part: Any) -> Any:
    u = unknown(s, n, part)
    if u is not False:
        return u
    p, k = parse_date(s), _int(n)
    if p is None or k is None or not isinstance(part, str):
        return None
    r = date_add(p[0], k, part)
    return None if r is None else format_layout(r, p[1])


def _diff(absolute: bool, millis: bool) -> Any:
    def g(a: Any, b: Any, part: Any) -> Any:
        u = unknown(a, b, part)
        if u is not False:
            return u
        if millis:
            if not (is_num(a) and is_num(b)):
                return None
            x, y = from_millis(a), from_millis(b)
        else:
            pa, pb = parse_date(a), parse_date(b)
            if pa is None or pb is None:
                return None
            x, y = pa[0], pb[0]
        if not isinstance(part, str):
            return None
        r = date_diff(x, y, part)
        return abs(r) if absolute and r is not None else r

    return g


fn("date_diff_str", lo=3)(_diff(False, False))
fn("date_diff_abs_str", lo=3)(_diff(True, False))
fn("date_diff_millis", lo=3)(_diff(False, True))
fn("date_diff_abs_millis", lo=3)(_diff(True, True))


def _range(millis: bool) -> Any:
    def g(start: Any, end: Any, part: Any, step: Any = 1) -> Any:
        u = unknown(start, end, part, step)
        if u is not False:
            return u
        k = _int(step)
        if not isinstance(part, str) or k is None:
            return None
        if millis:
            if not (is_num(start) and is_num(end)):
                return None
            a, b, lay = from_millis(start), from_millis(end), DEFAULT_LAYOUT
        else:
            pa, pb = parse_date(start), parse_date(end)
            if pa is None or pb is None:
                return None
            (a, lay), b = pa, pb[0]
        if k == 0:
            return [start]
        if (k > 0 and a >= b) or (k < 0 and a <= b):
            return []
        p = part.lower()
        if p not in _FIXED and p not in _MONTHS:
            return None
        out, cur, i = [], a, 0
        while (k > 0 and cur < b) or (k < 0 and cur > b):
            out.append(millis_of(cur) if millis else format_layout(cur, lay))
            if len(out) > MAX_RANGE_ITEMS:
                from catalog.sqlpp.errors import SqlppError

                raise SqlppError(f"DATE_RANGE would produce more than {MAX_RANGE_ITEMS} items")
            i += 1
            if p == "calendar_month" or p in ("quarter", "year", "decade", "century"):
                cur = add_months(a, i * k * _MONTHS[p], True)
            else:
                nxt = date_add(cur, k, p)
                assert nxt is not None
                cur = nxt
        return out

    return g


fn("date_range_str", lo=3, hi=4)(_range(False))
fn("date_range_millis", lo=3, hi=4)(_range(True))


@fn("date_part_str", lo=2)
def date_part_str(s: Any, part: Any) -> Any:
    u = unknown(s, part)
    if u is not False:
        return u
    p = parse_date(s)
    if p is None or not isinstance(part, str):
        return None
    return date_part(p[0], part)


@fn("date_part_millis", lo=2, hi=3)
def date_part_millis(ms: Any, part: Any, tz: Any = "UTC") -> Any:
    u = unknown(ms, part, tz)
    if u is not False:
        return u
    z = _zone(tz)
    if not is_num(ms) or not isinstance(part, str) or z is None:
        return None
    return date_part(from_millis(ms, z), part)


@fn("date_trunc_str", lo=2)
def date_trunc_str(s: Any, part: Any) -> Any:
    u = unknown(s, part)
    if u is not False:
        return u
    p = parse_date(s)
    if p is None or not isinstance(part, str):
        return None
    r = date_trunc(p[0], part)
    return None if r is None else format_layout(r, p[1])


@fn("date_trunc_millis", lo=2)
def date_trunc_millis(ms: Any, part: Any) -> Any:
    u = unknown(ms, part)
    if u is not False:
        return u
    if not is_num(ms) or not isinstance(part, str):
        return None
    r = date_trunc(from_millis(ms), part)
    return None if r is None else millis_of(r)


@fn("date_add_millis", lo=3)
def date_add_millis(ms: Any, n: Any, part: Any) -> Any:
    u = unknown(ms, n, part)
    if u is not False:
        return u
    k = _int(n)
    if not is_num(ms) or k is None or not isinstance(part, str):
        return None
    r = date_add(from_millis(ms), k, part)
    return None if r is None else millis_of(r)


def _now_ms() -> int:
    return int(time.time() * 1000)


fn("now_millis", "clock_millis", lo=0)(lambda: _now_ms())
fn("now_str", "clock_str", "now_local", "clock_local", "now_utc", "clock_utc", lo=0, hi=1)(
    lambda fmt=None: format_date(from_millis(_now_ms()), fmt)
)
fn("now_tz", "clock_tz", lo=1, hi=2)(
    lambda tz, fmt=None: (
        format_date(from_millis(_now_ms(), _zone(tz)), fmt) if _zone(tz) is not None else None
    )
)


@fn("weekday_str", lo=1)
def weekday_str(s: Any) -> Any:
    p = parse_date(s)
    if p is None:
        return MISSING if s is MISSING else None
    return p[0].strftime("%A")


@fn("weekday_millis", lo=1, hi=2)
def weekday_millis(ms: Any, tz: Any = "UTC") -> Any:
    z = _zone(tz)
    if not is_num(ms) or z is None:
        return MISSING if ms is MISSING else None
    return from_millis(ms, z).strftime("%A")


_DUR_UNITS = [("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
              ("ms", 1_000_000), ("us", 1000), ("µs", 1000), ("ns", 1)]  # fmt: skip


@fn("duration_to_str", lo=1)
def duration_to_str(ns: Any) -> Any:
    if not is_num(ns):
        return MISSING if ns is MISSING else None
    n = int(ns)
    if n == 0:
        return "0s"
    sign, n = ("-", -n) if n < 0 else ("", n)
    if n < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1000), ("ns", 1)):
            if n >= size:
                return sign + _trim(n / size) + unit
    h, rem = divmod(n, 3_600_000_000_000)
    m, rem = divmod(rem, 60_000_000_000)
    s = _trim(rem / 1e9) + "s"
    return sign + (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + s


def _trim(x: float) -> str:
    return (f"{x:.9f}".rstrip("0").rstrip(".")) if x != int(x) else str(int(x))


@fn("str_to_duration", lo=1)
def str_to_duration(s: Any) -> Any:
    import re

    if not isinstance(s, str):
        return MISSING if s is MISSING else None
    parts = re.findall(r"([0-9.]+)(h|ms|us|µs|ns|m|s)", s)
    if not parts or "".join(a + b for a, b in parts) != s.lstrip("+-"):
        return None
    total = sum(float(a) * dict(_DUR_UNITS)[b] for a, b in parts)
    return int(-total if s.startswith("-") else total)
