"""Django's error handlers and the error middleware, message by message (mutation testing of
catalog/web/errors.py found these untested). Requests go through the configured app; the 403
and 500 handlers, which no request of the catalog reaches without a server bug, are called
as Django calls them (the URL configuration naming them is tested in test_routes.py)."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from catalog.domain.registry import get_registry
from catalog.web import errors
from catalog.web.uploads import UploadTooLarge
from tests.models import matmul_model

pytestmark = pytest.mark.django_db

NOT_UNDERSTOOD = "The request could not be understood."
NO_PAGE = "There is no page at this address."


@pytest.fixture
def reg(catalog_store):
    registry = get_registry()
    registry.publish("mm", matmul_model(4, 2))
    return registry


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def html_of(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


# -- 400: a request Django itself refuses (here: a host not in ALLOWED_HOSTS) ---------------


def test_a_refused_host_is_the_catalogs_400_page(reg):
    client = Client(HTTP_HOST="evil.example")
    page = html_of(client.get("/models/"), 400)
    assert NOT_UNDERSTOOD in page and "Bad request" in page
    assert error_of(client.get("/api/query"), 400) == {"error": NOT_UNDERSTOOD, "status": 400}


# -- 404: no route, or a view's own Http404 ---------------------------------------------------


def test_an_unknown_address_is_the_friendly_404(reg):
    client = Client()
    assert NO_PAGE in html_of(client.get("/no/such/page"), 404)
    twin = client.get("/no/such/page", {"format": "json"})
    assert error_of(twin, 404) == {"error": NO_PAGE, "status": 404}
    api = error_of(client.get("/api/no/such"), 404)
    assert api == {"error": "no such route: /api/no/such", "status": 404}


def test_a_views_own_json_404_under_the_apis_keeps_its_message(reg):
    """Only the bare 404 of an unknown route becomes "no such route"; a view's JSON answer
    (here the domain's ModelNotFound, mapped by the middleware) passes untouched."""
    answer = error_of(Client().get("/v2/models/nope"), 404)
    assert answer == {"error": "model 'nope' not found", "status": 404}


def test_a_views_own_404_message_is_shown(reg):
    client = Client()
    twin = client.get("/netron/no-such-file.js", {"format": "json"})
    assert error_of(twin, 404) == {"error": "no Netron file 'no-such-file.js'", "status": 404}
    page = html_of(client.get("/netron/no-such-file.js"), 404)
    assert "No Netron file" in page and NO_PAGE not in page  # the page capitalises it


# -- domain errors: the status, the message, and a log line for the server's own faults ------


def test_a_damaged_document_is_logged_with_method_path_and_message(reg, caplog):
    doc, cas = reg.store.get(reg.ks.models, "mm::1")
    doc["onnx"]["graph"]["node"][0]["opType"] = 42
    reg.store.replace(reg.ks.models, "mm::1", doc, cas=cas)
    path = "/models/mm/v/1/download.onnx"
    with caplog.at_level(logging.ERROR, logger="catalog.web.errors"):
        body = error_of(Client().get(path, {"format": "json"}), 500)
    logged = [r.getMessage() for r in caplog.records if r.name == "catalog.web.errors"]
    assert logged == [f"GET {path}: {body['error']}"]
    assert body["error"].startswith("the stored document is damaged: ")


def test_a_client_error_is_not_logged_as_a_server_error(reg, caplog):
    with caplog.at_level(logging.ERROR, logger="catalog.web.errors"):
        error_of(Client().get("/models/nope/", {"format": "json"}), 404)
    assert [r for r in caplog.records if r.name == "catalog.web.errors"] == []


def test_an_upload_over_its_limit_says_which_limit():
    exc = UploadTooLarge("the upload is larger than 3 MB")
    assert (errors.status_of(exc), errors.message_of(exc)) == (413, str(exc))


def test_an_exception_of_no_domain_maps_to_nothing():
    request = RequestFactory().get("/api/query")
    assert errors.domain_error_response(request, ValueError("bug")) is None


# -- 403 and 500, called as Django calls them ---------------------------------------------------


def test_the_403_handler_says_why_or_a_default():
    factory = RequestFactory()
    api = errors.permission_denied(factory.get("/api/query"), PermissionDenied("staff only"))
    assert error_of(api, 403) == {"error": "staff only", "status": 403}
    bare = errors.permission_denied(factory.get("/api/query"), PermissionDenied())
    assert error_of(bare, 403) == {"error": "You may not do that.", "status": 403}
    page = errors.permission_denied(factory.get("/models/"), PermissionDenied())
    assert "You may not do that." in html_of(page, 403)


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/api/query", {}),
        ("/v2/models/mm", {}),
        ("/models/?format=json", {}),
        ("/models/", {"HTTP_ACCEPT": "application/json"}),
    ],
)
def test_the_500_handler_answers_json_where_json_is_asked_for(path, headers):
    response = errors.server_error(RequestFactory().get(path, **headers))
    assert error_of(response, 500) == {"error": "Internal server error.", "status": 500}


def test_the_500_page_is_rendered_without_context_processors():
    page = html_of(errors.server_error(RequestFactory().get("/models/")), 500)
    assert "<title>Something went wrong · Model catalog</title>" in page


def test_the_500_page_survives_a_missing_template(settings):
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": False,
        }
    ]
    response = errors.server_error(RequestFactory().get("/models/"))
    assert html_of(response, 500) == (
        "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
    )


def test_a_body_over_the_limit_read_by_the_middleware_is_a_413(reg, settings):
    """The CSRF middleware reads the form before any view: Django's 400 handler gets the
    RequestDataTooBig and maps it to the same 413 a view's own read would give."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client = Client(enforce_csrf_checks=True)
    body = {"statement": "SELECT " + "1," * 200 + "1"}
    expected = {"error": "the request body is too large", "status": 413}
    assert error_of(client.post("/api/query", body), 413) == expected
    client.cookies["csrftoken"] = "c" * 32  # so the CSRF check goes on to read the form
    page = html_of(client.post("/upload", body), 413)
    assert "the request body is too large" in page.lower()


def test_a_refused_csrf_check_answers_in_the_error_shape(reg):
    """Django's own CSRF page is HTML with an inline style our CSP blocks; ours is not."""
    client = Client(enforce_csrf_checks=True)
    page = html_of(client.post("/upload", {"x": "1"}), 403)
    assert "CSRF check failed: CSRF cookie not set." in page and "Not allowed" in page
    twin = client.post("/upload?format=json", {"x": "1"})
    expected = {"error": "CSRF check failed: CSRF cookie not set.", "status": 403}
    assert error_of(twin, 403) == expected
