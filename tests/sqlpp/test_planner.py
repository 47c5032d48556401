"""The index-aware planner gives the rows of a full scan, for every index shape.

Documents are drawn by hypothesis with MISSING fields, NULLs, mixed types and arrays; each
statement runs twice on the same embedded store, through the index and with the indexes
switched off (``use_indexes=False``), and EXPLAIN must name the index it meant to use.
Index keys are bytes in N1QL collation order: checked against the engine's own ``collate``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.sqlpp.index_keys import encode
from catalog.sqlpp.values import MISSING, collate
from catalog.store.embedded import EmbeddedStore

KS = "ml.catalog.docs"
QC = "ml.catalog"
INDEXES = {
    "ix_k": "CREATE INDEX ix_k ON docs(k)",
    "ix_k_n": "CREATE INDEX ix_k_n ON docs(k, n)",
    "ix_tags": "CREATE INDEX ix_tags ON docs(DISTINCT ARRAY t FOR t IN tags END)",
    "ix_items": "CREATE INDEX ix_items ON docs(DISTINCT ARRAY i.f FOR i IN items END)",
    "ix_s": "CREATE INDEX ix_s ON docs(s)",
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.0, 1e20, 2**60, 2**60 + 1]),
    st.sampled_from(["", "a", "ab", "abc", "b", "B", "a\x00", "é", "a%", "d005", "d01", "d0%"]),
)  # fmt: skip
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(
    st.sampled_from(["x", "y"]), scalars, max_size=2))  # fmt: skip
docs = st.fixed_dictionaries(
    {},
    optional={
        "k": values,
        "n": values,
        "s": st.one_of(scalars, st.sampled_from(["abcd", "abd", "xyz", "ab%c"])),
        "tags": st.one_of(st.lists(scalars, max_size=4), scalars),
        "items": st.lists(st.fixed_dictionaries({}, optional={"f": scalars}), max_size=3),
    },
)

# (statement, the index EXPLAIN must name)
CASES = [
    ("SELECT RAW META(d).id FROM docs d WHERE d.k = $v", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k < $v", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k >= $v AND d.k <= $w", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k BETWEEN $v AND $w", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k > $v", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k IN [$v, $w, 2]", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k IS NULL", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k IS NOT NULL", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k IS VALUED", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k IS NOT MISSING", "ix_k"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.s LIKE 'ab%'", "ix_s"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.s LIKE 'a_c%'", "ix_s"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k = $v AND d.n > $w", "ix_k_n"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k = $v AND d.n = $w", "ix_k_n"),
    ("SELECT RAW META(d).id FROM docs d WHERE ANY t IN d.tags SATISFIES t = $v END", "ix_tags"),
    ("SELECT RAW META(d).id FROM docs d WHERE ANY x IN d.tags SATISFIES x > $v END", "ix_tags"),
    ("SELECT RAW META(d).id FROM docs d WHERE $v IN d.tags", "ix_tags"),
    ("SELECT RAW META(d).id FROM docs d WHERE ANY i IN d.items SATISFIES i.f = $v END", "ix_items"),
    ("SELECT RAW META(d).id FROM docs d USE INDEX (ix_k) WHERE d.k = $v AND d.n = $w", "ix_k"),
    ("SELECT d.k, d.n FROM docs d WHERE d.k = $v ORDER BY d.n DESC LIMIT 3", "ix_k_n"),
    (
        "SELECT d.k, d.n FROM docs d WHERE d.k IS NOT MISSING ORDER BY d.k, d.n LIMIT 4 OFFSET 1",
        "ix_k_n",
    ),
    ("SELECT d.k, d.n FROM docs d WHERE d.k > $v ORDER BY d.k DESC, d.n DESC LIMIT 5", "ix_k_n"),
    ("SELECT RAW d.s FROM docs d WHERE d.s >= $v ORDER BY d.s", "ix_s"),
    ("SELECT COUNT(*) AS c, MIN(d.n) AS lo FROM docs d WHERE d.k = $v", "ix_k_n"),  # covers
    ("SELECT DISTINCT RAW d.k FROM docs d WHERE d.k >= $v ORDER BY d.k", "ix_k"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE d.k = $v", "ix_k"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE d.k = $v AND d.n = $w", "ix_k_n"),
    ("SELECT RAW COUNT(*) FROM docs d WHERE ANY t IN d.tags SATISFIES t = $v END", "ix_tags"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE d.k IS NULL", "ix_k"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE d.k IS VALUED", "ix_k"),
    (
        "SELECT RAW META(d).id FROM docs d WHERE META(d).id > $v ORDER BY META(d).id LIMIT 5",
        "#primary",
    ),
    ("SELECT RAW META(d).id FROM docs d WHERE META(d).id BETWEEN $v AND $w", "#primary"),
    ("SELECT RAW META(d).id FROM docs d WHERE META(d).id LIKE $v", "#primary"),
    ("SELECT RAW d.k FROM docs d WHERE META(d).id IN [$v, 'd001', 'd003']", "#primary"),
    ("SELECT COUNT(*) AS c FROM docs d", "#primary"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE META(d).id = $v", "#primary"),
    ("SELECT RAW [META(d).id, d.k] FROM docs d ORDER BY META(d).id DESC LIMIT 3", "#primary"),
    ("SELECT d.k, COUNT(*) AS c FROM docs d WHERE d.k IN [$v, $w, 2] GROUP BY d.k", "ix_k"),
    ("SELECT COUNT(*) AS c, d.k AS kv FROM docs d WHERE d.k = $v GROUP BY d.k", "ix_k"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE d.k IN [$v, $w, 'a']", "ix_k"),
    (
        "SELECT d.k AS g, COUNT(*) AS c FROM docs d WHERE d.k IN [$v, $w, 'b', 1] GROUP BY d.k"
        " ORDER BY COUNT(*) DESC, d.k",
        "ix_k",
    ),
    (
        "SELECT d.k, COUNT(*) AS c FROM docs d WHERE d.k IN [$v, $w] AND d.n = 1 GROUP BY d.k",
        "ix_k_n",
    ),
    # inclusive ranges: with string bounds the spans are WHERE's rows (not evaluated again)
    ("SELECT RAW META(d).id FROM docs d WHERE d.s BETWEEN $v AND 'b'", "ix_s"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.s >= 'a' AND d.s <= $w", "ix_s"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.s >= $v", "ix_s"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.s <= $v", "ix_s"),
    ("SELECT RAW META(d).id FROM docs d WHERE d.k = $v AND d.n BETWEEN $w AND 'b'", "ix_k_n"),
    ("SELECT COUNT(*) AS c FROM docs d WHERE d.s BETWEEN $v AND $w", "ix_s"),
    ("SELECT RAW d.s FROM docs d WHERE d.s >= $v AND d.s <= 'b' ORDER BY d.s DESC", "ix_s"),
]
# Statements that read documents (the others are covered by their index, or COUNT(*) is
# answered by counting entries: IndexCountScan2).
FETCHED = {CASES[i][0] for i in (14, 15, 16, 17, 18, 27, 33, 36)}
COUNTED = {CASES[i][0] for i in (25, 26, 28, 29, 34, 35, 39, 47)}
# GROUP BY the leading key with COUNT(*): each group counted in the index (index_group_aggs).
GROUPED = {CASES[i][0] for i in (37, 38, 40)}


@functools.cache
def _store(path: str) -> EmbeddedStore:
    s = EmbeddedStore(Path(path) / "planner.sqlite3")
    for statement in INDEXES.values():
        s.create_index(statement, QC)
    return s


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> EmbeddedStore:
    return _store(str(tmp_path_factory.mktemp("planner")))


def _load(store: EmbeddedStore, batch: list[dict]) -> None:
    with store.batch():
        store.remove_many(KS, [k for k, _, _ in store.scan(KS)])
        store.upsert_many(KS, {f"d{i:03d}": d for i, d in enumerate(batch)})


@pytest.mark.parametrize("statement, index", CASES)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(docs, max_size=25), v=scalars, w=scalars)
def test_the_index_gives_the_rows_of_a_full_scan(store, statement, index, batch, v, w):
    _load(store, batch)
    params = {"v": v, "w": w}
    steps = store.query("EXPLAIN " + statement, params, QC)[0]["plan"]["~children"]
    scan = "IndexCountScan2" if statement in COUNTED else "IndexScan3"
    if statement == CASES[36][0]:  # ordered by key, no predicate: the whole primary index
        scan = "PrimaryScan3"
    assert (steps[0]["#operator"], steps[0].get("index")) == (scan, index)
    assert ("index_group_aggs" in steps[0]) == (statement in GROUPED)
    fetched = steps[1]["#operator"] == "Fetch"
    assert fetched == (statement in FETCHED)
    with_index = store.query(statement, params, QC)
    scanned = store.query(statement, params, QC, use_indexes=False)
    if "ORDER BY" in statement:
        assert with_index == scanned
    else:
        assert sorted(map(repr, with_index)) == sorted(map(repr, scanned))
    assert store.check_indexes() == []


def test_ranges_the_spans_do_not_answer_exactly_are_evaluated_again(store):
    """A strict bound is read included, an integer past 2^53 shares its neighbour's bytes and
    a boolean or number bound is not a string: WHERE then runs on every entry read."""
    big = 2**60
    _load(store, [{"k": big + 1}, {"k": big}, {"k": "a"}, {"k": "ab"}, {"k": "b"}, {"k": True},
                  {"k": 5}, {"k": None}, {"k": ["a"]}, {}])  # fmt: skip
    for where, want in [
        (f"d.k <= {big}", ["d001", "d005", "d006"]),
        (f"d.k BETWEEN 5 AND {big}", ["d001", "d006"]),
        ("d.k > 'a' AND d.k <= 'b'", ["d003", "d004"]),
        ("d.k >= 'a' AND d.k < 'b'", ["d002", "d003"]),
        ("d.k BETWEEN true AND 'a'", ["d000", "d001", "d002", "d005", "d006"]),
        ("d.k >= 'b'", ["d004", "d008"]),
        ("d.k <= 'a'", ["d000", "d001", "d002", "d005", "d006"]),
    ]:
        q = f"SELECT RAW META(d).id FROM docs d WHERE {where} ORDER BY META(d).id"
        assert store.query(q, None, QC) == want, where
        assert store.query(q, None, QC, use_indexes=False) == want, where
        count = f"SELECT RAW COUNT(*) FROM docs d WHERE {where}"
        assert store.query(count, None, QC) == [len(want)], where


def test_a_long_in_list_gives_the_rows_of_a_scan_in_index_order_both_ways(store):
    """40 values: their spans are read 1, 2, 4, 8, 16 and then 9 at a time, each statement
    joining the entries with a table of its spans; rows, order, LIMIT and OFFSET as a scan's."""
    batch = [{"k": i % 45, "n": i} for i in range(120)] + [
        {"k": f"s{i}", "n": -i} for i in range(5)
    ]
    _load(store, batch)
    params = {"vs": [*range(0, 76, 2), "s1", "s3"]}  # 40 values, some held by no document
    for q, index in (
        ("SELECT RAW META(d).id FROM docs d WHERE d.k IN $vs", "ix_k"),
        ("SELECT d.k, d.n FROM docs d WHERE d.k IN $vs ORDER BY d.k, d.n", "ix_k_n"),
        ("SELECT d.k, d.n FROM docs d WHERE d.k IN $vs ORDER BY d.k DESC, d.n DESC"
         " LIMIT 30 OFFSET 5", "ix_k_n"),
        ("SELECT RAW d.n FROM docs d WHERE d.k IN $vs ORDER BY d.k DESC, d.n DESC LIMIT 1",
         "ix_k_n"),
    ):  # fmt: skip
        steps = store.query("EXPLAIN " + q, params, QC)[0]["plan"]["~children"]
        assert steps[0].get("index") == index
        with_index = store.query(q, params, QC)
        scanned = store.query(q, params, QC, use_indexes=False)
        assert with_index, q
        if "ORDER BY" in q:
            assert with_index == scanned, q
        else:
            assert sorted(with_index) == sorted(scanned), q


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT RAW META(d).id FROM docs d WHERE d.k != 1",
        "SELECT RAW META(d).id FROM docs d WHERE d.k = 1 OR d.n = 2",
        "SELECT RAW META(d).id FROM docs d WHERE d.n = 1",
        "SELECT RAW META(d).id FROM docs d WHERE d.k IS MISSING",
        "SELECT RAW META(d).id FROM docs d WHERE d.k = d.n",
        "SELECT RAW META(d).id FROM docs d USE INDEX (`#primary`) WHERE d.k = 1",
        "SELECT RAW META(d).id FROM docs d WHERE EVERY t IN d.tags SATISFIES t = 1 END",
    ],
)
def test_predicates_no_index_can_serve_read_the_whole_keyspace(store, statement):
    _load(store, [{"k": 1, "n": 2, "tags": [1]}, {"k": 2, "n": 1}, {}])
    plan = store.query("EXPLAIN " + statement, None, QC)[0]["plan"]["~children"][0]
    assert plan["#operator"] == "PrimaryScan3"
    rows = store.query(statement, None, QC)
    assert rows == store.query(statement, None, QC, use_indexes=False)


def test_order_by_on_index_keys_is_taken_from_the_index_and_limit_stops_the_scan(store):
    _load(store, [{"k": "a", "n": i} for i in range(50)])
    q = "SELECT RAW d.n FROM docs d WHERE d.k = 'a' ORDER BY d.n DESC LIMIT 3"
    steps = [c["#operator"] for c in store.query("EXPLAIN " + q, None, QC)[0]["plan"]["~children"]]
    assert steps == ["IndexScan3", "Parallel", "Limit", "FinalProject"]  # covered: no Fetch
    assert store.query(q, None, QC) == [49, 48, 47]
    other = "SELECT RAW d.n FROM docs d WHERE d.k = 'a' ORDER BY d.n + 0 DESC LIMIT 3"
    steps = [
        c["#operator"] for c in store.query("EXPLAIN " + other, None, QC)[0]["plan"]["~children"]
    ]
    assert "Order" in steps and store.query(other, None, QC) == [49, 48, 47]


@pytest.mark.parametrize(
    "statement, decoded",
    [
        # WHERE answered exactly by the spans is not evaluated again: nothing to decode
        ("SELECT RAW META(d).id FROM docs d USE INDEX (ix_k_n) WHERE d.k = 'a'", 0),
        ("SELECT RAW META(d).id FROM docs d USE INDEX (ix_k_n) WHERE d.k BETWEEN 'a' AND 'b'", 0),
        ("SELECT RAW META(d).id FROM docs d USE INDEX (ix_k_n) WHERE d.k >= 'a' AND d.k > 'a'", 1),
        ("SELECT RAW META(d).id FROM docs d USE INDEX (ix_k_n) WHERE d.k = 'a' ORDER BY d.k", 1),
        ("SELECT d.k FROM docs d USE INDEX (ix_k_n) WHERE d.k >= 'a' AND d.k < 'c'", 1),
        ("SELECT RAW d.n FROM docs d WHERE d.k = 'a'", 2),
        ("SELECT RAW META(d).id FROM docs d WHERE d.k = 'a' AND d.n.x = 1", 2),
        ("SELECT d.k FROM docs d WHERE d.k = 'b' ORDER BY d.n DESC", 2),
    ],
)
def test_a_covering_scan_decodes_the_keys_up_to_the_last_it_reads(
    store, monkeypatch, statement, decoded
):
    """ix_k_n holds (k, n): a block reading k alone leaves n out of its entries' decoding
    (ix_k, with fewer keys, would serve it: the hint names ix_k_n), a block whose WHERE the
    spans answer exactly and that reads no key decodes nothing,
    and gives the rows of a full scan (n's values include one the index cannot give back
    exactly, an integer past 2^53, which makes a decoded entry fetch its document)."""
    from catalog.sqlpp import from_terms

    _load(store, [{"k": "a", "n": {"x": 1}}, {"k": "a", "n": 2**60 + 1}, {"k": "b", "n": [1]},
                  {"k": "b", "n": 3}, {"k": "a"}, {"n": 1}])  # fmt: skip
    counts: list[int] = []
    decode = from_terms.decode

    def recording(data: bytes, count: int | None = None) -> list:
        out = decode(data, count)
        counts.append(len(out))
        return out

    monkeypatch.setattr(from_terms, "decode", recording)
    steps = store.query("EXPLAIN " + statement, None, QC)[0]["plan"]["~children"]
    assert steps[0].get("index") == "ix_k_n" and steps[1]["#operator"] != "Fetch"
    rows = store.query(statement, None, QC)
    assert set(counts) == ({decoded} if decoded else set())
    assert rows
    scanned = store.query(statement, None, QC, use_indexes=False)
    assert sorted(map(repr, rows)) == sorted(map(repr, scanned))  # ties have no order


def _has_big_int(v) -> bool:
    if type(v) is int:
        return abs(v) >= 2**53
    if type(v) is list:
        return any(_has_big_int(x) for x in v)
    if type(v) is dict:
        return any(_has_big_int(x) for x in v.values())
    return False


@settings(max_examples=300)
@given(a=values, b=values)
def test_index_key_bytes_sort_in_n1ql_collation_order(a, b):
    c = collate(a, b)
    ea, eb = encode(a), encode(b)
    # Integers past 2^53 share the bytes of their nearest double: equal bytes, never the
    # wrong order (spans are widened by it, and WHERE decides).
    same_double = ea == eb and _has_big_int(a) and _has_big_int(b)
    if c < 0:
        assert ea < eb or same_double
    elif c > 0:
        assert ea > eb or same_double
    else:
        assert ea == eb


def test_missing_sorts_below_everything_and_nan_below_every_number():
    order = [MISSING, None, False, True, float("nan"), -1e308, -1, 0, 1.5, 2**60, "", "a", [],
             [None], {}, {"a": 1}]  # fmt: skip
    assert [encode(v) for v in order] == sorted(encode(v) for v in order)


def test_an_index_including_missing_serves_order_by_without_a_predicate(store):
    store.create_index("CREATE INDEX ix_all ON docs(n INCLUDE MISSING)", QC)
    try:
        _load(store, [{"n": i % 7} for i in range(30)] + [{"k": 1}, {"n": None}, {"n": "z"}])
        for q in (
            "SELECT RAW [META(d).id, d.n] FROM docs d ORDER BY d.n DESC LIMIT 6",
            "SELECT RAW [META(d).id, d.n] FROM docs d ORDER BY d.n LIMIT 4 OFFSET 1",
        ):
            plan = store.query("EXPLAIN " + q, None, QC)[0]["plan"]["~children"][0]
            assert plan.get("index") == "ix_all"
            assert store.query(q, None, QC) == store.query(q, None, QC, use_indexes=False)
        unordered = "SELECT RAW META(d).id FROM docs d LIMIT 3"
        plan = store.query("EXPLAIN " + unordered, None, QC)[0]["plan"]["~children"][0]
        assert plan["#operator"] == "PrimaryScan3"
    finally:
        store.drop_index(KS, "ix_all")
