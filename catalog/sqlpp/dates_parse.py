"""Date strings with an explicit format, parsed as Couchbase parses them (func_date.go).

Four kinds of format (``determine_format``): ``%`` formats (``%Y-%m-%d``), common formats
(``YYYY-MM-DD hh:mm:ss``), Go reference layouts (``2006-01-02 15:04:05``) and example dates
(``1111-11-11``: the layout of the closest default format). Each parser gives a `GoTime` or
None (Couchbase answers NULL with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.sqlpp.dates_zone import (
    TZ_1COLON,
    TZ_1PART,
    TZ_2COLON,
    TZ_2PART,
    TZ_3PART,
    TZ_ALLOW_Z,
    TZ_NAME,
    Fields,
    gather_number,
    gather_zone,
    is_punct,
)
from catalog.sqlpp.gotime import MONTHS, WEEKDAYS, GoTime

DATE_FORMATS = [
    "2006-01-02T15:04:05.999Z07:00", "2006-01-02 15:04:05.999Z07:00",
    "2006-01-02T15:04:05.999Z0700", "2006-01-02 15:04:05.999Z0700",
    "2006-01-02T15:04:05.999Z07", "2006-01-02 15:04:05.999Z07",
    "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05Z07:00",
    "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z0700",
    "2006-01-02T15:04:05Z07", "2006-01-02 15:04:05Z07",
    "2006-01-02T15:04:05.999", "2006-01-02 15:04:05.999",
    "2006-01-02T15:04:05", "2006-01-02 15:04:05",
    "2006-01-02", "15:04:05.999Z07:00", "15:04:05Z07:00", "15:04:05.000000000",
    "15:04:05.000000", "15:04:05.999", "15:04:05",
]  # fmt: skip
COMMON_TOKENS = {
    "A": ["AM"], "a": ["am"], "C": ["CC"], "D": ["DAY", "Day", "Dy", "DY", "DD"],
    "d": ["day", "dy"], "H": ["HH12", "HH24", "HH"], "h": ["hh"],
    "M": ["MONTH", "Month", "MON", "Mon", "MM", "MI"], "m": ["month", "mon", "mm"],
    "P": ["PP", "PM"], "p": ["pp", "pm"], "S": ["SS"], "s": ["ss", "s"],
    "T": ["TZD", "TZN", "TZF", "T"], "Y": ["YYYY", "YY"],
}  # fmt: skip


def is_common_format(fmt: str) -> bool:
    i = 0
    while i < len(fmt):
        tok = next((t for t in COMMON_TOKENS.get(fmt[i], []) if fmt.startswith(t, i)), None)
        if tok:
            i += len(tok)
        elif fmt[i].isspace() or is_punct(fmt[i]):
            i += 1
        else:
            return False
    return True


def determine_format(fmt: str) -> str:
    """'default', 'percent', 'common', 'go' or 'example', as Couchbase's determineFormat."""
    if not fmt:
        return "default"
    if "%" in fmt:
        return "percent"
    if is_common_format(fmt):
        return "common"
    if not fmt[0].isdigit():
        return "go"
    n = len(fmt) - len(fmt.lstrip("0123456789"))
    lead = fmt[:n]
    if lead == "2006" or lead in {f"0{k}" for k in range(1, 7)} | {str(k) for k in range(1, 7)}:
        return "go"
    return "example"


@dataclass
class _State:
    """Parsed fields and the position in the input."""

    s: str
    n: int = 0
    f: Fields = field(default_factory=Fields)

    def num(self, width: int, spaces: bool = False, sign: bool = False) -> tuple[int, int, bool]:
        val, ln, sgn = gather_number(self.s[self.n :], width, spaces, sign)
        return val, ln, sgn

    def names(self, names: list[str], fold: bool = False) -> int:
        """Index of the name the input starts with (advancing past it), else -1."""
        for k, name in enumerate(names):
            got = self.s[self.n : self.n + len(name)]
            if got == name or (fold and got.upper() == name.upper()):
                self.n += len(name)
                return k
        return -1


def _go_digits(st: _State, fmt: str, i: int) -> int | None:
    """One Go numeric or fixed token at fmt[i]; returns the new index or None on failure."""
    f = fmt[i:]
    two = f[:2]
    fixed = {"01": ("month", 1, 12, True), "02": ("day", 1, 31, True), "04": ("minute", 0, 59, True),
             "05": ("second", 0, 59, True), "06": ("year", 0, 99, True), "03": ("hour", 1, 12, True),
             "15": ("hour", 0, 23, False), "_2": ("day", 1, 31, False)}  # fmt: skip
    if two in fixed:
        name, lo, hi, exact = fixed[two]
        val, ln, _ = st.num(2, spaces=exact)
        if (ln != 2 if exact else ln not in (1, 2)) or not lo <= val <= hi:
            return None
        setattr(st.f, name, val)
        if two in ("03", "15"):
            st.f.h12 = two == "03"
        if two == "06":
            st.f.year_seen = True
        st.n += ln
        return i + 2
    single = {"1": ("month", 1, 12), "2": ("day", 1, 31), "3": ("hour", 1, 12),
              "4": ("minute", 0, 59), "5": ("second", 0, 59)}  # fmt: skip
    if f[0] in single:
        name, lo, hi = single[f[0]]
        val, ln, _ = st.num(2)
        if ln not in (1, 2) or not lo <= val <= hi:
            return None
        setattr(st.f, name, val)
        if f[0] == "3":
            st.f.h12 = True
        st.n += ln
        return i + 1
    return -1


_GO_ZONES = [("07:00:00", TZ_2COLON), ("070000", TZ_3PART), ("07:00", TZ_1COLON),
             ("0700", TZ_2PART), ("07", TZ_1PART)]  # fmt: skip


def parse_go(s: str, fmt: str) -> GoTime | None:
    """strToTimeGoFormat: a Go reference layout."""
    st = _State(s)
    i = 0
    while i < len(fmt) and st.n < len(s):
        f = fmt[i:]
        if f[0] == " " and s[st.n] == " ":
            while i < len(fmt) and fmt[i] == " ":
                i += 1
            while st.n < len(s) and s[st.n] == " ":
                st.n += 1
            continue
        if f.startswith("January") or f.startswith("Jan"):
            long = f.startswith("January")
            k = st.names(MONTHS if long else [m[:3] for m in MONTHS])
            if k < 0:
                return None
            st.f.month = k + 1
            i += 7 if long else 3
            continue
        if f.startswith("Monday") or f.startswith("Mon"):
            long = f.startswith("Monday")
            if st.names(WEEKDAYS if long else [w[:3] for w in WEEKDAYS]) < 0:
                return None
            i += 6 if long else 3
            continue
        if f.startswith("2006"):
            val, ln, sgn = st.num(4, sign=True)
            if (not sgn and ln != 4) or (sgn and ln != 5):
                return None
            st.f.century, st.f.year = int(val / 100), int(_go_rem(val, 100))
            st.n += ln
            i += 4
            continue
        if f.startswith("MST"):
            if not gather_zone(st, TZ_NAME):
                return None
            i += 3
            continue
        if f.startswith("__2") or f.startswith("002"):
            val, ln, _ = st.num(3, spaces=True)
            bad = ln not in (1, 2, 3) if f[0] == "_" else ln != 3
            if bad or not 1 <= val <= 366:
                return None
            st.f.yday = val
            st.n += ln
            i += 3
            continue
        if f[:2] in ("PM", "pm"):
            up = f[0] == "P"
            if st.n + 1 < len(s) and s[st.n] == ("P" if up else "p"):
                st.f.pm = True
            elif st.n + 1 < len(s) and s[st.n] == ("A" if up else "a"):
                st.f.pm = False
            else:
                return None
            st.n += 2
            i += 2
            continue
        if f[:2] in (".0", ".9"):
            if s[st.n] != ".":
                return None
            st.n += 1
            j = 1
            while j < len(f) and f[j] == f[1]:
                j += 1
            digits = j - 1
            val, ln, _ = st.num(digits if f[1] == "0" else 9, spaces=f[1] == "9")
            if ln == 0 or (f[1] == "0" and ln != digits):
                return None
            st.n += ln
            st.f.fraction = val * 10 ** (9 - min(ln, 9))
            i += j
            continue
        nxt = _go_digits(st, fmt, i)
        if nxt is None:
            return None
        if nxt >= 0:
            i = nxt
            continue
        if f[0] in "Z-":
            tok = next(((t, b) for t, b in _GO_ZONES if f[1:].startswith(t)), None)
            if tok or f[0] == "Z":
                allowed = (tok[1] if tok else 0) | (TZ_ALLOW_Z if f[0] == "Z" else 0)
                if not gather_zone(st, allowed):
                    return None
                i += 1 + (len(tok[0]) if tok else 0)
                continue
        if f[0] != s[st.n]:
            return None
        st.n += 1
        i += 1
    if i != len(fmt) or st.n != len(s):
        return None
    return st.f.build()


def _go_rem(a: int, b: int) -> int:
    """Go's % (truncated toward zero)."""
    return a - b * int(a / b)


def parse_common(s: str, fmt: str) -> GoTime | None:
    """strToTimeCommonFormat: YYYY-MM-DD hh:mm:ss style."""
    from catalog.sqlpp.dates_parse_common import parse_common_into

    st = _State(s)
    if not parse_common_into(st, fmt):
        return None
    return st.f.build(common=True)


def parse_percent(s: str, fmt: str) -> GoTime | None:
    """strToTimePercentFormat: %Y-%m-%d style."""
    from catalog.sqlpp.dates_parse_percent import parse_percent_into

    st = _State(s)
    if not parse_percent_into(st, fmt):
        return None
    return st.f.build()


def determine_known_format(s: str) -> str:
    """determineKnownFormat: a Go layout for the fields a default date string has, or ''."""
    from catalog.sqlpp.dates_known import determine_known_format as known

    return known(s)


def parse_default(s: str) -> tuple[GoTime, str] | None:
    """strToTimeFormatClosest: (time, layout) of the first default format that parses s."""
    for f in DATE_FORMATS:
        if len(f) == len(s):
            t = parse_go(s, f)
            if t is not None:
                return t, f
    f = determine_known_format(s)
    if f:
        t = parse_go(s, f)
        if t is not None:
            return t, f
    return None


def str_to_time(s: str, fmt: str) -> GoTime | None:
    """strToTime: parse s by a format of any kind ('' = the default formats)."""
    kind = determine_format(fmt)
    if kind == "default":
        p = parse_default(s)
        return p[0] if p else None
    if kind == "percent":
        return parse_percent(s, fmt)
    if kind == "common":
        return parse_common(s, fmt)
    if kind == "go":
        return parse_go(s, fmt)
    closest = parse_default(fmt)
    return parse_go(s, closest[1]) if closest else None
