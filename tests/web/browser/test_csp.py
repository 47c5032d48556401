"""In a real browser: every page works under the content security policy, Netron included.

The server is a WSGI handler over the project's own settings (its middleware chain has
``catalog.web.security.SecurityHeadersMiddleware``), so every response carries the policy
the browser enforces; a violation shows up as a console error and fails the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from catalog.domain.registry import get_registry
from tests.models import iris, iris_svc, matmul_model

pytestmark = pytest.mark.browser


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def csp_server(transactional_db, catalog_store) -> Iterator[str]:
    """Return the URL of a server whose responses carry the security headers."""
    reg = get_registry()
    X, _ = iris()
    reg.publish("iris-svc", iris_svc(), sample_input=X[:1], tags=["iris"], description="SVM")
    reg.publish("iris-svc", iris_svc(), sample_input=X[:1], tags=["iris"], description="SVM 2")
    reg.publish("matmul", matmul_model(16, 8), description="One MatMul")
    with override_settings(DEBUG=False):  # the project's own middleware chain
        server = make_server(
            "127.0.0.1", 0, StaticFilesHandler(WSGIHandler()), _Server, handler_class=_Quiet
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()


PAGES = [
    "/",
    "/search?q=iris",
    "/models/",
    "/models/iris-svc/",
    "/models/iris-svc/v/1/document",
    "/models/iris-svc/v/1/initializers",
    "/models/iris-svc/versions",
    "/models/iris-svc/diff",
    "/models/iris-svc/predict",
    "/models/iris-svc/batch",
    "/workbench?statement=SELECT+m.name+FROM+models+m",
    "/accounts/login/",
    "/upload",
    "/no/such/page",
]
# The console reports the 404 status of the error page itself; that is no violation.
EXPECTED = "the server responded with a status of 404"


def test_every_page_loads_without_csp_violations(page, csp_server, console):
    for path in PAGES:
        response = page.goto(csp_server + path)
        assert response is not None and "default-src 'self'" in (
            response.headers.get("content-security-policy", "")
        ), path
        page.wait_for_load_state("networkidle")
        errors = [e for e in console.errors if EXPECTED not in e]
        assert errors == [], (path, errors)


def test_the_prediction_form_and_workbench_run_under_the_policy(page, csp_server, console):
    page.goto(csp_server + "/models/iris-svc/predict")
    page.get_by_role("button", name="Predict").first.click()
    page.wait_for_load_state("networkidle")
    page.goto(csp_server + "/workbench")
    page.get_by_role("button", name="Run").first.click()
    page.wait_for_load_state("networkidle")
    assert console.errors == []


def test_netron_draws_the_graph_under_its_policy(page, csp_server, console):
    response = page.goto(csp_server + "/models/iris-svc/v/1/graph")
    assert "frame-src 'self'" in response.headers["content-security-policy"]
    viewer = page.frame_locator("iframe.netron")
    viewer.locator("#canvas .node").first.wait_for()
    assert viewer.locator("#canvas .node").count() >= 10
    viewer.locator("#canvas .node").first.click()  # the sidebar opens
    page.wait_for_timeout(500)
    assert console.errors == []
