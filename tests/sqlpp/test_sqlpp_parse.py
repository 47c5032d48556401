"""Parsing, statement guards and error reporting of the embedded SQL++ engine."""

from __future__ import annotations

import time

import pytest

from catalog.sqlpp import SqlppError, execute, parse
from catalog.sqlpp import ast as A
from catalog.sqlpp.errors import SqlppNotSupported, SqlppReadOnly, SqlppSyntaxError


class EmptySource:
    """A source with one empty keyspace."""

    def keyspace_exists(self, keyspace: str) -> bool:
        return keyspace == "b._default._default"

    def scan(self, keyspace: str):
        return iter(())

    def fetch(self, keyspace: str, keys: list[str]):
        return []


def test_it_parses_a_select_into_a_tree():
    q = parse("SELECT a.x AS y FROM b a WHERE a.n > 1 ORDER BY y DESC LIMIT 2")
    assert isinstance(q, A.Select)
    assert isinstance(q.body, A.SubSelect)
    assert q.body.terms[0].alias == "y"
    assert q.order[0].desc is True
    assert isinstance(q.limit, A.Lit)


def test_it_reports_syntax_errors_with_line_and_column():
    with pytest.raises(SqlppSyntaxError) as e:
        parse("SELECT a,\n  FROM b")
    assert e.value.line == 2
    assert e.value.column == 3
    assert "line 2, column 3" in str(e.value)


@pytest.mark.parametrize(
    "stmt",
    ["SELECT", "SELECT 'abc", "SELECT (1", "SELECT a FROM", "SELECT 1 +", "SELECT `x",
     "SELECT 1 garbage garbage", "SELECT {1: 2}", "SELECT a IS FOO"],
)  # fmt: skip
def test_it_rejects_malformed_statements(stmt):
    with pytest.raises(SqlppError):
        execute(stmt, source=EmptySource())


def test_it_refuses_dml_in_read_only_mode_before_running():
    for stmt in ["INSERT INTO b VALUES ('k', {})", "DELETE FROM b", "UPSERT INTO b (KEY, VALUE) "
                 "VALUES ('k', {})", "UPDATE b SET x = 1", "CREATE INDEX i ON b(x)",
                 "DROP INDEX b.i", "MERGE INTO b USING b c ON KEY c.x WHEN MATCHED THEN DELETE",
                 "GRANT query_select ON b TO u", "BUILD INDEX ON b(i)", "ALTER INDEX b.i"]:  # fmt: skip
        with pytest.raises(SqlppReadOnly, match="read-only"):
            execute(stmt, source=EmptySource(), read_only=True)


def test_it_says_dml_is_not_supported():
    with pytest.raises(SqlppNotSupported, match="not supported"):
        execute("DELETE FROM b", source=EmptySource())


def test_unknown_functions_are_named_in_the_error():
    with pytest.raises(SqlppSyntaxError, match="invalid function NO_SUCH_FN"):
        execute("SELECT NO_SUCH_FN(1)", source=EmptySource())


def test_wrong_argument_counts_are_errors():
    with pytest.raises(SqlppError, match="LOWER"):
        execute("SELECT LOWER('a', 'b')")


def test_deep_nesting_is_an_error_not_a_crash():
    for stmt in ["SELECT " + "(" * 10_000 + "1" + ")" * 10_000,
                 "SELECT " + "[" * 10_000 + "]" * 10_000,
                 "SELECT " + "- " * 10_000 + "1",
                 "SELECT " + "NOT " * 5_000 + "true",
                 "SELECT " + "+".join(["1"] * 20_000)]:  # fmt: skip
        with pytest.raises(SqlppError, match="nested too deeply"):
            execute(stmt)


def test_a_long_flat_statement_still_runs():
    stmt = "SELECT RAW " + " AND ".join(["true"] * 10_000)
    assert len(stmt) > 50_000
    assert execute(stmt) == [True]


def test_a_huge_statement_is_refused():
    with pytest.raises(SqlppError):
        execute("SELECT '" + "x" * 2_000_000 + "'")


def test_the_deadline_stops_a_long_query():
    class Endless(EmptySource):
        def scan(self, keyspace: str):
            i = 0
            while True:
                i += 1
                yield f"k{i}", {"n": i}, 1

    with pytest.raises(SqlppError, match="timed out"):
        execute("SELECT COUNT(*) FROM b", source=Endless(), deadline=time.monotonic() + 0.2)


def test_a_missing_keyspace_is_an_error():
    with pytest.raises(SqlppError, match="Keyspace not found"):
        execute("SELECT * FROM nope", source=EmptySource())


def test_missing_parameters_are_errors():
    with pytest.raises(SqlppError, match=r"\$x"):
        execute("SELECT $x", params={"y": 1})
    with pytest.raises(SqlppError, match=r"\$2"):
        execute("SELECT $1 + $2", params=[1])


def test_comments_and_trailing_semicolons_are_accepted():
    assert execute("SELECT RAW 1 -- one\n + /* two */ 2;") == [3]
