"""A Go ``time.Time`` stand-in for the date functions: any year (0 and negative too), a zone.

Couchbase parses and formats dates with Go's time package; Python's datetime stops at year 1.
`GoTime` keeps the civil fields, the UTC offset, the zone abbreviation and the location name
(``t.Location().String()``), and formats Go reference layouts (``2006-01-02T15:04:05Z07:00``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
DEFAULT_FORMAT = "2006-01-02T15:04:05.999Z07:00"
MIN_MILLIS = -377705073600000  # -9999-01-01 12:00 UTC, as in Couchbase
MAX_MILLIS = 253402250399999  # 9999-12-31 09:59:59.999 UTC


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


@dataclass(frozen=True, slots=True)
class Zone:
    """A location: a fixed offset with a name, or an IANA zone (``tz``)."""

    name: str
    offset: int = 0
    tz: tzinfo | None = None

    def at_utc(self, secs: int) -> tuple[int, str]:
        """(offset seconds, abbreviation) in force at a UTC instant."""
        if self.tz is None:
            return self.offset, self.name
        try:
            dt = datetime.fromtimestamp(secs, UTC).astimezone(self.tz)
        except (OverflowError, ValueError, OSError):
            return 0, "UTC"
        off = dt.utcoffset() or timedelta(0)
        return int(off.total_seconds()), dt.tzname() or ""

    def at_local(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> tuple[int, str]:
        """(offset seconds, abbreviation) for a wall-clock time in this zone."""
        if self.tz is None:
            return self.offset, self.name
        try:
            dt = datetime(min(max(y, 1), 9999), mo, d, h, mi, s, tzinfo=self.tz)
        except ValueError:
            return 0, "UTC"
        off = dt.utcoffset() or timedelta(0)
        return int(off.total_seconds()), dt.tzname() or ""


LOCAL = Zone("UTC", 0, None)  # cbq-engine runs with Local = UTC ("Local" as location name)
LOCAL_NAME = "Local"


def fixed_zone(h: int, m: int) -> Zone:
    """Go's getLocation: a fixed zone named like +0530."""
    off = h * 3600 + (m * 60 if h >= 0 else -m * 60)
    sign = "-" if h < 0 else "+"
    return Zone(f"{sign}{abs(h):02d}{m:02d}", off)


def load_zone(name: str) -> Zone | None:
    """Go's time.LoadLocation: UTC, Local or an IANA name; None when unknown."""
    if name in ("", "UTC"):
        return Zone("UTC", 0, None) if name else LOCAL
    if name == "Local":
        return LOCAL
    try:
        from zoneinfo import ZoneInfo

        return Zone(name, 0, ZoneInfo(name))
    except Exception:  # unknown zone names are NULL in Couchbase
        return None


@dataclass(frozen=True, slots=True)
class GoTime:
    """A civil time in a zone, as Go's time.Time."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    nanos: int
    offset: int
    abbr: str
    location: str

    @staticmethod
    def of(y: int, mo: int, d: int, h: int, mi: int, s: int, ns: int, zone: Zone) -> GoTime:
        """time.Date(...) for in-range fields."""
        off, abbr = zone.at_local(y, mo, d, h, mi, s)
        loc = LOCAL_NAME if zone is LOCAL else zone.name
        return GoTime(y, mo, d, h, mi, s, ns, off, abbr, loc)

    @staticmethod
    def from_unix_nanos(total: int, zone: Zone = LOCAL) -> GoTime:
        """The time of nanoseconds since the epoch, in a zone."""
        secs, ns = divmod(total, 1_000_000_000)
        off, abbr = zone.at_utc(secs)
        days, rem = divmod(secs + off, 86400)
        y, mo, d = civil_from_days(days)
        loc = LOCAL_NAME if zone is LOCAL else zone.name
        return GoTime(y, mo, d, rem // 3600, rem % 3600 // 60, rem % 60, ns, off, abbr, loc)

    @staticmethod
    def from_millis(ms: float, zone: Zone = LOCAL) -> GoTime:
        """Go's millisToTime: time.Unix(int(ms/1000), int(mod(ms, 1000) * 1e6))."""
        secs = int(ms / 1000)
        ns = int(math.fmod(ms, 1000) * 1_000_000.0)
        return GoTime.from_unix_nanos(secs * 1_000_000_000 + ns, zone)

    def unix_seconds(self) -> int:
        days = days_from_civil(self.year, self.month, self.day)
        return days * 86400 + self.hour * 3600 + self.minute * 60 + self.second - self.offset

    def unix_nanos(self) -> int:
        return self.unix_seconds() * 1_000_000_000 + self.nanos

    def millis(self) -> int:
        """Go's timeToMillis: rounded to the nearest millisecond, halves up."""
        return (self.unix_nanos() + 500_000) // 1_000_000

    def weekday(self) -> int:
        """0 = Sunday."""
        return (days_from_civil(self.year, self.month, self.day) + 4) % 7

    def yday(self) -> int:
        return (
            days_from_civil(self.year, self.month, self.day) - days_from_civil(self.year, 1, 1) + 1
        )

    def iso_week(self) -> tuple[int, int]:
        """(ISO year, ISO week), as Go's ISOWeek."""
        days = days_from_civil(self.year, self.month, self.day)
        wd = (self.weekday() + 6) % 7  # Monday = 0
        thursday = days - wd + 3
        y, _, _ = civil_from_days(thursday)
        return y, (thursday - days_from_civil(y, 1, 1)) // 7 + 1

    def to_datetime(self) -> datetime | None:
        """The same instant as an aware datetime, or None outside years 1..9999."""
        if not 1 <= self.year <= 9999:
            return None
        tz: Any = UTC if self.offset == 0 else timezone(timedelta(seconds=self.offset))
        return datetime(self.year, self.month, self.day, self.hour, self.minute, self.second,
                        self.nanos // 1000, tzinfo=tz)  # fmt: skip


def from_datetime(dt: datetime) -> GoTime:
    """A GoTime of an aware datetime: UTC is Go's Local, an IANA zone keeps its name."""
    off = int((dt.utcoffset() or timedelta(0)).total_seconds())
    key = getattr(dt.tzinfo, "key", None)
    if dt.tzinfo is UTC:
        abbr, loc = "UTC", LOCAL_NAME
    elif key:
        abbr, loc = dt.tzname() or "", key
    else:
        h, rest = divmod(abs(off), 3600)
        abbr = loc = f"{'-' if off < 0 else '+'}{h:02d}{rest // 60:02d}"
    return GoTime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second,
                  dt.microsecond * 1000, off, abbr, loc)  # fmt: skip


def _int(val: int, width: int) -> str:
    """Go's appendInt: sign, then digits zero-padded to width."""
    digits = f"{abs(val):0{width}d}"
    return ("-" if val < 0 else "") + digits


def _zone_text(off: int, z: bool, colon: bool, parts: int) -> str:
    if z and off == 0:
        return "Z"
    sign = "-" if off < 0 else "+"
    off = abs(off)
    h, m, s = off // 3600, off % 3600 // 60, off % 60
    sep = ":" if colon else ""
    out = f"{sign}{h:02d}"
    if parts >= 2:
        out += f"{sep}{m:02d}"
    if parts == 3:
        out += f"{sep}{s:02d}"
    return out


_ZONE_TOKENS = [("070000", False, 3), ("07:00:00", True, 3), ("0700", False, 2),
                ("07:00", True, 2), ("07", False, 1)]  # fmt: skip


def go_format(t: GoTime, layout: str) -> str:
    """Go's Time.Format for a reference layout."""
    out: list[str] = []
    i = 0
    while i < len(layout):
        rest = layout[i:]
        c = rest[0]
        lower_next = len(rest) > 3 and rest[3].islower()
        if rest.startswith("January"):
            out.append(MONTHS[t.month - 1])
            i += 7
        elif rest.startswith("Jan") and not lower_next:
            out.append(MONTHS[t.month - 1][:3])
            i += 3
        elif rest.startswith("Monday"):
            out.append(WEEKDAYS[t.weekday()])
            i += 6
        elif rest.startswith("Mon") and not lower_next:
            out.append(WEEKDAYS[t.weekday()][:3])
            i += 3
        elif rest.startswith("MST"):
            out.append(t.abbr or _zone_text(t.offset, False, False, 2))
            i += 3
        elif rest.startswith("2006"):
            out.append(_int(t.year, 4))
            i += 4
        elif rest.startswith("002"):
            out.append(f"{t.yday():03d}")
            i += 3
        elif rest.startswith("__2"):
            out.append(f"{t.yday():3d}")
            i += 3
        elif rest.startswith("_2"):
            out.append(f"{t.day:2d}")
            i += 2
        elif c == "0" and len(rest) > 1 and "1" <= rest[1] <= "6":
            val = {"1": t.month, "2": t.day, "3": (t.hour % 12) or 12, "4": t.minute,
                   "5": t.second, "6": t.year % 100}[rest[1]]  # fmt: skip
            out.append(f"{val:02d}")
            i += 2
        elif rest.startswith("15"):
            out.append(f"{t.hour:02d}")
            i += 2
        elif c in "12345":
            val = {"1": t.month, "2": t.day, "3": (t.hour % 12) or 12, "4": t.minute,
                   "5": t.second}[c]  # fmt: skip
            out.append(str(val))
            i += 1
        elif rest.startswith("PM") or rest.startswith("pm"):
            ampm = "PM" if t.hour >= 12 else "AM"
            out.append(ampm if c == "P" else ampm.lower())
            i += 2
        elif c in "-Z" and any(rest[1:].startswith(tok) for tok, _, _ in _ZONE_TOKENS):
            tok, colon, parts = next(z for z in _ZONE_TOKENS if rest[1:].startswith(z[0]))
            out.append(_zone_text(t.offset, c == "Z", colon, parts))
            i += 1 + len(tok)
        elif c in ".," and len(rest) > 1 and rest[1] in "09":
            j = 1
            while j < len(rest) and rest[j] == rest[1]:
                j += 1
            if j < len(rest) and rest[j].isdigit():
                out.append(c)
                i += 1
                continue
            digits = f"{t.nanos:09d}"[: min(j - 1, 9)]
            if rest[1] == "9":
                digits = digits.rstrip("0")
                out.append(c + digits if digits else "")
            else:
                out.append(c + digits)
            i += j
        else:
            out.append(c)
            i += 1
    return "".join(out)
