"""POST /api/models/<name>/learn: CSV and JSON batches, auth, and 400s for bad input."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import resolve
from sklearn.linear_model import SGDClassifier

from catalog.domain.registry import get_registry
from catalog.domain.tokens import create_token
from catalog.web.serving import learning_api
from inference.learning import learning_head, start_learning
from tests.inference.test_learning import iris_split

# The site's own URL map (catalog.shell.urls) serves the route: no URL table of our own.
URL = "/api/models/iris/learn"


def test_the_site_routes_learn_to_the_learning_api():
    match = resolve(URL)
    assert match.func is learning_api.api_learn and match.url_name == "api-learn"


@pytest.fixture
def reg(catalog_store):
    reg = get_registry()
    Xtr, Xh, ytr, yh = iris_split()
    start_learning(
        reg,
        "iris",
        SGDClassifier(random_state=0),
        Xtr[:30],
        ytr[:30],
        holdout=(Xh, yh),
        feature_names=["sl", "sw", "pl", "pw"],
    )
    return reg


@pytest.fixture
def token(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", password="pw", is_staff=True)
    User.objects.create_user("carol", password="pw")
    return create_token("alice")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csv_text(header: str = "sl,sw,pl,pw,species", rows: int = 10) -> str:
    Xtr, _, ytr, _ = iris_split()
    lines = [header] + [
        ",".join(f"{v:g}" for v in x) + f",{int(label)}"
        for x, label in zip(Xtr[30 : 30 + rows], ytr[30 : 30 + rows], strict=True)
    ]
    return "\n".join(lines) + "\n"


def test_a_csv_batch_publishes_a_version(client, reg, token):
    response = client.post(
        URL + "?label=species&batchId=csv-1",
        csv_text(),
        content_type="text/csv",
        headers=auth(token),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2 and body["batchId"] == "csv-1" and body["rowsSeen"] == 40
    assert reg.document("iris", 2)["lineage"]["parent"] == 1
    assert reg.aliases("iris")["latest"] == 2
    again = client.post(
        URL + "?label=species&batchId=csv-1",
        csv_text(),
        content_type="text/csv",
        headers=auth(token),
    )
    assert again.status_code == 409


def test_a_multipart_upload_with_a_label_field(client, reg, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("batch.csv", csv_text().encode(), content_type="text/csv")
    response = client.post(URL, {"file": upload, "label": "species"}, headers=auth(token))
    assert response.status_code == 200, response.content
    missing = client.post(URL, {"label": "species"}, headers=auth(token))
    assert missing.status_code == 400 and "multipart 'file'" in missing.json()["error"]


def test_csv_columns_are_picked_by_name(client, reg, token):
    Xtr, _, ytr, _ = iris_split()
    text = "species,pw,pl,sw,sl,note\n" + "".join(
        f"{int(label)},{x[3]:g},{x[2]:g},{x[1]:g},{x[0]:g},x\n"
        for x, label in zip(Xtr[30:35], ytr[30:35], strict=True)
    )
    response = client.post(
        URL + "?label=species", text, content_type="text/csv", headers=auth(token)
    )
    assert response.status_code == 200 and response.json()["batchSize"] == 5


def test_json_rows_with_labels_and_rows_as_objects(client, reg, token):
    Xtr, _, ytr, _ = iris_split()
    lists = {"rows": Xtr[30:35].tolist(), "labels": ytr[30:35].tolist(), "policy": "never"}
    response = client.post(URL, lists, content_type="application/json", headers=auth(token))
    assert response.status_code == 200 and response.json()["promoted"] is False
    objects = {
        "rows": [
            dict(zip(["sl", "sw", "pl", "pw"], x, strict=True)) | {"species": int(label)}
            for x, label in zip(Xtr[35:40].tolist(), ytr[35:40], strict=True)
        ],
        "label": "species",
        "batchId": "objects",
    }
    response = client.post(URL, objects, content_type="application/json", headers=auth(token))
    assert response.status_code == 200, response.content
    assert response.json()["batchId"] == "objects"
    assert learning_head(reg, "iris")["rowsSeen"] == 40


@pytest.mark.parametrize(
    ("body", "content_type", "query", "message"),
    [
        ("", "text/csv", "?label=species", "empty"),
        ("sl,sw,pl,pw,species\n", "text/csv", "?label=species", "no data rows"),
        (csv_text(), "text/csv", "", "missing label"),
        (csv_text(), "text/csv", "?label=kind", "no label column 'kind'"),
        (csv_text("a,b,c,d,species"), "text/csv", "?label=species", "missing feature columns"),
        ("sl,sw,pl,pw,species\n1,2,x,4,0\n", "text/csv", "?label=species", "'x' is not a number"),
        ("sl,sw,pl,pw,species\n1,2,3\n", "text/csv", "?label=species", "has 3 fields"),
        ("sl,sw,pl,pw,species\n1,2,3,4,9\n", "text/csv", "?label=species", "not one of the"),
        ("{not json", "application/json", "", "malformed JSON"),
        ('{"rows": []}', "application/json", "", "non-empty list"),
        ('{"rows": [[1, 2, 3, 4]]}', "application/json", "", "missing labels"),
        ('{"rows": [[1, 2, 3]], "labels": [0]}', "application/json", "", "takes 4"),
        ('{"rows": [[1, 2, 3, 4]], "labels": [0, 1]}', "application/json", "", "one per row"),
        ('{"rows": [[1, "a", 3, 4]], "labels": [0]}', "application/json", "", "not a number"),
        ('{"rows": [{"sl": 1}], "label": "species"}', "application/json", "", "missing feature"),
        (
            '{"rows": [[1, 2, 3, 4]], "labels": [0], "policy": "sometimes"}',
            "application/json",
            "",
            "unknown policy",
        ),
        ("rows=1", "application/x-www-form-urlencoded", "", "send text/csv"),
    ],
)
def test_bad_input_is_a_400_with_a_message(client, reg, token, body, content_type, query, message):
    response = client.post(URL + query, body, content_type=content_type, headers=auth(token))
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert learning_head(reg, "iris")["rowsSeen"] == 30


def test_learning_needs_a_writer(client, reg, token):
    assert (
        client.post(URL + "?label=species", csv_text(), content_type="text/csv").status_code == 401
    )
    reader = create_token("carol")
    response = client.post(
        URL + "?label=species", csv_text(), content_type="text/csv", headers=auth(reader)
    )
    assert response.status_code == 403
    assert client.get(URL, headers=auth(token)).status_code == 405


def test_a_model_without_learning_state_is_a_404(client, reg, token):
    response = client.post(
        "/api/models/other/learn?label=species",
        csv_text(),
        content_type="text/csv",
        headers=auth(token),
    )
    assert response.status_code == 404 and "no learning state" in response.json()["error"]
