"""Refit learning: rows kept in content-addressed chunks, lineage queryable in SQL++,
a window of the last N rows, and the skops allow-list for the refit estimators."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.svm import SVC

from catalog.domain.registry import get_registry
from inference.datasets import VERSIONS_TRAINED_ON, load_rows, versions_trained_on
from inference.estimators import ESTIMATORS, REFIT, build_estimator, spec_from_mapping
from inference.learning import learn, learning_head, start_learning
from inference.learning_input import LearningError
from inference.learning_start import start_from_csv
from inference.state import UntrustedState, dump_state, load_state
from tests.inference.learning_csv import iris_csv
from tests.inference.test_learning import iris_split

BATCH = 20


@pytest.fixture
def reg(catalog_store):
    return get_registry()


def start_svc(reg, window=None):
    Xtr, Xh, ytr, yh = iris_split()
    start_learning(
        reg, "svm", SVC(C=1.0), Xtr[:30], ytr[:30], holdout=(Xh, yh), batch_id="b0",
        window=window, policy="always",
    )  # fmt: skip
    return Xtr, ytr


def test_version_n_is_trained_on_every_row_of_batches_1_to_n(reg):
    Xtr, ytr = start_svc(reg)
    for n in range(1, 4):
        rows = slice(30 + (n - 1) * BATCH, 30 + n * BATCH)
        result = learn(reg, "svm", Xtr[rows], ytr[rows], batch_id=f"b{n}")
        assert result.version == n + 1
    for n in range(4):
        lineage = reg.document("svm", n + 1)["lineage"]
        assert [b["batchId"] for b in lineage["trainedOn"]] == [f"b{i}" for i in range(n + 1)]
        assert lineage["trainingRows"] == 30 + n * BATCH
        X, y = load_rows(reg, lineage["trainedOn"])
        np.testing.assert_array_equal(X, Xtr[: 30 + n * BATCH])
        assert y == ytr[: 30 + n * BATCH].tolist()
    # The lineage query: which versions were trained on batch X.
    for n in range(4):
        assert versions_trained_on(reg, "svm", f"b{n}") == list(range(n + 1, 5))
    chunk = reg.document("svm", 3)["lineage"]["trainedOn"][2]["chunks"][0]
    assert versions_trained_on(reg, "svm", chunk) == [3, 4]
    rows = reg.store.query(
        VERSIONS_TRAINED_ON.statement,
        {"name": "svm", "batch": "b2"},
        query_context=reg.ks.query_context,
    )
    assert rows == [3, 4]


def test_a_window_trains_on_the_last_n_rows_only(reg):
    Xtr, ytr = start_svc(reg, window=45)
    for n in range(1, 4):
        rows = slice(30 + (n - 1) * BATCH, 30 + n * BATCH)
        learn(reg, "svm", Xtr[rows], ytr[rows], batch_id=f"b{n}")
    last = reg.document("svm", 4)["lineage"]
    assert last["trainingRows"] == 45
    # Rows 45..90 come from b1 (last 5 of its 20), b2 and b3.
    assert [b["batchId"] for b in last["trainedOn"]] == ["b1", "b2", "b3"]
    # v3 trains on the last 45 of 70 rows (5 of b0, b1, b2); v4 on 5 of b1, b2, b3.
    assert versions_trained_on(reg, "svm", "b0") == [1, 2, 3]
    head = learning_head(reg, "svm")
    assert head["rowsSeen"] == 90 and head["trainingRows"] == 45 and head["window"] == 45


def test_identical_batches_are_stored_once(reg):
    Xtr, ytr = start_svc(reg)
    chunks_before = _count(reg, "datasets")
    learn(reg, "svm", Xtr[30:50], ytr[30:50], batch_id="once")
    learn(reg, "svm", Xtr[30:50], ytr[30:50], batch_id="twice")  # same rows, another id
    assert _count(reg, "datasets") == chunks_before + 1
    head = learning_head(reg, "svm")
    assert head["trainedOn"][1]["chunks"] == head["trainedOn"][2]["chunks"]
    assert head["trainingRows"] == 70  # the rows were sent twice: both count


def _count(reg, collection: str) -> int:
    return reg.store.query(
        f"SELECT RAW COUNT(*) FROM {collection}", query_context=reg.ks.query_context
    )[0]


def test_a_refit_classifier_may_learn_a_new_class(reg):
    spec = spec_from_mapping({"estimator": "SVC", "label": "species", "policy": "always"})
    two = "\n".join(line for line in iris_csv(0, 150).splitlines() if "virginica" not in line)
    start_from_csv(reg, "svm", spec, ("\n".join(two.splitlines()[:41]) + "\n").encode())
    assert learning_head(reg, "svm")["classes"] == ["setosa", "versicolor"]
    from inference.learning import learn_csv_bytes

    result = learn_csv_bytes(reg, "svm", iris_csv(0, 60).encode(), None)
    assert learning_head(reg, "svm")["classes"] == ["setosa", "versicolor", "virginica"]
    assert result.version == 2
    with pytest.raises(LearningError, match="no label column"):
        learn_csv_bytes(reg, "svm", iris_csv(0, 10).encode(), "kind")


@pytest.mark.parametrize("name", [n for n, (_, mode) in ESTIMATORS.items() if mode == REFIT])
@pytest.mark.parametrize("scaler", ["none", "standard"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_refit_estimator_round_trips_through_the_allow_list(name, scaler):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    estimator = build_estimator(spec_from_mapping({"estimator": name, "scaler": scaler}))
    params = {"n_estimators": 5} if "Forest" in name or "Boosting" in name else {}
    estimator.set_params(
        **{(f"estimator__{k}" if scaler == "standard" else k): v for k, v in params.items()}
    )
    estimator.fit(X, y)
    back = load_state(dump_state(estimator))
    np.testing.assert_array_equal(back.predict(X), estimator.predict(X))


def _with_schema(data: bytes, change) -> bytes:
    """Return skops bytes whose schema.json was rewritten by ``change(schema)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(content)
                change(schema)
                content = json.dumps(schema).encode()
            z.writestr(item, content)
    return out.getvalue()


def test_a_crafted_svc_state_with_an_untrusted_type_is_refused():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    data = dump_state(SVC().fit(X, y))
    assert type(load_state(data)) is SVC  # the real state loads

    def smuggle(schema):  # the SVC's class weights become a call to os.system
        schema["content"]["class_weight_"] = {
            "__class__": "system",
            "__module__": "os",
            "__loader__": "ObjectNode",
            "content": {"__class__": "str", "__module__": "builtins", "__loader__": "none"},
        }

    crafted = _with_schema(data, smuggle)
    with pytest.raises(UntrustedState, match="os.system"):
        load_state(crafted)

    def swap_class(schema):  # the estimator itself claims to be another type
        schema["__class__"] = "FeatureUnion"
        schema["__module__"] = "sklearn.pipeline"

    with pytest.raises(UntrustedState, match="sklearn.pipeline.FeatureUnion"):
        load_state(_with_schema(data, swap_class))


def test_an_incremental_models_scaler_learns_each_batch_with_partial_fit(reg):
    from inference.learning import learn_csv_bytes

    spec = spec_from_mapping(
        {"estimator": "SGDClassifier", "label": "species", "scaler": "standard", "holdout": 0.2}
    )
    start_from_csv(reg, "sgd", spec, iris_csv(0, 50).encode())
    learn_csv_bytes(reg, "sgd", iris_csv(50, 80).encode(), None)
    head = learning_head(reg, "sgd")
    assert head["scalerLearns"] is True and head["rowsSeen"] == 70
    blob, _ = reg.store.get(reg.ks.states, head["stateKey"])
    scaler = load_state(blob).steps[0][1]
    assert scaler.n_samples_seen_ == 70  # 40 first rows (10 held out) + 30
