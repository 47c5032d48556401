"""Which keyspaces anonymous and non-staff SQL++ may read (CATALOG_PUBLIC_QUERY_KEYSPACES)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from catalog.domain.query_access import QueryRefused, check_query_access
from catalog.domain.registry import get_registry
from catalog.domain.setup import init_catalog
from catalog.domain.tokens import create_token
from tests.models import matmul_model
from tests.web.bad_input_cases import PRIVATE_QUERIES

QC = "ml.catalog"


@pytest.fixture
def catalog(catalog_store):
    """A catalog with a version, an alias move (an audit entry), a state and a prediction."""
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2))
    reg.set_alias("mm", "production", 1, user="alice")
    catalog_store.upsert(reg.ks.states, "mm::state", {"secret": "learning state"})
    catalog_store.upsert(reg.ks.predictions, "p1", {"input": "logged input"})
    return reg


def query(client: Client, statement: str, **headers: str):
    return client.post(
        "/api/query", {"statement": statement}, content_type="application/json", headers=headers
    )


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["audit", "states", "predictions"])
def test_anonymous_users_cannot_read_private_keyspaces(client, catalog, collection):
    response = query(client, f"SELECT * FROM {collection}")
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"keyspace ml.catalog.{collection} can be queried")
    assert "staff only" in response.json()["error"]


@pytest.mark.django_db
def test_the_workbench_page_refuses_them_too(client, catalog):
    response = client.get("/workbench", {"statement": "SELECT a.`user` FROM audit a"})
    assert "can be queried by staff only" in response.content.decode()
    assert "alice" not in response.content.decode()
    response = client.get("/workbench", {"statement": "SELECT * FROM audit", "format": "json"})
    assert response.status_code == 400 and "staff only" in response.json()["error"]


@pytest.mark.django_db
def test_anonymous_users_read_models_and_aliases(client, catalog):
    assert query(client, "SELECT m.name FROM models m").json()["results"] == [{"name": "mm"}]
    rows = query(client, "SELECT RAW a.aliases.production FROM aliases a").json()["results"]
    assert rows == [1]
    assert query(client, "SELECT 1 AS one").json()["results"] == [{"one": 1}]


@pytest.mark.django_db
def test_staff_read_every_keyspace(client, catalog):
    User.objects.create_user("alice", is_staff=True)
    token = create_token("alice")
    response = query(client, "SELECT RAW a.`user` FROM audit a", Authorization=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["results"] == ["alice"]


@pytest.mark.django_db
def test_non_staff_users_are_refused_like_anonymous_ones(client, catalog):
    User.objects.create_user("carol")
    token = create_token("carol")
    response = query(client, "SELECT * FROM states", Authorization=f"Bearer {token}")
    assert response.status_code == 400 and "staff only" in response.json()["error"]


@pytest.mark.django_db
def test_the_setting_names_the_public_keyspaces(client, catalog, settings):
    settings.CATALOG_PUBLIC_QUERY_KEYSPACES = "models,aliases,audit"
    response = query(client, "SELECT RAW a.`user` FROM audit a")
    assert response.status_code == 200 and response.json()["results"] == ["alice"]
    settings.CATALOG_PUBLIC_QUERY_KEYSPACES = ""
    assert "others may query: none" in query(client, "SELECT * FROM models").json()["error"]


# -- every way a statement names a keyspace is checked (no store needed) ----------------------

REFUSED = PRIVATE_QUERIES

ALLOWED = [
    "SELECT * FROM models",
    "SELECT * FROM ml.catalog.models m",
    "SELECT * FROM catalog.aliases",
    "SELECT * FROM models m JOIN aliases a ON KEYS m.name",
    "SELECT op FROM models m UNNEST m.summary.opTypes AS op",
    "WITH recent AS (SELECT RAW m.name FROM models m) SELECT * FROM recent",
    "SELECT (SELECT RAW a.name FROM aliases a) AS names",
    "SELECT 1",
    "DELETE FROM audit",  # left to the store, which refuses it on the read-only path
]


@pytest.mark.parametrize("statement", REFUSED)
def test_every_term_naming_a_private_keyspace_is_refused(statement, settings):
    with pytest.raises(QueryRefused):
        check_query_access(statement, QC, staff=False)
    check_query_access(statement, QC, staff=True)  # staff: nothing is refused here


@pytest.mark.parametrize("statement", ALLOWED)
def test_statements_on_public_keyspaces_pass(statement):
    check_query_access(statement, QC, staff=False)


@pytest.mark.django_db
def test_dml_is_still_refused_by_the_read_only_store(client, catalog):
    response = query(client, "DELETE FROM audit")
    assert response.status_code == 400 and "not allowed" in response.json()["error"]


@pytest.mark.django_db
def test_explain_through_the_api_plans_public_statements_and_refuses_private_ones(client, catalog):
    for _ in init_catalog(catalog):  # builds the indexes
        pass
    response = query(client, 'EXPLAIN SELECT m.version FROM models m WHERE m.name = "mm"')
    assert response.status_code == 200
    scan = response.json()["results"][0]["plan"]["~children"][0]
    assert (scan["#operator"], scan["index"]) == ("IndexScan3", "idx_models_name_version")
    response = query(client, "EXPLAIN SELECT * FROM audit")
    assert response.status_code == 400 and "staff only" in response.json()["error"]
    response = query(client, "EXPLAIN DELETE FROM models")
    assert response.status_code == 400
