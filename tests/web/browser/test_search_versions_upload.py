"""In a real browser: search with facets, predict from a result, upload, promote an alias."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from catalog.domain.registry import get_registry
from tests.models import iris, iris_logreg, matmul_model, publish_iris_svc

pytestmark = pytest.mark.browser

FEATURES = ["sepal length", "sepal width", "petal length", "petal width"]


@pytest.fixture
def published(catalog_store):
    reg = get_registry()
    X, _ = iris()
    reg.publish(
        "iris-logreg",
        iris_logreg(),
        sample_input=X[:1],
        tags=["iris", "linear"],
        description="Logistic regression on the iris flowers",
        metadata={
            "task": "classification",
            "framework": "scikit-learn",
            "featureNames": FEATURES,
            "sampleRow": [float(v) for v in X[0]],
            "classNames": ["setosa", "versicolor", "virginica"],
        },
    )
    publish_iris_svc(reg)
    reg.publish("matmul", matmul_model(8, 4), tags=["linear"], description="One MatMul")
    return reg


@pytest.fixture
def alice(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_user("alice", password="secret-pw", is_staff=True)


def log_in(page, live_server, next_path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("secret-pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_search_and_narrow_with_a_facet(page, live_server, published, console):
    page.goto(f"{live_server.url}/")
    hits = page.locator("ol.hit-list > li")
    assert hits.count() == 3
    filters = page.get_by_role("complementary", name="Filters")
    filters.locator("a[data-facet=tag]", has_text="svm").click()
    page.wait_for_url(re.compile(r"tag=svm"))
    assert hits.count() == 1
    assert "iris-svc" in hits.first.inner_text()
    active = filters.locator("a.facet-term.active")
    assert active.count() == 1 and "svm" in active.inner_text()
    chips = page.get_by_role("list", name="Active filters")
    assert chips.get_by_role("link", name=re.compile(r"^Tags: svm")).is_visible()
    # "/" focuses the box; Enter searches within the active filter.
    page.keyboard.press("/")
    page.keyboard.type("zebra")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=zebra"))
    assert "tag=svm" in page.url
    assert page.get_by_text("Nothing matches").is_visible()
    page.get_by_role("link", name=re.compile("Tags: svm")).click()
    page.wait_for_url(re.compile(r"q=zebra$"))
    assert console.errors == []


def test_open_a_result_and_predict(page, live_server, published, console):
    page.goto(f"{live_server.url}/")
    box = page.get_by_role("searchbox", name="Search models")
    box.fill("logistic")
    box.press("Enter")
    page.wait_for_url(re.compile(r"q=logistic"))
    assert page.locator("ol.hit-list mark").first.inner_text().lower() == "logistic"
    page.get_by_role("link", name="iris-logreg").click()
    page.wait_for_url(re.compile(r"/models/iris-logreg/$"))
    page.get_by_role("link", name="Try a prediction").click()
    page.get_by_label("petal length").fill("1.4")
    page.get_by_role("button", name="Predict").click()
    predicted = page.locator(".predicted strong")
    predicted.wait_for()
    assert predicted.inner_text() == "setosa"
    assert console.errors == []


def test_upload_a_model_and_find_it(page, live_server, catalog_store, alice, console):
    log_in(page, live_server, "/upload")
    data = matmul_model(6, 3, seed=4).SerializeToString()
    page.get_by_label("ONNX model (.onnx)").set_input_files(
        {"name": "projector.onnx", "mimeType": "application/octet-stream", "buffer": data}
    )
    page.get_by_label("Name").fill("projector")
    page.get_by_label("Description").fill("Projects six features onto three")
    page.get_by_label("Tags").fill("projection, demo")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/models/projector/v/1/$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("projector")
    page.get_by_role("link", name="Search", exact=True).click()
    box = page.get_by_role("searchbox", name="Search models")
    box.fill("projects")
    box.press("Enter")
    page.wait_for_url(re.compile(r"q=projects"))
    assert page.locator("ol.hit-list > li").count() == 1
    assert "projector" in page.locator("ol.hit-list > li").inner_text()
    assert console.errors == []


def test_an_invalid_upload_shows_the_error_at_the_form(page, live_server, catalog_store, alice):
    log_in(page, live_server, "/upload")
    page.get_by_label("ONNX model (.onnx)").set_input_files(
        {"name": "junk.onnx", "mimeType": "application/octet-stream", "buffer": b"junk"}
    )
    page.get_by_label("Name").fill("junk")
    page.get_by_role("button", name="Publish").click()
    alert = page.locator("#file-error")
    alert.wait_for()
    assert alert.is_visible()
    assert get_registry().list_models() == []


def test_promote_an_alias_on_the_versions_page(page, live_server, catalog_store, alice, console):
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2), metadata={"metrics": {"accuracy": 0.8}})
    reg.publish("mm", matmul_model(4, 2, seed=1), metadata={"metrics": {"accuracy": 0.9}})
    reg.set_alias("mm", "production", 1, user="bob")
    log_in(page, live_server, "/models/mm/versions")
    row2 = page.locator("tr[data-version='2']")
    assert "production" not in row2.locator("td.aliases").inner_text()
    page.get_by_role("button", name="Promote v2 to production").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("production now points at v2")
    assert "production" in page.locator("tr[data-version='2'] td.aliases").inner_text()
    assert "production" not in page.locator("tr[data-version='1'] td.aliases").inner_text()
    audit = page.locator("table.audit tbody tr").first.inner_text()
    assert "alice" in audit and "v1" in audit and "v2" in audit
    assert page.get_by_role("button", name="Roll production back to v1").is_visible()
    assert console.errors == []
