"""Index entries decode back to the values they were encoded from.

``decode`` is the inverse of ``encode_tuple`` for every JSON value: strings holding 0x00
(escaped in the entry), object names among them, nested arrays and objects, and numbers
(integral ones come back as ints, as N1QL does not tell 1 from 1.0). Numbers are remembered
by their bytes; a number the bytes cannot give back exactly raises ``Inexact`` every time.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.sqlpp.index_keys import Inexact, decode, encode, encode_tuple
from catalog.sqlpp.values import MISSING

texts = st.text(alphabet=st.sampled_from(["a", "é", "\x00", "\xff", "z", "😀", " "]), max_size=6)
numbers = st.one_of(
    st.integers(-(2**53) + 1, 2**53 - 1),
    # Integral doubles past 2^53 are Inexact (below).
    st.floats(allow_nan=False).filter(lambda f: not (f.is_integer() and abs(f) >= 2**53)),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=12,
)


def _as_read(v: object) -> object:
    """The value as an entry gives it back: integral numbers as ints, -0.0 as 0."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_as_read(x) for x in v]
    if isinstance(v, dict):
        return {k: _as_read(x) for k, x in v.items()}
    return v


@given(st.lists(values, min_size=1, max_size=4))
def test_every_json_value_decodes_to_itself(vals: list[object]) -> None:
    entry = encode_tuple(vals)
    assert decode(entry) == [_as_read(v) for v in vals]
    assert decode(entry) == decode(entry)  # again, with its numbers remembered
    assert decode(entry, 1) == [_as_read(vals[0])]


def test_missing_binary_nan_and_escaped_names_decode() -> None:
    entry = encode_tuple([MISSING, b"\x00a\x00", math.nan, {"a\x00b": 1, "": [True]}])
    got = decode(entry)
    assert got[0] is MISSING
    assert got[1] == b"\x00a\x00"
    assert math.isnan(got[2])
    assert got[3] == {"a\x00b": 1, "": [True]}


def test_an_integer_past_2_53_raises_inexact_each_time() -> None:
    entry = encode(2**60 + 1)
    for _ in range(2):  # not remembered as the neighbouring double
        with pytest.raises(Inexact):
            decode(entry)
    assert decode(encode(2**52)) == [2**52]


def test_bytes_that_are_no_entry_are_refused() -> None:
    with pytest.raises(ValueError, match="not an index entry"):
        decode(b"\x0a")
