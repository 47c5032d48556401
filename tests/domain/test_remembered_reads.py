"""Reads the prediction path remembers (aliases, settings) are never stale.

``Registry.aliases`` keeps its answer until the store's change token moves: another
connection's or process's commit, or this connection's own write. ``limits.setting`` keeps a
setting until Django says it changed.
"""

from __future__ import annotations

import multiprocessing as mp

import pytest
from django.test import override_settings

from catalog.domain import limits, registry
from catalog.domain.registry import Registry
from catalog.store import open_store
from tests.models import matmul_model


@pytest.fixture
def two(tmp_path):
    """Two stores on one file (two connections), each with a registry, and a model at v1, v2."""
    url = f"embedded://{tmp_path / 'catalog.sqlite3'}"
    a, b = open_store(url), open_store(url)
    ra, rb = Registry(a), Registry(b)
    ra.publish("m", matmul_model(2, 2))
    ra.publish("m", matmul_model(2, 2))
    yield url, ra, rb
    a.close()
    b.close()


def test_a_remembered_alias_answer_is_served_without_a_read(two, monkeypatch):
    _, ra, _ = two
    assert ra.aliases("m") == {"latest": 2}
    reads = []
    real_get = ra.store.get
    monkeypatch.setattr(ra.store, "get", lambda *a: reads.append(a) or real_get(*a))
    assert ra.resolve("m", None) == 2
    assert reads == []  # nothing changed: no read


def test_another_connections_alias_move_is_seen_at_once(two):
    _, ra, rb = two
    assert ra.resolve("m", "latest") == 2
    rb.set_alias("m", "production", 1)
    assert ra.aliases("m") == {"latest": 2, "production": 1}
    rb.set_alias("m", "production", 2)
    assert ra.resolve("m", "production") == 2


def test_this_connections_own_write_is_seen_at_once(two):
    _, ra, _ = two
    assert ra.resolve("m", None) == 2
    ra.publish("m", matmul_model(2, 2))
    assert ra.resolve("m", None) == 3
    ra.set_alias("m", "production", 1)
    assert ra.resolve("m", "production") == 1


def test_a_caller_cannot_change_the_remembered_answer(two):
    _, ra, _ = two
    first = ra.aliases("m")
    first["latest"] = 99
    assert ra.aliases("m") == {"latest": 2}


def _move_alias(url: str, version: int) -> None:
    store = open_store(url)
    Registry(store).set_alias("m", "production", version)
    store.close()


def test_another_process_alias_move_is_seen_at_once(two):
    url, ra, _ = two
    ra.set_alias("m", "production", 1)
    assert ra.resolve("m", "production") == 1
    p = mp.get_context("spawn").Process(target=_move_alias, args=(url, 2))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert ra.resolve("m", "production") == 2


def test_a_missing_model_stays_missing_until_it_is_published(two):
    _, ra, rb = two
    assert ra.aliases("new") == {}
    rb.publish("new", matmul_model(2, 2))
    assert ra.aliases("new") == {"latest": 1}


def test_the_remembered_answers_are_bounded(two, monkeypatch):
    _, ra, _ = two
    monkeypatch.setattr(registry, "MAX_ALIASES_SEEN", 3)
    for i in range(10):
        ra.aliases(f"absent-{i}")
        assert len(registry._ALIASES_SEEN) <= 3


def test_a_setting_is_remembered_until_django_says_it_changed():
    before = limits.max_batch()
    with override_settings(CATALOG_MAX_BATCH=7):
        assert limits.max_batch() == 7
        with override_settings(CATALOG_MAX_BATCH=3):
            assert limits.max_batch() == 3
        assert limits.max_batch() == 7
    assert limits.max_batch() == before
    with override_settings(CATALOG_PREDICTION_LOG=True):
        assert limits.prediction_log_on() is True
    assert limits.prediction_log_on() is False


def test_an_unset_setting_gives_the_default_every_time():
    assert limits.setting("CATALOG_NO_SUCH_SETTING", 5) == 5
    assert limits.setting("CATALOG_NO_SUCH_SETTING", 6) == 6
    with override_settings(CATALOG_NO_SUCH_SETTING=1):
        assert limits.setting("CATALOG_NO_SUCH_SETTING", 5) == 1


def test_the_token_is_the_wal_index_header_when_nothing_holds_a_snapshot(two):
    _, ra, _ = two
    serial, value, _ = ra.store.change_token()
    assert isinstance(value, bytes) and len(value) == 48  # one pread, no SQLite call
    with ra.store.batch():  # a transaction: its reads may predate the header
        assert isinstance(ra.store.change_token()[1], int)  # PRAGMA data_version
    scan = ra.store.scan(ra.ks.models)
    next(scan)  # an open scan holds a read snapshot too
    assert isinstance(ra.store.change_token()[1], int)
    scan.close()
    assert isinstance(ra.store.change_token()[1], bytes)


def test_the_header_moves_with_every_commit_of_any_connection(two):
    _, ra, rb = two
    first = ra.store.change_token()
    assert ra.store.change_token() == first  # nothing committed: the same token
    rb.set_alias("m", "production", 1)
    second = ra.store.change_token()
    assert second != first
    rb.set_alias("m", "production", 2)
    assert ra.store.change_token() != second


def test_an_alias_moved_during_a_paused_scan_is_seen_once_the_scan_ends(two):
    """The scan's snapshot predates the move: an answer read inside it must not be kept
    under a token taken from the (newer) WAL-index header."""
    _, ra, rb = two
    ra.set_alias("m", "production", 1)
    assert ra.resolve("m", "production") == 1
    scan = ra.store.scan(ra.ks.models)
    next(scan)  # this thread's connection now reads from a snapshot
    rb.set_alias("m", "production", 2)  # committed after the snapshot was taken
    assert ra.resolve("m", "production") in (1, 2)  # inside the snapshot: either is right
    scan.close()
    assert ra.resolve("m", "production") == 2  # never the snapshot's answer again
