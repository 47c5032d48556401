"""A Couchbase cluster that goes away mid-run, and comes back: the app on its own gocaves.

Two kinds of outage, both on a gocaves of the test's own:
- killed (SIGKILL): connections reset and its data is gone. Every store call raises
  StoreUnavailable within the KV time limit, the APIs answer 503 JSON.
- paused (SIGSTOP) then resumed (SIGCONT): the cluster stops answering and comes back at
  the same address with its data, as a restarted Couchbase node does. The same app
  process (same store object, no restart) serves again, and every version document that
  exists loads.

A killed gocaves cannot come back: a new one listens on new random ports with no data,
so "restart" is the pause/resume case here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from django.test import override_settings

from catalog.store import StoreUnavailable, open_store
from tests.couchbase import caves
from tests.couchbase.conftest import Backend, Registry, get_registry, init_catalog
from tests.couchbase.test_serving import infer, publish_iris
from tests.models import assert_same_model, iris, matmul_model

pytestmark = [pytest.mark.couchbase, pytest.mark.django_db]

# Short limits so an unanswered call fails in seconds (defaults: 10 s KV, 30 s connect).
KV_TIMEOUT_S = 5
CONNECT_TIMEOUT_S = 10
# How long the app may take to serve again after the cluster resumes.
RECOVERY_S = 30


@pytest.fixture
def outage_app() -> Iterator[tuple[Backend, caves.Caves]]:
    """Return a catalog on a gocaves of its own, with the app's settings pointed at it."""
    cluster = caves.start_gocaves("ml")
    url = cluster.url(kv_timeout=KV_TIMEOUT_S, connect_timeout=CONNECT_TIMEOUT_S)
    scope = f"o_{uuid.uuid4().hex[:10]}"
    try:
        # The catalog is set up through a connection with long limits (a busy machine can
        # slow the mock's collection set-up past the short ones); the app gets the short.
        setup = open_store(cluster.url(kv_timeout=90, connect_timeout=90))
        caves.connect(setup)
        log = list(init_catalog(Registry(setup, "ml", scope)))
        setup.close()
        with override_settings(CATALOG_STORE=url, CATALOG_BUCKET="ml", CATALOG_SCOPE=scope):
            caves.connect(get_registry().store)
            yield Backend("couchbase", url, "ml", scope, None, log), cluster
    finally:
        cluster.stop()


def _json_503(response) -> dict:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_a_killed_cluster_gives_store_unavailable_and_503_json(outage_app, client, admin_client):
    backend, cluster = outage_app
    reg = backend.registry()
    publish_iris(reg)
    X, _ = iris()
    assert infer(client, "iris", X[:1]).status_code == 200
    cluster.kill()

    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"Couchbase is unavailable"):
        reg.store.get(reg.ks.aliases, "iris")
    assert time.monotonic() - started < KV_TIMEOUT_S + 5
    with pytest.raises(StoreUnavailable):
        publish_iris(reg)

    body = _json_503(infer(client, "iris", X[:1]))
    assert "the document store failed: Couchbase is unavailable" in body["error"]
    body = _json_503(
        admin_client.post(
            "/api/models/iris/aliases/production", {"version": 1}, content_type="application/json"
        )
    )
    assert "Couchbase is unavailable" in body["error"] and body["status"] == 503
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 503 and ready.json()["ready"] is False


def test_a_paused_cluster_gives_503_then_the_app_recovers_with_nothing_half_written(
    outage_app, client
):
    backend, cluster = outage_app
    reg = backend.registry()
    model = matmul_model(400, 400, seed=3)
    reg.publish("m", model, validate=False)
    assert reg.document("m", 1)["chunks"]  # a model with chunks: three writes per publish
    X, _ = iris()
    publish_iris(reg)
    assert infer(client, "iris", X[:1]).status_code == 200

    cluster.pause()
    try:
        with pytest.raises(StoreUnavailable):
            reg.publish("m", matmul_model(400, 400, seed=4), validate=False)
        _json_503(infer(client, "iris", X[:1]))
    finally:
        cluster.resume()

    deadline = time.monotonic() + RECOVERY_S
    while True:  # the same app process, the same store object: no restart
        response = infer(client, "iris", X[:1])
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["model_version"] == "1"

    # The publish cut short may have landed (its writes were queued at the paused server),
    # but no version exists without its chunks, and the next publish gets a fresh number.
    ref = reg.publish("m", matmul_model(400, 400, seed=5), validate=False)
    found = reg.store.get_many(reg.ks.models, [f"m::{v}" for v in range(1, ref.version + 1)])
    assert "m::1" in found and f"m::{ref.version}" in found
    for key, (doc, _) in found.items():
        chunks = reg.store.get_many(reg.ks.tensors, doc["chunks"])
        assert set(chunks) == set(doc["chunks"]), key
        reg.load("m", doc["version"])  # rebuilds from the document and its chunks
    assert_same_model(model, reg.load("m", 1))
    assert reg.aliases("m")["latest"] == ref.version
