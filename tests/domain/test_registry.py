"""Publishing, loading, versions, aliases and deletes on the real embedded store."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from catalog.domain.registry import (
    AliasInUse,
    InvalidModel,
    InvalidName,
    ModelNotFound,
    Registry,
    RegistryError,
)
from catalog.store import Conflict, open_store
from tests.models import assert_same_model, iris, iris_logreg, iris_svc, matmul_model


@pytest.fixture
def reg(store):
    return Registry(store)


def run(model: onnx.ModelProto, X: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def test_it_publishes_the_iris_svc_and_loads_the_same_model(reg):
    X, y = iris()
    svc = iris_svc()
    ref = reg.publish(
        "iris-svc", svc, sample_input=X[:1], tags=["iris", "svm"], description="SVM on iris"
    )
    assert (ref.name, ref.version) == ("iris-svc", 1)
    doc = reg.document("iris-svc")
    assert doc["metadata"]["classLabels"] == [0, 1, 2]
    assert doc["metadata"]["task"] == "classification"
    assert doc["metadata"]["framework"] == "scikit-learn"
    assert "SVMClassifier" in doc["summary"]["opTypes"]
    loaded = reg.load("iris-svc", 1)
    labels = run(loaded, X)[0]
    assert (labels == svc.predict(X)).all()


def test_a_loaded_model_equals_the_published_one(reg):
    model = matmul_model(300, 300)  # 360 KB: its weight goes to a chunk
    reg.publish("mm", model)
    assert reg.document("mm")["chunks"], "the large initializer should be externalized"
    assert_same_model(model, reg.load("mm"))


def test_binary_format_stores_the_protobuf_and_a_queryable_summary(reg):
    model = matmul_model(64, 8)
    reg.publish("bin", model, format="binary", tags=["b"])
    doc = reg.document("bin")
    assert doc["format"] == "binary" and "onnx" not in doc
    assert doc["summary"]["opTypes"] == ["MatMul"]
    assert reg.load_bytes("bin") == model.SerializeToString()
    assert_same_model(model, reg.load("bin"))


def test_versions_count_up_and_latest_follows(reg):
    for i in range(3):
        reg.publish("m", matmul_model(4, 2, seed=i))
    assert [v["version"] for v in reg.list_versions("m")] == [3, 2, 1]
    assert reg.aliases("m") == {"latest": 3}
    assert reg.resolve("m") == 3 and reg.resolve("m", "2") == 2
    assert [m["name"] for m in reg.list_models()] == ["m"]
    assert reg.list_models()[0]["versions"] == 3


def test_aliases_move_with_cas(reg):
    for i in range(2):
        reg.publish("m", matmul_model(4, 2, seed=i))
    assert reg.set_alias("m", "production", 1) is None
    assert reg.set_alias("m", "production", 2, expected=1) == 1
    with pytest.raises(Conflict):
        reg.set_alias("m", "production", 1, expected=1)
    assert reg.resolve("m", "production") == 2
    with pytest.raises(ModelNotFound):
        reg.set_alias("m", "production", 9)
    reg.remove_alias("m", "production")
    with pytest.raises(ModelNotFound):
        reg.resolve("m", "production")
    with pytest.raises(RegistryError):
        reg.remove_alias("m", "latest")
    moves = sorted(
        (doc for _, doc, _ in reg.store.scan(reg.ks.audit) if doc["name"] == "m"),
        key=lambda d: d["at"],
    )
    assert [(m["from"], m.get("to")) for m in moves] == [(None, 1), (1, 2), (2, None)]


def test_delete_is_refused_while_aliased_and_collects_chunks(reg):
    shared = matmul_model(200, 200, seed=1)
    reg.publish("m", shared)
    reg.publish("m", shared)  # same weights: the same content-addressed chunks
    chunks = reg.document("m", 1)["chunks"]
    assert chunks == reg.document("m", 2)["chunks"]
    reg.set_alias("m", "production", 1)
    with pytest.raises(AliasInUse):
        reg.delete_version("m", 1)
    assert reg.delete_version("m", 1, force=True) == ["production"]
    assert all(reg.store.exists(reg.ks.tensors, c) for c in chunks)  # v2 still uses them
    reg.delete_version("m", 2)
    assert not any(reg.store.exists(reg.ks.tensors, c) for c in chunks)
    assert reg.aliases("m") == {}
    with pytest.raises(ModelNotFound):
        reg.load("m")


def test_deleting_the_latest_moves_latest_back_and_numbers_are_not_reused(reg):
    for i in range(3):
        reg.publish("m", matmul_model(4, 2, seed=i))
    reg.delete_version("m", 3)
    assert reg.aliases("m")["latest"] == 2
    assert reg.publish("m", matmul_model(4, 2, seed=9)).version == 4


def test_an_invalid_model_stores_nothing(reg):
    bad = helper.make_model(
        helper.make_graph(
            [helper.make_node("NoSuchOp", ["X"], ["Y"])],
            "g",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])],
        )
    )
    with pytest.raises(InvalidModel, match="NoSuchOp"):
        reg.publish("bad", bad)
    with pytest.raises(RegistryError, match="not an ONNX model"):
        reg.publish("bad", b"garbage bytes")
    assert reg.store.count(reg.ks.models) == 0 and reg.store.count(reg.ks.tensors) == 0


def test_external_data_pointing_at_files_is_refused(reg):
    model = matmul_model(4, 2)
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    with pytest.raises(InvalidModel, match="external"):
        reg.publish("ext", model)
    assert reg.store.count(reg.ks.models) == 0


def test_names_are_checked(reg):
    for bad in ["", "a/b", "a::b", "../x", " x", "é", "x" * 300]:
        with pytest.raises(InvalidName):
            reg.publish(bad, matmul_model(2, 2))
    with pytest.raises(InvalidName):
        reg.publish("ok", matmul_model(2, 2), alias="1")


def test_an_unfitted_estimator_is_refused(reg):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(RegistryError, match="not fitted"):
        reg.publish("lr", LogisticRegression(), sample_input=iris()[0][:1])


def _publish_many(url: str, count: int) -> None:
    reg = Registry(open_store(url))
    model = iris_logreg()
    for _ in range(count):
        reg.publish("shared", model, sample_input=iris()[0][:1])


def test_concurrent_publishes_get_distinct_versions(tmp_path):
    url = f"embedded://{tmp_path / 'c.sqlite3'}"
    Registry(open_store(url))
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_publish_many, args=(url, 8)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(180)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    reg = Registry(open_store(url))
    assert sorted(v["version"] for v in reg.list_versions("shared")) == list(range(1, 25))
    assert reg.aliases("shared")["latest"] == 24


def test_a_model_over_50_mb_is_stored_in_chunks_and_rebuilt(reg):
    model = matmul_model(3700, 3700)  # 52 MiB of float32 weights
    assert model.ByteSize() > 50 * 2**20
    reg.publish("big", model, validate=False)
    doc = reg.document("big")
    sizes = [len(reg.store.get(reg.ks.tensors, key)[0]) for key in doc["chunks"]]
    assert len(sizes) >= 3 and max(sizes) < 20 * 2**20
    assert_same_model(model, reg.load("big"))
    reg.publish("big-bin", model, format="binary", validate=False)
    assert reg.load_bytes("big-bin") == model.SerializeToString()
