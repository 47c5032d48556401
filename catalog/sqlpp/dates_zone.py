"""Pieces the date parsers share: numbers, time zones, the parsed fields (func_date.go)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from catalog.sqlpp.gotime import LOCAL, MAX_MILLIS, MIN_MILLIS, GoTime, Zone, fixed_zone, load_zone

TZ_2COLON, TZ_1COLON, TZ_3PART, TZ_2PART, TZ_1PART, TZ_NAME, TZ_ALLOW_Z = (1 << k for k in range(7))
TZ_ALL = 0xFFFFFFFF
NO_ZONE = -99

# Couchbase maps short zone names to the zone most people mean.
SHORT_TO_LONG = {
    "ACST": "Australia/Darwin", "AEDT": "Australia/Sydney", "AEST": "Australia/Sydney",
    "AET": "Australia/Sydney", "AWDT": "Australia/Perth", "AWST": "Australia/Perth",
    "BST": "Europe/London", "CAT": "Africa/Windhoek", "CDT": "CST6CDT", "CEDT": "Europe/Paris",
    "CEST": "Europe/Paris", "CST": "CST6CDT", "EDT": "EST5EDT", "EEST": "Europe/Kiev",
    "EST": "EST5EDT", "HMT": "Europe/Helsinki", "JST": "Asia/Tokyo", "KST": "Asia/Seoul",
    "MDT": "MST7MDT", "MEDT": "Europe/Paris", "MEST": "Europe/Paris", "MMT": "Indian/Maldives",
    "MST": "MST7MDT", "PDT": "PST8PDT", "PST": "PST8PDT", "SAST": "Africa/Johannesburg",
    "SGT": "Asia/Singapore", "SMT": "Asia/Singapore", "WAT": "Africa/Lagos",
    "WEST": "Europe/Lisbon",
}  # fmt: skip


def is_punct(c: str) -> bool:
    """Go's unicode.IsPunct."""
    return unicodedata.category(c).startswith("P")


def gather_number(s: str, width: int, spaces: bool, sign: bool) -> tuple[int, int, bool]:
    """Go's gatherNumber: (value, characters used, had a sign)."""
    i = st = 0
    leading = True
    sgn = False
    while i < len(s) and i < width:
        c = s[i]
        if leading and spaces and c.isspace():
            st += 1
            i += 1
            continue
        if not c.isdigit() and not (sign and leading and c in "+-"):
            break
        if sign and c in "+-":
            width += 1
            sgn = True
        leading = False
        i += 1
    if i == 0 or leading:
        return 0, 0, False
    en = 9 if i > 9 and not spaces else i
    try:
        return int(s[st:en]), i, sgn
    except ValueError:
        return 0, i, sgn


def _digits(s: str, n: int, *offsets: int) -> bool:
    return all(n + k < len(s) and s[n + k].isdigit() for k in offsets)


def _name_zone(s: str, n: int) -> tuple[int, Zone | None, int]:
    """A zone name at s[n:]: (characters, zone, hours of a GMT+h name)."""
    j = n
    while j < len(s) and (s[j].isalnum() or s[j] in "/_+-"):
        j += 1
    word = s[n:j].rstrip("+-/_")
    name = SHORT_TO_LONG.get(word, word)
    if len(name) > 4 and name[:3] == "GMT" and name[3] in "+-" and name[4].isdigit():
        e = 5
        while e < len(name) and name[e].isdigit():
            e += 1
        h = int(name[3:e])
        if not -23 <= h <= 23:
            return 0, None, 0
        return e, Zone(name[:e], h * 3600), h
    zone = load_zone(name) if name else None
    return len(word), zone, 0


def gather_zone(st: Any, allowed: int) -> bool:
    """Go's gatherZone at st.n: sets st.f's zone fields and advances; False on no zone."""
    s, n, f = st.s, st.n, st.f
    sec = zh = zm = 0
    loc = None
    signed = n < len(s) and s[n] in "+-"
    if allowed & TZ_2COLON and n + 8 < len(s) and s[n + 3] == ":" and s[n + 6] == ":" and signed \
            and _digits(s, n, 1, 2, 4, 5, 7, 8):  # fmt: skip
        zh, zm, sec = int(s[n : n + 3]), int(s[n + 4 : n + 6]), int(s[n + 7 : n + 9])
        n += 9
    elif allowed & TZ_1COLON and n + 5 < len(s) and s[n + 3] == ":" and signed \
            and _digits(s, n, 1, 2, 4, 5):  # fmt: skip
        zh, zm = int(s[n : n + 3]), int(s[n + 4 : n + 6])
        n += 6
    elif allowed & TZ_3PART and n + 6 < len(s) and signed and _digits(s, n, 1, 2, 3, 4, 5, 6):
        zh, zm, sec = int(s[n : n + 3]), int(s[n + 3 : n + 5]), int(s[n + 5 : n + 7])
        n += 7
    elif allowed & TZ_2PART and n + 4 < len(s) and signed and _digits(s, n, 1, 2, 3, 4):
        zh, zm = int(s[n : n + 3]), int(s[n + 3 : n + 5])
        n += 5
    elif allowed & TZ_1PART and n + 2 < len(s) and signed and _digits(s, n, 1, 2):
        zh = int(s[n : n + 3])
        n += 3
    elif allowed & TZ_ALLOW_Z and n < len(s) and s[n] == "Z":
        n += 1
    elif allowed & TZ_NAME:
        used, loc, zh = _name_zone(s, n)
        if loc is None:
            return False
        n += used
    else:
        return False
    if loc is None and (sec > 59 or zh > 14 or zh < -12 or zm > 59):
        return False
    st.n = n
    f.zoneh, f.zonem, f.loc = zh, zm, loc
    return True


def is_leap(y: int) -> bool:
    return y % 400 == 0 or (y % 4 == 0 and y % 100 != 0)


def year_day(year: int, yday: int) -> tuple[int, int]:
    """Month and day of a day of the year."""
    if yday <= 31:
        return 1, yday
    if yday <= 59:
        return 2, yday - 31
    if yday == 60:
        return (2, 29) if is_leap(year) else (3, 1)
    if is_leap(year):
        yday -= 1
    yday -= 59
    for m, length in enumerate([31, 30, 31, 30, 31, 31, 30, 31, 30], start=3):
        if yday <= length:
            return m, yday
        yday -= length
    return 12, yday


def valid_month_day(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    if month == 2:
        return day <= (29 if is_leap(year) else 28)
    return day <= (30 if month in (4, 6, 9, 11) else 31)


@dataclass
class Fields:
    """What a parser has read so far."""

    century: int = -1
    year: int = 0
    year_seen: bool = False
    month: int = -1
    day: int = -1
    yday: int = -1
    hour: int = 0
    minute: int = 0
    second: int = 0
    fraction: int = 0
    h12: bool = False
    pm: bool = False
    zoneh: int = NO_ZONE
    zonem: int = 0
    loc: Zone | None = None

    def build(self, common: bool = False) -> GoTime | None:
        """The time the fields give, or None when they are not a valid date."""
        year = self.year
        century = self.century
        if century == -1 and self.year_seen:
            century = 19 if year >= 69 else 20
        if century != -1:
            if common and century < 0 < year:
                year = -year
            year = century * 100 + year
        month, day = self.month, self.day
        if self.yday != -1:
            m, d = year_day(year, self.yday)
            if (month != -1 and month != m) or (day != -1 and day != d):
                return None
            month, day = m, d
        month = 1 if month == -1 else month
        day = 1 if day == -1 else day
        if not valid_month_day(year, month, day):
            return None
        hour = self.hour
        if self.h12:
            if self.pm and hour < 12:
                hour += 12
            elif not self.pm and hour == 12:
                hour = 0
        zone = self.loc
        if zone is None:
            zone = LOCAL if self.zoneh == NO_ZONE else fixed_zone(self.zoneh, self.zonem)
        t = GoTime.of(year, month, day, hour, self.minute, self.second, self.fraction, zone)
        ms = t.unix_nanos() // 1_000_000
        return t if MIN_MILLIS <= ms <= MAX_MILLIS else None
