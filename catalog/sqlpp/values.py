"""JSON values with MISSING, N1QL truth, collation order and hashable keys."""

from __future__ import annotations

import math
from functools import cmp_to_key
from typing import Any


class _Missing:
    """The MISSING value (an absent field); a singleton."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

# Collation ranks: MISSING < NULL < booleans < numbers < strings < arrays < objects < binary.
T_MISSING, T_NULL, T_BOOL, T_NUM, T_STR, T_ARR, T_OBJ, T_BIN = range(8)
TYPE_NAMES = ["missing", "null", "boolean", "number", "string", "array", "object", "binary"]


def rank(v: Any) -> int:
    """Return the collation rank of a value's type."""
    if v is None:
        return T_NULL
    t = type(v)
    if t is str:
        return T_STR
    if t is bool:
        return T_BOOL
    if t is int or t is float:
        return T_NUM
    if t is dict:
        return T_OBJ
    if t is list:
        return T_ARR
    if v is MISSING:
        return T_MISSING
    if isinstance(v, (bytes, bytearray)):
        return T_BIN
    if isinstance(v, bool):
        return T_BOOL
    if isinstance(v, (int, float)):
        return T_NUM
    if isinstance(v, dict):
        return T_OBJ
    if isinstance(v, (list, tuple)):
        return T_ARR
    return T_STR


def type_name(v: Any) -> str:
    """Return the N1QL type name of a value."""
    return TYPE_NAMES[rank(v)]


def is_num(v: Any) -> bool:
    """Return True for a JSON number (not a boolean)."""
    t = type(v)
    return t is int or t is float


def truth(v: Any) -> bool:
    """Return N1QL truthiness: MISSING/NULL/false/0/""/[]/{} are false."""
    if v is None or v is MISSING:
        return False
    if v is True:
        return True
    if v is False:
        return False
    if is_num(v):
        return v != 0 and not (isinstance(v, float) and math.isnan(v))
    if isinstance(v, (str, list, dict, bytes)):
        return len(v) > 0
    return True


def _cmp_num(a: Any, b: Any) -> int:
    if a == b:
        return 0
    if a != a:  # NaN sorts below every other number
        return 0 if b != b else -1
    if b != b:
        return 1
    return -1 if a < b else 1


def collate(a: Any, b: Any) -> int:
    """Return -1, 0 or 1 comparing two values in N1QL collation order."""
    ra, rb = rank(a), rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == T_NUM:
        return _cmp_num(a, b)
    if ra in (T_STR, T_BOOL, T_BIN):
        return 0 if a == b else (-1 if a < b else 1)
    if ra == T_ARR:
        for x, y in zip(a, b, strict=False):
            c = collate(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == T_OBJ:  # Couchbase's objectCollate: size, then name by name in order
        if len(a) != len(b):
            return -1 if len(a) < len(b) else 1
        for k in sorted(a.keys() | b.keys()):
            if k not in b:  # the object holding the smaller name first is the smaller
                return -1
            if k not in a:
                return 1
            c = collate(a[k], b[k])
            if c:
                return c
        return 0
    return 0


collate_key = cmp_to_key(collate)


def equals(a: Any, b: Any) -> Any:
    """Return N1QL equality: MISSING or NULL if either side is (also nested), else a boolean."""
    if a is MISSING or b is MISSING:
        return MISSING
    if a is None or b is None:
        return None
    ta, tb = type(a), type(b)
    if (ta is list and tb is list) or (ta is dict and tb is dict):
        if len(a) != len(b) or (ta is dict and a.keys() != b.keys()):
            return False
        pairs = zip(a, b, strict=False) if ta is list else ((x, b[k]) for k, x in a.items())
        unknown: Any = True
        for x, y in pairs:
            r = equals(x, y)
            if r is False:
                return False
            if r is MISSING:
                unknown = MISSING
            elif r is None and unknown is True:
                unknown = None
        return unknown  # MISSING before NULL, as Couchbase's arrayEquals
    return collate(a, b) == 0


def compare(a: Any, b: Any) -> Any:
    """Couchbase's Compare: -1/0/1, or MISSING/NULL when the first unequal pair is unknown."""
    if a is MISSING or b is MISSING:
        return MISSING
    if a is None or b is None:
        return None
    if type(a) is list and type(b) is list:
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c != 0 or c is MISSING or c is None:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if type(a) is dict and type(b) is dict:  # Couchbase's objectCompare, as collate
        if len(a) != len(b):
            return -1 if len(a) < len(b) else 1
        for k in sorted(a.keys() | b.keys()):
            if k not in b:
                return -1
            if k not in a:
                return 1
            c = compare(a[k], b[k])
            if c != 0 or c is MISSING or c is None:
                return c
        return 0
    return collate(a, b)


def hkey(v: Any) -> Any:
    """Return a hashable key such that equal values (1 == 1.0) share it."""
    if v is None:
        return ("n",)
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return ("b", v)
    if t is int or t is float:
        return ("d", float(v)) if v == v else ("nan",)
    if t is list:  # a MISSING element is written as null, and so keyed (DISTINCT, GROUP BY)
        return ("a", tuple(("n",) if x is MISSING else hkey(x) for x in v))
    if t is dict:
        return ("o", tuple(sorted((k, hkey(x)) for k, x in v.items())))
    if v is MISSING:
        return ("m",)
    if isinstance(v, (bytes, bytearray)):
        return ("x", bytes(v))
    return ("?", repr(v))


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def result_value(v: Any) -> Any:
    """Return v as a result row holds it (one walk over the value):

    - non-finite floats spelled as N1QL prints them ("NaN", "+Infinity", "-Infinity");
    - integers past int64 as floats (as Couchbase holds them), past float64 as +-Infinity;
    - integral floats as ints (1, not 1.0): Go's JSON encoder writes a float64 without a
      fraction below 1e21 in plain digits; larger ones keep their exponent form (1e+21);
    - MISSING members of objects left out, MISSING elements of arrays as null.

    Every result row can then be written as JSON, as Couchbase writes it.
    """
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is int:
        if INT64_MIN <= v <= INT64_MAX:
            return v
        try:
            v = float(v)
        except OverflowError:
            return "+Infinity" if v > 0 else "-Infinity"
        t = float
    if t is float:
        if v != v:
            return "NaN"
        if v in (math.inf, -math.inf):
            return "+Infinity" if v > 0 else "-Infinity"
        return int(v) if v.is_integer() and -1e21 < v < 1e21 else v
    if t is dict:
        for x in v.values():
            if x is MISSING or result_value(x) is not x:
                return {k: result_value(x) for k, x in v.items() if x is not MISSING}
        return v
    if t is list:
        for x in v:
            if x is MISSING or result_value(x) is not x:
                return [None if x is MISSING else result_value(x) for x in v]
        return v
    return v


def norm_num(v: float) -> Any:
    """Return an int for an integral float that fits exactly, else the float."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


def float_text(x: float) -> str:
    """A float as Couchbase writes it (Go's FormatFloat 'f', -1): shortest digits, no exponent."""
    from decimal import Decimal

    n = norm_num(x)
    if not isinstance(n, float):
        return str(n)
    text = format(Decimal(repr(x)), "f")
    return text[:-2] if text.endswith(".0") else text


def to_json_text(v: Any) -> str:
    """Return the compact JSON text N1QL would print for a value (size checked first)."""
    import json

    from catalog.sqlpp import budget

    b = budget.current()
    size = budget.json_size(v, b.value_limit + 1)
    b.reserve("encode_json()", size, size + 49)
    out: list[str] = []

    def emit(x: Any) -> None:
        if isinstance(x, float):
            out.append("null" if x != x or x in (math.inf, -math.inf) else float_text(x))
        elif isinstance(x, dict):
            out.append("{")
            first = True
            for k in sorted(x):
                if x[k] is MISSING:
                    continue
                out.append(("" if first else ",") + json.dumps(k, ensure_ascii=False) + ":")
                first = False
                emit(x[k])
            out.append("}")
        elif isinstance(x, list):
            out.append("[")
            for i, y in enumerate(x):
                if i:
                    out.append(",")
                emit(None if y is MISSING else y)
            out.append("]")
        else:
            out.append(json.dumps(x, ensure_ascii=False))

    emit(v)
    return "".join(out)
