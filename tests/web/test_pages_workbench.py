"""The SQL++ workbench page and its JSON twin."""

from __future__ import annotations

import pytest

from catalog.domain.registry import get_registry
from catalog.web import workbench
from tests.models import matmul_model


@pytest.fixture
def published(catalog_store):
    reg = get_registry()
    for seed in range(3):
        reg.publish("mm", matmul_model(4, 2, seed=seed), tags=["demo"])
    reg.publish("other", matmul_model(3, 3), tags=["x"])
    return reg


def test_a_query_shows_a_table(client, published):
    page = client.get(
        "/workbench", {"statement": "SELECT m.name, m.version FROM models m ORDER BY m.version"}
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert '<th scope="col">name</th>' in body and '<th scope="col">version</th>' in body
    assert body.count('<td class="cell-str">mm</td>') == 3
    assert "4 rows" in body


def test_the_json_twin_returns_rows_and_the_truncated_flag(client, published):
    url = "/api/query"
    data = client.get(url, {"statement": "SELECT RAW m.name FROM models m ORDER BY m.name"}).json()
    assert data["results"] == ["mm", "mm", "mm", "other"]
    assert data["truncated"] is False and data["count"] == 4
    same = client.get("/workbench", {"statement": "SELECT 1 AS one", "format": "json"}).json()
    assert same["results"] == [{"one": 1}]


def test_rows_are_capped_and_flagged(client, published, settings):
    settings.CATALOG_QUERY_MAX_ROWS = 2
    data = client.get("/api/query", {"statement": "SELECT m.name FROM models m"}).json()
    assert data["count"] == 2 and data["truncated"] is True
    page = client.get("/workbench", {"statement": "SELECT m.name FROM models m"})
    assert "Only the first 2 rows" in page.content.decode()


def test_parameters_are_passed_to_the_query(client, published):
    data = client.post(
        "/api/query",
        {
            "statement": "SELECT RAW m.version FROM models m WHERE m.name = $n",
            "params": {"n": "other"},
        },
        content_type="application/json",
    ).json()
    assert data["results"] == [1]
    bad = client.get("/workbench", {"statement": "SELECT 1", "params": "{oops"})
    assert "not valid JSON" in bad.content.decode()


def test_writes_and_bad_syntax_are_shown_at_the_form(client, published):
    page = client.get("/workbench", {"statement": "DELETE FROM models"})
    body = page.content.decode()
    assert page.status_code == 200 and "Query error" in body and "read-only" in body
    assert 'aria-invalid="true"' in body
    twin = client.get("/api/query", {"statement": "SELEKT nonsense"})
    assert twin.status_code == 400 and twin.json()["error"]
    assert get_registry().list_versions("mm")  # nothing was deleted


def test_the_empty_workbench_offers_examples_that_run(client, published):
    page = client.get("/workbench")
    assert page.status_code == 200
    for _, statement in workbench.EXAMPLES:
        data = client.get("/api/query", {"statement": statement}).json()
        assert "results" in data, (statement, data)


def test_the_statement_length_limit_is_the_setting(client, published, settings):
    settings.CATALOG_QUERY_MAX_CHARS = 40
    statement = "SELECT RAW m.name FROM models m WHERE m.version > 1"
    answer = client.post("/api/query", {"statement": statement})
    assert answer.status_code == 400
    assert "the limit is 40" in answer.json()["error"]
    page = client.get("/workbench", {"statement": statement})
    assert "the limit is 40" in page.content.decode()
    settings.CATALOG_QUERY_MAX_CHARS = 100
    assert client.post("/api/query", {"statement": statement}).status_code == 200
