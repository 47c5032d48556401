"""The number functions give cbq-engine's float64 answers to the last bit.

Couchbase computes SIN, COS, TAN, ASIN, ACOS, ATAN, ATAN2, EXP, LN, LOG, POWER, DEGREES and
RADIANS with Go's math package, which rounds differently from the C library for about one
argument in five (``catalog/sqlpp/gomath.py``). The differential corpus compares floats to
15 significant digits; this test compares the bits: each function over 300 arguments drawn
with a fixed seed (small and huge, multiples of pi, subnormal results, overflow), one
statement per function on both engines.
"""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest

from .compare import run_embedded

SEED = 20261130
ONE_ARG = ["SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "EXP", "LN", "LOG", "DEGREES", "RADIANS"]


def _arguments(rng: random.Random, n: int) -> list[float]:
    xs: list[float] = []
    for _ in range(n):
        k = rng.random()
        if k < 0.25:
            xs.append(rng.uniform(-10, 10))
        elif k < 0.45:
            xs.append(rng.uniform(-1, 1))
        elif k < 0.55:
            xs.append(rng.randint(-20, 20) * math.pi / rng.choice([1, 2, 3, 4, 6]))
        elif k < 0.70:
            xs.append(math.copysign(10 ** rng.uniform(-300, 300), rng.random() - 0.5))
        elif k < 0.80:
            xs.append(rng.uniform(1e8, 1e12))  # past 2**29: Payne-Hanek reduction
        elif k < 0.90:
            xs.append(rng.uniform(-760, 720))  # EXP near overflow and into subnormals
        else:
            xs.append(float(rng.randint(-1000, 1000)))
    return xs


def _bits(v: Any) -> Any:
    """A value as the exact float64 it stands for (Couchbase writes ±Infinity and NaN as text)."""
    if isinstance(v, str):
        v = {"+Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}.get(v, v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        f = float(v)
        return "nan" if f != f else struct.pack("<d", f + 0.0).hex()  # -0 == +0
    return v


def _compare(reference: Any, calls: list[str]) -> list[str]:
    statement = f"SELECT RAW [{', '.join(calls)}]"
    ours = run_embedded(reference.store, statement)
    theirs = reference.cbq.query(statement)
    assert ours.error is None, ours.error
    assert not theirs.failed, theirs.message
    mine, couchbase = ours.rows[0], theirs.rows[0]
    return [
        f"{call}: cbq-engine {b!r}, embedded {a!r}"
        for call, a, b in zip(calls, mine, couchbase, strict=True)
        if _bits(a) != _bits(b)
    ]


@pytest.mark.parametrize("name", ONE_ARG)
def test_one_argument_functions_match_cbq_engine_bit_for_bit(reference, name):
    xs = _arguments(random.Random(f"{SEED}-{name}"), 300)
    differences = _compare(reference, [f"{name}({x!r})" for x in xs])
    assert differences == []


@pytest.mark.parametrize("name", ["POWER", "ATAN2"])
def test_two_argument_functions_match_cbq_engine_bit_for_bit(reference, name):
    rng = random.Random(f"{SEED}-{name}")
    pairs: list[tuple[float, float]] = []
    for _ in range(300):
        k = rng.random()
        if name == "ATAN2" or k < 0.3:
            pairs.append((rng.choice(_arguments(rng, 1)), rng.choice(_arguments(rng, 1))))
        elif k < 0.55:
            pairs.append((rng.uniform(0, 20), rng.uniform(-5, 5)))
        elif k < 0.75:
            pairs.append((rng.uniform(-10, 10), float(rng.randint(-12, 12))))
        else:
            pairs.append((10 ** rng.uniform(-5, 5), rng.uniform(-300, 300)))
    differences = _compare(reference, [f"{name}({a!r}, {b!r})" for a, b in pairs])
    assert differences == []


def test_the_conformance_cases_at_multiples_of_pi(reference):
    calls = ["COS(PI()/2)", "SIN(PI())", "TAN(PI()/2)", "RADIANS(PI())", "DEGREES(PI())"]
    assert _compare(reference, calls) == []
    rows = run_embedded(reference.store, f"SELECT RAW [{', '.join(calls)}]").rows
    assert rows == [[6.123233995736757e-17, 1.2246467991473515e-16, 16331239353195392,
                     0.05483113556160754, 180]]  # fmt: skip
