"""The serving path end to end, once on the embedded store and once on Couchbase.

On Couchbase everything goes through the official SDK: against gocaves (the mock cluster
Couchbase tests its SDKs with) unless COUCHBASE_CONNSTR names a live cluster. The steps
are key-value only except where a test says it lists a collection: those need a KV range
scan or a query service, which gocaves does not serve, and skip there with that reason.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from django.core.management import call_command

from catalog.store import Conflict
from tests.models import assert_same_model, iris, iris_logreg, matmul_model

pytestmark = [pytest.mark.couchbase, pytest.mark.django_db]

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def publish_iris(reg, name="iris", estimator=None, **kwargs):
    """Publish an iris classifier with its feature names and a sample row."""
    X, _ = iris()
    metadata = {"featureNames": FEATURES, "sampleRow": [float(v) for v in X[100]]}
    return reg.publish(
        name, estimator or iris_logreg(), sample_input=X[:1], metadata=metadata, **kwargs
    )


def infer(client, name, rows, ref=None):
    """POST an OIP inference request; return the response."""
    url = f"/v2/models/{name}/infer" if ref is None else f"/v2/models/{name}/versions/{ref}/infer"
    array = np.asarray(rows, dtype=np.float32)
    body = {"inputs": [{"name": "X", "datatype": "FP32", "shape": list(array.shape),
                        "data": array.ravel().tolist()}]}  # fmt: skip
    return client.post(url, body, content_type="application/json")


def test_catalog_init_creates_the_collections_and_says_what_it_could_not(backend, capsys):
    reg = backend.registry()
    keyspaces = set(reg.store.keyspaces())
    assert set(reg.ks.all()) <= keyspaces
    call_command("catalog", "init")  # idempotent: a second run on the same catalog
    out = capsys.readouterr().out
    assert set(reg.store.keyspaces()) == keyspaces
    if backend.name == "embedded":
        assert "catalog ready" in out
        return
    assert f"collections ready: {backend.bucket}.{backend.scope}." in out
    if "query" in backend.cluster.lacks:
        assert "GSI indexes NOT created: the query service is unavailable" in out
    else:
        assert "indexes online on models" in out
    if "search" in backend.cluster.lacks:
        assert "search index NOT created: the search service is unavailable" in out


def test_json_and_binary_versions_load_bit_exact(reg):
    X, _ = iris()
    model = iris_logreg()
    first = publish_iris(reg, estimator=model)
    second = publish_iris(reg, estimator=model, format="binary")
    assert (first.version, second.version) == (1, 2)
    json_doc, binary_doc = reg.document("iris", 1), reg.document("iris", 2)
    assert json_doc["format"] == "json" and "onnx" in json_doc
    assert binary_doc["format"] == "binary" and "onnx" not in binary_doc
    assert reg.load_bytes("iris", 2) == reg.load("iris", 1).SerializeToString()
    assert_same_model(reg.load("iris", 1), reg.load("iris", 2))
    assert reg.aliases("iris") == {"latest": 2}


def test_a_model_over_20_mb_is_stored_in_chunks_under_the_limit_and_rebuilt(reg):
    model = matmul_model(2600, 2600, seed=7)  # 27 MB of float32 weights
    assert model.ByteSize() > 20 * 2**20
    reg.publish("big", model, validate=False)
    doc = reg.document("big")
    sizes = [len(reg.store.get(reg.ks.tensors, key)[0]) for key in doc["chunks"]]
    assert len(sizes) >= 2 and max(sizes) < 20 * 2**20
    assert_same_model(model, reg.load("big"))
    reg.publish("big-bin", model, format="binary", validate=False)
    assert reg.load_bytes("big-bin") == model.SerializeToString()


def test_aliases_move_with_cas(reg):
    for _ in range(3):
        publish_iris(reg)
    assert reg.set_alias("iris", "production", 1) is None
    assert reg.set_alias("iris", "production", 2, expected=1) == 1
    with pytest.raises(Conflict):
        reg.set_alias("iris", "production", 3, expected=1)  # someone moved it first
    assert reg.aliases("iris") == {"latest": 3, "production": 2}
    entry, cas = reg.store.get(reg.ks.aliases, "iris")
    reg.store.replace(reg.ks.aliases, "iris", entry, cas=cas)  # a concurrent writer
    with pytest.raises(Conflict):
        reg.store.replace(reg.ks.aliases, "iris", entry, cas=cas)
    assert reg.set_alias("iris", "production", 3, expected=2) == 2  # re-reads, retries


def test_alias_moves_leave_audit_documents(backend, reg):
    backend.require("scan")  # the audit keys are random: only a listing finds them
    publish_iris(reg)
    publish_iris(reg)
    reg.set_alias("iris", "production", 1, user="ada")
    reg.set_alias("iris", "production", 2, expected=1, user="bob")
    moves = sorted(
        (doc["at"], doc["from"], doc["to"], doc["user"])
        for _, doc, _ in reg.store.scan(reg.ks.audit)
        if doc.get("alias") == "production"
    )
    assert [m[1:] for m in moves] == [(None, 1, "ada"), (1, 2, "bob")]


def test_concurrent_publishers_get_distinct_versions(backend):
    model, X = iris_logreg(), iris()[0]
    errors: list[BaseException] = []

    def publisher() -> None:
        store = backend.open_store()  # a connection of its own, as another process has
        try:
            reg = backend.registry(store)
            for _ in range(4):
                reg.publish("shared", model, sample_input=X[:1])
        except BaseException as e:
            errors.append(e)
        finally:
            store.close()

    threads = [threading.Thread(target=publisher) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    reg = backend.registry()
    keys = [f"shared::{v}" for v in range(1, 14)]
    found = reg.store.get_many(reg.ks.models, keys)
    assert sorted(found) == sorted(keys[:12])  # 1..12, no gap, no duplicate
    assert sorted(doc["version"] for doc, _ in found.values()) == list(range(1, 13))
    assert reg.aliases("shared")["latest"] == 12


def test_the_oip_route_and_the_prediction_page_serve_latest_and_production(client, reg):
    X, y = iris()
    publish_iris(reg)
    publish_iris(reg, format="binary")
    reg.set_alias("iris", "production", 1)
    latest = infer(client, "iris", X[[0, 60, 120]])
    assert latest.status_code == 200, latest.content
    assert latest.json()["model_version"] == "2"
    production = infer(client, "iris", X[[0, 60, 120]], ref="production")
    assert production.status_code == 200 and production.json()["model_version"] == "1"
    expected = iris_logreg().predict(X[[0, 60, 120]]).tolist()  # both versions are this model
    for response in (latest, production):
        outputs = {o["name"]: o["data"] for o in response.json()["outputs"]}
        assert outputs["label"] == expected
    page = client.get("/models/iris/v/production/predict")
    assert page.status_code == 200
    html = page.content.decode()
    assert "v1</span>" in html and '<span class="alias">production</span>' in html
    posted = client.post("/models/iris/predict", {f"f{i}": str(v) for i, v in enumerate(X[120])})
    assert posted.status_code == 200
    assert "&quot;model_version&quot;: &quot;2&quot;" in posted.content.decode()


def test_a_learning_step_republishes_while_four_clients_keep_predicting(backend, learning):
    from django.test import Client
    from sklearn.linear_model import SGDClassifier

    X, y = iris()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    reg = backend.registry()
    learning.start_learning(
        reg, "live", SGDClassifier(random_state=0), X[order[:30]], y[order[:30]],
        holdout=(X[order[120:]], y[order[120:]]), feature_names=FEATURES,
    )  # fmt: skip
    stop = threading.Event()
    seen: list[list[tuple[int, int]]] = [[] for _ in range(4)]

    def predict(out: list[tuple[int, int]]) -> None:
        client = Client()
        while not stop.is_set():
            try:
                response = infer(client, "live", X[:2])
                version = (
                    int(response.json().get("model_version", 0))
                    if response.status_code == 200
                    else 0
                )
                out.append((response.status_code, version))
            except Exception as e:  # a failed request, whatever failed
                out.append((repr(e), 0))

    threads = [threading.Thread(target=predict, args=(s,)) for s in seen]
    for t in threads:
        t.start()
    try:
        for step in range(3):
            start = 30 + 30 * step
            learning.learn(reg, "live", X[order[start : start + 30]], y[order[start : start + 30]])
            time.sleep(0.2)  # let the clients see each version
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert reg.aliases("live")["latest"] == 4
    for requests in seen:
        assert requests and all(status == 200 for status, _ in requests), requests[:5]
        versions = [v for _, v in requests]
        assert versions == sorted(versions)  # never backwards
    assert max(v for s in seen for _, v in s) == 4


def test_deleting_a_version_collects_the_chunks_no_other_version_uses(backend, reg):
    backend.require("scan")  # delete lists the model's versions and every version's chunks
    shared, own = matmul_model(400, 400, seed=1), matmul_model(400, 400, seed=2)
    reg.publish("m", shared, validate=False)
    reg.publish("m", own, validate=False)
    reg.publish("other", shared, validate=False)
    own_chunks = set(reg.document("m", 2)["chunks"]) - set(reg.document("m", 1)["chunks"])
    shared_chunks = set(reg.document("other", 1)["chunks"])
    assert own_chunks and shared_chunks
    reg.delete_version("m", 2)
    reg.delete_version("m", 1)
    tensors = reg.store.get_many(reg.ks.tensors, sorted(own_chunks | shared_chunks))
    assert set(tensors) == shared_chunks  # "other" still uses them
    assert reg.aliases("m") == {}
    assert_same_model(shared, reg.load("other"))
