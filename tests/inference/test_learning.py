"""Online learning: trusted state, learning steps, policies, CSV, feedback, history, drift."""

from __future__ import annotations

import collections
import io
import json
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.cluster import MiniBatchKMeans
from sklearn.datasets import load_diabetes
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVC

from catalog.domain.registry import Registry
from inference.learning import (
    DuplicateBatch,
    LearningError,
    NoLearningState,
    learn,
    learn_from_csv,
    learning_head,
    start_learning,
)
from inference.learning_feedback import learn_from_feedback
from inference.learning_history import all_history as learning_history
from inference.learning_history import drift_from_parent as weight_drift
from inference.policy import Always, Never, NoWorse, PolicyError, policy_from_spec
from inference.state import UntrustedState, dump_state, load_state, untrusted_types
from tests.models import iris


class Sneaky:
    """A class no allow-list knows."""


@pytest.fixture
def reg(store):
    return Registry(store)


def iris_split():
    X, y = iris()
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def start_iris(reg, name="iris", policy=None, estimator=None, rows=30):
    Xtr, Xh, ytr, yh = iris_split()
    est = estimator if estimator is not None else SGDClassifier(random_state=0)
    result = start_learning(reg, name, est, Xtr[:rows], ytr[:rows], holdout=(Xh, yh), policy=policy)
    return result, Xtr, ytr


# -- state --------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_state_round_trips_through_skops_with_trusted_types():
    X, y = iris()
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0).fit(X, y)
    data = dump_state(est)
    assert zipfile.is_zipfile(io.BytesIO(data)) and b"pickle" not in data[:4]
    back = load_state(data)
    assert type(back) is MLPClassifier
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_a_state_with_an_ordered_dict_is_refused_though_skops_would_trust_it():
    X, y = iris()
    est = SGDClassifier(random_state=0).fit(X, y)
    est.extra_ = collections.OrderedDict(a=1)
    data = sio.dumps(est)
    assert sio.get_untrusted_types(data=data) == []  # skops's defaults let it through
    assert untrusted_types(data) == ["collections.OrderedDict"]
    with pytest.raises(UntrustedState, match="collections.OrderedDict"):
        load_state(data)


def test_a_state_with_a_custom_class_is_refused():
    X, y = iris()
    est = GaussianNB().fit(X, y)
    est.sneaky_ = Sneaky()
    data = sio.dumps(est)
    with pytest.raises(UntrustedState, match="tests.inference.test_learning.Sneaky"):
        load_state(data)
    with pytest.raises(UntrustedState, match="allow-list"):
        dump_state(est)


def test_estimators_outside_the_list_and_non_skops_bytes_are_refused():
    X, y = iris()
    with pytest.raises(UntrustedState, match="sklearn.svm._classes.NuSVC"):
        load_state(sio.dumps(NuSVC().fit(X, y)))  # skops trusts it; our allow-list does not
    with pytest.raises(UntrustedState, match="NuSVC is not supported"):
        dump_state(NuSVC().fit(X, y))
    with pytest.raises(UntrustedState, match="not a skops"):
        load_state(b"\x80\x04K\x01.")  # a pickle is never opened


# -- steps --------------------------------------------------------------------------------


def test_start_publishes_version_one_and_moves_production(reg):
    result, _, _ = start_iris(reg)
    assert (result.version, result.generation, result.parent) == (1, 1, None)
    assert result.rows_seen == 30 and result.promoted and result.production == 1
    assert reg.aliases("iris") == {"latest": 1, "production": 1}
    doc = reg.document("iris", 1)
    assert doc["lineage"]["batchId"] == "initial"
    assert doc["metadata"]["metrics"]["accuracy"] == result.metric["accuracy"]
    head = learning_head(reg, "iris")
    assert head["classes"] == [0, 1, 2] and head["nFeatures"] == 4
    blob, _ = reg.store.get(reg.ks.states, head["stateKey"])
    assert isinstance(blob, bytes) and type(load_state(blob)) is SGDClassifier
    with pytest.raises(LearningError, match="already learning"):
        start_iris(reg)


def test_a_step_publishes_a_version_with_lineage_and_moves_latest(reg):
    _, Xtr, ytr = start_iris(reg, policy="never")
    step = learn(reg, "iris", Xtr[30:60], ytr[30:60], batch_id="b1")
    assert (step.version, step.parent, step.generation) == (2, 1, 2)
    assert step.rows_seen == 60 and step.batch_size == 30
    doc = reg.document("iris", 2)
    assert doc["lineage"] == {
        "parent": 1,
        "generation": 2,
        "batchId": "b1",
        "batchSize": 30,
        "rowsSeen": 60,
        "metric": {"accuracy": step.metric["accuracy"]},
    }
    assert doc["metadata"]["metrics"] == {"accuracy": step.metric["accuracy"]}
    assert 0.0 <= step.metric["accuracy"] <= 1.0
    assert reg.aliases("iris") == {"latest": 2, "production": 1}
    assert not step.promoted and step.reason == "policy 'never'"
    # the served model is the one learned: ONNX predictions on the new version
    import onnxruntime as ort

    session = ort.InferenceSession(reg.load_bytes("iris", "latest"))
    head = learning_head(reg, "iris")
    est = load_state(reg.store.get(reg.ks.states, head["stateKey"])[0])
    labels = session.run(["label"], {"X": Xtr})[0]
    assert (labels == est.predict(Xtr)).mean() > 0.95


def test_production_moves_only_when_the_policy_allows(reg):
    _, Xtr, ytr = start_iris(reg, policy="never")
    learn(reg, "iris", Xtr[30:45], ytr[30:45])
    assert reg.aliases("iris")["production"] == 1
    step = learn(reg, "iris", Xtr[45:60], ytr[45:60], policy=Always())
    assert step.promoted and reg.aliases("iris")["production"] == 3
    audit = reg.store.query(
        "SELECT a.* FROM audit a WHERE a.name = $name ORDER BY a.`at`",
        {"name": "iris"},
        query_context=reg.ks.query_context,
    )
    assert [(a["from"], a["to"], a["user"]) for a in audit][-1] == (1, 3, "learner")


def test_no_worse_compares_with_production_on_the_same_holdout(reg):
    result, Xtr, ytr = start_iris(reg, policy=NoWorse("accuracy", 0.0))
    best = result.metric["accuracy"]
    production = 1
    for i in range(6):
        step = learn(reg, "iris", Xtr[30 + 10 * i : 40 + 10 * i], ytr[30 + 10 * i : 40 + 10 * i])
        if step.metric["accuracy"] >= best:
            best, production = step.metric["accuracy"], step.version
            assert step.promoted
        else:
            assert not step.promoted and "worse than production" in step.reason
        assert reg.aliases("iris")["production"] == production


def test_policy_specs():
    assert policy_from_spec("always") == Always()
    assert policy_from_spec({"kind": "no-worse", "metric": "rmse", "tolerance": "0.5"}) == (
        NoWorse("rmse", 0.5)
    )
    assert NoWorse("rmse").decide({"rmse": 2.0}, {"rmse": 1.0}, "r2").promote is False
    assert NoWorse("rmse", 1.5).decide({"rmse": 2.0}, {"rmse": 1.0}, "r2").promote is True
    assert NoWorse().decide({"accuracy": 0.5}, {}, "accuracy").promote is False
    assert Never().decide({}, None, "accuracy").promote is False
    with pytest.raises(PolicyError):
        policy_from_spec("sometimes")


def test_a_batch_id_is_learned_once(reg):
    _, Xtr, ytr = start_iris(reg)
    learn(reg, "iris", Xtr[30:40], ytr[30:40], batch_id="once")
    with pytest.raises(DuplicateBatch):
        learn(reg, "iris", Xtr[30:40], ytr[30:40], batch_id="once")
    assert learning_head(reg, "iris")["rowsSeen"] == 40


def test_bad_batches_are_refused_before_anything_changes(reg):
    _, Xtr, ytr = start_iris(reg)
    with pytest.raises(LearningError, match="not one of the classes"):
        learn(reg, "iris", Xtr[:2], [0, 7])
    with pytest.raises(LearningError, match="model takes 4"):
        learn(reg, "iris", Xtr[:2, :3], ytr[:2])
    with pytest.raises(LearningError, match="missing labels"):
        learn(reg, "iris", Xtr[:2])
    with pytest.raises(PolicyError):
        learn(reg, "iris", Xtr[:2], ytr[:2], policy="sometimes")
    with pytest.raises(NoLearningState):
        learn(reg, "nope", Xtr[:2], ytr[:2])
    assert reg.aliases("iris")["latest"] == 1 and learning_head(reg, "iris")["rowsSeen"] == 30


def test_a_first_batch_with_one_class_needs_the_classes(reg):
    X, y = iris()
    with pytest.raises(LearningError, match="classes"):
        start_learning(reg, "one", SGDClassifier(), X[:20], y[:20], holdout=(X[::5], y[::5]))
    result = start_learning(
        reg, "one", SGDClassifier(), X[:20], y[:20], classes=[0, 1, 2], holdout=(X[::5], y[::5])
    )
    assert learning_head(reg, "one")["classes"] == [0, 1, 2] and result.version == 1


@pytest.mark.parametrize(
    "kind", ["gaussian-nb", "mlp", "pipeline", "minibatch-kmeans", "sgd-regressor"]
)
def test_other_learners(reg, kind):
    if kind in ("sgd-regressor",):
        X, y = load_diabetes(return_X_y=True)
        X = X.astype(np.float32)
        est, metric = SGDRegressor(random_state=0), "r2"
    else:
        X, y = iris()
        est = {
            "gaussian-nb": GaussianNB(),
            "mlp": MLPClassifier(hidden_layer_sizes=(8,), random_state=0),
            "pipeline": make_pipeline(StandardScaler(), SGDClassifier(random_state=0)),
            "minibatch-kmeans": MiniBatchKMeans(n_clusters=3, n_init=1, random_state=0),
        }[kind]
        metric = "inertia" if kind == "minibatch-kmeans" else "accuracy"
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    labels = None if kind == "minibatch-kmeans" else y
    start_learning(
        reg, kind, est, X[:60], None if labels is None else y[:60], holdout=(X[-40:], y[-40:])
    )
    step = learn(reg, kind, X[60:100], None if labels is None else y[60:100])
    assert step.version == 2 and step.rows_seen == 100
    assert list(step.metric) == [metric]
    assert reg.document(kind, 2)["metadata"]["estimator"] == type(est).__name__


# -- CSV and feedback ---------------------------------------------------------------------


def test_learn_from_csv_uses_the_header_and_refuses_the_same_file_twice(reg, tmp_path):
    _, Xtr, ytr = start_iris(reg)
    path = tmp_path / "batch.csv"
    lines = ["species,a,b,c,d"] + [
        f"{int(label)}," + ",".join(f"{v:g}" for v in row)
        for row, label in zip(Xtr[30:50], ytr[30:50], strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    step = learn_from_csv(reg, "iris", path, "species")
    assert step.batch_size == 20 and step.batch_id.startswith("batch.csv:")
    with pytest.raises(DuplicateBatch):
        learn_from_csv(reg, "iris", path, "species")
    with pytest.raises(LearningError, match="no label column 'label'"):
        learn_from_csv(reg, "iris", path, "label")


@pytest.fixture
def app_reg(catalog_store, settings):
    from catalog.domain.registry import get_registry

    settings.CATALOG_PREDICTION_LOG = True
    settings.CATALOG_PREDICTION_TTL_S = 3600
    return get_registry()


@pytest.mark.django_db
def test_labelled_predictions_are_a_batch_and_are_learned_once(client, app_reg):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("labeller", is_staff=True))  # feedback writes
    reg = app_reg
    _, Xtr, ytr = start_iris(reg)
    for rows, label in ((Xtr[40:41], int(ytr[40])), (Xtr[41:43], [int(v) for v in ytr[41:43]])):
        body = {
            "inputs": [
                {
                    "name": "X",
                    "datatype": "FP32",
                    "shape": list(rows.shape),
                    "data": rows.ravel().tolist(),
                }
            ]
        }
        response = client.post("/v2/models/iris/infer", body, content_type="application/json")
        pid = response.json()["parameters"]["prediction_id"]
        feedback = client.post(
            f"/api/predictions/{pid}/feedback", {"label": label}, content_type="application/json"
        )
        assert feedback.status_code == 200
    # a prediction without feedback is not training data
    client.post(
        "/v2/models/iris/infer",
        {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": Xtr[50].tolist()}]},
        content_type="application/json",
    )
    step = learn_from_feedback(reg, "iris")
    assert step is not None and step.batch_size == 3 and step.rows_seen == 33
    assert step.extra["predictionsUsed"] == 2
    assert reg.document("iris", "latest")["lineage"]["batchId"].startswith("feedback:")
    assert learn_from_feedback(reg, "iris") is None


# -- history and drift --------------------------------------------------------------------


def test_learning_history_and_weight_drift(reg):
    _, Xtr, ytr = start_iris(reg, policy="never")
    learn(reg, "iris", Xtr[30:60], ytr[30:60], batch_id="b1")
    history = learning_history(reg, "iris")
    assert [h["version"] for h in history] == [1, 2]
    assert history[1]["parent"] == 1 and history[1]["batchId"] == "b1"
    assert history[1]["rowsSeen"] == 60 and "accuracy" in history[1]["metric"]
    assert history[0]["aliases"] == ["production"] and history[1]["aliases"] == ["latest"]
    drift = {row["name"]: row for row in weight_drift(reg, "iris", 2)}
    assert drift["coef"]["status"] == "changed" and drift["coef"]["l2"] > 0
    assert drift["coef"]["shape"] == [4, 3] and drift["coef"]["parent"] == 1
    assert drift["classes"]["status"] == "unchanged" and drift["classes"]["l2"] == 0
    assert weight_drift(reg, "iris", 1) == []


def test_weight_drift_reports_changed_shapes(reg):
    X, y = iris()
    from sklearn.linear_model import LogisticRegression

    reg.publish("shapes", LogisticRegression(max_iter=300).fit(X, y), sample_input=X[:1])
    reg.publish("shapes", LogisticRegression(max_iter=300).fit(X[:, :3], y), sample_input=X[:1, :3])
    rows = weight_drift(reg, "shapes", 2)
    assert any(r["status"] == "changed shape" and r["l2"] is None for r in rows)


def test_the_state_documents_are_json_head_and_binary_skops(reg):
    start_iris(reg)
    head, _ = reg.store.get(reg.ks.states, "iris")
    json.dumps(head)
    assert head["type"] == "learningState" and head["stateKey"].startswith("iris::")
