"""The model list and model page, and their JSON twins."""

from __future__ import annotations

import pytest

from catalog.domain.registry import get_registry
from tests.models import iris, iris_svc, matmul_model


@pytest.fixture
def published(catalog_store):
    reg = get_registry()
    X, _ = iris()
    reg.publish(
        "iris-svc",
        iris_svc(),
        sample_input=X[:1],
        tags=["iris"],
        description="SVM <b>on</b> iris",
        metadata={"classNames": ["setosa", "versicolor", "virginica"]},
    )
    reg.publish("mm", matmul_model(8, 4), format="binary")
    return reg


def test_the_list_shows_every_model(client, published):
    page = client.get("/models/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "iris-svc" in body and "mm" in body
    assert "SVM &lt;b&gt;on&lt;/b&gt; iris" in body  # escaped
    data = client.get("/models/?format=json").json()
    assert [m["name"] for m in data["models"]] == ["iris-svc", "mm"]


def test_the_model_page_shows_summary_signature_metadata_and_versions(client, published):
    page = client.get("/models/iris-svc/")
    assert page.status_code == 200
    body = page.content.decode()
    for text in ["SVMClassifier", "setosa", "classification", "v1", "latest", "<code>X</code>"]:
        assert text in body, text
    twin = client.get("/models/iris-svc/?format=json").json()
    assert twin["document"]["summary"]["opTypes"]
    assert "onnx" not in twin["document"]
    assert twin["aliases"] == {"latest": 1}


def test_unknown_models_give_404(client, published):
    assert client.get("/models/nope/").status_code == 404
    assert client.get("/models/iris-svc/v/7/").status_code == 404
    assert client.get("/models/nope/?format=json").json()["error"]
