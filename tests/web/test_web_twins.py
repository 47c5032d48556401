"""JSON twins made in one place (catalog.web.twins): every page names its twin in a Link
header, and ``?format=json`` and ``Accept: application/json`` give the same data."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from catalog.domain.registry import get_registry
from tests.models import matmul_model

pytestmark = pytest.mark.django_db

# Every page with a twin: path -> keys its JSON must hold.
PAGES = {
    "/": {"hits", "total", "skipped"},
    "/search?q=mm": {"hits", "total", "query"},
    "/models/": {"models", "skipped"},
    "/models/mm/": {"document", "versions", "aliases", "skipped"},
    "/models/mm/v/1/": {"document", "versions", "aliases"},
    "/models/mm/versions": {"history", "drift", "audit", "rollback", "skipped"},
    "/models/mm/diff": {"name"},
    "/models/mm/v/2/document": {"name", "version", "onnx"},
    "/models/mm/v/2/graph": {"download", "viewer"},
    "/models/mm/v/2/initializers": {"initializers", "total", "page"},
    "/models/mm/v/2/initializers/W": {"initializer", "histogram"},
    "/workbench?statement=SELECT+RAW+m.name+FROM+models+m": {"results", "count", "truncated"},
    "/models/mm/predict": {"inputs", "featureNames", "inferUrl"},
    "/models/mm/batch": {"name", "version", "features"},
    "/upload": {"maxMb", "fields"},
}
LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="alternate"; type="application/json"$')


@pytest.fixture
def client(catalog_store) -> Client:
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2), description="first")
    reg.publish("mm", matmul_model(4, 2, seed=5), description="second")
    User.objects.create_user("writer", password="pw", is_staff=True)
    c = Client()
    c.login(username="writer", password="pw")
    return c


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_names_its_json_twin(path, client):
    page = client.get(path)
    assert page.status_code == 200, page.content[:300]
    assert page["Content-Type"].startswith("text/html")
    found = LINK.match(page["Link"])
    assert found, page["Link"]
    url = found["url"]
    assert "format=json" in url and url.split("?")[0] == path.split("?")[0]
    twin = client.get(url)
    assert twin.status_code == 200 and twin["Content-Type"].startswith("application/json")
    assert PAGES[path] <= set(twin.json()), sorted(twin.json())
    assert "Link" not in twin
    assert "Accept" in twin["Vary"] and "Accept" in page["Vary"]


@pytest.mark.parametrize("path", list(PAGES))
def test_accept_json_gives_the_same_twin(path, client):
    by_format = client.get(LINK.match(client.get(path)["Link"])["url"]).json()
    by_accept = client.get(path, HTTP_ACCEPT="application/json").json()
    for volatile in ("tookMs", "elapsedMs"):
        by_format.pop(volatile, None)
        by_accept.pop(volatile, None)
    assert by_accept == by_format


def test_the_link_keeps_the_other_parameters(client):
    page = client.get("/search", {"q": "first", "tag": "x", "offset": "0"})
    url = LINK.match(page["Link"])["url"]
    assert url.startswith("/search?") and "q=first" in url and "tag=x" in url


def test_a_twin_with_an_error_is_json_with_the_page_status(client):
    bad = client.get("/search", {"q": '"unterminated', "format": "json"})
    page = client.get("/search", {"q": '"unterminated'})
    assert bad.status_code == page.status_code
    if bad.status_code == 400:
        assert bad.json()["status"] == 400 and bad.json()["error"]
    workbench = client.get("/workbench", {"statement": "SELEKT", "format": "json"})
    assert workbench.status_code == 400 and workbench.json()["status"] == 400
    assert client.get("/workbench", {"statement": "SELEKT"}).status_code == 200


def test_the_document_twin_can_be_downloaded(client):
    twin = client.get("/models/mm/v/1/document", {"format": "json", "download": "1"})
    assert twin["Content-Disposition"] == 'attachment; filename="mm-v1.json"'
    assert twin.json()["name"] == "mm"


def test_a_download_is_not_a_page(client):
    response = client.get("/models/mm/v/1/download.onnx")
    assert response.status_code == 200 and "Link" not in response
