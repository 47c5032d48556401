"""Hypothesis against the SQL++ engine: whatever the text, only SqlppError comes out.

Random strings, random soups of the language's own tokens, and soups inside a real
SELECT skeleton, run by ``catalog.sqlpp.parse`` and ``catalog.sqlpp.execute`` over a few
in-memory documents with a short deadline. An engine bug that ``execute`` wraps as
"internal error while running the query" counts as a failure too: the wrapper keeps the
server up, but the engine should refuse bad input on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import sqlpp
from catalog.sqlpp import SqlppError

KEYWORDS = [
    "SELECT",
    "RAW",
    "VALUE",
    "ELEMENT",
    "DISTINCT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "ASC",
    "DESC",
    "LIMIT",
    "OFFSET",
    "AS",
    "UNNEST",
    "NEST",
    "JOIN",
    "LEFT",
    "INNER",
    "OUTER",
    "ON",
    "KEYS",
    "KEY",
    "USE",
    "ANY",
    "SOME",
    "EVERY",
    "IN",
    "WITHIN",
    "SATISFIES",
    "END",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "NOT",
    "AND",
    "OR",
    "IS",
    "NULL",
    "MISSING",
    "VALUED",
    "KNOWN",
    "LIKE",
    "BETWEEN",
    "EXISTS",
    "ARRAY",
    "FIRST",
    "OBJECT",
    "FOR",
    "LET",
    "LETTING",
    "HAVING",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "ALL",
    "TRUE",
    "FALSE",
    "INSERT",
    "DELETE",
    "UPDATE",
    "UPSERT",
    "MERGE",
    "CREATE",
    "DROP",
    "EXPLAIN",
    "WITH",
    "NULLS",
    "LAST",
]
FUNCTIONS = [
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "ARRAY_LENGTH",
    "ARRAY_AGG",
    "LOWER",
    "UPPER",
    "LENGTH",
    "SUBSTR",
    "CONTAINS",
    "TOSTRING",
    "TONUMBER",
    "ABS",
    "ROUND",
    "FLOOR",
    "META",
    "OBJECT_NAMES",
    "IFMISSING",
    "IFNULL",
    "TYPE",
    "REGEXP_LIKE",
    "DATE_ADD_STR",
    "ARRAY_CONTAINS",
    "ARRAY_RANGE",
    "REPEAT",
    "SPLIT",
    "POWER",
]
SYMBOLS = [
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "||",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    ";",
    "?",
    "$1",
    "$2",
    "$name",
]
NAMES = ["m", "a", "x", "models", "aliases", "`odd name`", "`x`i", "m.name", "m.tags", "m.n"]
LITERALS = ['"s"', "'q'", "0", "-1", "1.5e300", "9223372036854775808", '""', "1e-400", "0x1"]
TOKEN = st.sampled_from(KEYWORDS + [f + "(" for f in FUNCTIONS] + SYMBOLS + NAMES + LITERALS)
SOUP = st.lists(TOKEN, max_size=40).map(" ".join)
PARAMS = st.one_of(
    st.none(),
    st.lists(st.integers() | st.text(max_size=5), max_size=3),
    st.dictionaries(st.sampled_from(["name", "x", ""]), st.integers() | st.none(), max_size=2),
)

DOCS = {
    "ml.catalog.models": [
        ("m::1", {"name": "m", "version": 1, "tags": ["a", "b"], "n": 3, "x": {"y": [1, 2]}}),
        ("m::2", {"name": "m", "version": 2, "tags": [], "n": None, "x": "text"}),
        ("k::1", {"name": "k", "version": 1, "n": 1.5e308, "deep": [[[]]]}),
    ],
    "ml.catalog.aliases": [("m", {"name": "m", "aliases": {"latest": 2}})],
}


class Source:
    """The documents above, as the engine reads them from a store."""

    def keyspace_exists(self, keyspace: str) -> bool:
        return keyspace in DOCS

    def scan(self, keyspace: str) -> Iterator[tuple[str, Any, int]]:
        for key, value in DOCS.get(keyspace, []):
            yield key, value, 1

    def fetch(self, keyspace: str, keys: list[str]) -> list[tuple[str, Any, int]]:
        found = dict(DOCS.get(keyspace, []))
        return [(k, found[k], 1) for k in keys if isinstance(k, str) and k in found]


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def run(statement: str, params: Any = None) -> None:
    """Parse and execute; let only SqlppError out, and not the engine's 'internal error'."""
    try:
        sqlpp.parse(statement)
    except SqlppError as e:
        assert "internal error" not in str(e), (statement, str(e))
    try:
        sqlpp.execute(
            statement,
            params,
            "ml.catalog",
            source=Source(),
            read_only=True,
            deadline=time.monotonic() + 2,
        )
    except SqlppError as e:
        assert "internal error" not in str(e), (statement, str(e))


@FUZZ
@given(st.text(max_size=200))
def test_random_text_raises_only_sqlpp_errors(text):
    run(text)


@FUZZ
@given(SOUP)
def test_token_soups_raise_only_sqlpp_errors(soup):
    run(soup)


@FUZZ
@given(SOUP, SOUP, SOUP, PARAMS)
def test_soups_inside_a_select_raise_only_sqlpp_errors(projection, where, order, params):
    run(f"SELECT {projection} FROM models m WHERE {where} ORDER BY {order} LIMIT 5", params)


def _pair(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(inner, TOKEN, inner).map(lambda p: f"({p[0]} {p[1]} {p[2]})")


@FUZZ
@given(st.recursive(TOKEN, _pair, max_leaves=60), PARAMS)
def test_nested_soups_raise_only_sqlpp_errors(expression, params):
    run(f"SELECT {expression} FROM models m", params)


@FUZZ
@given(
    st.sampled_from(FUNCTIONS),
    st.lists(st.sampled_from(LITERALS + NAMES + ["[1, 2]", "{}", "NULL", "MISSING"]), max_size=4),
)
def test_functions_on_any_arguments_raise_only_sqlpp_errors(function, args):
    run(f"SELECT {function}({', '.join(args)}) AS v FROM models m")
