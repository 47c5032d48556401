"""The prediction log (CATALOG_PREDICTION_LOG) and feedback labels."""

from __future__ import annotations

import time

import pytest

from catalog.store import NotFound
from tests.inference.test_inference_support import (
    infer_body,
    iris_model_fixture,  # noqa: F401
    post_json,
    reg_fixture,  # noqa: F401
)
from tests.models import iris

INFER = "/v2/models/iris/infer"


@pytest.fixture
def logging_on(settings):
    settings.CATALOG_PREDICTION_LOG = True
    settings.CATALOG_PREDICTION_TTL_S = 3600


@pytest.fixture
def writer(client, db):
    """Return a client logged in as a staff user: feedback labels need write access."""
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("labeller", is_staff=True))
    return client


def logged(reg) -> list[dict]:
    return [doc for _, doc, _ in reg.store.scan(reg.ks.predictions)]


def test_the_log_is_off_by_default(client, iris_model):
    body = post_json(client, INFER, infer_body(iris()[0][:1])).json()
    assert "parameters" not in body
    assert logged(iris_model) == []


def test_each_prediction_is_logged_with_inputs_outputs_and_version(client, iris_model, logging_on):
    X, y = iris()
    body = post_json(client, INFER, infer_body(X[:2], id="abc")).json()
    pid = body["parameters"]["prediction_id"]
    [doc] = logged(iris_model)
    assert doc["id"] == pid and doc["requestId"] == "abc"
    assert (doc["model"], doc["version"]) == ("iris", 1)
    assert doc["inputs"] == [
        {"name": "X", "datatype": "FP32", "shape": [2, 4], "data": X[:2].ravel().tolist()}
    ]
    assert doc["outputs"] == body["outputs"]
    assert doc["at"].endswith("Z") and doc["tookMs"] >= 0
    assert doc["expiresAt"] == pytest.approx(time.time() + 3600, abs=60)


def test_the_page_logs_too(client, iris_model, logging_on, db):
    client.post("/models/iris/predict", {"f0": "5", "f1": "3", "f2": "1", "f3": "0.2"})
    assert len(logged(iris_model)) == 1


def test_feedback_attaches_the_true_label(writer, iris_model, logging_on):
    pid = post_json(writer, INFER, infer_body(iris()[0][:1])).json()["parameters"]["prediction_id"]
    response = post_json(writer, f"/api/predictions/{pid}/feedback", {"label": "setosa"})
    assert response.status_code == 200
    assert response.json()["feedback"]["label"] == "setosa"
    doc, _ = iris_model.store.get(iris_model.ks.predictions, pid)
    assert doc["feedback"]["label"] == "setosa" and doc["outputs"]


def test_logged_predictions_expire_and_feedback_keeps_the_expiry(writer, iris_model, settings):
    settings.CATALOG_PREDICTION_LOG = True
    settings.CATALOG_PREDICTION_TTL_S = 1
    pid = post_json(writer, INFER, infer_body(iris()[0][:1])).json()["parameters"]["prediction_id"]
    assert post_json(writer, f"/api/predictions/{pid}/feedback", {"label": 0}).status_code == 200
    time.sleep(1.2)
    with pytest.raises(NotFound):
        iris_model.store.get(iris_model.ks.predictions, pid)
    response = post_json(writer, f"/api/predictions/{pid}/feedback", {"label": 0})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"label": 1}, 404, "no prediction"),
        ({}, 400, '{"label": ...}'),
        ([1], 400, '{"label": ...}'),
        ("{oops", 400, "malformed JSON"),
        ({"label": None}, 400, "the label must be"),
    ],
)
def test_feedback_errors(writer, iris_model, logging_on, body, status, message):
    response = post_json(writer, "/api/predictions/0123abcd/feedback", body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_feedback_needs_post(client, reg):
    assert client.get("/api/predictions/abc/feedback").status_code == 405
