"""Go's math library, to the last bit, for the functions Couchbase's SQL++ calls.

Couchbase's query engine is written in Go; `SIN`, `COS`, `TAN`, `ASIN`, `ACOS`, `ATAN`,
`LN` and `LOG` call Go's `math` package, whose algorithms (Cephes polynomials for the
trigonometric functions, FreeBSD's msun for the logarithm) round differently from the C
library behind Python's `math` in the last digit for about one argument in five. The
same statement must print the same number on both stores, so these are re-implementations
of Go's algorithms (go/src/math: sin.go, tan.go, trig_reduce.go, atan.go, asin.go,
log.go and log_amd64.s), step for step in float64 arithmetic, which Python's floats are. Checked against
cbq-engine on random arguments in `tests/sqlpp/test_gomath.py`.

Not here: `EXP` (Go uses an amd64 assembly routine that takes a fused multiply-add path on
processors that have one, so Couchbase's own answer depends on the machine) and `SQRT`
(correctly rounded everywhere).
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

PI = math.pi
_FOUR_OVER_PI = 1.2732395447351628  # 4/Pi rounded once, as Go's constant arithmetic does
_PI4A = 7.85398125648498535156e-1  # Pi/4 in three parts
_PI4B = 3.77489470793079817668e-8
_PI4C = 2.69515142907905952645e-15
_REDUCE_THRESHOLD = float(1 << 29)

_SIN = (
    1.58962301576546568060e-10,
    -2.50507477628578072866e-8,
    2.75573136213857245213e-6,
    -1.98412698295895385996e-4,
    8.33333333332211858878e-3,
    -1.66666666666666307295e-1,
)
_COS = (
    -1.13585365213876817300e-11,
    2.08757008419747316778e-9,
    -2.75573141792967388112e-7,
    2.48015872888517045348e-5,
    -1.38888888888730564116e-3,
    4.16666666666665929218e-2,
)
_TAN_P = (-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7)
_TAN_Q = (
    1.0,
    1.36812963470692954678e4,
    -1.32089234440210967447e6,
    2.50083801823357915839e7,
    -5.38695755929454629881e7,
)

# The binary digits of 4/pi, 64 at a time: 4/pi = sum(_M_PI4[i] * 2**(-64*i)).
_M_PI4 = (
    0x0000000000000001,
    0x45F306DC9C882A53,
    0xF84EAFA3EA69BB81,
    0xB6C52B3278872083,
    0xFCA2C757BD778AC3,
    0x6E48DC74849BA5C0,
    0x0C925DD413A32439,
    0xFC3BD63962534E7D,
    0xD1046BEA5D768909,
    0xD338E04D68BEFC82,
    0x7323AC7306A673E9,
    0x3908BF177BF25076,
    0x3FF12FFFBC0B301F,
    0xDE5E2316B414DA3E,
    0xDA6CFD9E4F96136E,
    0x9E8C7ECD3CBFD45A,
    0xEA4F758FD7CBE2F6,
    0x7A0E73EF14A525D4,
    0xD7F6BF623F1ABA10,
    0xAC06608DF8F6D757,
)
_U64 = (1 << 64) - 1


def _bits(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def _from_bits(b: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", b & _U64))[0])


def _trig_reduce(x: float) -> tuple[int, float]:
    """Payne-Hanek reduction of x >= 2**29 by pi/4: (octant, fraction * pi/4), as Go does."""
    ix = _bits(x)
    exp = ((ix >> 52) & 0x7FF) - 1023 - 52
    ix = (ix & ((1 << 52) - 1)) | (1 << 52)
    digit, bitshift = divmod(exp + 61, 64)

    def word(i: int) -> int:
        return ((_M_PI4[i] << bitshift) | (_M_PI4[i + 1] >> (64 - bitshift))) & _U64

    z0, z1, z2 = word(digit), word(digit + 1), word(digit + 2)
    z2hi = (z2 * ix) >> 64
    z1hi, z1lo = (z1 * ix) >> 64, (z1 * ix) & _U64
    z0lo = (z0 * ix) & _U64
    lo_sum = z1lo + z2hi
    lo, carry = lo_sum & _U64, lo_sum >> 64
    hi = (z0lo + z1hi + carry) & _U64
    j = hi >> 61
    hi = ((hi << 3) | (lo >> 61)) & _U64
    lz = 64 - hi.bit_length()
    e = 1023 - (lz + 1)
    hi = ((hi << (lz + 1)) | (lo >> (64 - (lz + 1)))) & _U64
    hi >>= 64 - 52
    z = _from_bits(hi | (e << 52))
    if j & 1:
        j = (j + 1) & 7
        z -= 1
    return j, z * (PI / 4)


def _reduce(x: float) -> tuple[int, float]:
    """The octant j (made even) and the remainder z of a positive x, as Go's sin.go."""
    if x >= _REDUCE_THRESHOLD:
        return _trig_reduce(x)
    j = int(x * _FOUR_OVER_PI)
    y = float(j)
    if j & 1:
        j += 1
        y += 1
    return j & 7, ((x - y * _PI4A) - y * _PI4B) - y * _PI4C


def _sin_poly(z: float, zz: float) -> float:
    s = _SIN
    return z + z * zz * ((((((s[0] * zz) + s[1]) * zz + s[2]) * zz + s[3]) * zz + s[4]) * zz + s[5])


def _cos_poly(zz: float) -> float:
    c = _COS
    return (
        1.0
        - 0.5 * zz
        + zz * zz * ((((((c[0] * zz) + c[1]) * zz + c[2]) * zz + c[3]) * zz + c[4]) * zz + c[5])
    )


def sin(x: float) -> float:
    if x == 0 or x != x:
        return x
    if math.isinf(x):
        return math.nan
    sign = x < 0
    x = abs(x)
    j, z = _reduce(x)
    if j > 3:
        sign = not sign
        j -= 4
    zz = z * z
    y = _cos_poly(zz) if j in (1, 2) else _sin_poly(z, zz)
    return -y if sign else y


def cos(x: float) -> float:
    if x != x or math.isinf(x):
        return math.nan
    sign = False
    j, z = _reduce(abs(x))
    if j > 3:
        j -= 4
        sign = not sign
    if j > 1:
        sign = not sign
    zz = z * z
    y = _sin_poly(z, zz) if j in (1, 2) else _cos_poly(zz)
    return -y if sign else y


def tan(x: float) -> float:
    if x == 0 or x != x:
        return x
    if math.isinf(x):
        return math.nan
    sign = x < 0
    j, z = _reduce(abs(x))  # tan.go skips the "mod 8", which leaves bit 1 as it is
    zz = z * z
    p, q = _TAN_P, _TAN_Q
    if zz > 1e-14:
        y = z + z * (
            zz
            * (((p[0] * zz) + p[1]) * zz + p[2])
            / ((((zz + q[1]) * zz + q[2]) * zz + q[3]) * zz + q[4])
        )
    else:
        y = z
    if j & 2:
        y = -1 / y
    return -y if sign else y


def _xatan(x: float) -> float:
    p0, p1, p2, p3, p4 = (
        -8.750608600031904122785e-01,
        -1.615753718733365076637e01,
        -7.500855792314704667340e01,
        -1.228866684490136173410e02,
        -6.485021904942025371773e01,
    )
    q0, q1, q2, q3, q4 = (
        2.485846490142306297962e01,
        1.650270098316988542046e02,
        4.328810604912902668951e02,
        4.853903996359136964868e02,
        1.945506571482613964425e02,
    )
    z = x * x
    z = (
        z
        * ((((p0 * z + p1) * z + p2) * z + p3) * z + p4)
        / (((((z + q0) * z + q1) * z + q2) * z + q3) * z + q4)
    )
    return x * z + x


_MOREBITS = 6.123233995736765886130e-17  # pi/2 = PIO2 + Morebits
_TAN3PIO8 = 2.41421356237309504880


def _satan(x: float) -> float:
    if x <= 0.66:
        return _xatan(x)
    if x > _TAN3PIO8:
        return PI / 2 - _xatan(1 / x) + _MOREBITS
    return PI / 4 + _xatan((x - 1) / (x + 1)) + 0.5 * _MOREBITS


def atan(x: float) -> float:
    if x == 0 or x != x:
        return x
    return _satan(x) if x > 0 else -_satan(-x)


def asin(x: float) -> float:
    if x == 0 or x != x:
        return x
    sign = x < 0
    x = abs(x)
    if x > 1:
        return math.nan
    temp = math.sqrt(1 - x * x)
    temp = PI / 2 - _satan(temp / x) if x > 0.7 else _satan(x / temp)
    return -temp if sign else temp


def acos(x: float) -> float:
    return PI / 2 - asin(x)


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_L = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_SQRT2_HALF = math.sqrt(2) / 2
_LN10_INV = 0.4342944819032518  # 1/Ln10 rounded once, as Go's constant arithmetic does


def log(x: float) -> float:
    if x != x or x == math.inf:
        return x
    if x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    # Frexp as Go's amd64 assembly does it, from the bits: a subnormal x is read as if its
    # exponent were the smallest normal one (LN(5e-324) is -709.08..., not -744.44...), and
    # f1 equal to sqrt(2)/2 is doubled too.
    bits = _bits(x)
    f1 = _from_bits((bits & 0x000FFFFFFFFFFFFF) | 0x3FE0000000000000)
    ki = ((bits >> 52) & 0x7FF) - 0x3FE
    if f1 <= _SQRT2_HALF:
        f1 *= 2
        ki -= 1
    f = f1 - 1
    k = float(ki)
    s = f / (2 + f)
    s2 = s * s
    s4 = s2 * s2
    L1, L2, L3, L4, L5, L6, L7 = _L
    t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)))
    t2 = s4 * (L2 + s4 * (L4 + s4 * L6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def log10(x: float) -> float:
    return log(x) * _LN10_INV


# EXP: Go's amd64 assembly routine (exp_amd64.s, after Shibata's SLEEF): a Taylor series
# on x/16 after reduction by ln 2, squared back four times. Go takes a fused multiply-add
# path when the processor has AVX2 and FMA; the answer's last bit depends on which, so this
# takes the path Go takes on the machine it runs on.
_LN2U = 0.69314718055966295651160180568695068359375
_LN2L = 0.28235290563031577122588448175013436025525412068e-12
_LOG2E = 1.4426950408889634073599246810018920
_EXP_OVERFLOW = 7.09782712893384e02
_TAYLOR = (
    2.4801587301587301587e-5,
    1.9841269841269841270e-4,
    1.3888888888888888889e-3,
    8.3333333333333333333e-3,
    4.1666666666666666667e-2,
    1.6666666666666666667e-1,
    0.5,
)


def _cpu_has_fma() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "fma" in flags and "avx2" in flags
    except OSError:
        pass
    return False


USE_FMA = _cpu_has_fma()


def _fma(a: float, b: float, c: float) -> float:
    """a*b + c rounded once (math.fma arrives in Python 3.13)."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    try:
        return float(exact)
    except OverflowError:  # past float64: rounds to an infinity
        return math.inf if exact > 0 else -math.inf


def exp(x: float, fma: bool | None = None) -> float:
    if x != x or x == math.inf:
        return x
    if x == -math.inf:
        return 0.0
    if x > _EXP_OVERFLOW:
        return math.inf
    t = _LOG2E * x
    k = round(t) if abs(t) < 2**31 else -(2**31)  # CVTSD2SL: nearest even, else "indefinite"
    kf = float(k)
    if USE_FMA if fma is None else fma:
        r = _fma(-_LN2U, kf, x)
        r = _fma(-_LN2L, kf, r) * 0.0625
        p = _TAYLOR[0]
        for c in _TAYLOR[1:]:
            p = _fma(p, r, c)
        p = _fma(p, r, 1.0)
        r = r * p
        for _ in range(3):
            r = r * (r + 2.0)
        y = _fma(r, r + 2.0, 1.0)
    else:
        r = (x - _LN2U * kf) - _LN2L * kf
        r *= 0.0625
        p = _TAYLOR[0]
        for c in _TAYLOR[1:]:
            p = p * r + c
        p = p * r + 1.0
        r = r * p
        for _ in range(4):
            r = r * (r + 2.0)
        y = r + 1.0
    e = k + 1023
    if e <= 0:  # a subnormal result: scaled in two steps, as the assembly does
        if e < -52:
            return 0.0
        return (y * _from_bits((e + 0x3FE) << 52)) * _from_bits(1 << 52)
    if e >= 0x7FF:
        return math.inf
    return y * _from_bits(e << 52)


def _is_odd_int(x: float) -> bool:
    if math.isinf(x):
        return False
    xf, xi = math.modf(x)
    return xf == 0 and abs(xi) < 2**63 and int(xi) & 1 == 1


def _ldexp(frac: float, e: int) -> float:
    try:
        return math.ldexp(frac, e)
    except OverflowError:
        return math.copysign(math.inf, frac)


def pow(x: float, y: float) -> float:  # noqa: A001 (Go's name)
    """Go's math.Pow (pow.go): special cases of IEEE 754-2008, then x**y in parts.

    As in the Go release cbq-engine is built with: no separate loop for small integer powers
    (newer Go releases have one, which rounds differently for y = 7).
    """
    if y == 0 or x == 1:
        return 1.0
    if x != x or y != y:
        return math.nan
    if x == 0:
        if y < 0:
            return math.copysign(math.inf, x) if _is_odd_int(y) else math.inf
        return x if _is_odd_int(y) else 0.0
    if math.isinf(y):
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else math.inf
    if math.isinf(x):
        if x < 0:
            return pow(1 / x, -y)
        return 0.0 if y < 0 else math.inf
    if y == 0.5:
        return math.sqrt(x) if x >= 0 else math.nan
    if y == -0.5:
        return 1 / math.sqrt(x) if x >= 0 else math.nan
    yf, yi = math.modf(abs(y))
    if yf != 0 and x < 0:
        return math.nan
    if yi >= 2.0**63:
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else math.inf
    a1, ae = 1.0, 0
    if yf != 0:
        if yf > 0.5:
            yf -= 1
            yi += 1
        a1 = exp(yf * log(x))
    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if xe < -(1 << 12) or xe > (1 << 12):
            ae += xe
            break
        if i & 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    return _ldexp(a1, ae)


def atan2(y: float, x: float) -> float:
    """Go's math.Atan2 (atan2.go): Atan(y/x) moved into the quadrant of (x, y)."""
    if y != y or x != x:
        return math.nan
    if y == 0:
        return math.copysign(0.0, y) if x >= 0 and math.copysign(1, x) > 0 else math.copysign(PI, y)
    if x == 0:
        return math.copysign(PI / 2, y)
    if math.isinf(x):
        if x > 0:
            return math.copysign(PI / 4, y) if math.isinf(y) else math.copysign(0.0, y)
        return math.copysign(2.356194490192345, y) if math.isinf(y) else math.copysign(PI, y)
    if math.isinf(y):
        return math.copysign(PI / 2, y)
    q = atan(y / x)
    if x < 0:
        return q + PI if q <= 0 else q - PI
    return q
