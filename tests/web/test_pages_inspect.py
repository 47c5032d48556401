"""Looking inside a version: raw document, download, initializers, one tensor, graph, Netron."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from catalog.domain.registry import get_registry
from tests.models import iris, iris_svc, matmul_model


@pytest.fixture
def published(catalog_store):
    reg = get_registry()
    X, _ = iris()
    reg.publish("iris-svc", iris_svc(), sample_input=X[:1], tags=["iris"], description="SVM")
    reg.publish("mm", matmul_model(64, 48, seed=3, name="layer/W:0"))
    reg.publish("mm", matmul_model(8, 4, seed=4), format="binary")
    return reg


def test_the_document_page_shows_the_stored_json_as_a_tree(client, published):
    page = client.get("/models/iris-svc/v/1/document")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<details" in body and '"SVMClassifier"' in body
    assert "iris-svc::1" in body
    raw = client.get("/models/iris-svc/v/1/document?format=json").json()
    assert raw["onnx"]["graph"]["node"] and raw["name"] == "iris-svc"
    download = client.get("/models/iris-svc/v/latest/document?format=json&download=1")
    assert 'filename="iris-svc-v1.json"' in download["Content-Disposition"]


def test_long_strings_are_cut_on_the_page_but_not_in_the_json(client, published):
    body = client.get("/models/mm/v/1/document").content.decode()
    assert "characters)" in body  # the 64x48 tensor's base64, or its chunk reference


def test_download_returns_the_onnx_protobuf_of_either_format(client, published):
    for ref, shape in (("1", (64, 48)), ("2", (8, 4)), ("latest", (8, 4))):
        with_subtest = client.get(f"/models/mm/v/{ref}/download.onnx")
        assert with_subtest.status_code == 200
        assert with_subtest["Content-Type"] == "application/octet-stream"
        model = onnx.load_model_from_string(with_subtest.content)
        assert numpy_helper.to_array(model.graph.initializer[0]).shape == shape
    assert (
        'filename="mm-v2.onnx"'
        in client.get("/models/mm/v/latest/download.onnx")["Content-Disposition"]
    )
    assert client.get("/models/mm/v/9/download.onnx").status_code == 404


def test_the_initializer_table_sorts_by_every_column(client, published):
    page = client.get("/models/iris-svc/v/1/initializers")
    assert page.status_code == 200
    assert 'aria-sort="ascending"' in page.content.decode()
    for key in (
        "name",
        "shape",
        "dtype",
        "size",
        "bytes",
        "min",
        "max",
        "mean",
        "std",
        "l2",
        "zeroFraction",
        "nanCount",
    ):
        for order in ("asc", "desc"):
            data = client.get(
                f"/models/iris-svc/v/1/initializers?format=json&sort={key}&order={order}"
            ).json()
            assert data["total"] == len(data["initializers"]) > 0, key
    by_size = client.get("/models/iris-svc/v/1/initializers?format=json&sort=size&order=desc")
    sizes = [t["numel"] for t in by_size.json()["initializers"]]
    assert sizes == sorted(sizes, reverse=True)
    by_max = client.get("/models/iris-svc/v/1/initializers?format=json&sort=max").json()
    maxima = [
        t["stats"]["max"] for t in by_max["initializers"] if t["stats"].get("max") is not None
    ]
    assert maxima == sorted(maxima)


def test_the_initializer_table_filters_and_rejects_bad_options(client, published):
    data = client.get("/models/mm/v/1/initializers?format=json&q=layer").json()
    assert [t["name"] for t in data["initializers"]] == ["layer/W:0"]
    assert data["initializers"][0]["bytes"] == 64 * 48 * 4
    assert client.get("/models/mm/v/1/initializers?sort=colour").status_code == 400
    assert client.get("/models/mm/v/1/initializers?page=0&format=json").status_code == 400


def test_a_tensor_page_shows_stats_histogram_and_values(client, published):
    expected = np.random.default_rng(3).standard_normal((64, 48)).astype(np.float32)
    page = client.get("/models/mm/v/1/initializers/layer/W:0")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<rect" in body and "Histogram" in body
    assert f"{float(expected[0, 0]):.5g}" in body  # the preview's first cell
    data = client.get("/models/mm/v/1/initializers/layer/W:0?format=json").json()
    assert data["values"][:3] == pytest.approx(expected.ravel()[:3].tolist())
    assert sum(b["count"] for b in data["histogram"]) == 64 * 48
    assert data["initializer"]["dims"] == [64, 48]
    assert client.get("/models/mm/v/2/initializers/W").status_code == 200  # binary format
    assert client.get("/models/mm/v/1/initializers/nope").status_code == 404


def test_the_graph_page_opens_netron_on_our_download(client, published):
    page = client.get("/models/iris-svc/v/latest/graph")
    assert page.status_code == 200
    body = page.content.decode()
    assert "/netron/index.html?url=%2Fmodels%2Firis-svc%2Fv%2F1%2Fdownload.onnx" in body
    twin = client.get("/models/iris-svc/v/1/graph?format=json").json()
    assert twin["download"] == "/models/iris-svc/v/1/download.onnx"


def test_netron_files_come_from_the_pip_package_and_nothing_else(client):
    index = client.get("/netron/index.html")
    assert index.status_code == 200
    html = index.content.decode()
    assert '<meta name="version" content="0.0.0">' in html  # no telemetry
    assert index.cookies["consent"].value == "1"  # no ipinfo.io lookup
    assert index["X-Frame-Options"] == "SAMEORIGIN"
    script = client.get("/netron/browser.js")
    assert script.status_code == 200 and script["Content-Type"].startswith("text/javascript")
    assert client.get("/netron/onnx-metadata.json").status_code == 200
    for bad in ("../__init__.py", "server.py", "%2e%2e/settings.py", "nope.js"):
        assert client.get(f"/netron/{bad}").status_code == 404, bad


def test_the_overview_links_every_view_of_the_version(client, published):
    body = client.get("/models/mm/").content.decode()
    for href in (
        "/models/mm/v/2/graph",
        "/models/mm/v/2/initializers",
        "/models/mm/v/2/document",
        "/models/mm/v/2/download.onnx",
        "/models/mm/v/2/predict",
    ):
        assert href in body, href
