"""Batch prediction over a CSV through POST /api/models/<name>/predict.csv."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.inference.test_inference_support import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    iris_model_fixture,  # noqa: F401
    publish_iris,
    reg_fixture,  # noqa: F401
)
from tests.models import iris, matmul_model

URL = "/api/models/iris/predict.csv"


def iris_csv(rows: int, extra: bool = True) -> str:
    X, _ = iris()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # columns in another order than the model's, plus a pass-through column
    header = (["row"] if extra else []) + list(reversed(IRIS_FEATURES))
    writer.writerow(header)
    for i in range(rows):
        writer.writerow(([f"r{i}"] if extra else []) + [f"{v:g}" for v in X[i][::-1]])
    return out.getvalue()


def read(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_multipart_csv_comes_back_with_label_and_probabilities(client, iris_model):
    X, y = iris()
    upload = SimpleUploadedFile("in.csv", iris_csv(150).encode(), content_type="text/csv")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read(response)
    assert len(rows) == 150
    assert list(rows[0]) == [
        "row",
        *reversed(IRIS_FEATURES),
        "label",
        *(f"probability_{c}" for c in IRIS_CLASSES),
    ]
    assert rows[0]["row"] == "r0" and rows[0]["label"] == "setosa"
    accuracy = sum(r["label"] == IRIS_CLASSES[t] for r, t in zip(rows, y, strict=True)) / 150
    assert accuracy > 0.9
    total = sum(float(rows[0][f"probability_{c}"]) for c in IRIS_CLASSES)
    assert total == pytest.approx(1.0, abs=1e-4)


def test_a_text_csv_body_works_too(client, iris_model):
    response = client.post(URL, iris_csv(3), content_type="text/csv")
    assert response.status_code == 200
    assert len(read(response)) == 3


def test_a_version_or_alias_is_chosen_by_path_or_query(client, iris_model):
    publish_iris(iris_model)
    iris_model.set_alias("iris", "production", 1)
    for url in ("/api/models/iris/v/production/predict.csv", URL + "?version=1"):
        response = client.post(url, iris_csv(2), content_type="text/csv")
        assert 'filename="iris-v1-predictions.csv"' in response["Content-Disposition"]
    response = client.post(URL, iris_csv(2), content_type="text/csv")
    assert 'filename="iris-v2-predictions.csv"' in response["Content-Disposition"]


def test_a_model_without_feature_names_takes_its_width_of_columns(client, reg):
    reg.publish("mm", matmul_model(3, 2))
    response = client.post(
        "/api/models/mm/predict.csv", "a,b,c\n1,2,3\n,0,0\n", content_type="text/csv"
    )
    assert response.status_code == 200
    rows = read(response)
    assert list(rows[0]) == ["a", "b", "c", "Y_0", "Y_1"]
    assert rows[1]["Y_0"] == ""  # an empty cell is NaN, and NaN is written empty
    response = client.post("/api/models/mm/predict.csv", "a,b\n1,2\n", content_type="text/csv")
    assert "exactly 3 columns" in response.json()["error"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the CSV is empty"),
        ("sepal_length,sepal_width\n1,2\n", "lacks the feature column(s) 'petal_length'"),
        (",".join(IRIS_FEATURES) + "\n", "no data rows"),
        (
            ",".join(IRIS_FEATURES) + "\n1,2,x,4\n",
            "line 2, column 'petal_length': 'x' is not a number",
        ),
        (",".join(IRIS_FEATURES) + "\n1,2,3\n", "line 2: 3 values, the header has 4"),
    ],
)
def test_bad_csvs_are_400_with_the_line_and_column(client, iris_model, text, message):
    upload = SimpleUploadedFile("in.csv", text.encode(), content_type="text/csv")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_rows_over_the_batch_limit_are_400(client, iris_model, settings):
    settings.CATALOG_MAX_BATCH = 5
    assert client.post(URL, iris_csv(5), content_type="text/csv").status_code == 200
    response = client.post(URL, iris_csv(6), content_type="text/csv")
    assert response.status_code == 400
    assert "more than 5 rows" in response.json()["error"]


def test_errors_of_the_endpoint(client, iris_model):
    assert (
        client.post(
            "/api/models/nope/predict.csv", iris_csv(1), content_type="text/csv"
        ).status_code
        == 404
    )
    assert client.get(URL).status_code == 405
    response = client.post(URL, "{}", content_type="application/json")
    assert response.status_code == 400 and "multipart" in response.json()["error"]
