"""A statement that reads a few fields of each document reads just those from the store.

The embedded store extracts the fields with SQLite's JSON functions instead of decoding every
document whole (``covering.read_paths``, ``QuerySource``). Each statement here runs twice on
the same store, reading fields and reading whole documents (``QuerySource.reads_paths``
off), over documents drawn by hypothesis with MISSING fields, NULLs, mixed types, nested
objects and arrays, odd field names, big integers and binary documents: the rows must be
the same.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.sqlpp import parse
from catalog.sqlpp.covering import read_paths
from catalog.store import embedded_query
from catalog.store.embedded import EmbeddedStore

KS = "ml.catalog.docs"
QC = "ml.catalog"

names = st.sampled_from(["a", "b", "k", "é", "a b", "a.b", 'q"t', "x\\y", "n"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, -0.0, 1e300, 2**70, -(2**64)]),
    st.sampled_from(["", "a", "é", "\n", '"', "\\u00e9", "x" * 30]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)),
    max_leaves=8,
)
docs = st.one_of(
    st.dictionaries(names, values, max_size=5),
    st.fixed_dictionaries(
        {},
        optional={
            "k": values,
            "n": st.integers(0, 5),
            "items": st.lists(values, max_size=3),
            "a": st.dictionaries(names, values, max_size=3),
        },
    ),
    st.just(b"\x00binary"),  # a binary document
    st.lists(scalars, max_size=2),  # not an object
)

STATEMENTS = [
    "SELECT d.k FROM docs d",
    "SELECT d.a.b, d.a.k AS ak, d.n FROM docs d WHERE d.n IS NOT MISSING",
    "SELECT RAW d.a FROM docs d WHERE d.a.b IS NULL OR d.a.b IS MISSING",
    "SELECT META(d).id, d.`a b`, d.`a.b`, d.`é` FROM docs d",
    'SELECT d.`q"t`, d.`x\\\\y` FROM docs d',  # names a SQLite JSON path cannot spell
    "SELECT k, n FROM docs d ORDER BY n, META(d).id",  # bare names: fields of the document
    "SELECT d.k, COUNT(*) AS c FROM docs d GROUP BY d.k ORDER BY d.k",
    "SELECT i, d.n FROM docs d UNNEST d.items i ORDER BY META(d).id",
    "SELECT RAW d.a FROM docs d WHERE ANY x IN d.items SATISFIES x = 1 END",
    "SELECT d.k, d.a FROM docs d WHERE d.n >= 2",  # served by the index ix_n, then fetched
    "SELECT d.k FROM docs d USE KEYS ['d001', 'd003', 'd001', 'nope']",
    "SELECT d.a.k FROM docs d WHERE META(d).id >= 'd002' ORDER BY META(d).id LIMIT 4",
    "SELECT d.a[0], d.items[1] FROM docs d",
    "SELECT d.a.*, d.n FROM docs d",
    "SELECT d FROM docs d",  # the whole document
    "SELECT d.* FROM docs d",
    "SELECT TYPE(d.k) AS t, d.n + 1 AS n1, LENGTH(d.items) AS len FROM docs d",
    "SELECT d.k FROM docs d LET v = d.n WHERE v > 1",
    "SELECT RAW [d.a.b, (SELECT RAW e.k FROM docs e USE KEYS META(d).id)] FROM docs d",
]


@functools.cache
def _store(path: str) -> EmbeddedStore:
    s = EmbeddedStore(Path(path) / "partial.sqlite3")
    s.create_index("CREATE INDEX ix_n ON docs(n)", QC)
    return s


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> EmbeddedStore:
    return _store(str(tmp_path_factory.mktemp("partial")))


def _both(store: EmbeddedStore, statement: str, monkeypatch: pytest.MonkeyPatch) -> tuple:
    fields = store.query(statement, None, QC)
    monkeypatch.setattr(embedded_query.QuerySource, "reads_paths", False)
    try:
        whole = store.query(statement, None, QC)
    finally:
        monkeypatch.setattr(embedded_query.QuerySource, "reads_paths", True)
    return fields, whole


@pytest.mark.parametrize("statement", STATEMENTS)
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(docs, max_size=12))
def test_reading_fields_gives_the_rows_of_reading_whole_documents(
    store, monkeypatch, statement, batch
):
    with store.batch():
        store.remove_many(KS, [k for k, _, _ in store.scan(KS)])
        store.upsert_many(KS, {f"d{i:03d}": d for i, d in enumerate(batch)})
    fields, whole = _both(store, statement, monkeypatch)
    if "ORDER BY" in statement:
        assert fields == whole
    else:
        assert sorted(map(repr, fields)) == sorted(map(repr, whole))


def _paths(statement: str) -> list[tuple[str, ...]] | None:
    s = parse(statement).body
    lets = {name for name, _ in s.let}  # in scope as FromPlan names them
    return read_paths(s, s.from_.alias, parse(statement).order or [], lets)


@pytest.mark.parametrize(
    "statement, paths",
    [
        ("SELECT d.k FROM docs d", [("k",)]),
        ("SELECT d.a.b, d.a FROM docs d WHERE d.a.c = 1", [("a",)]),
        ("SELECT d.a.b FROM docs d WHERE d.a.c = 1 ORDER BY d.n", [("n",), ("a", "b"), ("a", "c")]),
        ("SELECT META(d).id FROM docs d", []),
        ("SELECT k FROM docs d", [("k",)]),
        ("SELECT i FROM docs d UNNEST d.items i WHERE i.x = 1", [("items",)]),
        ("SELECT d.k FROM docs d LET v = d.n WHERE v > 1", [("k",), ("n",)]),
        ("SELECT ARRAY x FOR x IN d.xs END FROM docs d", [("xs",)]),
        ("SELECT d FROM docs d", None),
        ("SELECT * FROM docs d", None),
        ("SELECT d.* FROM docs d", None),
        ("SELECT META(d).cas FROM docs d", None),
        ("SELECT d.k, (SELECT RAW 1 FROM docs e) AS s FROM docs d", None),
        ("SELECT d.k FROM docs d JOIN docs e ON KEYS d.k", None),
        ("SELECT d.k, COUNT(*) FROM docs d GROUP BY d.k GROUP AS g", None),
        ('SELECT d.`q"t` FROM docs d', None),
        ("SELECT d.`x\\\\y` FROM docs d", None),
    ],
)
def test_the_fields_a_block_reads(statement, paths):
    found = _paths(statement)
    assert (sorted(found) if found is not None else None) == (
        sorted(paths) if paths is not None else None
    )


def test_a_scan_reads_the_fields_alone(store, monkeypatch):
    """The rows come from the fields SQLite extracts: no document is decoded whole."""
    with store.batch():
        store.remove_many(KS, [k for k, _, _ in store.scan(KS)])
        store.upsert_many(KS, {f"d{i:03d}": {"k": i, "big": list(range(50))} for i in range(20)})
    decoded: list[str] = []
    loads = embedded_query.loads

    def recording(text: str):
        decoded.append(text)
        return loads(text)

    monkeypatch.setattr(embedded_query, "loads", recording)
    rows = store.query("SELECT RAW d.k FROM docs d ORDER BY d.k", None, QC)
    assert rows == list(range(20))
    assert sorted(decoded, key=int) == [str(i) for i in range(20)]  # "k" of each, nothing else
