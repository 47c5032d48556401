"""Secondary indexes of the embedded store: kept in step with every write, in the file.

Every test checks the entries against the documents with ``check_indexes`` (which recomputes
every entry from the stored documents) and reads through the index with a selective query
whose EXPLAIN names it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from catalog.store import InvalidArgument, NotFound
from catalog.store.embedded import EmbeddedStore
from tests.clock import ShiftedClock, shift_store_clock

KS = "ml.catalog.models"
QC = "ml.catalog"
NAME_INDEX = "CREATE INDEX ix_name ON models(name, version)"
OPS_INDEX = "CREATE INDEX ix_ops ON models(DISTINCT ARRAY t FOR t IN summary.opTypes END)"


def doc(name: str, version: int, *ops: str) -> dict:
    return {"name": name, "version": version, "summary": {"opTypes": list(ops)}}


def names(store: EmbeddedStore, name: str) -> list[str]:
    q = "SELECT RAW META(m).id FROM models m WHERE m.name = $n ORDER BY m.version"
    return store.query(q, {"n": name}, QC)


def with_op(store: EmbeddedStore, op: str) -> list[str]:
    q = "SELECT RAW META(m).id FROM models m WHERE ANY t IN m.summary.opTypes SATISFIES t = $op END"
    return sorted(store.query(q, {"op": op}, QC))


def first_operator(store: EmbeddedStore, statement: str) -> dict:
    return store.query("EXPLAIN " + statement, {"n": "a", "op": "Add"}, QC)[0]["plan"]["~children"][
        0
    ]


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    s = EmbeddedStore(tmp_path / "c.sqlite3")
    s.ensure_keyspace(KS)
    s.create_index(NAME_INDEX, QC)
    s.create_index(OPS_INDEX, QC)
    return s


def test_each_kind_of_write_updates_the_entries_in_its_own_transaction(store):
    store.insert(KS, "a::1", doc("a", 1, "Add"))
    store.upsert(KS, "a::2", doc("a", 2, "Mul"))
    store.upsert_many(KS, {"b::1": doc("b", 1, "Add", "Mul"), "a::3": doc("a", 3)})
    assert names(store, "a") == ["a::1", "a::2", "a::3"]
    assert with_op(store, "Add") == ["a::1", "b::1"]
    store.replace(KS, "a::1", doc("z", 1, "Relu"))
    assert names(store, "a") == ["a::2", "a::3"] and names(store, "z") == ["a::1"]
    assert with_op(store, "Add") == ["b::1"] and with_op(store, "Relu") == ["a::1"]
    store.remove(KS, "b::1")
    store.remove_many(KS, ["a::2", "nosuch"])
    assert with_op(store, "Mul") == [] and names(store, "a") == ["a::3"]
    store.upsert(KS, "a::4", b"binary documents have no entries")
    assert names(store, "a") == ["a::3"]
    assert store.check_indexes() == []
    assert (
        first_operator(store, "SELECT RAW m FROM models m WHERE m.name = $n")["index"] == "ix_name"
    )


def test_a_reader_inside_a_batch_sees_its_own_writes_through_the_index(store):
    with store.batch():
        store.upsert(KS, "a::1", doc("a", 1, "Add"))
        assert names(store, "a") == ["a::1"]
        assert with_op(store, "Add") == ["a::1"]
    assert store.check_indexes() == []


def test_a_rolled_back_batch_leaves_no_entries(store):
    with pytest.raises(RuntimeError), store.batch():
        store.upsert(KS, "a::1", doc("a", 1, "Add"))
        raise RuntimeError("abort")
    assert names(store, "a") == [] and store.check_indexes() == []


@pytest.fixture
def clock(monkeypatch) -> ShiftedClock:
    return shift_store_clock(monkeypatch)


def test_expired_documents_leave_the_index_reads_and_purge_removes_their_entries(store, clock):
    store.upsert(KS, "a::1", doc("a", 1, "Add"), expiry=0.2)
    store.upsert(KS, "a::2", doc("a", 2, "Add"))
    assert names(store, "a") == ["a::1", "a::2"]
    clock.offset = 0.3
    assert names(store, "a") == ["a::2"]
    assert with_op(store, "Add") == ["a::2"]
    assert store.purge_expired() == 1
    assert store.check_indexes() == []
    assert store.list_indexes()[0]["entries"] == 1


def test_creating_an_index_builds_it_from_the_documents_and_reports_progress(tmp_path):
    s = EmbeddedStore(tmp_path / "c.sqlite3")
    s.upsert_many(KS, {f"m::{i}": doc("m", i, "Add" if i % 2 else "Mul") for i in range(2500)})
    seen: list[tuple[int, int]] = []
    s.create_index(OPS_INDEX, QC, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert len(with_op(s, "Add")) == 1250 and s.check_indexes() == []


def test_indexes_survive_a_restart_and_serve_other_processes(store, tmp_path):
    store.upsert(KS, "a::1", doc("a", 1, "Add"))
    store.close()
    again = EmbeddedStore(tmp_path / "c.sqlite3")
    assert {i["name"] for i in again.list_indexes()} == {"ix_name", "ix_ops"}
    assert names(again, "a") == ["a::1"]
    assert (
        first_operator(again, "SELECT RAW m FROM models m WHERE m.name = $n")["index"] == "ix_name"
    )
    other = EmbeddedStore(tmp_path / "c.sqlite3")  # a second handle sees a new index at once
    other.create_index("CREATE INDEX ix_v ON models(version)", QC)
    again.upsert(KS, "a::2", doc("a", 2))
    plan = first_operator(again, "SELECT RAW m FROM models m WHERE m.version = 2")
    assert plan["index"] == "ix_v" and again.check_indexes() == []


def test_dropping_an_index_removes_its_entries_and_reads_fall_back_to_a_scan(store):
    store.upsert(KS, "a::1", doc("a", 1, "Add"))
    store.drop_index(KS, "ix_name")
    assert [i["name"] for i in store.list_indexes()] == ["ix_ops"]
    plan = first_operator(store, "SELECT RAW m FROM models m WHERE m.name = $n")
    assert plan["#operator"] == "PrimaryScan3"
    assert names(store, "a") == ["a::1"]
    with pytest.raises(NotFound, match="index ix_name not found"):
        store.drop_index(KS, "ix_name")


@pytest.mark.parametrize(
    "statement, message",
    [
        ("CREATE INDEX ix_name ON models(name)", "already exists"),
        ("CREATE INDEX ON models(name)", "needs an index name"),
        ("CREATE INDEX ix ON models(name", "unbalanced"),
        ("CREATE INDEX ix ON models(ARRAY t FOR t IN x END, (SELECT 1))", "subquery"),
        ("DROP INDEX ix ON models", "expected CREATE"),
        ("CREATE INDEX ix ON models(DISTINCT name)", "unexpected keyword DISTINCT"),
    ],
)
def test_bad_index_statements_are_refused_with_a_clear_message(store, statement, message):
    with pytest.raises(InvalidArgument, match=message):
        store.create_index(statement, QC)
    assert {i["name"] for i in store.list_indexes()} == {"ix_name", "ix_ops"}


def test_a_partial_index_holds_only_the_documents_its_condition_selects(store):
    store.create_index("CREATE INDEX ix_big ON models(version) WHERE version > 10", QC)
    store.upsert_many(KS, {f"m::{i}": doc("m", i) for i in range(20)})
    q = "SELECT RAW m.version FROM models m WHERE m.version > 10 AND m.version < 13"
    assert first_operator(store, q)["index"] == "ix_big"
    assert store.query(q, None, QC) == [11, 12]
    entries = {i["name"]: i["entries"] for i in store.list_indexes()}
    assert entries["ix_big"] == 9
    other = "SELECT RAW m.version FROM models m WHERE m.version = 3"
    assert first_operator(store, other)["#operator"] == "PrimaryScan3"


WRITER = textwrap.dedent(
    """
    import sys
    from catalog.store.embedded import EmbeddedStore
    s = EmbeddedStore(sys.argv[1])
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        s.upsert_many("ml.catalog.models", {
            f"m::{i}": {"name": "m", "version": i, "summary": {"opTypes": ["Add", f"Op{i % 7}"]}},
            f"n::{i}": {"name": "n", "version": i, "summary": {"opTypes": ["Mul"]}},
        })
        if i % 3 == 0:
            s.remove("ml.catalog.models", f"n::{i - 1}")
    """
)


def test_kill_9_during_writes_leaves_every_index_consistent(store, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path / "c.sqlite3")],
            stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.5 + 0.2 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    reopened = EmbeddedStore(tmp_path / "c.sqlite3")
    assert reopened.count(KS) > 0
    assert reopened.check_indexes() == []
    assert reopened.check_integrity() == []


def test_an_index_being_built_is_kept_by_writes_and_unused_until_online(store):
    from catalog.sqlpp.index_defs import parse_create_index

    store.upsert_many(KS, {f"m::{i}": doc("m", i) for i in range(5)})
    d = parse_create_index("CREATE INDEX ix_v ON models(version)")
    ix = store._run_write(lambda conn: store._indexes.add(conn, KS, d))  # as a build starts
    store.upsert(KS, "m::9", doc("m", 9))  # a write while it builds: its entry is kept
    store.remove(KS, "m::0")
    q = "SELECT RAW META(m).id FROM models m WHERE m.version >= 3"
    assert first_operator(store, q)["#operator"] == "PrimaryScan3"  # not used while building
    problems = store.check_indexes()
    assert problems == [
        "index ix_v on ml.catalog.models is not built (its build was interrupted): drop it and"
        " run catalog init, or create it again"
    ]
    last, n = store._run_write(lambda conn: store._indexes.build_part(conn, ix, "", 1000))
    assert (last, n) == ("m::9", 5)
    store._run_write(lambda conn: store._indexes.set_online(conn, ix))
    assert first_operator(store, q)["index"] == "ix_v"
    assert sorted(store.query(q, None, QC)) == ["m::3", "m::4", "m::9"]
    assert store.check_indexes() == []


def test_a_remembered_plan_follows_index_changes_and_each_runs_parameters(store):
    from catalog.sqlpp import from_terms

    store.upsert_many(KS, {f"{n}::{v}": doc(n, v, "Add") for n in "abc" for v in (1, 2)})
    q = "SELECT RAW META(m).id FROM models m WHERE m.name = $n ORDER BY m.version"
    assert first_operator(store, q)["index"] == "ix_name"
    chosen = len(from_terms._CHOSEN)
    # The same statement with other parameters: the remembered plan, each its own rows.
    for n in "abc":
        assert store.query(q, {"n": n}, QC) == [f"{n}::1", f"{n}::2"]
    assert len(from_terms._CHOSEN) == chosen
    store.drop_index(KS, "ix_name")
    assert first_operator(store, q).get("index") != "ix_name"
    assert store.query(q, {"n": "b"}, QC) == ["b::1", "b::2"]
    store.create_index("CREATE INDEX ix_name_only ON models(name)", QC)
    assert first_operator(store, q)["index"] == "ix_name_only"
    assert store.query(q, {"n": "c"}, QC) == ["c::1", "c::2"]


def test_an_index_count_leaves_out_the_entries_of_expired_documents(store, clock):
    # two entries each in the array index (two operators), one in the name index
    store.upsert(KS, "a::1", doc("a", 1, "Add", "Mul"), expiry=10)
    store.upsert(KS, "a::2", doc("a", 2, "Add", "Mul"))
    store.upsert(KS, "b::1", doc("b", 1, "Add"), expiry=10)
    by_name = "SELECT RAW COUNT(*) FROM models m WHERE m.name = $n"
    by_op = (
        "SELECT RAW COUNT(*) FROM models m WHERE ANY t IN m.summary.opTypes SATISFIES t = $op END"
    )
    assert "ix_name" in str(store.query("EXPLAIN " + by_name, {"n": "a"}, QC))
    assert store.query(by_name, {"n": "a"}, QC) == [2]
    assert store.query(by_op, {"op": "Add"}, QC) == [3]
    clock.offset = 11
    assert store.query(by_name, {"n": "a"}, QC) == [1]
    assert store.query(by_op, {"op": "Add"}, QC) == [1]
    assert store.query(by_op, {"op": "Mul"}, QC) == [1]


def test_the_groups_of_an_in_list_are_counted_by_one_statement_and_leave_out_the_expired(
    store, clock
):
    """GROUP BY the leading key over an IN list (index_group_aggs): every group's count comes
    from one statement (SPANS_A_STATEMENT spans at a time), the same as the scan's; with
    expired documents in the keyspace, each group is counted without them."""
    from catalog.store.embedded_index import SPANS_A_STATEMENT

    wanted = [f"m{i:03d}" for i in range(SPANS_A_STATEMENT + 44)]  # two statements' worth
    docs = {f"{n}::{v}": doc(n, v) for i, n in enumerate(wanted) for v in range(i % 4)}
    store.upsert_many(KS, docs)
    store.upsert(KS, "m001::7", doc("m001", 7), expiry=10)
    q = "SELECT m.name, COUNT(*) AS c FROM models m WHERE m.name IN $names GROUP BY m.name"
    params = {"names": [*wanted, "absent"]}
    assert "index_group_aggs" in str(store.query("EXPLAIN " + q, params, QC))
    counted: list[str] = []
    conn = store._conn()
    conn.set_trace_callback(lambda sql: counted.append(sql) if "COUNT(*)" in sql else None)
    try:
        rows = store.query(q, params, QC)
    finally:
        conn.set_trace_callback(None)
    expected = {n: i % 4 for i, n in enumerate(wanted) if i % 4} | {"m001": 2}
    assert {r["name"]: r["c"] for r in rows} == expected
    assert sorted(rows, key=lambda r: r["name"]) == sorted(
        store.query(q, params, QC, use_indexes=False), key=lambda r: r["name"]
    )
    assert len(counted) == 2  # 300 spans: 256 and 44, not two statements a span
    clock.offset = 11  # m001::7 has expired
    rows = store.query(q, params, QC)
    assert {r["name"]: r["c"] for r in rows} == expected | {"m001": 1}
    assert sorted(rows, key=lambda r: r["name"]) == sorted(
        store.query(q, params, QC, use_indexes=False), key=lambda r: r["name"]
    )


def test_a_covering_read_of_several_spans_leaves_out_expired_documents(store, clock):
    """An IN list reads one span a value, the expired documents' keys read once for all."""
    store.upsert(KS, "a::1", doc("a", 1, "Add"), expiry=10)
    store.upsert(KS, "a::2", doc("a", 2, "Add"))
    store.upsert(KS, "b::1", doc("b", 1, "Mul"), expiry=10)
    store.upsert(KS, "c::1", doc("c", 1, "Mul"))
    store.upsert(KS, "d::1", doc("d", 1, "Mul"), expiry=10)
    q = "SELECT m.name, m.version FROM models m WHERE m.name IN $names ORDER BY m.name, m.version"
    plan = str(store.query("EXPLAIN " + q, {"names": ["a"]}, QC))
    assert "ix_name" in plan and "Fetch" not in plan  # covered: the entries alone
    every = [["a", 1], ["a", 2], ["b", 1], ["c", 1]]
    rows = store.query(q, {"names": ["c", "a", "b", "zz"]}, QC)
    assert [[r["name"], r["version"]] for r in rows] == every
    clock.offset = 11
    rows = store.query(q, {"names": ["c", "a", "b", "zz"]}, QC)
    assert [[r["name"], r["version"]] for r in rows] == [["a", 2], ["c", 1]]
    one = store.query(q, {"names": ["b"]}, QC)  # one span: the expired keys in its statement
    assert one == []


def test_an_in_list_streams_its_entries_so_that_a_limit_met_early_reads_no_more(store):
    """The spans of an IN list are read by one statement without ORDER BY (no sort before
    the first row): LIMIT 1 over two names of 300 versions each runs a small part of the
    SQLite steps of reading them all (counted with a progress handler: no clock)."""
    store.upsert_many(KS, {f"{n}::{v}": doc(n, v) for n in ("a", "b") for v in range(300)})
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn = store._conn()
    conn.set_progress_handler(count, 10)
    try:
        q = "SELECT m.name, m.version FROM models m WHERE m.name IN ['a', 'b'] ORDER BY m.name, m.version"
        steps[0] = 0
        every = store.query(q, None, QC)
        read_all = steps[0]
        steps[0] = 0
        first = store.query(q + " LIMIT 1", None, QC)
        read_first = steps[0]
    finally:
        conn.set_progress_handler(None, 0)
    assert len(every) == 600 and first == [{"name": "a", "version": 0}]
    assert every == sorted(every, key=lambda r: (r["name"], r["version"]))
    assert read_first * 10 < read_all
