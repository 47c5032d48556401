"""The session cache: built once per cold version, bounded by memory, aliases never cached."""

from __future__ import annotations

import threading
import time

import pytest

from catalog.domain.registry import ModelNotFound, version_key
from inference import sessions
from inference.sessions import (
    LoadedModel,
    SessionCache,
    build_model,
    cache_key,
    estimate_memory,
    get_session_cache,
    load_model,
    new_session,
)
from tests.inference.test_inference_support import (
    infer_body,
    iris_model_fixture,  # noqa: F401
    post_json,
    publish_iris,
    reg_fixture,  # noqa: F401
)
from tests.models import iris, matmul_model

_SESSION = None


def entry(name: str, memory_bytes: int) -> LoadedModel:
    """Return a LoadedModel of a real tiny session that claims ``memory_bytes``."""
    global _SESSION
    if _SESSION is None:
        _SESSION = new_session(matmul_model(2, 2).SerializeToString())
    return LoadedModel(name, 1, _SESSION, [], [], {}, memory_bytes, 0.0)


def key(name: str) -> tuple:
    return ("embedded:///x", "ml", "catalog", name, 1)


def test_a_warm_key_is_served_from_the_cache():
    cache = SessionCache(1000)
    first = cache.get(key("a"), lambda: entry("a", 10))
    again = cache.get(key("a"), lambda: pytest.fail("built twice"))
    assert again is first
    assert (cache.stats.hits, cache.stats.misses, cache.stats.builds) == (1, 1, 1)


def test_least_recently_used_entries_go_first_when_memory_runs_out():
    cache = SessionCache(100)
    for name in "abc":
        cache.get(key(name), lambda n=name: entry(n, 30))
    cache.get(key("a"), lambda: pytest.fail("a is cached"))  # a is now the most recent
    cache.get(key("d"), lambda: entry("d", 30))  # 120 > 100: evict b
    assert [k[3] for k in cache.cached_keys()] == ["c", "a", "d"]
    assert cache.used_bytes == 90 and cache.stats.evictions == 1
    cache.get(key("e"), lambda: entry("e", 70))  # evicts c and a
    assert [k[3] for k in cache.cached_keys()] == ["d", "e"]
    assert cache.used_bytes == 100


def test_an_entry_larger_than_the_budget_is_served_but_not_kept():
    cache = SessionCache(100)
    cache.get(key("a"), lambda: entry("a", 50))
    big = cache.get(key("big"), lambda: entry("big", 101))
    assert big.name == "big"
    assert [k[3] for k in cache.cached_keys()] == ["a"] and cache.stats.uncached == 1


def test_resize_evicts_what_no_longer_fits():
    cache = SessionCache(100)
    for name in "abc":
        cache.get(key(name), lambda n=name: entry(n, 30))
    cache.resize(60)
    assert [k[3] for k in cache.cached_keys()] == ["b", "c"]


def test_concurrent_requests_for_a_cold_key_build_it_once():
    cache = SessionCache(1000)
    calls = []
    start = threading.Barrier(8)

    def build() -> LoadedModel:
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to ask while it builds
        return entry("slow", 10)

    results: list[LoadedModel] = []

    def ask() -> None:
        start.wait()
        results.append(cache.get(key("slow"), build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_a_failed_build_is_not_cached_and_every_waiter_sees_the_error():
    cache = SessionCache(1000)
    start = threading.Barrier(4)
    errors = []

    def build() -> LoadedModel:
        time.sleep(0.1)
        raise ModelNotFound("gone")

    def ask() -> None:
        start.wait()
        try:
            cache.get(key("x"), build)
        except ModelNotFound as e:
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 4
    assert cache.get(key("x"), lambda: entry("x", 1)).name == "x"  # retried


def test_threads_loading_a_cold_published_model_build_one_session(iris_model, monkeypatch):
    """Real registry, real onnxruntime: count calls of the real build function."""
    builds = []
    real = sessions.build_model

    def counted(reg, name, version):
        builds.append(version)
        time.sleep(0.1)
        return real(reg, name, version)

    monkeypatch.setattr(sessions, "build_model", counted)
    start = threading.Barrier(6)
    results = []

    def ask() -> None:
        start.wait()
        results.append(load_model(iris_model, "iris", "latest"))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == [1]
    assert all(r is results[0] for r in results)


def test_a_warm_version_reads_no_document(client, iris_model):
    """Once warm, the version document could vanish and the next run would not notice."""
    row = infer_body(iris()[0][:1])
    assert post_json(client, "/v2/models/iris/infer", row).status_code == 200
    iris_model.store.remove(iris_model.ks.models, version_key("iris", 1))
    response = post_json(client, "/v2/models/iris/infer", row)
    assert response.status_code == 200
    assert response.json()["model_version"] == "1"


def test_moving_an_alias_takes_effect_on_the_next_request(client, iris_model):
    publish_iris(iris_model)
    iris_model.set_alias("iris", "production", 1)
    url = "/v2/models/iris/versions/production/infer"
    row = infer_body(iris()[0][:1])
    assert post_json(client, url, row).json()["model_version"] == "1"
    iris_model.set_alias("iris", "production", 2)
    assert post_json(client, url, row).json()["model_version"] == "2"
    iris_model.set_alias("iris", "production", 1)
    assert post_json(client, url, row).json()["model_version"] == "1"


def test_latest_follows_a_new_publish_without_restart(client, iris_model):
    row = infer_body(iris()[0][:1])
    assert post_json(client, "/v2/models/iris/infer", row).json()["model_version"] == "1"
    publish_iris(iris_model, format="binary")
    assert post_json(client, "/v2/models/iris/infer", row).json()["model_version"] == "2"
    assert client.get("/v2/models/iris").json()["parameters"]["version"] == "2"


def test_sessions_build_from_json_and_binary_documents(iris_model):
    publish_iris(iris_model, format="binary")
    from_json = build_model(iris_model, "iris", 1)
    from_binary = build_model(iris_model, "iris", 2)
    assert (from_json.format, from_binary.format) == ("json", "binary")
    X, _ = iris()
    a = from_json.session.run(None, {"X": X[:10]})
    b = from_binary.session.run(None, {"X": X[:10]})
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
    assert from_json.metadata["classNames"] == ["setosa", "versicolor", "virginica"]


def test_the_same_model_name_in_two_stores_has_two_sessions(iris_model, tmp_path):
    from catalog.domain.registry import Registry
    from catalog.store import open_store

    other = Registry(open_store(f"embedded://{tmp_path / 'other.sqlite3'}"))
    other.publish("iris", matmul_model(4, 2))
    assert cache_key(iris_model, "iris", 1) != cache_key(other, "iris", 1)
    assert load_model(other, "iris", 1).outputs[0].name == "Y"
    assert load_model(iris_model, "iris", 1).outputs[0].name == "label"


def test_memory_estimate_grows_with_model_size(reg):
    small = reg.publish("small", matmul_model(4, 4))
    large = reg.publish("large", matmul_model(256, 256))
    a = load_model(reg, "small", small.version)
    b = load_model(reg, "large", large.version)
    assert b.memory_bytes > a.memory_bytes >= estimate_memory(0)
    assert b.memory_bytes >= 2 * 256 * 256 * 4


def test_the_cache_budget_follows_the_setting(settings):
    settings.CATALOG_SESSION_CACHE_MB = 3
    assert get_session_cache().max_bytes == 3 * 2**20
    settings.CATALOG_SESSION_CACHE_MB = 512
    assert get_session_cache().max_bytes == 512 * 2**20
