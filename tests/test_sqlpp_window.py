"""Window functions: values checked by hand against Couchbase's documented semantics."""

from __future__ import annotations

import pytest

from catalog.sqlpp import SqlppError, execute

DATA = (
    "[{'g': 'a', 'x': 3}, {'g': 'a', 'x': 1}, {'g': 'a', 'x': 2}, {'g': 'a', 'x': 2},"
    " {'g': 'b', 'x': 5}, {'g': 'b', 'x': null}]"
)


def rows(select: str, order: str = "d.g, d.x, r") -> list[dict]:
    return execute(f"SELECT d.g, d.x, {select} FROM {DATA} d ORDER BY {order}")


def col(select: str, order: str = "d.g, d.x, r") -> list:
    return [r.get("r") for r in rows(select + " AS r", order)]


def test_ranking():
    w = "OVER (PARTITION BY d.g ORDER BY d.x)"
    assert col(f"ROW_NUMBER() {w}") == [1, 2, 3, 4, 1, 2]
    assert col(f"RANK() {w}") == [1, 2, 2, 4, 1, 2]
    assert col(f"DENSE_RANK() {w}") == [1, 2, 2, 3, 1, 2]
    assert col(f"PERCENT_RANK() {w}") == [0, 1 / 3, 1 / 3, 1, 0, 1]
    assert col(f"CUME_DIST() {w}") == [0.25, 0.75, 0.75, 1, 0.5, 1]
    assert col(f"NTILE(3) {w}") == [1, 1, 2, 3, 1, 2]


def test_navigation_and_values():
    w = "OVER (PARTITION BY d.g ORDER BY d.x)"
    assert col(f"LAG(d.x) {w}") == [None, 1, 2, 2, None, None]
    assert col(f"LEAD(d.x, 2, -1) {w}") == [2, -1, 3, -1, -1, -1]  # ties ordered by r
    assert col(f"FIRST_VALUE(d.x) {w}") == [1, 1, 1, 1, None, None]
    full = "OVER (PARTITION BY d.g ORDER BY d.x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    assert col(f"LAST_VALUE(d.x) {full}") == [3, 3, 3, 3, 5, 5]
    assert col(f"NTH_VALUE(d.x, 2) FROM LAST {full}") == [2, 2, 2, 2, None, None]
    assert col("RATIO_TO_REPORT(d.x) OVER (PARTITION BY d.g)") == [
        1 / 8,
        2 / 8,
        2 / 8,
        3 / 8,
        None,
        1,
    ]


def test_aggregates_over_frames():
    assert col("SUM(d.x) OVER (PARTITION BY d.g)") == [8, 8, 8, 8, 5, 5]
    # default frame with ORDER BY: up to the current row and its peers
    assert col("SUM(d.x) OVER (PARTITION BY d.g ORDER BY d.x)") == [1, 5, 5, 8, None, 5]
    rows1 = "OVER (PARTITION BY d.g ORDER BY d.x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"
    assert col(f"SUM(d.x) {rows1}") == [1, 3, 4, 5, None, 5]
    groups = "OVER (PARTITION BY d.g ORDER BY d.x GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW)"
    assert col(f"COUNT(*) {groups}") == [1, 3, 3, 3, 1, 2]
    rng = "OVER (PARTITION BY d.g ORDER BY d.x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING)"
    assert col(f"SUM(d.x) {rng}") == [5, 8, 8, 7, None, 5]
    excl = "OVER (PARTITION BY d.g ORDER BY d.x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE TIES)"
    assert col(f"COUNT(*) {excl}") == [4, 3, 3, 4, 2, 2]


def test_named_windows_and_grouped_rows():
    got = execute(
        f"SELECT d.g, RANK() OVER w AS r FROM {DATA} d WHERE d.x IS NOT NULL"
        " WINDOW w AS (ORDER BY d.g DESC) ORDER BY d.g, r"
    )
    assert [r["r"] for r in got] == [2, 2, 2, 2, 1]
    got = execute(
        f"SELECT d.g, COUNT(*) AS n, SUM(COUNT(*)) OVER () AS total,"
        f" RANK() OVER (ORDER BY COUNT(*) DESC) AS r FROM {DATA} d GROUP BY d.g ORDER BY d.g"
    )
    assert got == [{"g": "a", "n": 4, "total": 6, "r": 1}, {"g": "b", "n": 2, "total": 6, "r": 2}]


def test_window_errors():
    with pytest.raises(SqlppError, match="OVER"):
        execute("SELECT ROW_NUMBER() AS r FROM [1] d")
    with pytest.raises(SqlppError, match="not defined"):
        execute("SELECT RANK() OVER nowhere AS r FROM [1] d")
    with pytest.raises(SqlppError, match="ORDER BY"):
        execute("SELECT RANK() OVER () AS r FROM [1] d")
