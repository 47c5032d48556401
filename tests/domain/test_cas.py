"""The one CAS read-modify-write helper, on the real embedded store, and racing alias moves."""

from __future__ import annotations

import threading

import pytest

from catalog.domain import cas
from catalog.domain.registry import Registry
from catalog.store import Conflict, NotFound
from tests.models import matmul_model

KS = "ml.catalog.states"


def test_update_creates_changes_and_skips_a_no_op(store):
    def bump(doc):
        return {**doc, "n": doc["n"] + 1}

    assert cas.update(store, KS, "c", bump, initial=lambda: {"n": 0}) == {"n": 1}
    assert cas.update(store, KS, "c", bump) == {"n": 2}
    _, before = store.get(KS, "c")
    assert cas.update(store, KS, "c", lambda doc: None) == {"n": 2}
    assert store.get(KS, "c") == ({"n": 2}, before)  # nothing written


def test_a_missing_document_without_initial_is_not_found(store):
    with pytest.raises(NotFound):
        cas.update(store, KS, "nope", lambda doc: doc)


def test_racing_writers_lose_no_update(store):
    store.insert(KS, "counter", {"n": 0})

    def work() -> None:
        for _ in range(25):
            cas.update(store, KS, "counter", lambda doc: {"n": doc["n"] + 1})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(KS, "counter")[0] == {"n": 100}


def test_lost_races_end_in_a_conflict_that_says_so(store):
    store.insert(KS, "hot", {"n": 0})
    attempts = []

    def change(doc):
        attempts.append(doc["n"])
        store.upsert(KS, "hot", {"n": doc["n"] + 100})  # another writer gets there first
        return {"n": doc["n"] + 1}

    with pytest.raises(Conflict, match="too much contention on ml.catalog.states 'hot'"):
        cas.update(store, KS, "hot", change, retries=5)
    assert len(attempts) == 5
    assert store.get(KS, "hot")[0] == {"n": 500}  # only the other writer's values landed


def test_a_conflict_the_change_raises_is_not_retried(store):
    store.insert(KS, "doc", {"n": 0})
    calls = []

    def change(doc):
        calls.append(1)
        raise Conflict("the alias moved elsewhere")

    with pytest.raises(Conflict, match="moved elsewhere"):
        cas.update(store, KS, "doc", change)
    assert calls == [1]


def test_racing_alias_moves_with_expected_versions_let_one_win(store):
    reg = Registry(store)
    for seed in range(3):
        reg.publish("mm", matmul_model(4, 2, seed=seed))
    reg.set_alias("mm", "production", 1)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def move(target: int) -> None:
        barrier.wait()
        try:
            reg.set_alias("mm", "production", target, expected=1, user=f"user{target}")
            outcomes[target] = "moved"
        except Conflict:
            outcomes[target] = "conflict"

    threads = [threading.Thread(target=move, args=(v,)) for v in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "moved"]
    winner = next(v for v, o in outcomes.items() if o == "moved")
    assert reg.aliases("mm")["production"] == winner
    moves = [(a["from"], a["to"]) for a in reg.alias_history("mm").items]
    assert moves == [(1, winner), (None, 1)]


def test_a_value_the_caller_read_saves_the_first_read_and_a_stale_one_is_read_again(store):
    store.insert(KS, "given", {"n": 1})
    fresh = store.get(KS, "given")
    reads: list[str] = []
    get = store.get

    def counting_get(keyspace, key):
        reads.append(key)
        return get(keyspace, key)

    store.get = counting_get
    try:
        bump = lambda doc: {"n": doc["n"] + 1}  # noqa: E731
        assert cas.update(store, KS, "given", bump, current=fresh) == {"n": 2}
        assert reads == []  # the value given was current: written without a read
        stale = fresh  # its CAS is the one before that write
        assert cas.update(store, KS, "given", bump, current=stale) == {"n": 3}
        assert reads == ["given"]  # the CAS refused it: read again, applied to the fresh one
        assert cas.update(store, KS, "new", bump, current=({"n": 9}, None)) == {"n": 10}
        with pytest.raises(Conflict):  # "absent" when it exists: the insert refuses...
            cas.update(store, KS, "new", bump, current=({"n": 0}, None), retries=1)
    finally:
        del store.get
    assert store.get(KS, "new")[0] == {"n": 10}
