"""SELECT semantics of the embedded SQL++ engine over a small in-memory source."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.sqlpp import SqlppError, execute


class DictSource:
    """An in-memory Source: {canonical keyspace: {key: value}}."""

    def __init__(self, data: dict[str, dict[str, Any]]) -> None:
        self.data = data
        self.scans = 0

    def keyspace_exists(self, keyspace: str) -> bool:
        return keyspace in self.data

    def scan(self, keyspace: str):
        self.scans += 1
        for k, v in self.data[keyspace].items():
            yield k, v, 7

    def fetch(self, keyspace: str, keys: list[str]):
        d = self.data[keyspace]
        return [(k, d[k], 7) for k in keys if k in d]


PEOPLE = {
    "p1": {"name": "ann", "age": 31, "city": "oslo", "tags": ["a", "b"], "kids": [{"n": "x"}]},
    "p2": {"name": "bob", "age": 25, "city": "rome", "tags": ["b"], "kids": []},
    "p3": {"name": "cid", "age": None, "city": "oslo", "tags": []},
    "p4": {"name": "dan", "city": "rome", "tags": ["c"], "kids": [{"n": "y"}, {"n": "z"}]},
}
ORDERS = {
    "o1": {"who": "p1", "total": 10, "lines": [{"sku": "tea", "qty": 2}, {"sku": "jam", "qty": 1}]},
    "o2": {"who": "p1", "total": 5, "lines": [{"sku": "tea", "qty": 1}]},
    "o3": {"who": "p2", "total": 7, "lines": []},
    "o9": {"who": "zz", "total": 1},
}


@pytest.fixture
def src() -> DictSource:
    return DictSource({
        "shop._default._default": PEOPLE,
        "shop.sales.orders": ORDERS,
        "shop.sales.people": PEOPLE,
        "bin._default._default": {"b1": b"\x00\x01", "j1": {"x": 1}},
    })  # fmt: skip


def q(src: DictSource, stmt: str, params: Any = None, qc: str | None = None) -> list[Any]:
    return execute(stmt, params, qc, src)


def test_select_star_wraps_each_document_in_its_alias(src):
    rows = q(src, "SELECT * FROM shop p WHERE p.name = 'ann'")
    assert rows == [{"p": PEOPLE["p1"]}]


def test_alias_star_and_unqualified_fields(src):
    assert q(src, "SELECT p.* FROM shop p WHERE name = 'bob'") == [PEOPLE["p2"]]
    assert q(src, "SELECT name FROM shop WHERE age > 30") == [{"name": "ann"}]


def test_missing_fields_are_omitted_and_nulls_kept(src):
    rows = q(src, "SELECT name, age FROM shop ORDER BY name")
    assert rows[2] == {"name": "cid", "age": None}
    assert rows[3] == {"name": "dan"}


def test_unnamed_terms_get_dollar_numbers(src):
    assert q(src, "SELECT 1 + 1, 'x', p.name FROM shop p WHERE p.name = 'ann'") == [
        {"$1": 2, "$2": "x", "name": "ann"}
    ]


def test_raw_element_value_and_distinct(src):
    assert q(src, "SELECT RAW name FROM shop ORDER BY name") == ["ann", "bob", "cid", "dan"]
    assert q(src, "SELECT ELEMENT city FROM shop WHERE name = 'ann'") == ["oslo"]
    assert q(src, "SELECT DISTINCT VALUE city FROM shop ORDER BY city") == ["oslo", "rome"]
    assert q(src, "SELECT DISTINCT city FROM shop ORDER BY city DESC") == [
        {"city": "rome"}, {"city": "oslo"}]  # fmt: skip


def test_raw_gives_null_for_missing_values(src):
    # as cbq-engine (Couchbase 8.0) answers: a MISSING raw value is a null row
    assert sorted(q(src, "SELECT RAW age FROM shop"), key=str) == [25, 31, None, None]


def test_query_context_resolves_bare_names(src):
    rows = q(src, "SELECT RAW o.total FROM orders o ORDER BY o.total", qc="shop.sales")
    assert rows == [1, 5, 7, 10]
    assert q(src, "SELECT RAW COUNT(*) FROM people", qc="default:shop.sales") == [4]
    assert q(src, "SELECT RAW COUNT(*) FROM default:shop.sales.orders") == [4]
    assert q(src, "SELECT RAW COUNT(*) FROM shop") == [4]
    with pytest.raises(SqlppError, match="Keyspace not found"):
        q(src, "SELECT * FROM orders")


def test_meta_id_and_cas(src):
    rows = q(src, "SELECT META(p).id, META().cas FROM shop p WHERE p.name = 'bob'")
    assert rows == [{"id": "p2", "cas": 7}]
    assert q(src, "SELECT RAW META().id FROM shop ORDER BY META().id LIMIT 2") == ["p1", "p2"]


def test_binary_documents_have_missing_values_but_meta(src):
    assert q(src, "SELECT RAW META(b).id FROM bin b ORDER BY META(b).id") == ["b1", "j1"]
    assert q(src, "SELECT RAW b FROM bin b") == [None, {"x": 1}]
    assert q(src, "SELECT META(b).type FROM bin b WHERE META(b).id = 'b1'") == [
        {"type": "base64"}]  # fmt: skip


def test_use_keys_fetches_only_those_documents(src):
    assert q(src, "SELECT RAW name FROM shop USE KEYS ['p2', 'nope', 'p1']") == ["bob", "ann"]
    assert q(src, "SELECT RAW name FROM shop USE KEYS 'p3'") == ["cid"]
    assert src.scans == 0


def test_positional_and_named_parameters(src):
    assert q(src, "SELECT RAW name FROM shop WHERE age > $1 AND city = $2", [20, "rome"]) == [
        "bob"]  # fmt: skip
    assert q(src, "SELECT RAW name FROM shop WHERE city = $c ORDER BY name", {"c": "rome"}) == [
        "bob", "dan"]  # fmt: skip
    assert q(src, "SELECT RAW $x", {"$x": [1]}) == [[1]]
    assert q(src, "SELECT RAW [?, ?]", ["a", "b"]) == [["a", "b"]]


def test_three_valued_logic_and_missing_propagation():
    rows = execute(
        "SELECT MISSING AND false AS a, MISSING AND true AS b, NULL AND true AS c, "
        "NULL OR true AS d, NULL OR false AS e, NOT NULL AS f, NOT MISSING AS g, "
        "MISSING = 1 AS h, NULL = 1 AS i, 1 + MISSING AS j, 1 + NULL AS k, 1 + 'a' AS l"
    )
    assert rows == [{"a": False, "c": None, "d": True, "e": None, "f": None, "i": None,
                     "k": None, "l": None}]  # fmt: skip


def test_is_null_missing_valued_known():
    rows = execute(
        "SELECT RAW [x IS NULL, x IS NOT NULL, x IS MISSING, x IS NOT MISSING, x IS VALUED, "
        "x IS NOT VALUED, x IS KNOWN, x IS UNKNOWN] FROM [1, null] AS x"
    )
    assert rows == [[False, True, False, True, True, False, True, False],
                    [True, False, False, True, False, True, False, True]]  # fmt: skip
    rows = execute("SELECT RAW [o.x IS NULL, o.x IS MISSING, o.x IS NOT VALUED] FROM [{}] o")
    assert rows == [[None, True, True]]


def test_collation_order_across_types():
    rows = execute(
        "SELECT RAW v.x FROM [{'x': 'b'}, {'x': [1]}, {'x': null}, {'x': true}, {'x': 2}, "
        "{'x': {'a': 1}}, {}, {'x': false}, {'x': 1.5}, {'x': 'a'}, {'x': []}] v ORDER BY v.x"
    )
    assert rows == [None, None, False, True, 1.5, 2, "a", "b", [], [1], {"a": 1}]
    assert execute("SELECT RAW [1 < 'a', 'a' < [], [] < {}, null < false, [1, 2] < [1, 3]]") == [
        [True, True, True, None, True]]  # fmt: skip


def test_order_by_desc_and_nulls_first_last():
    data = "[{'v': 2}, {'v': null}, {}, {'v': 1}]"
    assert execute(f"SELECT RAW d.v FROM {data} d ORDER BY d.v DESC") == [2, 1, None, None]
    assert execute(f"SELECT RAW d.v FROM {data} d ORDER BY d.v NULLS LAST") == [1, 2, None, None]
    assert execute(f"SELECT RAW d.v FROM {data} d ORDER BY d.v DESC NULLS FIRST") == [
        None,
        None,
        2,
        1,
    ]


def test_limit_offset(src):
    assert q(src, "SELECT RAW name FROM shop ORDER BY name LIMIT 2 OFFSET 1") == ["bob", "cid"]
    assert q(src, "SELECT RAW name FROM shop ORDER BY name OFFSET 3") == ["dan"]
    assert q(src, "SELECT RAW name FROM shop LIMIT 0") == []
    assert q(src, "SELECT RAW name FROM shop ORDER BY name LIMIT $n", {"n": 1}) == ["ann"]


def test_limit_without_order_by_stops_the_scan_early():
    seen = []

    class Counting(DictSource):
        def scan(self, keyspace: str):
            for i in range(1_000_000):
                seen.append(i)
                yield f"k{i}", {"i": i}, 1

    rows = execute("SELECT RAW d.i FROM b d WHERE d.i % 2 = 0 LIMIT 3", source=Counting(
        {"b._default._default": {}}))  # fmt: skip
    assert rows == [0, 2, 4]
    assert len(seen) < 10


def test_group_by_aggregates_having_letting(src):
    rows = q(src, "SELECT city, COUNT(*) AS n, ARRAY_AGG(name) AS who, MIN(age) AS lo "
                  "FROM shop GROUP BY city LETTING big = COUNT(*) > 1 HAVING big "
                  "ORDER BY city")  # fmt: skip
    assert rows == [{"city": "oslo", "n": 2, "who": ["ann", "cid"], "lo": 31},
                    {"city": "rome", "n": 2, "who": ["bob", "dan"], "lo": 25}]  # fmt: skip
    assert q(src, "SELECT COUNT(*) AS n FROM shop WHERE name = 'nobody'") == [{"n": 0}]
    assert q(src, "SELECT city FROM shop WHERE name = 'x' GROUP BY city") == []


def test_aggregate_functions():
    rows = execute(
        "SELECT COUNT(*) c, COUNT(v.x) cx, COUNTN(v.x) cn, SUM(v.x) s, AVG(v.x) a, MIN(v.x) mi, "
        "MAX(v.x) ma, MEDIAN(v.x) me, COUNT(DISTINCT v.x) cd, SUM(DISTINCT v.x) sd, "
        "VARIANCE(v.x) var, STDDEV(v.x) sdv, VARIANCE_POP(v.x) vp, ARRAY_AGG(DISTINCT v.x) ad "
        "FROM [{'x': 1}, {'x': 2}, {'x': 2}, {'x': 5}, {'x': null}, {}, {'x': 'z'}] v"
    )
    r = rows[0]
    assert (r["c"], r["cx"], r["cn"], r["s"], r["a"]) == (7, 5, 4, 10, 2.5)
    assert (r["mi"], r["ma"], r["me"], r["cd"], r["sd"]) == (1, "z", 2, 4, 8)
    assert r["var"] == pytest.approx(3.0)
    assert r["sdv"] == pytest.approx(3.0**0.5)
    assert r["vp"] == pytest.approx(2.25)
    assert r["ad"] == [None, 1, 2, 5, "z"]
    assert execute("SELECT SUM(v) s, AVG(v) a, ARRAY_AGG(v) g FROM [] v") == [
        {"s": None, "a": None, "g": None}]  # fmt: skip


def test_aggregate_filter():
    rows = execute("SELECT COUNT(*) FILTER (WHERE v > 1) AS big, SUM(v) FILTER (WHERE v < 3) AS s "
                   "FROM [1, 2, 3] v")  # fmt: skip
    assert rows == [{"big": 2, "s": 3}]


def test_group_as_and_group_alias():
    rows = execute("SELECT k, ARRAY x.v FOR x IN g END AS vs FROM [{'k': 1, 'v': 'a'}, "
                   "{'k': 1, 'v': 'b'}] v GROUP BY v.k AS k GROUP AS g")  # fmt: skip
    assert rows == [{"k": 1, "vs": [{"k": 1, "v": "a"}, {"k": 1, "v": "b"}]}]


def test_let_and_where(src):
    rows = q(
        src, "SELECT name, n FROM shop LET n = ARRAY_LENGTH(tags) WHERE n >= 1 ORDER BY n, name"
    )
    assert rows == [{"name": "bob", "n": 1}, {"name": "dan", "n": 1}, {"name": "ann", "n": 2}]


def test_unnest_inner_and_left_outer(src):
    rows = q(src, "SELECT p.name, k.n FROM shop p UNNEST p.kids k ORDER BY k.n")
    assert rows == [{"name": "ann", "n": "x"}, {"name": "dan", "n": "y"}, {"name": "dan", "n": "z"}]
    rows = q(src, "SELECT p.name, k.n FROM shop p LEFT OUTER UNNEST p.kids k ORDER BY p.name, k.n")
    assert [r["name"] for r in rows] == ["ann", "bob", "cid", "dan", "dan"]
    rows = q(src, "SELECT RAW t FROM shop p FLATTEN p.tags t ORDER BY t")
    assert rows == ["a", "b", "b", "c"]


def test_join_on_keys_inner_and_left(src):
    rows = q(src, "SELECT o.total, p.name FROM shop.sales.orders o JOIN shop p ON KEYS o.who "
                  "ORDER BY o.total")  # fmt: skip
    assert rows == [{"total": 5, "name": "ann"}, {"total": 7, "name": "bob"},
                    {"total": 10, "name": "ann"}]  # fmt: skip
    rows = q(src, "SELECT o.total, p.name FROM shop.sales.orders o LEFT JOIN shop p ON KEYS "
                  "o.who ORDER BY o.total")  # fmt: skip
    assert rows[0] == {"total": 1}


def test_ansi_join_and_nest(src):
    rows = q(src, "SELECT p.name, o.total FROM shop p JOIN shop.sales.orders o ON o.who = "
                  "META(p).id AND o.total > 5 ORDER BY o.total")  # fmt: skip
    assert rows == [{"name": "bob", "total": 7}, {"name": "ann", "total": 10}]
    rows = q(src, "SELECT p.name, o.total FROM shop p LEFT JOIN shop.sales.orders o ON o.who = "
                  "META(p).id ORDER BY p.name, o.total")  # fmt: skip
    assert [r.get("total") for r in rows] == [5, 10, 7, None, None]
    rows = q(src, "SELECT p.name, ARRAY x.total FOR x IN os END AS t FROM shop p "
                  "NEST shop.sales.orders os ON os.who = META(p).id ORDER BY p.name")  # fmt: skip
    assert rows == [{"name": "ann", "t": [10, 5]}, {"name": "bob", "t": [7]}]
    rows = q(src, "SELECT RAW [a, b] FROM [1, 2] a, [3] b ORDER BY a")
    assert rows == [[1, 3], [2, 3]]


def test_subqueries_in_from_and_correlated(src):
    rows = q(src, "SELECT s.n FROM (SELECT COUNT(*) AS n FROM shop) s")
    assert rows == [{"n": 4}]
    rows = q(src, "SELECT o.total, (SELECT RAW SUM(l.qty) FROM o.lines l)[0] AS q "
                  "FROM shop.sales.orders o ORDER BY o.total")  # fmt: skip
    assert rows == [{"total": 1, "q": None}, {"total": 5, "q": 1}, {"total": 7, "q": None},
                    {"total": 10, "q": 3}]  # fmt: skip
    rows = q(src, "SELECT RAW p.name FROM shop p WHERE EXISTS (SELECT 1 FROM "
                  "shop.sales.orders o WHERE o.who = META(p).id) ORDER BY p.name")  # fmt: skip
    assert rows == ["ann", "bob"]
    rows = q(src, "SELECT RAW p.name FROM shop p WHERE META(p).id IN (SELECT RAW o.who FROM "
                  "shop.sales.orders o WHERE o.total >= 7) ORDER BY p.name")  # fmt: skip
    assert rows == ["ann", "bob"]


def test_with_clauses():
    rows = execute("WITH xs AS ([1, 2, 3]), big AS (SELECT RAW x FROM xs x WHERE x > 1) "
                   "SELECT RAW ARRAY_LENGTH(big)")  # fmt: skip
    assert rows == [2]
    assert execute("WITH t AS ([{'a': 1}]) SELECT u.a FROM t u") == [{"a": 1}]


def test_set_operators():
    a, b = "SELECT RAW x FROM [1, 2, 2, 3] x", "SELECT RAW y FROM [2, 4] y"
    assert sorted(execute(f"{a} UNION {b}")) == [1, 2, 3, 4]
    assert sorted(execute(f"{a} UNION ALL {b}")) == [1, 2, 2, 2, 3, 4]
    assert execute(f"{a} INTERSECT {b}") == [2]
    assert execute(f"{a} INTERSECT ALL {b}") == [2]
    assert sorted(execute(f"{a} EXCEPT {b}")) == [1, 3]
    assert sorted(execute(f"{a} EXCEPT ALL {b}")) == [1, 2, 3]
    rows = execute("(SELECT x.a FROM [{'a': 3}] x) UNION (SELECT y.a FROM [{'a': 1}] y) ORDER BY a")
    assert rows == [{"a": 1}, {"a": 3}]


def test_paths_indexes_and_slices():
    doc = "{'a': {'b': [10, 20, 30, 40]}, 'Mixed': 1}"
    row = execute(f"SELECT RAW [d.a.b[0], d.a.b[-1], d.a.b[9], d.a.b[1:3], d.a.b[2:], "
                  f"d.a.b[:1], d.a['b'][1], d.`mixed`i] FROM [{doc}] d")[0]  # fmt: skip
    assert row == [10, 40, None, [20, 30], [30, 40], [10], 20, 1]
    assert execute("SELECT RAW [{'x': 1}, {'x': 2}][*].x") == [[1, 2]]


def test_operators():
    row = execute(
        "SELECT RAW [7 / 2, 7 % 3, -(2), 'a' || 'b' || 'c', 2 * 3 + 1, 5 - 2 - 1, "
        "1 BETWEEN 0 AND 2, 3 NOT BETWEEN 0 AND 2, 2 IN [1, 2], 5 NOT IN [1], "
        "3 WITHIN {'a': [1, {'b': 3}]}, 1 != 2, 1 <> 1, 2 >= 2, 'x' == 'x']"
    )[0]
    assert row == [3.5, 1, -2, "abc", 7, 2, True, True, True, True, True, True, False, True, True]


def test_like_with_escape():
    row = execute("SELECT RAW ['abc' LIKE 'a%', 'abc' LIKE 'a_c', 'abc' NOT LIKE 'b%', "
                  "'a%c' LIKE 'a!%c' ESCAPE '!', 'abc' LIKE 'a!%c' ESCAPE '!', "
                  "'a.c' LIKE 'a.c', 'abc' LIKE 'a.c', 1 LIKE 'a']")[0]  # fmt: skip
    assert row == [True, True, True, True, False, True, False, None]


def test_case_expressions():
    assert execute("SELECT RAW CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' END") == ["b"]
    assert execute("SELECT RAW CASE 3 WHEN 1 THEN 'a' ELSE 'z' END") == ["z"]
    assert execute("SELECT RAW CASE WHEN false THEN 1 END") == [None]


def test_quantified_expressions():
    row = execute("SELECT RAW [ANY x IN [1, 5] SATISFIES x > 4 END, SOME x IN [1] SATISFIES "
                  "x > 4 END, EVERY x IN [5, 6] SATISFIES x > 4 END, EVERY x IN [] SATISFIES "
                  "false END, ANY AND EVERY x IN [] SATISFIES true END, ANY AND EVERY x IN [5] "
                  "SATISFIES x = 5 END, ANY i:x IN ['a', 'b'] SATISFIES i = 1 AND x = 'b' END, "
                  "ANY x WITHIN {'a': {'b': 7}} SATISFIES x = 7 END]")[0]  # fmt: skip
    assert row == [True, False, True, True, False, True, True, True]


def test_comprehensions():
    row = execute("SELECT RAW [ARRAY x * 2 FOR x IN [1, 2, 3] WHEN x > 1 END, "
                  "FIRST x FOR x IN [1, 2, 3] WHEN x > 1 END, "
                  "OBJECT 'k' || TOSTRING(x) : x FOR x IN [1, 2] END, "
                  "ARRAY [i, x] FOR i:x IN ['a', 'b'] END, "
                  "ARRAY x + y FOR x IN [1, 2], y IN [10, 20] END]")[0]  # fmt: skip
    assert row == [[4, 6], 2, {"k1": 1, "k2": 2}, [[0, "a"], [1, "b"]], [11, 22]]


def test_constructors_drop_missing_members():
    assert execute("SELECT RAW {'a': 1, 'b': MISSING, 'c': null}") == [{"a": 1, "c": None}]
    assert execute("SELECT RAW [1, MISSING]") == [[1, None]]
    assert execute("SELECT RAW {v.a} FROM [{'a': 1}] v") == [{"a": 1}]


def test_exists_and_select_without_from():
    assert execute("SELECT RAW [EXISTS [1], EXISTS [], EXISTS (SELECT RAW 1)]") == [
        [True, False, True]]  # fmt: skip
    assert execute("SELECT 1 AS one") == [{"one": 1}]


def test_projection_aliases_visible_in_order_by(src):
    rows = q(src, "SELECT name AS n, LENGTH(name) * -1 AS k FROM shop ORDER BY k, n LIMIT 2")
    assert rows == [{"n": "ann", "k": -3}, {"n": "bob", "k": -3}]


def test_results_do_not_copy_documents(src):
    rows = q(src, "SELECT RAW p FROM shop p USE KEYS 'p1'")
    assert rows[0] is PEOPLE["p1"]


def test_non_finite_numbers_are_spelled_out():
    assert execute("SELECT RAW [NaN(), PosInf(), NegInf()]") == [["NaN", "+Infinity", "-Infinity"]]


def test_subqueries_without_from_read_the_current_row():
    rows = execute("SELECT RAW (SELECT RAW a)[0] FROM [{'a': 1}, {'a': 2}] x")
    assert rows == [1, 2]


def test_uncorrelated_subqueries_run_once(src):
    rows = q(src, "SELECT RAW p.name FROM shop p WHERE p.name IN (SELECT RAW x.name FROM "
                  "shop.sales.people x WHERE x.city = 'rome') ORDER BY p.name")  # fmt: skip
    assert rows == ["bob", "dan"]
    assert src.scans == 2


def test_group_as_is_readable_from_a_correlated_subquery():
    rows = execute("SELECT k, (SELECT RAW h.v.n FROM g h) AS ns FROM [{'k': 1, 'n': 'a'}, "
                   "{'k': 2, 'n': 'b'}] v GROUP BY v.k AS k GROUP AS g ORDER BY k")  # fmt: skip
    assert rows == [{"k": 1, "ns": ["a"]}, {"k": 2, "ns": ["b"]}]
