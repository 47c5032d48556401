"""Date conversions between strings, formats, zones and epoch milliseconds, as Couchbase's.

DATE_FORMAT_STR, STR_TO_MILLIS, STR_TO_UTC, STR_TO_TZ and MILLIS_TO_STR/UTC/TZ read and write
dates through the ported Go parsers and formatters (`dates_parse`, `dates_format`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from catalog.sqlpp.dates import format_date, millis_of, parse_date
from catalog.sqlpp.dates_format import time_to_str
from catalog.sqlpp.dates_parse import determine_format, str_to_time
from catalog.sqlpp.dates_zone import TZ_ALL, Fields, gather_zone
from catalog.sqlpp.gotime import (
    LOCAL,
    MAX_MILLIS,
    MIN_MILLIS,
    GoTime,
    Zone,
    fixed_zone,
    from_datetime,
)
from catalog.sqlpp.registry import ABSENT, fn, unknown
from catalog.sqlpp.values import is_num


@fn("date_format_str", lo=2, hi=3)
def date_format_str(s: Any, fmt: Any, *rest: Any) -> Any:
    u = unknown(s, fmt, *rest)
    if u is not False:
        return u
    if not all(isinstance(v, str) for v in (s, fmt, *rest)):
        return None
    in_fmt, out_fmt = (fmt, rest[0]) if rest else ("", fmt)
    if in_fmt or determine_format(out_fmt) in ("percent", "common", "go"):
        t = str_to_time(s, in_fmt)
        if t is None and not in_fmt:
            p = parse_date(s)
            t = from_datetime(p[0]) if p else None
        return None if t is None else time_to_str(t, out_fmt)
    p = parse_date(s)
    if p is None:
        return None
    return format_date(p[0], out_fmt, p[1])


@fn("str_to_millis", "str_to_epoch", lo=1, hi=2)
def str_to_millis(s: Any, fmt: Any = ABSENT, *_: Any) -> Any:
    u = unknown(s) if fmt is ABSENT else unknown(s, fmt)
    if u is not False:
        return u
    if not isinstance(s, str):
        return None
    if fmt is not ABSENT:
        if not isinstance(fmt, str):
            return None
        if fmt:
            t = str_to_time(s, fmt)
            return None if t is None else t.millis()
    p = parse_date(s)
    if p is None:
        t = str_to_time(s, "")
        return None if t is None else t.millis()
    return millis_of(p[0])


def format_from_str(s: str) -> str:
    """Couchbase's formatFromStr: the string with every digit made 1 (an example format)."""
    return "".join("1" if c.isdigit() else c for c in s)


def _str_to_zone(s: str, zone: Zone, rest: tuple[Any, ...], utc: bool) -> Any:
    """STR_TO_UTC / STR_TO_TZ after the first arguments: [input format [, output format]]."""
    if len(rest) > 1 and not isinstance(rest[1], str):
        return None
    if rest and not isinstance(rest[0], str):
        return None
    if rest:
        fmt = rest[0]
        out = rest[1] if len(rest) > 1 else fmt
    else:
        fmt = "" if utc else format_from_str(s)
        out = format_from_str(s)
    t = str_to_time(s, fmt)
    if t is None:
        return None
    t = GoTime.from_unix_nanos(t.unix_nanos(), zone)
    return time_to_str(t, out)


@fn("str_to_utc", lo=1, hi=3)
def str_to_utc(s: Any, *rest: Any) -> Any:
    u = unknown(s, *rest)
    if u is not False:
        return u
    if not isinstance(s, str):
        return None
    return _str_to_zone(s, Zone("UTC"), rest, True)


@fn("str_to_tz", "str_to_zone_name", lo=2, hi=4)
def str_to_tz(s: Any, tz: Any, *rest: Any) -> Any:
    u = unknown(s, tz, *rest)
    if u is not False:
        return u
    z = zone_of(tz) if isinstance(s, str) else None
    if z is None:
        return None
    return _str_to_zone(s, z, rest, False)


def zone_of(name: Any) -> Zone | None:
    """Couchbase's loadLocation: an offset (+05:30), Z, or a zone name."""
    if not isinstance(name, str):
        return None
    st = SimpleNamespace(s=name, n=0, f=Fields())
    if not gather_zone(st, TZ_ALL):
        return None
    if st.f.loc is not None:
        return st.f.loc
    return fixed_zone(st.f.zoneh, st.f.zonem)


def _millis_to(default_zone: Zone | None) -> Any:
    def g(ms: Any, *rest: Any) -> Any:
        u = unknown(ms, *rest)
        if u is not False:
            return u
        z = default_zone
        if z is None:
            tz, rest = rest[0], rest[1:]
            z = zone_of(tz) if isinstance(tz, str) else None
        fmt = rest[0] if rest else ""
        if not is_num(ms) or z is None or not isinstance(fmt, str):
            return None
        if not MIN_MILLIS <= ms <= MAX_MILLIS:
            return None
        return time_to_str(GoTime.from_millis(ms, z), fmt)

    return g


fn("millis_to_str", "millis_to_local", lo=1, hi=2)(_millis_to(LOCAL))
fn("millis_to_utc", lo=1, hi=2)(_millis_to(Zone("UTC")))
fn("millis_to_tz", "millis_to_zone_name", lo=2, hi=3)(_millis_to(None))
