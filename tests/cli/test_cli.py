"""The `catalog` management command, run as users run it."""

from __future__ import annotations

import io
import json

import onnx
import pytest
from django.core.management import CommandError, call_command

from catalog.domain.registry import get_registry
from catalog.store import open_store
from tests.models import assert_same_model, matmul_model


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def onnx_file(tmp_path):
    path = tmp_path / "mm.onnx"
    onnx.save(matmul_model(200, 100), path)
    return path


def test_init_creates_the_collections(catalog_store):
    out = cli("init")
    assert "ml.catalog.models" in out
    assert "ml.catalog.tensors._default" not in out
    assert {"ml.catalog.models", "ml.catalog.aliases", "ml.catalog.tensors"} <= set(
        catalog_store.keyspaces()
    )


def test_publish_list_show_load_alias_delete(catalog_store, onnx_file, tmp_path):
    assert json.loads(cli("publish", "mm", str(onnx_file), "--tags", "a,b", "--json")) == {
        "name": "mm",
        "version": 1,
    }
    assert "version 2" in cli(
        "publish", "mm", str(onnx_file), "--format", "binary", "--description", "second"
    )
    listing = json.loads(cli("list", "--json"))
    assert [(m["name"], m["version"], m["versions"]) for m in listing] == [("mm", 2, 2)]
    assert "MatMul" in cli("show", "mm", "1")
    assert json.loads(cli("show", "mm", "--json"))["metadata"]["description"] == "second"
    out_path = tmp_path / "back.onnx"
    cli("load", "mm", "1", "-o", str(out_path))
    assert_same_model(onnx.load(onnx_file), onnx.load(out_path))
    assert "None -> 1" in cli("alias", "mm", "production", "1")
    with pytest.raises(CommandError, match="aliased as production"):
        cli("delete", "mm", "1")
    assert "removed aliases: production" in cli("delete", "mm", "1", "--force")
    assert [v["version"] for v in json.loads(cli("list", "mm", "--json"))] == [2]


def test_errors_are_one_clear_line(catalog_store, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    cases = [
        (("publish", "x", str(tmp_path / "missing.onnx")), "no such file"),
        (("publish", "x", str(bad)), "not an ONNX model"),
        (("publish", "a/b", str(bad)), "invalid model name"),
        (("show", "nope"), "not found"),
        (("load", "nope", "-o", str(tmp_path / "o.onnx")), "not found"),
        (("alias", "nope", "production", "1"), "no version"),
        (("import", str(bad)), "line 1"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            cli(*args)
    assert catalog_store.count("ml.catalog.models") == 0


def test_export_then_import_into_a_fresh_store_reproduces_every_document(
    catalog_store, onnx_file, tmp_path, settings
):
    cli("init")
    cli("publish", "mm", str(onnx_file), "--tags", "x")
    cli("publish", "mm", str(onnx_file), "--format", "binary")
    cli("alias", "mm", "production", "1")
    dump = tmp_path / "dump.jsonl"
    cli("export", str(dump))
    before = {ks: {k: v for k, v, _ in catalog_store.scan(ks)} for ks in get_registry().ks.all()}
    assert any(isinstance(v, bytes) for docs in before.values() for v in docs.values())

    settings.CATALOG_STORE = f"embedded://{tmp_path / 'fresh.sqlite3'}"
    assert "imported" in cli("import", str(dump))
    fresh = open_store(settings.CATALOG_STORE)
    after = {ks: {k: v for k, v, _ in fresh.scan(ks)} for ks in get_registry().ks.all()}
    assert after == before
    assert_same_model(onnx.load(onnx_file), get_registry().load("mm", "production"))


def test_a_bad_import_file_writes_nothing(catalog_store, tmp_path):
    dump = tmp_path / "dump.jsonl"
    good = json.dumps({"keyspace": "ml.catalog.models", "key": "k", "value": {"a": 1}})
    dump.write_text(good + "\n" + "{not json\n")
    with pytest.raises(CommandError, match="line 2"):
        cli("import", str(dump))
    assert catalog_store.count("ml.catalog.models") == 0


def test_demo_publishes_a_real_catalog_once(catalog_store):
    out = cli("demo")
    reg = get_registry()
    models = {m["name"]: m for m in reg.list_models()}
    assert "demo catalog: 22 models published" in out
    for name in ["iris-svc", "wine-random-forest", "diabetes-ridge", "resnet50", "vgg19"]:
        assert name in models, name
    svc = reg.document("iris-svc")
    assert svc["metadata"]["metrics"]["accuracy"] > 0.9
    assert svc["metadata"]["featureNames"][0] == "sepal length (cm)"
    assert svc["metadata"]["classNames"] == ["setosa", "versicolor", "virginica"]
    assert "Conv" in reg.document("resnet50")["summary"]["opTypes"]
    assert "0 models published, 22 already there" in cli("demo")
    assert len(reg.list_models()) == 22
    online = reg.list_versions("breast-cancer-online")
    assert [v["version"] for v in online] == [6, 5, 4, 3, 2, 1]
    assert reg.document("breast-cancer-online", 6)["lineage"]["rowsSeen"] == 240
    svm = reg.document("iris-svm-online", 4)["lineage"]  # the article's SVM, learning by refit
    assert [b["batchId"] for b in svm["trainedOn"]] == [f"demo-iris-{i}" for i in range(4)]
    assert svm["trainingRows"] == 90 and svm["metric"]["accuracy"] > 0.85


@pytest.mark.django_db
def test_token_prints_a_token_once_and_stores_only_its_hash(catalog_store):
    from django.contrib.auth.models import User

    from catalog.domain.models import APIToken

    User.objects.create_user("alice", is_staff=True)
    token = cli("token", "alice", "--name", "laptop").strip()
    assert token.startswith("mct_")
    stored = list(APIToken.objects.values_list(flat=True).values())
    assert stored and token not in str(stored)
    with pytest.raises(CommandError):
        cli("token", "nobody")
    assert "revoked 1" in cli("token", "alice", "--revoke")


def test_learn_runs_one_online_learning_step_from_a_csv(catalog_store, tmp_path):
    from sklearn.linear_model import SGDClassifier

    from inference.learning import start_learning
    from tests.models import iris

    X, y = iris()
    names = ["sl", "sw", "pl", "pw"]
    start_learning(
        get_registry(),
        "online",
        SGDClassifier(random_state=0),
        X[::3],
        y[::3],
        holdout=(X[1::3], y[1::3]),
        feature_names=names,
    )
    csv = tmp_path / "batch.csv"
    rows = [",".join(names + ["species"])]
    rows += [
        ",".join(f"{v:.1f}" for v in x) + f",{t}" for x, t in zip(X[2::3], y[2::3], strict=True)
    ]
    csv.write_text("\n".join(rows) + "\n")
    result = json.loads(cli("learn", "online", str(csv), "--label", "species", "--json"))
    assert result["version"] == 2
    lineage = get_registry().document("online", 2)["lineage"]
    assert lineage["parent"] == 1 and lineage["batchSize"] == 50
    with pytest.raises(CommandError):  # the same file again is the same batch
        cli("learn", "online", str(csv), "--label", "species")
    with pytest.raises(CommandError, match="species|label"):
        cli("learn", "online", str(csv), "--label", "nope")
