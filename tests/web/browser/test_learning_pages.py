"""In a real browser: start an online model from a CSV, then feed it batches on its Learn tab."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from catalog.domain.registry import get_registry
from inference.learning import learning_head
from tests.inference.learning_csv import iris_csv

pytestmark = pytest.mark.browser


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


def csv_file(name: str, start: int, stop: int) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": iris_csv(start, stop).encode()}


@pytest.mark.parametrize(
    "estimator,params,mode",
    [("SGDClassifier", '{"random_state": 0}', "incremental"), ("SVC", '{"C": 1.0}', "refit")],
)
def test_start_a_model_and_learn_three_batches_in_the_browser(
    page, live_server, catalog_store, alice, console, estimator, params, mode
):
    log_in(page, live_server, "/learning/new")
    page.get_by_label("Name", exact=True).fill("iris-online")
    page.get_by_label("First rows (CSV with a header row)").set_input_files(
        csv_file("first.csv", 0, 40)
    )
    # The page reads the CSV's header: its columns are offered for the label, the last
    # one chosen.
    label = page.get_by_label("Label column")
    page.wait_for_function("document.querySelectorAll('#csv-columns option').length === 5")
    assert label.input_value() == "species"
    assert "sepal_length" in page.locator("#csv-columns-note").inner_text()
    page.get_by_label("Estimator", exact=True).select_option(estimator)
    page.get_by_label("Hyperparameters (JSON)").fill(params)
    page.get_by_label("Scaler").select_option("standard")
    page.get_by_label("Promote to production").select_option("always")
    page.get_by_role("button", name="Start learning").click()
    page.wait_for_url(re.compile(r"/models/iris-online/learn\?step=1$"))
    assert "Started learning: version 1 learned 32 rows" in page.locator(".messages").inner_text()
    tab = page.get_by_role("navigation", name="Model views").get_by_role("link", name="Learn")
    assert tab.get_attribute("aria-current") == "page"
    state = page.locator(".learning-state").inner_text()
    assert estimator in state and mode in state

    for i, (a, b) in enumerate([(40, 60), (60, 80), (80, 100)]):
        page.get_by_label("Next batch (CSV with the same columns)").set_input_files(
            csv_file(f"batch{i + 1}.csv", a, b)
        )
        page.get_by_role("button", name="Learn", exact=True).click()
        version = i + 2
        page.wait_for_url(re.compile(rf"/learn\?step={version}$"))
        result = page.locator("#step-result")
        assert f"Version {version}" in result.inner_text()
        assert f"moved to v{version}" in result.locator(".step-production").inner_text()
        assert re.fullmatch(r"0\.\d+|1", result.locator(".step-metric").inner_text().strip())
        assert f"{b - 8} seen" in result.inner_text()  # 8 of the first 40 rows are held out
    # The learning curve has a point per version; the steps table lists them newest first.
    assert page.locator("figure.chart circle.dot").count() == 4
    assert page.locator("table.learning-steps tbody tr").first.get_attribute("data-version") == "4"
    head = learning_head(get_registry(), "iris-online")
    assert head["mode"] == mode and head["generation"] == 4
    assert console.errors == []
    # A bad batch is refused on the form, and nothing is learned.
    page.get_by_label("Next batch (CSV with the same columns)").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}
    )
    page.get_by_role("button", name="Learn", exact=True).click()
    assert "no label column 'species'" in page.get_by_role("alert").first.inner_text()
    assert learning_head(get_registry(), "iris-online")["generation"] == 4


def test_a_bad_specification_is_shown_on_the_form_and_stores_nothing(
    page, live_server, catalog_store, alice, console
):
    log_in(page, live_server, "/learning/new")
    page.get_by_label("Name", exact=True).fill("iris-online")
    page.get_by_label("First rows (CSV with a header row)").set_input_files(
        csv_file("first.csv", 0, 40)
    )
    page.get_by_label("Estimator", exact=True).select_option("SVC")
    page.get_by_label("Hyperparameters (JSON)").fill('{"gamma_typo": 1}')
    page.get_by_role("button", name="Start learning").click()
    assert "SVC has no parameter 'gamma_typo'" in page.locator("#start-error").inner_text()
    assert get_registry().list_models() == []
