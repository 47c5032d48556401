"""The versions page (history, curve, drift, promote, rollback, audit) and the diff page."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from django.contrib.auth.models import User
from onnx import TensorProto, helper, numpy_helper

from catalog.domain.registry import get_registry
from catalog.web import charts
from catalog.web import versions as versions_view
from tests.models import matmul_model


def two_layer(scale: float, extra: bool = False) -> onnx.ModelProto:
    """Return Y = relu(X @ W1) @ W2 (optionally + b) with weights scaled by ``scale``."""
    w1 = np.full((4, 3), scale, dtype=np.float32)
    w2 = np.full((3, 2), 2 * scale, dtype=np.float32)
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["H"]),
        helper.make_node("Relu", ["H"], ["R"]),
        helper.make_node("MatMul", ["R", "W2"], ["Y0" if extra else "Y"]),
    ]
    inits = [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(w2, "W2")]
    if extra:
        nodes.append(helper.make_node("Add", ["Y0", "b"], ["Y"]))
        inits.append(numpy_helper.from_array(np.ones(2, dtype=np.float32), "b"))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


@pytest.fixture
def learned(catalog_store):
    reg = get_registry()
    for i, acc in enumerate([0.71, 0.82, 0.9], start=1):
        reg.publish(
            "mlp",
            two_layer(float(i), extra=i == 3),
            metadata={"metrics": {"accuracy": acc}, "task": "classification"},
            lineage={"parent": i - 1 or None, "rowsSeen": 1000 * i, "batchId": f"b{i}"},
        )
    reg.set_alias("mlp", "production", 2, user="alice")
    return reg


@pytest.fixture
def writer(client, db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", password="pw", is_staff=True)
    User.objects.create_user("carol", password="pw")
    client.login(username="alice", password="pw")
    return client


def test_the_versions_page_shows_history_curve_drift_and_audit(client, learned):
    page = client.get("/models/mlp/versions")
    assert page.status_code == 200
    body = page.content.decode()
    for text in ["History", "v3", "0.9", "3,000", "<code>b2</code>", "<polyline", "Alias moves"]:
        assert text in body, text
    assert "Weight drift: v2 → v3" in body
    assert body.count('class="dot"') == 3
    assert "Log in</a> to promote" in body  # anonymous: no buttons
    assert "Promote</button>" not in body


def test_the_versions_twin(client, learned):
    data = client.get("/models/mlp/versions?format=json").json()
    assert [r["version"] for r in data["history"]] == [3, 2, 1]  # newest first
    assert [r["metric"] for r in data["history"]] == [0.9, 0.82, 0.71]
    assert data["history"][1]["aliases"] == ["production"]
    assert data["total"] == 3 and data["next"] is None and data["nextUrl"] is None
    drift = {r["name"]: r for r in data["drift"]["initializers"]}
    assert drift["W1"]["l2"] == pytest.approx(np.sqrt(12))  # every element moved by 1
    assert drift["b"]["status"] == "added" and drift["b"]["l2"] is None
    assert data["audit"][0] | {"at": None} == {
        "type": "alias",
        "name": "mlp",
        "alias": "production",
        "from": None,
        "to": 2,
        "user": "alice",
        "at": None,
    }
    older = client.get("/models/mlp/versions?format=json&v=2").json()["drift"]
    assert older["previous"] == 1 and older["version"] == 2


def test_promote_and_roll_back(writer, learned):
    page = writer.get("/models/mlp/versions").content.decode()
    assert "Promote</button>" in page
    moved = writer.post(
        "/models/mlp/versions/promote", {"alias": "production", "version": 3, "expected": 2}
    )
    assert moved.status_code == 302 and moved["Location"] == "/models/mlp/versions"
    assert learned.aliases("mlp")["production"] == 3
    after = writer.get("/models/mlp/versions").content.decode()
    assert "production now points at v3" in after
    assert "Roll production back to v2" in after
    back = writer.post("/models/mlp/versions/rollback", {"alias": "production", "expected": 3})
    assert back.status_code == 302
    assert learned.aliases("mlp")["production"] == 2
    audit = learned.alias_history("mlp").items
    assert [(a["from"], a["to"], a["user"]) for a in audit[:2]] == [
        (3, 2, "alice"),
        (2, 3, "alice"),
    ]


def test_a_stale_promote_is_refused(writer, learned):
    stale = writer.post(
        "/models/mlp/versions/promote", {"alias": "production", "version": 1, "expected": 3}
    )
    assert stale.status_code == 302
    assert learned.aliases("mlp")["production"] == 2
    assert "moved while you were looking" in writer.get("/models/mlp/versions").content.decode()
    api = writer.post(
        "/models/mlp/versions/promote?format=json",
        {"alias": "production", "version": 1, "expected": 3},
    )
    assert api.status_code == 409


def test_latest_cannot_be_promoted_by_hand(writer, learned):
    writer.post("/models/mlp/versions/promote", {"alias": "latest", "version": 1})
    assert learned.aliases("mlp")["latest"] == 3


def test_promote_needs_write_access(client, learned, writer):
    client.logout()
    anonymous = client.post("/models/mlp/versions/promote", {"alias": "production", "version": 3})
    assert anonymous.status_code == 401
    client.login(username="carol", password="pw")
    reader = client.post("/models/mlp/versions/promote", {"alias": "production", "version": 3})
    assert reader.status_code == 403
    assert learned.aliases("mlp")["production"] == 2


def test_promote_needs_the_csrf_token(learned, writer, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.login(username="alice", password="pw")
    refused = strict.post("/models/mlp/versions/promote", {"alias": "production", "version": 3})
    assert refused.status_code == 403
    assert learned.aliases("mlp")["production"] == 2


def test_the_diff_page(client, learned):
    page = client.get("/models/mlp/diff?a=2&b=3")
    assert page.status_code == 200
    body = page.content.decode()
    assert "+ Add" in body and "Added in v3" in body and "<code>b</code>" in body
    data = client.get("/models/mlp/diff?a=2&b=3&format=json").json()
    assert data["operators"]["added"] == ["Add"]
    assert data["nodeCount"] == {"before": 3, "after": 4, "delta": 1}
    assert data["paramCount"]["delta"] == 2
    changed = {c["name"]: c for c in data["initializers"]["changed"]}
    assert changed["W2"]["diffL2"] == pytest.approx(np.sqrt(6 * 4))
    assert changed["W1"]["stats"]["mean"]["delta"] == pytest.approx(1.0)
    assert [i["name"] for i in data["initializers"]["added"]] == ["b"]
    assert [m["key"] for m in data["metadata"]] == ["metrics"]


def test_the_diff_defaults_to_the_newest_two_and_handles_reshapes(client, catalog_store):
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2), description="first")
    reg.publish("mm", matmul_model(4, 3))
    data = client.get("/models/mm/diff?format=json").json()
    assert (data["a"], data["b"]) == (1, 2)
    (w,) = data["initializers"]["changed"]
    assert w["reshaped"] and w["diffL2"] is None
    assert data["outputs"]["changed"][0]["name"] == "Y"
    assert client.get("/models/mm/diff?a=x").status_code == 400
    assert client.get("/models/mm/diff?a=9").status_code == 404
    assert client.get("/models/nope/diff").status_code == 404


def test_charts_scale_points_into_the_drawing():
    chart = charts.line_chart([(1, 0.5), (2, 0.7), (3, float("nan"))])
    assert len(chart["dots"]) == 2
    assert chart["dots"][0]["cy"] > chart["dots"][1]["cy"]  # higher values are drawn higher
    assert charts.line_chart([(1, None)]) is None
    bars = charts.bars([{"l2": 2.0}, {"l2": 1.0}, {"l2": None}], "l2")
    assert [r["bar"] for r in bars["rows"]] == [100.0, 50.0] and bars["unmeasured"] == 1


def test_the_curve_plots_the_metric_online_learning_records(client, catalog_store):
    reg = get_registry()
    for i, f1 in enumerate([0.5, 0.6], start=1):
        reg.publish(
            "online",
            matmul_model(4, 2, seed=i),
            metadata={"metrics": {"accuracy": 0.9, "f1": f1}},
            lineage={"metric": {"f1": f1}, "generation": i, "batchId": f"b{i}"},
        )
    rows = client.get("/models/online/versions?format=json").json()["history"]
    assert [(r["metricName"], r["metric"]) for r in rows] == [("f1", 0.6), ("f1", 0.5)]
    assert "F1" in client.get("/models/online/versions").content.decode()


def test_the_curve_names_the_primary_metric_of_a_history_longer_than_a_page(
    client, catalog_store, monkeypatch
):
    """The first page's rows go to the history table and, with the older ones, to the curve:
    each must still name the learner's primary metric (f1), not the fallback (accuracy)."""
    monkeypatch.setattr(versions_view, "VERSIONS_PAGE", 2)
    reg = get_registry()
    for i in range(1, 6):
        reg.publish(
            "online",
            matmul_model(4, 2, seed=i),
            metadata={"metrics": {"accuracy": 0.9}},
            lineage={"metric": {"f1": i / 10}, "generation": i},
        )
    page = client.get("/models/online/versions").content.decode()
    assert page.count('data-version="') == 2  # a page of 2 rows, a curve of all 5
    assert '<th scope="col" class="num">F1</th>' in page
    assert "f1: v1 0.1, v2 0.2, v3 0.3, v4 0.4, v5 0.5" in page
