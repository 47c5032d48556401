"""In a real browser: open a model, see its graph, query the workbench, log in."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from catalog.domain.registry import get_registry
from tests.models import iris, matmul_model, publish_iris_svc

pytestmark = pytest.mark.browser


@pytest.fixture
def published(catalog_store):
    reg = get_registry()
    X, _ = iris()
    publish_iris_svc(reg)
    reg.publish("matmul", matmul_model(16, 8), description="One MatMul")
    return reg


def test_open_a_model_from_the_list(page, live_server, published, console):
    page.goto(f"{live_server.url}/models/")
    page.get_by_role("link", name="iris-svc").click()
    page.wait_for_url(re.compile(r"/models/iris-svc/$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("iris-svc")
    assert page.get_by_text("SVMClassifier").first.is_visible()
    # Keyboard: the tabs are links reachable with Tab; Enter follows them.
    tabs = page.get_by_role("navigation", name="Model views")
    tabs.get_by_role("link", name="Initializers").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/initializers$"))
    page.get_by_role("link", name="Elements").click()  # sort by size
    assert page.locator("th[aria-sort]").inner_text().startswith("Elements")
    assert console.errors == []


def test_the_graph_renders_without_console_errors(page, live_server, published, console):
    page.goto(f"{live_server.url}/models/iris-svc/v/1/graph")
    viewer = page.frame_locator("iframe.netron")
    viewer.locator("#canvas .node").first.wait_for()
    assert viewer.locator("#canvas .node").count() >= 10
    assert viewer.get_by_text("SVMClassifier").first.is_visible()
    assert console.errors == []


def test_a_workbench_query_shows_a_table(page, live_server, published, console):
    page.goto(f"{live_server.url}/workbench")
    editor = page.get_by_label("SQL++ statement")
    editor.fill("SELECT m.name, m.summary.paramCount FROM models m ORDER BY m.name")
    editor.press("Control+Enter")
    table = page.locator("table.result-table")
    table.wait_for()
    assert table.locator("tbody tr").count() == 2
    assert table.locator("tbody tr").first.inner_text().startswith("iris-svc")
    page.get_by_label("SQL++ statement").fill("DELETE FROM models")
    page.get_by_role("button", name="Run query").click()
    assert "read-only" in page.get_by_role("alert").inner_text()
    assert console.errors == []


def test_log_in_and_out(page, live_server, published, transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", password="secret-pw", is_staff=True)
    page.goto(f"{live_server.url}/models/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Password").fill("secret-pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/models/$"))
    assert "alice" in page.locator(".account").inner_text()
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("link", name="Log in").is_visible()
