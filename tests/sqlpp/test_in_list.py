"""``x IN list``: a list that comes again row after row (a parameter, a constant) is keyed
once and looked up; every answer must be the one the item-by-item comparison gives.

The first evaluation of a list compares item by item (Couchbase's Equals); the following
ones use the keys. Values are drawn where keys could go wrong: 1 and 1.0 and true, integers
and floats past 2^53 (which share a double), NaN and infinities, strings that look like
numbers, NULL, and nested arrays and objects.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.sqlpp import execute

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**53, 2**53 + 1, 2**60, 2**60 + 1, -(2**60) - 1, 10**30]),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, 2.0**53, 2.0**60, 1e30, math.nan, math.inf]),
    st.sampled_from(["", "a", "1", "true", "null"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(
    st.sampled_from(["x", "y"]), scalars, max_size=1))  # fmt: skip


@settings(max_examples=400, derandomize=True)
@given(v=values, items=st.lists(values, max_size=8))
def test_a_keyed_list_answers_as_item_by_item_comparison(v, items):
    for op in ("IN", "NOT IN"):
        statement = f"SELECT RAW ($v {op} $c) FROM [1, 2, 3, 4] AS r"
        first, *keyed = execute(statement, {"v": v, "c": items})
        # A new list object on every row: always compared item by item.
        each = [execute(f"SELECT RAW ($v {op} $c)", {"v": v, "c": list(items)})[0]]
        assert keyed == [first] * 3 == each * 3, (v, items, op)


def test_keys_do_not_mix_types_or_doubles():
    def rows(v, items):
        return execute("SELECT RAW ($v IN $c) FROM [1, 2, 3] AS r", {"v": v, "c": items})

    assert rows(1, [1.0, "x"]) == [True] * 3
    assert rows(True, [1, "true"]) == [False] * 3
    assert rows(2**60 + 1, [2**60]) == [False] * 3
    assert rows(2.0**60, [2**60 + 1]) == [False] * 3
    assert rows("1", [1, None]) == [None] * 3
    assert rows(math.nan, [math.nan]) == rows(math.nan, [math.nan])[:1] * 3


def test_a_parameter_list_is_keyed_once_for_every_row(monkeypatch):
    from catalog.sqlpp import compiler

    calls = []
    real = compiler._keyed
    monkeypatch.setattr(compiler, "_keyed", lambda items: calls.append(1) or real(items))
    rows = execute("SELECT RAW (r IN $c) FROM [1, 2, 3, 4, 5] AS r", {"c": [2, 4, "x"]})
    assert rows == [False, True, False, True, False]
    assert len(calls) == 1
    # A list built on every row is never keyed.
    execute("SELECT RAW (r IN [2, r]) FROM [1, 2, 3] AS r")
    assert len(calls) == 1
