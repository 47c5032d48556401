"""Type checking, type conversion and conditional functions for unknowns."""

from __future__ import annotations

import math
from typing import Any

from catalog.sqlpp.registry import ABSENT, fn, unknown
from catalog.sqlpp.values import (
    MISSING,
    equals,
    float_text,
    is_num,
    truth,
    type_name,
)


def _check(test: Any) -> Any:
    def g(v: Any) -> Any:
        if v is MISSING:
            return MISSING
        if v is None:
            return None
        return test(v)

    return g


fn("is_array", "isarray")(_check(lambda v: type(v) is list))
fn("is_atom", "isatom")(_check(lambda v: type(v) in (bool, int, float, str)))
fn("is_boolean", "isboolean", "is_bool", "isbool")(_check(lambda v: type(v) is bool))
fn("is_number", "isnumber", "is_num", "isnum")(_check(is_num))
fn("is_object", "isobject", "is_obj", "isobj")(_check(lambda v: type(v) is dict))
fn("is_string", "isstring", "is_str", "isstr")(_check(lambda v: type(v) is str))
fn("is_binary", "isbinary", "is_bin", "isbin")(_check(lambda v: isinstance(v, bytes)))
fn("type", "typename", "type_name")(lambda v: type_name(v))


@fn("toarray", "to_array")
def toarray(v: Any) -> Any:
    if v is MISSING or v is None:
        return v
    return v if type(v) is list else [v]


@fn("toatom", "to_atom")
def toatom(v: Any) -> Any:
    if v is MISSING or v is None:
        return v
    if type(v) in (list, dict):
        return toatom(next(iter(v.values() if type(v) is dict else v))) if len(v) == 1 else None
    return v


@fn("toboolean", "to_boolean", "tobool", "to_bool")
def toboolean(v: Any) -> Any:
    if v is MISSING or v is None:
        return v
    if type(v) is str:
        return v.lower() not in ("false", "")
    return truth(v)


@fn("tonumber", "to_number", "tonum", "to_num", lo=1, hi=2)
def tonumber(v: Any, sep: Any = ABSENT) -> Any:
    if v is MISSING or v is None:
        return v
    if sep is not ABSENT:  # TONUMBER("1,000", ","): the separators' characters removed
        if not isinstance(sep, str):
            return None
        if type(v) is str:
            v = v.translate({ord(c): None for c in sep})
    if type(v) is bool:
        return 1 if v else 0
    if is_num(v):
        return v
    if type(v) is str:
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            pass
        try:
            low = s.lower()
            if low in ("nan", "+inf", "-inf", "inf", "infinity", "+infinity", "-infinity"):
                return float(low)
            if low.startswith("0x"):
                return None
            return float(s)
        except ValueError:
            return None
    return None


@fn("toobject", "to_object", "toobj", "to_obj")
def toobject(v: Any) -> Any:
    if v is MISSING or v is None:
        return v
    return v if type(v) is dict else {}


def to_str(v: Any) -> Any:
    """Return TOSTRING(v)."""
    if v is MISSING or v is None:
        return v
    if type(v) is str:
        return v
    if type(v) is bool:
        return "true" if v else "false"
    if is_num(v):
        if isinstance(v, float):
            if v != v:
                return "NaN"
            if math.isinf(v):
                return "+Inf" if v > 0 else "-Inf"
            return float_text(v)
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return None  # Couchbase: arrays and objects have no string form


fn("tostring", "to_string", "tostr", "to_str")(to_str)


# --- conditional functions for unknowns ----------------------------------------------


@fn("ifmissing", lo=2, hi=None)
def ifmissing(*args: Any) -> Any:
    for a in args:
        if a is not MISSING:
            return a
    return None


@fn("ifnull", lo=2, hi=None)
def ifnull(*args: Any) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


@fn("ifmissingornull", "coalesce", lo=2, hi=None)
def ifmissingornull(*args: Any) -> Any:
    for a in args:
        if a is not None and a is not MISSING:
            return a
    return None


@fn("missingif", lo=2)
def missingif(a: Any, b: Any) -> Any:
    u = unknown(a, b)
    if u is not False:
        return u
    return MISSING if equals(a, b) else a


@fn("nullif", lo=2)
def nullif(a: Any, b: Any) -> Any:
    u = unknown(a, b)
    if u is not False:
        return u
    return None if equals(a, b) else a


@fn("nvl", lo=2)
def nvl(a: Any, b: Any) -> Any:
    return a if a is not None and a is not MISSING else b


@fn("nvl2", lo=3)
def nvl2(a: Any, b: Any, c: Any) -> Any:
    return b if a is not None and a is not MISSING else c


@fn("decode", lo=3, hi=None)
def decode(x: Any, *pairs: Any) -> Any:
    for i in range(0, len(pairs) - 1, 2):
        if equals(x, pairs[i]) is True or (x is None and pairs[i] is None):
            return pairs[i + 1]
    return pairs[-1] if len(pairs) % 2 == 1 else None


@fn("if", "iif", lo=3)
def iif(c: Any, a: Any, b: Any) -> Any:
    return a if c is True else b
