"""Couchbase's determineKnownFormat: the Go layout of a default date string's fields."""

from __future__ import annotations


def _sep(c: str) -> bool:
    return c in "/.-"


def _time_part(dt: str, s: str) -> str:
    if len(s) < 5 or s[2] != ":" or not ((len(s) > 5 and s[5] == ":") or len(s) == 5):
        return ""
    for i in range(min(8, len(s))):
        if (s[i] != ":") if i in (2, 5) else not s[i].isdigit():
            return ""
    if len(s) == 8:
        return dt + "15:04:05"
    if len(s) == 5:
        return dt + "15:04"
    if len(s) < 8:
        return ""
    n, frac = 8, ""
    if s[n] == ".":
        n += 1
        i = 0
        while n + i < len(s) and s[n + i].isdigit():
            i += 1
        if i == 0 or i > 9:
            return ""
        frac = ".999" if i <= 3 else ".999999" if i <= 6 else ".999999999"
        if len(s) == n + i:
            return dt + "15:04:05" + frac
        n += i
    sep = frac + "Z"
    if s[n] == " ":
        while n < len(s) and s[n] == " ":
            n += 1
        sep = frac + " Z"
    if n >= len(s) or s[n] not in "Z+-":
        return ""
    if s[n] == "Z":
        return dt + "15:04:05" + sep + "07:00" if len(s) == n + 1 else ""
    if len(s) < n + 3 or not s[n + 1].isdigit() or not s[n + 2].isdigit():
        return ""
    if len(s) == n + 3:
        return dt + "15:04:05" + sep + "07"
    if len(s) == n + 5:
        return dt + "15:04:05" + sep + "0700" if s[n + 3].isdigit() or s[n + 4].isdigit() else ""
    if len(s) != n + 6 or s[n + 3] != ":" or not s[n + 4].isdigit() or not s[n + 5].isdigit():
        return ""
    return dt + "15:04:05" + sep + "07:00"


def determine_known_format(s: str) -> str:
    """A Go layout for s's date and time fields, or '' when s has none Couchbase knows."""
    s = s.strip()
    if len(s) < 8:
        return ""
    dt = ""
    if s[0] in "-+" and len(s) >= 11 and _sep(s[5]):
        s = s[1:]
    if _sep(s[4]) and len(s) >= 10:
        if s[7] != s[4]:
            return ""
        if any(not (i in (4, 7) or s[i].isdigit()) for i in range(10)):
            return ""
        if len(s) == 10:
            return f"2006{s[4]}01{s[4]}02"
        n = 10
        if s[n] == " ":
            while len(s) > n + 1 and s[n + 1] == " ":
                n += 1
        if s[n] not in "T ":
            return ""
        dt = f"2006{s[4]}01{s[4]}02{s[n]}"
        s = s[n + 1 :]
    if s == "":
        return dt
    return _time_part(dt, s)
