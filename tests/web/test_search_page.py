"""The search page (home) and /api/search: query strings, facets, filters, paging."""

from __future__ import annotations

import pytest

from catalog.domain.registry import get_registry
from tests.models import iris, matmul_model, publish_iris_svc


@pytest.fixture
def published(catalog_store):
    reg = get_registry()
    X, _ = iris()
    publish_iris_svc(reg)
    reg.publish("matmul", matmul_model(8, 4), tags=["linear"], description="One MatMul")
    reg.publish("matmul", matmul_model(8, 4, seed=1), tags=["linear"], description="Retrained")
    return reg


def test_the_home_page_lists_models_without_a_query(client, published):
    page = client.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "2 models" in body
    assert 'href="/models/iris-svc/"' in body and 'href="/models/matmul/"' in body
    assert client.get("/search").status_code == 200
    assert client.get("/models/").status_code == 200  # the plain list stays


def test_a_query_highlights_its_matches(client, published):
    body = client.get("/?q=flowers").content.decode()
    assert "1 result for" in body
    assert "<mark>flowers</mark>" in body
    assert 'class="badge task"' in body and "scikit-learn" in body


def test_facet_links_add_and_remove_filters(client, published):
    body = client.get("/").content.decode()
    assert 'href="?tag=svm"' in body  # a facet term adds its filter
    narrowed = client.get("/?tag=svm").content.decode()
    assert "1 model" in narrowed and "iris-svc" in narrowed
    assert 'aria-current="true"' in narrowed  # the facet shows as active
    assert 'aria-label="Active filters"' in narrowed
    assert 'data-remove-filter="tag"' in narrowed
    assert '<input type="hidden" name="tag" value="svm">' in narrowed  # kept by a new query


def test_all_versions_shows_every_version(client, published):
    data = client.get("/api/search?q=matmul&all_versions=1").json()
    assert sorted(h["id"] for h in data["hits"]) == ["matmul::1", "matmul::2"]
    latest = client.get("/api/search?q=matmul").json()
    assert [h["id"] for h in latest["hits"]] == ["matmul::2"]


def test_all_versions_searches_over_the_cap_are_a_429_and_latest_ones_go_on(
    client, published, settings
):
    from catalog.sqlpp.slots import StatementSlots

    settings.CATALOG_ALL_VERSIONS_SEARCHES = 1
    with StatementSlots(settings.VAR_DIR / "search-slots", 1).hold():  # another worker's
        r = client.get("/api/search?q=matmul&all_versions=1")
        assert r.status_code == 429
        assert r.json() == {"error": r.json()["error"], "status": 429}
        assert "all-versions search is busy (1 running at once at most)" in r.json()["error"]
        page = client.get("/search?q=matmul&all_versions=1")
        assert page.status_code == 429
        assert "all-versions search is busy" in page.content.decode().lower()
        assert client.get("/api/search?q=matmul").json()["total"] == 1  # needs no slot
        settings.CATALOG_ALL_VERSIONS_SEARCHES = 2  # a second slot: this search gets it
        assert client.get("/api/search?q=matmul&all_versions=1").json()["total"] == 2
        settings.CATALOG_ALL_VERSIONS_SEARCHES = 1
    assert client.get("/api/search?q=matmul&all_versions=1").json()["total"] == 2


def test_the_json_twin_returns_hits_total_and_facets(client, published):
    data = client.get("/api/search?q=*&framework=scikit-learn").json()
    assert data["total"] == 1
    assert data["hits"][0]["name"] == "iris-svc"
    assert data["filters"] == {"metadata.framework": ["scikit-learn"]}
    assert {"term": "svm", "count": 1} in data["facets"]["tags"]["terms"]
    assert client.get("/?q=iris&format=json").json()["total"] == 1


def test_pages_of_results(client, published):
    first = client.get("/api/search?limit=1").json()
    second = client.get("/api/search?limit=1&offset=1").json()
    assert first["total"] == second["total"] == 2
    assert first["hits"][0]["id"] != second["hits"][0]["id"]
    body = client.get("/?limit=1").content.decode()
    assert 'rel="next"' in body and "offset=1" in body
    assert 'rel="prev"' in client.get("/?limit=1&offset=1").content.decode()


def test_a_malformed_query_shows_the_message_at_the_box(client, published):
    page = client.get("/?q=%22unclosed")
    assert page.status_code == 400
    body = page.content.decode()
    assert 'id="search-error"' in body and "unterminated quote" in body
    assert 'aria-invalid="true"' in body
    api = client.get("/api/search?q=%22unclosed")
    assert api.status_code == 400 and "unterminated quote" in api.json()["error"]
    assert client.get("/api/search?limit=0").status_code == 400


def test_an_empty_catalog_explains_how_to_publish(client, catalog_store):
    body = client.get("/").content.decode()
    assert "The catalog is empty" in body


def test_nothing_matches_suggests_what_to_try(client, published):
    body = client.get("/?q=zebra&tag=svm").content.decode()
    assert "Nothing matches" in body and "remove the filters" in body
