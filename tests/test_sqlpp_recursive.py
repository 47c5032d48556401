"""WITH RECURSIVE: levels, UNION vs UNION ALL, CYCLE ... RESTRICT, OPTIONS and refusals."""

from __future__ import annotations

import pytest

from catalog.sqlpp import SqlppError, execute

EDGES = "[{'f': 0, 't': 1}, {'f': 1, 't': 2}, {'f': 2, 't': 0}, {'f': 1, 't': 3}]"


def test_counting_up_stops_when_the_step_gives_nothing():
    q = "WITH RECURSIVE r AS (SELECT 1 AS n UNION SELECT r.n + 1 AS n FROM r WHERE r.n < 4)"
    assert execute(q + " SELECT RAW r.n FROM r") == [1, 2, 3, 4]


def test_union_all_needs_a_level_limit_and_union_stops_at_a_fixed_point():
    q = "WITH RECURSIVE r AS (SELECT 0 AS n UNION ALL SELECT (r.n + 1) % 3 AS n FROM r)"
    assert execute(q + ' OPTIONS {"levels": 4} SELECT RAW r.n FROM r') == [0, 1, 2, 0, 1]
    q = "WITH RECURSIVE r AS (SELECT 0 AS n UNION SELECT (r.n + 1) % 3 AS n FROM r)"
    assert execute(q + " SELECT RAW r.n FROM r") == [0, 1, 2]
    assert execute(q + ' OPTIONS {"documents": 2} SELECT RAW r.n FROM r') == [0, 1]


def test_a_graph_walk_with_a_cycle_clause():
    q = (
        "WITH RECURSIVE w AS (SELECT 0 AS f, 1 AS t, 0 AS lvl UNION"
        f" SELECT e.f, e.t, w.lvl + 1 AS lvl FROM {EDGES} e JOIN w ON w.t = e.f)"
        " CYCLE f, t RESTRICT SELECT w.f, w.t, w.lvl FROM w ORDER BY w.lvl, w.t"
    )
    assert execute(q) == [
        {"f": 0, "t": 1, "lvl": 0},
        {"f": 1, "t": 2, "lvl": 1},
        {"f": 1, "t": 3, "lvl": 1},
        {"f": 2, "t": 0, "lvl": 2},
    ]


def test_lineage_from_a_version_to_its_first_ancestor():
    versions = "[{'v': 1}, {'v': 2, 'parent': 1}, {'v': 3, 'parent': 2}, {'v': 4, 'parent': 3}]"
    q = (
        f"WITH RECURSIVE chain AS (SELECT m.v, m.parent, 0 AS depth FROM {versions} m"
        f" WHERE m.v = 4 UNION SELECT p.v, p.parent, chain.depth + 1 AS depth"
        f" FROM {versions} p JOIN chain ON p.v = chain.parent)"
        " SELECT RAW chain.v FROM chain ORDER BY chain.depth"
    )
    assert execute(q) == [4, 3, 2, 1]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION SELECT r.n FROM r ORDER BY r.n LIMIT 2)"
            " SELECT * FROM r",
            "Order/Limit/Offset",
        ),
        ("WITH RECURSIVE r AS (SELECT MIN(x) FROM [1] x) SELECT * FROM r", "Aggregates"),
        ("WITH RECURSIVE r AS (SELECT x FROM [1] x GROUP BY x) SELECT * FROM r", "Grouping"),
        (
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION SELECT r.n FROM r LEFT JOIN [1] x ON TRUE)"
            " SELECT * FROM r",
            "OUTER JOIN",
        ),
        (
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION SELECT r.n FROM r) OPTIONS {'abc': 1}"
            " SELECT * FROM r",
            "Invalid config option abc",
        ),
        ("WITH r AS (SELECT 1 AS n UNION SELECT r.n FROM r) SELECT * FROM r", "RECURSIVE"),
        ("WITH RECURSIVE r AS (SELECT r.n FROM r UNION SELECT 1 AS n) SELECT * FROM r", "Anchor"),
    ],  # fmt: skip
)
def test_refused_as_couchbase_refuses(statement, message):
    with pytest.raises(SqlppError, match=message):
        execute(statement)
