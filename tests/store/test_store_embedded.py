"""The embedded store: CAS, keyspaces, binary values, transactions, several processes."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time
from pathlib import Path

import pytest

from catalog.store import Conflict, InvalidArgument, NotFound, ValueTooLarge, open_store
from catalog.store.base import MAX_KEY_BYTES, Keyspace
from tests.clock import shift_store_clock

KS = "ml.catalog.models"


def test_it_round_trips_json_and_binary_values(store):
    store.insert(KS, "a", {"x": [1, 2.5, None, "é"], "y": {"z": True}})
    store.upsert("ml.catalog.tensors", "b", b"\x00\xff" * 10)
    assert store.get(KS, "a")[0] == {"x": [1, 2.5, None, "é"], "y": {"z": True}}
    assert store.get("ml.catalog.tensors", "b")[0] == b"\x00\xff" * 10


def test_get_of_a_missing_key_raises_not_found(store):
    with pytest.raises(NotFound):
        store.get(KS, "nope")


def test_insert_on_an_existing_key_raises_conflict(store):
    store.insert(KS, "a", {"v": 1})
    with pytest.raises(Conflict):
        store.insert(KS, "a", {"v": 2})
    assert store.get(KS, "a")[0] == {"v": 1}


def test_replace_and_remove_check_cas(store):
    cas1 = store.insert(KS, "a", {"v": 1})
    cas2 = store.replace(KS, "a", {"v": 2}, cas=cas1)
    assert cas2 != cas1
    with pytest.raises(Conflict):
        store.replace(KS, "a", {"v": 3}, cas=cas1)
    with pytest.raises(Conflict):
        store.remove(KS, "a", cas=cas1)
    assert store.get(KS, "a") == ({"v": 2}, cas2)
    store.remove(KS, "a", cas=cas2)
    with pytest.raises(NotFound):
        store.get(KS, "a")
    with pytest.raises(NotFound):
        store.remove(KS, "a")
    with pytest.raises(NotFound):
        store.replace(KS, "a", {"v": 4})


def test_every_write_changes_the_cas(store):
    seen = {store.upsert(KS, "a", {"v": 0})}
    for i in range(50):
        seen.add(store.upsert(KS, "a", {"v": i}))
    assert len(seen) == 51


def test_a_bare_bucket_is_its_default_collection(store):
    store.upsert("orders", "k", {"n": 1})
    assert store.get("orders._default._default", "k")[0] == {"n": 1}
    assert store.get("default:orders", "k")[0] == {"n": 1}
    assert "orders._default._default" in store.keyspaces()


def test_keyspaces_are_separate(store):
    store.upsert("ml.catalog.models", "k", {"a": 1})
    store.upsert("ml.catalog.aliases", "k", {"b": 2})
    assert store.get("ml.catalog.models", "k")[0] == {"a": 1}
    assert store.get("ml.catalog.aliases", "k")[0] == {"b": 2}


def test_it_refuses_bad_keyspaces_keys_and_values(store):
    for bad in ["", "a.b", "a.b.c.d", "a b", "x;drop"]:
        with pytest.raises(InvalidArgument):
            store.upsert(bad, "k", {})
    with pytest.raises(InvalidArgument):
        store.upsert(KS, "", {})
    with pytest.raises(InvalidArgument):
        store.upsert(KS, "é" * (MAX_KEY_BYTES // 2 + 1), {})
    store.upsert(KS, "é" * (MAX_KEY_BYTES // 2), {})
    with pytest.raises(InvalidArgument):
        store.upsert(KS, "k", {"x": float("nan")})
    with pytest.raises(InvalidArgument):
        store.upsert(KS, "k", {"x": object()})
    with pytest.raises(ValueTooLarge):
        store.upsert(KS, "k", b"\0" * (20 * 1024 * 1024 + 1))
    assert not store.exists(KS, "k")


def test_upsert_many_is_one_transaction(store):
    store.upsert_many(KS, {f"k{i}": {"i": i} for i in range(100)})
    assert store.count(KS) == 100
    with pytest.raises(InvalidArgument):
        store.upsert_many(KS, {"good": {"i": 1}, "bad": {"x": float("inf")}})
    assert not store.exists(KS, "good")


def test_batch_rolls_back_every_write_on_error(store):
    with pytest.raises(RuntimeError), store.batch():
        store.insert(KS, "a", {"v": 1})
        store.insert(KS, "b", {"v": 2})
        raise RuntimeError("boom")
    assert store.count(KS) == 0


def test_scan_and_fetch(store):
    store.upsert_many(KS, {"b": {"n": 2}, "a": {"n": 1}, "c": b"bin"})
    assert [k for k, _, _ in store.scan(KS)] == ["a", "b", "c"]
    assert [(k, v) for k, v, _ in store.fetch(KS, ["c", "zz", "a"])] == [
        ("c", b"bin"),
        ("a", {"n": 1}),
    ]
    assert store.get_many(KS, ["a", "nope"]).keys() == {"a"}


def test_documents_expire(store, monkeypatch):
    clock = shift_store_clock(monkeypatch)
    store.upsert("ml.catalog.predictions", "p", {"y": 1}, expiry=0.2)
    store.upsert("ml.catalog.predictions", "q", {"y": 2})
    assert store.exists("ml.catalog.predictions", "p")
    clock.offset = 0.19
    assert store.exists("ml.catalog.predictions", "p")
    clock.offset = 0.21
    assert not store.exists("ml.catalog.predictions", "p")
    assert store.count("ml.catalog.predictions") == 1
    assert store.purge_expired() == 1


def test_the_file_is_in_wal_mode(store):
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_the_wal_is_checkpointed_by_a_thread_and_starts_again_at_its_bound(store):
    """A write leaves the copying to the checkpoint thread once WAL_CHECKPOINT_PAGES wait, and
    SQLite's own checkpoint (on the writer) bounds the WAL at WAL_RESTART_PAGES, where the WAL
    starts again from its beginning.

    First the thread must copy pages before the bound. Then the test holds the thread off
    (``paused``) and writes on until the WAL starts again from a peak at the bound: the
    writers' checkpoint alone bounds it. (Left running, the thread may copy everything and
    the WAL start again below the bound; or it may hold the checkpoint lock at the bound,
    and under a loaded machine's slow fsync the WAL overshoots: 17,555 pages once.)"""
    from catalog.store import checkpointer
    from catalog.store.embedded import WAL_CHECKPOINT_PAGES, WAL_RESTART_PAGES

    conn = store._conn()
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_RESTART_PAGES
    header = store._local.wal_header.header
    thread = checkpointer.of(store.path)
    runs = thread.runs
    writes = 0

    def write() -> tuple[int, int]:
        nonlocal writes
        store.upsert(
            KS, f"m::{writes}", {"name": "m", "version": writes, "pad": "x" * 9000}
        )  # about 3 pages (9 KB) and the index and queue rows
        writes += 1
        return header.frames()

    copied_early = False
    while not copied_early and writes < 6_000:
        frames, copied = write()
        assert frames - copied < WAL_CHECKPOINT_PAGES + 3_000  # the thread keeps up
        copied_early = copied > 0 and frames < WAL_RESTART_PAGES
    assert copied_early
    # copied by the thread before the bound: it counts its run once SQLite's checkpoint call
    # returns, just after the WAL header shows the copy
    deadline = time.monotonic() + 30
    while thread.runs <= runs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert thread.runs > runs
    peak, at_bound = 0, None
    with checkpointer.paused(store.path):
        while at_bound is None and writes < 12_000:
            frames, _ = write()
            if frames < peak:  # the WAL started again
                if peak >= WAL_RESTART_PAGES:
                    at_bound = peak
                peak = frames  # else the thread had copied everything before it was held
            peak = max(peak, frames)
    assert at_bound is not None and WAL_RESTART_PAGES <= at_bound < WAL_RESTART_PAGES + 1_000
    assert Path(f"{store.path}-wal").stat().st_size < (WAL_RESTART_PAGES + 1_000) * 4200
    assert [k for k, _, _ in store.scan(KS)] == sorted(f"m::{j}" for j in range(writes))


def test_keyspace_parsing():
    assert str(Keyspace.parse("ml")) == "ml._default._default"
    assert str(Keyspace.parse("default:ml.catalog.models")) == "ml.catalog.models"


def _increment(url: str, times: int) -> None:
    store = open_store(url)
    for _ in range(times):
        while True:
            value, cas = store.get("ml.catalog.counters", "c")
            try:
                store.replace("ml.catalog.counters", "c", {"n": value["n"] + 1}, cas=cas)
                break
            except Conflict:
                pass


def test_several_processes_incrementing_with_cas_lose_nothing(tmp_path):
    url = f"embedded://{tmp_path / 'shared.sqlite3'}"
    open_store(url).insert("ml.catalog.counters", "c", {"n": 0})
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_increment, args=(url, 200)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    # A worker that saw "database is locked" would have died with a non-zero exit code.
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert open_store(url).get("ml.catalog.counters", "c")[0] == {"n": 800}


def test_a_lone_surrogate_is_refused_as_invalid(store):
    from catalog.store import InvalidArgument

    with pytest.raises(InvalidArgument, match="not valid Unicode"):
        store.upsert("ml.catalog.models", "x", {"name": "\ud800"})
    assert not store.exists("ml.catalog.models", "x")
