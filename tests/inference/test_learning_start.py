"""Starting online learning from an estimator specification: CLI, HTTP, and bad specs.

Each path starts one incremental (SGDClassifier) and one refit (SVC) model on 30 iris
rows and feeds it three batches; every bad specification is refused with a clear message
and leaves the store as it was.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.domain.registry import get_registry
from catalog.domain.tokens import create_token
from catalog.store.base import QueryError
from inference.estimators import spec_from_mapping
from inference.learning import learning_head
from inference.learning_input import LearningError
from tests.inference.learning_csv import HEADER, iris_csv

KINDS = [
    pytest.param("SGDClassifier", {"random_state": 0, "loss": "log_loss"}, "incremental", id="sgd"),
    pytest.param("SVC", {"C": 1.0}, "refit", id="svc"),
]
BATCHES = [(30, 50), (50, 70), (70, 90)]


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def stored_nothing(reg) -> bool:
    """True when no model version, learning state or learned row is in the store."""
    for collection in ("models", "states", "datasets"):
        try:
            count = reg.store.query(
                f"SELECT RAW COUNT(*) FROM {collection}", query_context=reg.ks.query_context
            )
        except QueryError as e:  # the embedded store makes a keyspace on its first write
            assert "Keyspace not found" in str(e)
            continue
        if count != [0]:
            return False
    return True


@pytest.fixture
def token(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", password="pw", is_staff=True)
    return {"Authorization": f"Bearer {create_token('alice')}"}


# -- the command line -------------------------------------------------------------------


@pytest.mark.parametrize("estimator,params,mode", KINDS)
def test_the_cli_starts_a_model_and_learns_three_batches(
    catalog_store, tmp_path, estimator, params, mode
):
    first = write(tmp_path, "first.csv", iris_csv(0, 30))
    holdout = write(tmp_path, "holdout.csv", iris_csv(120, 150))
    out = cli(
        "learn", "start", "iris", "--estimator", estimator, "--params", json.dumps(params),
        "--label", "species", str(first), "--holdout", str(holdout), "--scaler", "standard",
        "--policy", "always",
    )  # fmt: skip
    assert out.startswith("iris version 1: started; 30 rows, 30 seen, accuracy")
    for i, (a, b) in enumerate(BATCHES):
        batch = write(tmp_path, f"batch{i + 1}.csv", iris_csv(a, b))
        out = cli("learn", "iris", str(batch))  # the label column is the one given at start
        assert out.startswith(f"iris version {i + 2}: 20 rows, {b} seen, accuracy"), out
        assert f"production -> version {i + 2}" in out
    status = cli("learn", "status", "iris")
    assert status.startswith(f"iris: {estimator} ({mode}, classification)")
    assert "generation 4, 4 batches, 90 rows seen; metric accuracy; policy always" in status
    assert "production: version 4; latest: version 4" in status
    assert "batch3.csv:" in status.splitlines()[-1]
    as_json = json.loads(cli("learn", "status", "iris", "--json"))
    assert as_json["mode"] == mode and as_json["spec"]["params"] == params
    assert [s["version"] for s in as_json["steps"]] == [1, 2, 3, 4]
    reg = get_registry()
    assert reg.document("iris", 4)["lineage"]["parent"] == 3
    assert learning_head(reg, "iris")["classes"] == ["setosa", "versicolor", "virginica"]


def test_the_cli_splits_a_holdout_fraction_and_takes_options_in_any_order(catalog_store, tmp_path):
    first = write(tmp_path, "first.csv", iris_csv(0, 40))
    out = cli(
        "learn", "--holdout", "0.25", "start", "iris", str(first), "--estimator", "GaussianNB",
        "--label", "species", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert result["version"] == 1 and result["batchSize"] == 30  # 10 of 40 held out
    holdout, _ = get_registry().store.get(get_registry().ks.states, "iris::holdout")
    assert holdout["rows"] == 10


# -- HTTP -------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator,params,mode", KINDS)
def test_http_starts_from_a_csv_upload_and_learns_three_batches(
    client, catalog_store, token, estimator, params, mode
):
    response = client.post(
        "/api/models/iris/learning",
        {
            "file": SimpleUploadedFile("first.csv", iris_csv(0, 30).encode()),
            "holdoutFile": SimpleUploadedFile("holdout.csv", iris_csv(120, 150).encode()),
            "estimator": estimator,
            "params": json.dumps(params),
            "label": "species",
            "scaler": "standard",
            "policy": "always",
        },
        headers=token,
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 1 and response.json()["batchSize"] == 30
    for i, (a, b) in enumerate(BATCHES):
        step = client.post(
            f"/api/models/iris/learn?batchId=b{i + 1}",
            iris_csv(a, b),
            content_type="text/csv",
            headers=token,
        )
        assert step.status_code == 200, step.content
        body = step.json()
        assert body["version"] == i + 2 and body["rowsSeen"] == b and body["promoted"] is True
        assert set(body["metric"]) == {"accuracy"}
    head = learning_head(get_registry(), "iris")
    assert head["mode"] == mode and head["generation"] == 4 and head["rowsSeen"] == 90
    again = client.post(
        "/api/models/iris/learning",
        {"file": SimpleUploadedFile("f.csv", iris_csv(0, 30).encode()), "estimator": "SVC"},
        headers=token,
    )
    assert again.status_code == 400 and "label" in again.json()["error"]
    dup = client.post(
        "/api/models/iris/learning",
        json.dumps({"estimator": "SVC", "label": "species", "rows": _rows(0, 30)}),
        content_type="application/json",
        headers=token,
    )
    assert dup.status_code == 409 and "already learning" in dup.json()["error"]


def _rows(start: int, stop: int) -> list[dict]:
    names = HEADER.split(",")
    lines = iris_csv(start, stop).splitlines()[1:]
    return [
        {
            n: (v if n == "species" else float(v))
            for n, v in zip(names, line.split(","), strict=True)
        }
        for line in lines
    ]


@pytest.mark.parametrize("estimator,params,mode", KINDS)
def test_http_starts_from_json_rows(client, catalog_store, token, estimator, params, mode):
    body = {
        "estimator": estimator,
        "params": params,
        "label": "species",
        "holdout": 0.2,
        "rows": _rows(0, 30),
    }
    response = client.post(
        "/api/models/iris/learning", json.dumps(body), content_type="application/json",
        headers=token,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["batchSize"] == 24  # 6 of 30 held out, stratified
    for i, (a, b) in enumerate(BATCHES):
        step = client.post(
            "/api/models/iris/learn",
            json.dumps({"rows": _rows(a, b), "label": "species", "batchId": f"j{i}"}),
            content_type="application/json",
            headers=token,
        )
        assert step.status_code == 200 and step.json()["version"] == i + 2, step.content
    assert get_registry().aliases("iris")["latest"] == 4


def test_starting_needs_a_writer(client, catalog_store, token):
    body = json.dumps({"estimator": "SVC", "label": "species", "rows": _rows(0, 30)})
    url = "/api/models/iris/learning"
    assert client.post(url, body, content_type="application/json").status_code == 401
    assert client.get(url, headers=token).status_code == 405
    assert stored_nothing(get_registry())


# -- bad specifications -----------------------------------------------------------------

BAD = [
    pytest.param({"estimator": "SVM"}, iris_csv(0, 30), "unknown estimator 'SVM'", id="estimator"),
    pytest.param(
        {"estimator": "SVC", "params": {"Cx": 1}}, iris_csv(0, 30), "no parameter 'Cx'", id="param"
    ),
    pytest.param(
        {"estimator": "SVC", "params": {"C": "big"}},
        iris_csv(0, 30),
        "The 'C' parameter of SVC must be a float",
        id="ill-typed",
    ),
    pytest.param(
        {"estimator": "SGDClassifier", "params": {"n_jobs": 8}},
        iris_csv(0, 30),
        "n_jobs cannot be set",
        id="forbidden",
    ),
    pytest.param(
        {"estimator": "SVC", "label": "kind"}, iris_csv(0, 30), "no label column 'kind'", id="label"
    ),
    pytest.param(
        {"estimator": "SVC"},
        iris_csv(0, 30).replace("\n5", "\nabc", 1),
        "is not a number",
        id="non-numeric",
    ),
    pytest.param({"estimator": "SVC"}, "", "the CSV is empty", id="empty"),
    pytest.param({"estimator": "SVC"}, HEADER + "\n", "no data rows", id="header-only"),
    pytest.param(
        {"estimator": "SVC", "window": 10.5}, iris_csv(0, 30), "window must be", id="window"
    ),
    pytest.param(
        {"estimator": "GaussianNB", "window": 10},
        iris_csv(0, 30),
        "a window applies to refit",
        id="window-incremental",
    ),
    pytest.param(
        {"estimator": "SVC", "params": "{C: 1}"}, iris_csv(0, 30), "not valid JSON", id="json"
    ),
    pytest.param(
        {"estimator": "SVC", "metric": "f1"}, iris_csv(0, 30), "unknown metric", id="metric"
    ),
    pytest.param(
        {"estimator": "SVC", "policy": "maybe"}, iris_csv(0, 30), "unknown policy", id="pol"
    ),
]


@pytest.mark.parametrize("spec,csv_text,message", BAD)
def test_a_bad_specification_is_a_cli_error_and_stores_nothing(
    catalog_store, tmp_path, spec, csv_text, message
):
    first = write(tmp_path, "first.csv", csv_text)
    args = ["learn", "start", "iris", str(first), "--label", spec.get("label", "species")]
    for key in ("estimator", "metric", "policy", "window"):
        if key in spec:
            args += [f"--{key}", str(spec[key])]
    if "params" in spec:
        params = spec["params"]
        args += ["--params", params if isinstance(params, str) else json.dumps(params)]
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cli(*args)
    assert stored_nothing(get_registry())


@pytest.mark.parametrize("spec,csv_text,message", BAD)
def test_a_bad_specification_is_a_400_and_stores_nothing(
    client, catalog_store, token, spec, csv_text, message
):
    fields = {"label": "species", **spec}
    if isinstance(fields.get("params"), dict):
        fields["params"] = json.dumps(fields["params"])
    fields = {k: str(v) for k, v in fields.items()}
    response = client.post(
        "/api/models/iris/learning",
        {"file": SimpleUploadedFile("first.csv", csv_text.encode()), **fields},
        headers=token,
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == 400 and message in body["error"]
    assert stored_nothing(get_registry())


def test_an_unseen_class_in_an_incremental_batch_is_refused_and_stores_nothing(
    client, catalog_store, token, tmp_path
):
    two_classes = "\n".join(
        line for line in iris_csv(0, 150).splitlines() if "virginica" not in line
    )
    first = write(tmp_path, "first.csv", "\n".join(two_classes.splitlines()[:31]) + "\n")
    cli("learn", "start", "iris", "--estimator", "SGDClassifier", "--label", "species", str(first))
    reg = get_registry()
    before = learning_head(reg, "iris")
    batch = write(tmp_path, "new.csv", iris_csv(0, 150))  # holds virginica
    with pytest.raises(CommandError, match="'virginica'.* is not one of the classes"):
        cli("learn", "iris", str(batch))
    response = client.post(
        "/api/models/iris/learn", iris_csv(0, 150), content_type="text/csv", headers=token
    )
    assert response.status_code == 400 and "virginica" in response.json()["error"]
    assert learning_head(reg, "iris") == before
    assert [v["version"] for v in reg.list_versions("iris")] == [1]


def test_the_spec_checks_parameters_with_the_estimators_own_constraints():
    spec = spec_from_mapping(
        {"estimator": "MLPClassifier", "params": {"hidden_layer_sizes": [8, 4]}, "label": "y"}
    )
    assert spec.mode == "incremental" and spec.params == {"hidden_layer_sizes": [8, 4]}
    with pytest.raises(LearningError, match="kernel"):
        spec_from_mapping({"estimator": "SVC", "params": {"kernel": "wavy"}})
    with pytest.raises(LearningError, match="at most 500"):
        spec_from_mapping(
            {"estimator": "RandomForestClassifier", "params": {"n_estimators": 10**6}}
        )
    with pytest.raises(LearningError, match="must be a number, a string or a list"):
        spec_from_mapping({"estimator": "SVC", "params": {"C": {"x": 1}}})
    assert spec_from_mapping({"estimator": "SVC", "window": "50"}).window == 50


def test_the_start_route_is_in_the_openapi_description(client, db):
    spec = client.get("/api/openapi.json").json()
    start = spec["paths"]["/api/models/{name}/learning"]["post"]
    body = start["requestBody"]["content"]
    assert "SVC" in body["application/json"]["schema"]["properties"]["estimator"]["enum"]
    assert "file" in body["multipart/form-data"]["schema"]["properties"]
    assert set(start["responses"]) >= {"201", "400", "409"}
