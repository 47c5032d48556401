"""The prediction and batch pages: forms generated from the model, plain POSTs with CSRF."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.inference.test_inference_support import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    iris_model_fixture,  # noqa: F401
    publish_iris,
    reg_fixture,  # noqa: F401
    trained_svc,
)
from tests.models import iris, matmul_model

pytestmark = pytest.mark.django_db
PAGE = "/models/iris/predict"


def field_error(html: str, field: str) -> str:
    """Return the error text shown at a form field, or ''."""
    match = re.search(
        rf'<span class="error field-error" id="id_{field}_error">([^<]*)</span>', html
    )
    return match.group(1) if match else ""


def test_the_form_has_a_labelled_field_per_feature_prefilled_with_the_sample_row(
    client, iris_model
):
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    sample = iris()[0][100]
    for i, name in enumerate(IRIS_FEATURES):
        assert f'<label for="id_f{i}">{name}</label>' in html
        value = re.search(rf'name="f{i}" value="([^"]*)"', html).group(1)
        assert float(value) == pytest.approx(float(sample[i]))
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "/v2/models/iris/versions/1/infer" in html  # the OIP example
    assert "Fill in the input" in html


def test_without_a_sample_row_the_fields_start_at_zero(client, reg):
    X, _ = iris()
    reg.publish("plain", trained_svc(), sample_input=X[:1])
    html = client.get("/models/plain/predict").content.decode()
    assert '<label for="id_f0">feature 0</label>' in html  # no featureNames: numbered
    assert re.findall(r'name="f\d" value="([^"]*)"', html) == ["0"] * 4


def test_posting_the_form_shows_label_probabilities_outputs_time_and_oip_json(client, iris_model):
    X, y = iris()
    row = X[120]
    response = client.post(PAGE, {f"f{i}": str(v) for i, v in enumerate(row)})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<strong>{IRIS_CLASSES[y[120]]}</strong>" in html
    assert "Class probabilities" in html
    assert html.count('<span class="bar" style="width:') == 3
    for name in IRIS_CLASSES:
        assert f'<th scope="row">{name}</th>' in html
    assert "<code>probabilities</code>" in html and "<code>label</code>" in html
    assert re.search(r"Run took [0-9.]+ ms", html)
    assert 'id="oip-request"' in html and 'id="oip-response"' in html
    assert "&quot;model_version&quot;: &quot;1&quot;" in html


def test_the_pages_oip_request_gives_the_same_answer_through_the_api(client, iris_model):
    import html as html_lib
    import json

    X, _ = iris()
    page = client.post(PAGE, {f"f{i}": str(v) for i, v in enumerate(X[60])}).content.decode()
    request = html_lib.unescape(re.search(r'<pre id="oip-request">(.*?)</pre>', page, re.S)[1])
    shown = html_lib.unescape(re.search(r'<pre id="oip-response">(.*?)</pre>', page, re.S)[1])
    api = client.post(
        "/v2/models/iris/versions/1/infer", request, content_type="application/json"
    ).json()
    assert api == json.loads(shown)


def test_a_version_or_alias_page_runs_that_version(client, iris_model):
    publish_iris(iris_model, estimator=trained_svc())
    iris_model.set_alias("iris", "production", 1)
    assert "v1</span>" in client.get("/models/iris/v/1/predict").content.decode()
    html = client.get("/models/iris/v/production/predict").content.decode()
    assert "v1</span>" in html and '<span class="alias">production</span>' in html
    assert "v2</span>" in client.get(PAGE).content.decode()
    # the SVC gives scores, not probabilities: the bars say so
    X, _ = iris()
    html = client.post(PAGE, {f"f{i}": str(v) for i, v in enumerate(X[0])}).content.decode()
    assert "Class scores" in html and "<strong>setosa</strong>" in html


@pytest.mark.parametrize(
    "url",
    [
        "/models/nope/predict",
        "/models/iris/v/3/predict",
        "/models/iris/v/staging/predict",
        "/models/nope/batch",
    ],
)
def test_unknown_model_version_or_alias_pages_are_404(client, iris_model, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "&#x27;abc&#x27; is not a number."),
        ("", "This field is required."),
        ("1,5", "&#x27;1,5&#x27; is not a number."),
    ],
)
def test_a_bad_value_gets_a_message_at_its_field(client, iris_model, value, message):
    data = {"f0": "5.1", "f1": value, "f2": "1.4", "f3": "0.2"}
    response = client.post(PAGE, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "f1") == message
    assert field_error(html, "f0") == ""
    assert "Traceback" not in html and "Predicted" not in html


def test_nan_is_accepted_in_a_float_field(client, iris_model):
    response = client.post(PAGE, {"f0": "nan", "f1": "3", "f2": "1", "f3": "0.2"})
    assert response.status_code == 200
    assert "Run took" in response.content.decode()


def test_csrf_is_required_for_the_form(iris_model):
    client = Client(enforce_csrf_checks=True)
    data = {"f0": "5", "f1": "3", "f2": "1", "f3": "0.2"}
    assert client.post(PAGE, data).status_code == 403
    page = client.get(PAGE).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(PAGE, {**data, "csrfmiddlewaretoken": token}).status_code == 200


def test_the_page_has_a_json_twin(client, iris_model):
    body = client.get(PAGE + "?format=json").json()
    assert body["featureNames"] == IRIS_FEATURES
    assert body["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}]
    assert body["inferUrl"] == "/v2/models/iris/versions/1/infer"


# -- models without per-feature fields: JSON textarea, CSV or .npy -------------------------


@pytest.fixture
def wide(reg):
    """Publish a 40-wide MatMul (too wide for fields without names) as "wide"."""
    reg.publish("wide", matmul_model(40, 3))
    return reg


def test_a_wide_input_gets_a_json_textarea_and_an_upload(client, wide):
    html = client.get("/models/wide/predict").content.decode()
    assert '<textarea name="json0"' in html and 'type="file" name="file0"' in html
    assert "X (FP32, shape [N, 40])" in html


def test_json_textarea_rows_are_predicted(client, wide):
    rows = np.arange(80, dtype=np.float32).reshape(2, 40) / 100
    response = client.post("/models/wide/predict", {"json0": str(rows.tolist())})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<code>Y</code>" in html and "<code>[2, 3]</code>" in html


def test_a_single_row_is_read_as_a_batch_of_one(client, wide):
    response = client.post("/models/wide/predict", {"json0": str([0.5] * 40)})
    assert response.status_code == 200
    assert "<code>[1, 3]</code>" in response.content.decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[1, 2", "Not valid JSON"),
        ('{"a": 1}', "Enter a JSON array"),
        ("[[1, 2], [3]]", "same length"),
        ("[[1, 2, 3]]", "dimension 1 is 3, the model needs 40"),
        (json.dumps([["x"] * 40]), "must be numbers, not strings"),
        ("", "Enter a JSON array or upload a file."),
        ("[]", "The array is empty."),
    ],
)
def test_textarea_problems_are_shown_at_the_field(client, wide, text, message):
    response = client.post("/models/wide/predict", {"json0": text})
    assert response.status_code == 400
    assert message in field_error(response.content.decode().replace("&#x27;", "'"), "json0")


def test_a_csv_upload_is_predicted(client, wide):
    header = ",".join(f"c{i}" for i in range(40))
    text = header + "\n" + ",".join(["1"] * 40) + "\n" + ",".join(["2"] * 40) + "\n"
    upload = SimpleUploadedFile("rows.csv", text.encode(), content_type="text/csv")
    response = client.post("/models/wide/predict", {"file0": upload})
    assert response.status_code == 200
    assert "<code>[2, 3]</code>" in response.content.decode()


def test_a_npy_upload_is_predicted(client, wide):
    buffer = io.BytesIO()
    np.save(buffer, np.ones((3, 40), dtype=np.float32))
    upload = SimpleUploadedFile("rows.npy", buffer.getvalue())
    response = client.post("/models/wide/predict", {"file0": upload})
    assert response.status_code == 200
    assert "<code>[3, 3]</code>" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,x\n", "not a number"),
        (b"\x93NUMPY garbage", "Not a readable .npy file"),
        (b"\xff\xfe\x00", "Upload a CSV"),
        (b"a,b\n", "no data rows"),
    ],
)
def test_bad_uploads_are_shown_at_the_field(client, wide, content, message):
    upload = SimpleUploadedFile("rows.bin", content)
    response = client.post("/models/wide/predict", {"file0": upload})
    assert response.status_code == 400
    assert message in field_error(response.content.decode(), "json0")


# -- batch page -----------------------------------------------------------------------------


def test_the_batch_page_returns_the_csv_with_predictions(client, iris_model):
    html = client.get("/models/iris/batch").content.decode()
    assert 'type="file" name="file"' in html and "sepal_length" in html
    csv_text = "id," + ",".join(IRIS_FEATURES) + "\n7,5.1,3.5,1.4,0.2\n"
    upload = SimpleUploadedFile("in.csv", csv_text.encode(), content_type="text/csv")
    response = client.post("/models/iris/batch", {"file": upload})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="iris-v1-predictions.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("id,sepal_length,")
    assert lines[0].endswith(
        ",label,probability_setosa,probability_versicolor,probability_virginica"
    )
    assert lines[1].startswith("7,5.1,3.5,1.4,0.2,setosa,")


def test_a_bad_batch_file_gets_a_message_at_the_field(client, iris_model):
    upload = SimpleUploadedFile("in.csv", b"sepal_length,petal_width\n1,2\n")
    response = client.post("/models/iris/batch", {"file": upload})
    assert response.status_code == 400
    assert "lacks the feature column" in field_error(
        response.content.decode().replace("&#x27;", "'"), "file"
    )
    response = client.post("/models/iris/batch", {})
    assert response.status_code == 400
    assert field_error(response.content.decode(), "file") == "This field is required."


def test_other_inputs_use_the_textarea_with_their_types(client, reg):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from onnx import TensorProto

    from tests.inference.test_inference_support import add_model, identity_model

    reg.publish("s", identity_model(TensorProto.STRING))
    reg.publish("add", add_model())
    reg.publish("b", identity_model(TensorProto.BOOL))
    for name in ("s", "add", "b"):
        assert client.get(f"/models/{name}/predict").status_code == 200
    assert client.post("/models/s/predict", {"json0": '[["a", "b"]]'}).status_code == 200
    both = client.post("/models/add/predict", {"json0": "[1, 2, 3]", "json1": "[1, 2, 3]"})
    assert "[2.0, 4.0, 6.0]" in both.content.decode()
    one = client.post("/models/add/predict", {"json0": "[1, 2, 3]"})
    assert one.status_code == 400
    assert field_error(one.content.decode(), "json1") == "Enter a JSON array or upload a file."
    assert client.post("/models/b/predict", {"json0": "[[true, false]]"}).status_code == 200
    wrong = client.post("/models/b/predict", {"json0": "[[1, 0]]"})
    assert "must be true/false" in field_error(wrong.content.decode(), "json0")
    upload = SimpleUploadedFile("a.csv", b"a,b,c\n1,2,3\n")
    batch = client.post("/models/add/batch", {"file": upload})
    assert batch.status_code == 400 and "one 2-D input" in batch.content.decode()
