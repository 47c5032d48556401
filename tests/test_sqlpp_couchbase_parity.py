"""Differences the cbq-engine suite found, fixed: each answer as Couchbase's engine gave it."""

from __future__ import annotations

import json

import pytest

from catalog.sqlpp import SqlppSyntaxError, execute


def test_integral_results_are_ints_as_couchbase_writes_them():
    rows = execute(
        "SELECT 1.0 AS a, SUM(x) AS s, AVG(x) AS v, 1e21 AS b, 2.5 AS c FROM [1.0, 3.0] x"
    )
    assert json.dumps(rows) == '[{"a": 1, "s": 4, "v": 2, "b": 1e+21, "c": 2.5}]'


def test_a_missing_raw_value_is_a_null_row():
    assert execute("SELECT RAW MISSING") == [None]
    assert execute("SELECT (SELECT RAW d.x FROM [{}, {'x': 1}] d) AS r") == [{"r": [None, 1]}]


def test_array_star_turns_an_array_of_objects_into_an_object_of_arrays():
    rows = execute(
        "SELECT ARRAY_STAR([{'b': 1, 'a': 2}, {'a': 3}, 5]) AS x, ARRAY_STAR('A') AS y,"
        " ARRAY_STAR([1]) AS z"
    )
    assert rows == [{"x": {"a": [2, 3, None], "b": [1, None, None]}, "y": None, "z": {}}]


@pytest.mark.parametrize("statement", ["SELECT MB(1)", "SELECT LOWER()", "SELECT ABS(1, 2)"])
def test_unknown_functions_and_wrong_argument_counts_are_syntax_errors(statement):
    with pytest.raises(SqlppSyntaxError):
        execute(statement)
