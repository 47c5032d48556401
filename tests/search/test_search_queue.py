"""The search index's queue on the real embedded store: a write queues its document in its
own transaction; the queue is indexed by the commit that fills a batch, and before a search."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.search import queue, search_models
from catalog.search.embedded import SearchHook
from catalog.search.samples import model_doc
from catalog.store import open_store

KS = "ml.catalog.models"


def _indexed(store) -> dict[str, int]:
    """Return {key: latest flag} of the documents the search index holds."""
    return dict(store._conn().execute("SELECT key, latest FROM fts_docs"))


def test_writes_wait_in_the_queue_until_a_commit_fills_the_batch(store):
    conn = store._conn()
    for v in range(1, queue.BATCH):
        store.upsert(KS, f"m::{v}", model_doc("m", v, tags=["t"]))
    assert _indexed(store) == {}  # queued, not indexed
    assert queue.waiting(conn) == queue.BATCH - 1
    assert store.check_integrity() == []  # a queued document is not a difference
    store.upsert(KS, f"m::{queue.BATCH}", model_doc("m", queue.BATCH, tags=["t"]))
    assert queue.waiting(conn) == 0
    indexed = _indexed(store)
    assert sorted(indexed) == sorted(f"m::{v}" for v in range(1, queue.BATCH + 1))
    assert [k for k, latest in indexed.items() if latest] == [f"m::{queue.BATCH}"]
    assert store.check_integrity() == []


def test_the_check_still_reports_an_indexed_document_that_drifted_while_others_wait(store):
    store.upsert(KS, "a::1", model_doc("a", 1))
    store.catch_up()
    store.upsert(KS, "b::1", model_doc("b", 1))  # queued
    store._conn().execute("DELETE FROM fts_docs WHERE key = 'a::1'")
    problems = store.check_integrity()
    assert any("'a::1' not indexed" in p for p in problems), problems
    assert not any("b::1" in p for p in problems), problems


def test_a_search_reads_every_write_committed_before_it_in_any_process(store):
    store.upsert(KS, "here::1", model_doc("here", 1, description="written in this process"))
    assert [h.id for h in search_models(store, "written").hits] == ["here::1"]
    assert queue.waiting(store._conn()) == 0
    script = (
        "import sys; from catalog.store import open_store; from catalog.search.samples import"
        " model_doc; s = open_store(sys.argv[1]); s.upsert('ml.catalog.models', 'there::1',"
        " model_doc('there', 1, description='written in another process')); s.close()"
    )
    subprocess.run([sys.executable, "-c", script, store.url], check=True, cwd=Path.cwd())
    hits = search_models(store, "written", limit=10).hits
    assert sorted(h.id for h in hits) == ["here::1", "there::1"]
    store.remove(KS, "here::1")
    assert [h.id for h in search_models(store, "written").hits] == ["there::1"]
    assert store.check_integrity() == []


def test_a_search_does_not_wait_out_a_long_write_to_index_the_queue(store, monkeypatch):
    """A long write (an index build, a bulk load) holding the write lock: the search gives
    up indexing the queue after SEARCH_CATCH_UP_WAIT_S and answers from the index as it
    stands; once the lock is free, the next search indexes the queue."""
    from catalog.store import embedded

    monkeypatch.setattr(embedded, "SEARCH_CATCH_UP_WAIT_S", 0.2)
    store.upsert(KS, "a::1", model_doc("a", 1, description="indexed first"))
    store.catch_up()
    store.upsert(KS, "b::1", model_doc("b", 1, description="queued second"))
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the long write
    started = time.monotonic()
    try:
        hits = search_models(store, "indexed queued", limit=10).hits
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [h.id for h in hits] == ["a::1"]
    assert waited < embedded.BUSY_TIMEOUT_S / 3  # not the 30 s a write would wait
    assert queue.waiting(store._conn()) == 1
    hits = search_models(store, "indexed queued", limit=10).hits
    assert sorted(h.id for h in hits) == ["a::1", "b::1"]
    assert store._conn().execute("PRAGMA busy_timeout").fetchone()[0] == embedded.SQLITE_BUSY_MS


def _write_versions(url: str, name: str, count: int) -> None:
    store = open_store(url)
    for v in range(1, count + 1):
        store.upsert(KS, f"{name}::{v}", model_doc(name, v, description=f"{name} shared words"))
    store.close()


def test_processes_writing_at_once_each_catch_up_the_queue_they_share(store):
    """Three processes write 45 versions each: their commits fill the shared queue and catch
    it up in turn (each catch-up indexes what any of them queued); a search then finds every
    version and the latest of each model."""
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_versions, args=(store.url, f"p{i}", 45)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert queue.waiting(store._conn()) < queue.BATCH  # the last commit left fewer
    hits = search_models(store, "shared", all_versions=True, limit=1000)
    assert hits.total == 135
    latest = search_models(store, "shared", limit=10).hits
    assert sorted(h.id for h in latest) == ["p0::45", "p1::45", "p2::45"]
    assert store.check_integrity() == []


def test_a_rolled_back_write_leaves_nothing_queued(store):
    with pytest.raises(RuntimeError, match="abort"), store.batch():
        store.upsert(KS, "gone::1", model_doc("gone", 1, description="never committed"))
        raise RuntimeError("abort")
    assert queue.waiting(store._conn()) == 0
    assert search_models(store, "committed").total == 0


def test_a_failed_catch_up_rolls_back_the_write_that_started_it(store, monkeypatch):
    for v in range(1, queue.BATCH):
        store.upsert(KS, f"m::{v}", model_doc("m", v))

    def broken(self, conn, keyspace, key, value, **options):
        raise RuntimeError("indexing failed")

    monkeypatch.setattr(SearchHook, "index", broken)
    with pytest.raises(RuntimeError, match="indexing failed"):
        store.upsert(KS, f"m::{queue.BATCH}", model_doc("m", queue.BATCH))
    assert not store.exists(KS, f"m::{queue.BATCH}")  # all or nothing
    assert queue.waiting(store._conn()) == queue.BATCH - 1
    monkeypatch.undo()
    assert search_models(store, "m", all_versions=True, limit=100).total == queue.BATCH - 1


# -- batches index as single writes do ------------------------------------------------------


def _dump(store) -> dict:
    """The search index's contents by document key (row ids differ with the order of work)."""
    conn = store._conn()

    def rows(sql: str) -> list:
        return sorted(tuple(r) for r in conn.execute(sql))

    def text(table: str) -> list:
        return rows(f"SELECT d.key, t.* FROM {table} t JOIN fts_docs d ON d.id = t.rowid")

    return {
        "docs": rows("SELECT scope, key, name, version, latest, stored FROM fts_docs"),
        "terms": rows(
            "SELECT d.key, t.field, t.term FROM fts_terms t JOIN fts_docs d ON d.id = doc"
        ),
        "nums": rows(
            "SELECT d.key, n.field, n.value FROM fts_nums n JOIN fts_docs d ON d.id = doc"
        ),
        "lengths": rows(
            "SELECT d.key, l.field, l.length FROM fts_lengths l JOIN fts_docs d ON d.id = doc"
        ),
        "text": [text("fts_text_standard"), text("fts_text_en")],
        "latest": rows(
            "SELECT d.key, l.c0 FROM fts_latest_slots m JOIN fts_text_en_latest l"
            " ON l.rowid = m.slot JOIN fts_docs d ON d.id = m.doc"
        ),
        "keysets": rows(
            "SELECT d.key, k.terms FROM fts_docs d JOIN fts_keysets k ON k.id = keyset"
        ),
        "df": rows("SELECT field, term, n FROM fts_keyword_df WHERE n != 0"),
        "totals": rows("SELECT scope, docs FROM fts_totals WHERE docs != 0"),
        "holders": rows("SELECT field, n FROM fts_keyword_holders WHERE n != 0"),
    }


_write = st.tuples(
    st.sampled_from(["write", "write", "write", "remove", "binary"]),
    st.sampled_from(["a::1", "a::2", "a::3", "b::1", "b::2", "x"]),  # x: no version in its key
    st.sampled_from(["a", "b"]),  # the name it holds (a rename when it differs from its key's)
    st.integers(1, 4),
    st.sampled_from(["boosted trees", "linear model", ""]),
    st.lists(st.sampled_from(["t1", "t2", "t3"]), max_size=2),
    st.booleans(),  # catch up after this write (the other store catches up after every one)
)


@settings(max_examples=25)
@given(st.lists(_write, min_size=1, max_size=30))
def test_indexing_a_queue_gives_the_index_of_indexing_each_write(writes):
    """Any writes, removals, binary values, renames, older, tied and newer versions: the
    index built from queues caught up at random points is the one built by indexing each
    write at once (seeded in CI)."""
    with tempfile.TemporaryDirectory() as tmp:
        each = open_store(f"embedded://{tmp}/each.sqlite3")
        queued = open_store(f"embedded://{tmp}/queued.sqlite3")
        for action, key, name, version, words, tags, catch_up in writes:
            for store in (each, queued):
                if action == "remove":
                    if store.exists(KS, key):
                        store.remove(KS, key)
                elif action == "binary":
                    store.upsert(KS, key, b"\x00binary")
                else:
                    doc = model_doc(name, version, description=words, tags=tags)
                    store.upsert(KS, key, doc)
            each.catch_up()
            if catch_up:
                queued.catch_up()
        queued.catch_up()
        assert _dump(queued) == _dump(each), json.dumps(writes)
        for q in ("boosted", "tags:t1", "*", "linear~1"):
            for every in (False, True):
                a = search_models(each, q, limit=100, all_versions=every)
                b = search_models(queued, q, limit=100, all_versions=every)
                assert {(h.id, round(h.score, 9)) for h in a.hits} == {
                    (h.id, round(h.score, 9)) for h in b.hits
                }, q
        assert queued.check_integrity() == [] and each.check_integrity() == []
        each.close()
        queued.close()
