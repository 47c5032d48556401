"""Comparisons of two strings or two numbers are made with Python's operators: the premise,
checked over hypothesis values, is that N1QL collation orders those exactly as Python does."""

from __future__ import annotations

import math
import operator

from hypothesis import given
from hypothesis import strategies as st

from catalog.sqlpp.compiler import _plain_scalars
from catalog.sqlpp.values import collate, compare

numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.sampled_from([2**53, 2**53 + 1, 9007199254740992.0, -0.0, 0.0, math.inf, -math.inf]),
)
strings = st.text(st.characters(codec="utf-8"), max_size=6)
OPS = {operator.lt: lambda c: c < 0, operator.le: lambda c: c <= 0,
       operator.gt: lambda c: c > 0, operator.ge: lambda c: c >= 0}  # fmt: skip


@given(st.one_of(st.tuples(numbers, numbers, numbers), st.tuples(strings, strings, strings)))
def test_python_order_is_n1ql_collation_for_plain_scalars(values):
    a, b, c = values
    assert _plain_scalars(a, b, c)
    for direct, test in OPS.items():
        assert direct(a, b) == test(compare(a, b)) == test(collate(a, b))
    assert (b <= a <= c) == (collate(a, b) >= 0 and collate(a, c) <= 0)


def test_other_values_are_not_plain():
    assert not _plain_scalars(1, "1")
    assert not _plain_scalars(True, 1)
    assert not _plain_scalars(1, math.nan)
    assert not _plain_scalars(None, None)
    assert not _plain_scalars([1], [2])
    assert not _plain_scalars("a", None)
