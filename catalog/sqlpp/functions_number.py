"""Number, arithmetic, comparison and bitwise functions."""

from __future__ import annotations

import math
import random
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from catalog.sqlpp import gomath
from catalog.sqlpp.registry import ABSENT, fn, unknown
from catalog.sqlpp.values import MISSING, T_NULL, collate, equals, is_num, norm_num, rank


def _num1(f: Any) -> Any:
    def g(x: Any) -> Any:
        if not is_num(x):
            return MISSING if x is MISSING else None
        try:
            r = f(x)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
        return r

    return g


fn("abs")(_num1(abs))
fn("acos")(_num1(gomath.acos))
fn("asin")(_num1(gomath.asin))
fn("atan")(_num1(gomath.atan))
fn("cos")(_num1(gomath.cos))
fn("sin")(_num1(gomath.sin))
fn("tan")(_num1(gomath.tan))
fn("ceil")(_num1(lambda x: x if math.isinf(x) or x != x else math.ceil(x)))
fn("floor")(_num1(lambda x: x if math.isinf(x) or x != x else math.floor(x)))
fn("degrees")(_num1(lambda x: x * 180.0 / math.pi))  # Go: num * 180.0 / math.Pi
fn("radians")(_num1(lambda x: x * math.pi / 180.0))  # Go: num * math.Pi / 180.0
fn("exp")(_num1(gomath.exp))
fn("ln")(_num1(gomath.log))
fn("log")(_num1(gomath.log10))
fn("sqrt")(_num1(lambda x: math.sqrt(x) if x >= 0 else math.nan))
fn("sign")(_num1(lambda x: 0 if x != x else (1 if x > 0 else -1 if x < 0 else 0)))
fn("neg")(_num1(lambda x: -x))
fn("e", lo=0)(lambda: math.e)
fn("pi", lo=0)(lambda: math.pi)
fn("nan", lo=0)(lambda: math.nan)
fn("posinf", "pos_inf", lo=0)(lambda: math.inf)
fn("neginf", "neg_inf", lo=0)(lambda: -math.inf)


@fn("atan2", lo=2)
def atan2(y: Any, x: Any) -> Any:
    u = unknown(y, x)
    if u is not False:
        return u
    return gomath.atan2(float(y), float(x)) if is_num(y) and is_num(x) else None


@fn("power", lo=2)
def power(x: Any, y: Any) -> Any:
    """Return x to the power y in float64 arithmetic (as Go's math.Pow: ±Inf on overflow)."""
    u = unknown(x, y)
    if u is not False:
        return u
    if not (is_num(x) and is_num(y)):
        return None
    try:
        fx, fy = float(x), float(y)
    except OverflowError:  # an integer past float64: Couchbase holds it as a float already
        return math.nan
    return norm_num(gomath.pow(fx, fy))


def _digits(x: Any, d: Any) -> Any:
    u = unknown(x, d)
    if u is not False:
        return u
    if not (is_num(x) and is_num(d)):
        return None
    if d != d or math.isinf(d):
        return math.nan
    return True if d == int(d) else None


def _pow10(d: Any) -> float:
    """Return 10 ** d in float64 (inf past 1e308, 0 below the smallest subnormal)."""
    if d > 308:
        return math.inf
    if d < -400:
        return 0.0
    return 10.0 ** int(d)


def _scaled_extreme(x: Any, d: Any) -> Any:
    """Return Go's x*10^d/10^d for digit counts where float64 scaling overflows, else None.

    Couchbase computes ROUND and TRUNC by scaling with 10^d in float64: a scale or a scaled
    value past 1e308 gives +-Infinity or NaN, a scale of 0 gives NaN. Within range the
    exact decimal computation below is used.
    """
    p = _pow10(d)
    if p == 0 or math.isinf(p):
        return math.nan
    y = float(x) * p
    if math.isinf(y):
        return y / p
    return None


def _round(mode: str) -> Any:
    def g(x: Any, d: Any = 0) -> Any:
        ok = _digits(x, d)
        if ok is not True:
            return ok
        if math.isinf(x) or x != x:
            return x
        extreme = _scaled_extreme(x, d)
        if extreme is not None:
            return extreme
        # A double has at most ~330 significant decimal digits in play (1.8e308, 5e-324):
        # the default 28-digit context would overflow on quantize.
        with localcontext(prec=800, Emax=MAX_EMAX, Emin=MIN_EMIN):
            q = Decimal(1).scaleb(-int(d))
            r = Decimal(repr(float(x))).quantize(q, rounding=mode) if d > 0 else (
                Decimal(repr(float(x))) / q).quantize(Decimal(1), rounding=mode) * q  # fmt: skip
            return norm_num(float(r))

    return g


fn("round", lo=1, hi=2)(_round(ROUND_HALF_EVEN))
fn("round_even", lo=1, hi=2)(_round(ROUND_HALF_EVEN))


@fn("trunc", lo=1, hi=2)
def trunc(x: Any, d: Any = 0) -> Any:
    ok = _digits(x, d)
    if ok is not True:
        return ok
    if math.isinf(x) or x != x:
        return x
    extreme = _scaled_extreme(x, d)
    if extreme is not None:
        return extreme
    f = _pow10(d)
    return norm_num(math.trunc(x * f) / f)


@fn("random", lo=0, hi=1)
def random_(seed: Any = ABSENT) -> Any:
    if seed is MISSING:
        return MISSING
    if is_num(seed):
        return random.Random(seed).random()
    return random.random()


def _arith(op: str) -> Any:
    def g(a: Any, b: Any) -> Any:
        u = unknown(a, b)
        if u is not False:
            return u
        if not (is_num(a) and is_num(b)):
            return None
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mult":
            return a * b
        if b == 0:
            return None
        if op == "div":
            return a / b
        if op == "mod":
            return math.fmod(a, b)
        return _integer_division(op, a, b)

    return g


_INT64_MIN = -(2**63)


def _go_int64(x: int | float) -> int:
    """Return Go's int64(x): truncated; out of range, NaN or infinite -> the most negative
    int64 (what amd64's conversion gives, and so Couchbase)."""
    if type(x) is int:
        return x if _INT64_MIN <= x < 2**63 else _INT64_MIN
    if x != x or not _INT64_MIN <= x < 2.0**63:
        return _INT64_MIN
    return int(x)


def _integer_division(op: str, a: int | float, b: int | float) -> int | None:
    """IDIV and IMOD as Couchbase computes them: on int64(a) and int64(b), Go's truncated
    division and remainder (the most negative int64 divided by -1 stays itself)."""
    x, y = _go_int64(a), _go_int64(b)
    if y == 0:
        return None
    q = abs(x) // abs(y)
    if (x < 0) != (y < 0):
        q = -q
    if op == "idiv":
        return q if q < 2**63 else _INT64_MIN
    return x - q * y


for _op in ("add", "sub", "mult", "div", "mod", "idiv", "imod"):
    fn(_op, lo=2)(_arith(_op))


def _cmpf(test: Any) -> Any:
    def g(a: Any, b: Any) -> Any:
        u = unknown(a, b)
        if u is not False:
            return u
        return test(collate(a, b))

    return g


fn("eq", lo=2)(lambda a, b: equals(a, b))
fn("ne", "neq", lo=2)(
    lambda a, b: unknown(a, b) if unknown(a, b) is not False else not equals(a, b)
)
fn("lt", lo=2)(_cmpf(lambda c: c < 0))
fn("le", "lte", lo=2)(_cmpf(lambda c: c <= 0))
fn("gt", lo=2)(_cmpf(lambda c: c > 0))
fn("ge", "gte", lo=2)(_cmpf(lambda c: c >= 0))


@fn("between", lo=3)
def between(x: Any, a: Any, b: Any) -> Any:
    u = unknown(x, a, b)
    if u is not False:
        return u
    return collate(x, a) >= 0 and collate(x, b) <= 0


def _extreme(sign: int) -> Any:
    def g(*args: Any) -> Any:
        best: Any = None
        for a in args:
            if rank(a) <= T_NULL:
                continue
            if best is None or collate(a, best) * sign > 0:
                best = a
        return best

    return g


fn("greatest", lo=1, hi=None)(_extreme(1))
fn("least", lo=1, hi=None)(_extreme(-1))


# --- conditional functions for numbers -------------------------------------------------


def _isinf(v: Any) -> bool:
    return is_num(v) and math.isinf(v)


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and v != v


def _first_if(skip: Any) -> Any:
    def g(*args: Any) -> Any:
        # Couchbase passes over MISSING arguments; any other non-number stops with NULL.
        missing = False
        for a in args:
            if a is MISSING:
                missing = True
            elif not is_num(a):
                return None
            elif not skip(a):
                return a
        return MISSING if missing else None

    return g


fn("ifinf", lo=2, hi=None)(_first_if(_isinf))
fn("ifnan", lo=2, hi=None)(_first_if(_isnan))
fn("ifnanorinf", lo=2, hi=None)(_first_if(lambda a: _isinf(a) or _isnan(a)))


def _value_if(result: Any) -> Any:
    def g(a: Any, b: Any) -> Any:
        u = unknown(a, b)
        if u is not False:
            return u
        e = equals(a, b)
        return result if e is True else a if e is False else None

    return g


fn("nanif", lo=2)(_value_if(math.nan))
fn("posinfif", lo=2)(_value_if(math.inf))
fn("neginfif", lo=2)(_value_if(-math.inf))


# --- bitwise ------------------------------------------------------------------------

_MASK = (1 << 64) - 1


def _i64(v: Any) -> int | None:
    if is_num(v) and not math.isinf(v) and v == v and v == int(v):
        return int(v)
    return None


def _signed(x: int) -> int:
    x &= _MASK
    return x - (1 << 64) if x >> 63 else x


def _bitop(kind: str) -> Any:
    def g(*args: Any) -> Any:
        u = unknown(*args)
        if u is not False:
            return u
        vals = [_i64(a) for a in args]
        if any(v is None for v in vals):
            return None
        r = vals[0]
        for v in vals[1:]:
            r = r & v if kind == "and" else r | v if kind == "or" else r ^ v  # type: ignore
        return _signed(r)  # type: ignore[arg-type]

    return g


fn("bitand", lo=2, hi=None)(_bitop("and"))
fn("bitor", lo=2, hi=None)(_bitop("or"))
fn("bitxor", lo=2, hi=None)(_bitop("xor"))


@fn("bitnot")
def bitnot(a: Any) -> Any:
    v = _i64(a)
    if v is None:
        return MISSING if a is MISSING else None
    return _signed(~v)


@fn("bitshift", lo=2, hi=3)
def bitshift(a: Any, n: Any, rotate: Any = False) -> Any:
    u = unknown(a, n, rotate)
    if u is not False:
        return u
    v, k = _i64(a), _i64(n)
    if v is None or k is None or not isinstance(rotate, bool):
        return None
    v &= _MASK
    if rotate:
        k %= 64
        return _signed((v << k) | (v >> (64 - k)))
    if k >= 0:
        return _signed(v << k) if k < 64 else 0
    return _signed(v >> -k) if -k < 64 else 0


def _bits(b: Any) -> list[int] | None:
    items = b if type(b) is list else [b]
    out = []
    for x in items:
        k = _i64(x)
        if k is None or k < 1 or k > 64:
            return None
        out.append(k)
    return out


@fn("bitset", lo=2)
def bitset(a: Any, b: Any) -> Any:
    u = unknown(a, b)
    if u is not False:
        return u
    v, bits = _i64(a), _bits(b)
    if v is None or bits is None:
        return None
    for k in bits:
        v |= 1 << (k - 1)
    return _signed(v)


@fn("bitclear", lo=2)
def bitclear(a: Any, b: Any) -> Any:
    u = unknown(a, b)
    if u is not False:
        return u
    v, bits = _i64(a), _bits(b)
    if v is None or bits is None:
        return None
    for k in bits:
        v &= ~(1 << (k - 1))
    return _signed(v)


@fn("bittest", "isbitset", lo=2, hi=3)
def bittest(a: Any, b: Any, all_: Any = False) -> Any:
    u = unknown(a, b, all_)
    if u is not False:
        return u
    v, bits = _i64(a), _bits(b)
    if v is None or bits is None or not isinstance(all_, bool):
        return None
    v &= _MASK
    hits = [bool(v >> (k - 1) & 1) for k in bits]
    return all(hits) if all_ else any(hits)
