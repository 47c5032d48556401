"""Security: production settings, security headers and CSP, no anonymous writes, hashed tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from catalog.domain import limits
from catalog.domain.models import APIToken
from catalog.domain.registry import Registry, get_registry
from catalog.domain.tokens import create_token
from catalog.web import security
from inference.sessions import get_session_cache
from tests.models import matmul_model

ROOT = Path(__file__).resolve().parents[2]
MIDDLEWARE = "catalog.web.security.SecurityHeadersMiddleware"


def test_the_project_settings_install_the_security_headers():
    """The tests below use the configured middleware chain, never one of their own."""
    assert MIDDLEWARE in django_settings.MIDDLEWARE


@pytest.fixture
def reg(catalog_store) -> Registry:
    registry = get_registry()
    registry.publish("mm", matmul_model(4, 2))
    get_session_cache().clear()
    return registry


def counts(reg: Registry) -> dict[str, int]:
    return {ks: reg.store.count(ks) for ks in reg.ks.all()}


# -- production settings ---------------------------------------------------------------------

GOOD = {"DEBUG": False, "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": ["models.example.org"]}


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"DEBUG": True}, "DEBUG is on"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "dev-only-insecure-key-set-SECRET_KEY-in-production"}, "development key"),
        ({"SECRET_KEY": "short"}, "shorter than"),
        ({"ALLOWED_HOSTS": ["*"]}, "ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_what_is_unsafe(change, problem):
    assert security.production_problems(GOOD) == []
    security.check_production_settings(GOOD)
    with pytest.raises(ImproperlyConfigured, match=problem):
        security.check_production_settings(GOOD | change)


def _settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import catalog.shell.settings as s; from catalog.web.security import check_production_settings;"
        " check_production_settings(vars(s)); print('ok')"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_real_settings_module_is_refused_in_production_with_debug_on():
    debug = _settings_in_a_fresh_process(DEBUG="1", SECRET_KEY="x" * 50)
    assert debug.returncode != 0 and "DEBUG is on" in debug.stderr
    dev_key = _settings_in_a_fresh_process(DEBUG="1")
    assert dev_key.returncode != 0 and "development key" in dev_key.stderr
    no_key = _settings_in_a_fresh_process(DEBUG="0")
    assert no_key.returncode != 0 and "SECRET_KEY" in no_key.stderr
    fine = _settings_in_a_fresh_process(DEBUG="0", SECRET_KEY="x" * 50)
    assert fine.returncode == 0 and fine.stdout.strip() == "ok", fine.stderr


def test_the_system_check_reports_production_problems(settings):
    security.register_checks()
    settings.DEBUG = True
    errors = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert any(e.id.startswith("catalog.E") and "DEBUG" in e.msg for e in errors)
    settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS = False, "z" * 50, ["a.example"]
    assert [e for e in security.production_check() if e.id.startswith("catalog.")] == []


# -- security headers and content security policy --------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(reg):
    client = Client()
    for path in (
        "/",
        "/models/",
        "/models/mm/",
        "/workbench",
        "/api/query?statement=SELECT+1",
        "/v2/models/mm",
        "/no/such/page",
        "/models/mm/v/1/graph",
    ):
        response = client.get(path)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert (
            "unsafe-eval" not in csp and "'unsafe-inline'" not in csp.split("style-src-attr")[0]
        ), path


@pytest.mark.django_db
def test_netron_may_be_framed_by_our_pages_only(reg):
    response = Client().get("/netron/")
    if response.status_code == 404:
        pytest.fail("netron is not installed: pip install netron")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "script-src 'self';" in csp
    assert "unsafe-eval" not in csp


# -- anonymous users cannot write anywhere ----------------------------------------------------

# Values for the URL parameters of every pattern.
ARGS = {
    "name": "mm",
    "ref": "1",
    "version": "1",
    "alias": "production",
    "tensor": "W",
    "path": "index.html",
    "prediction_id": "0" * 32,
}
# POST endpoints that only read (predictions, queries) or log in: anyone may call them,
# but they must store nothing.
READ_POSTS = {
    "v2-infer",
    "v2-infer-version",
    "v2-repository-index",  # Triton's repository index is a read sent as POST
    "api-query",
    "api-predict-csv",
    "api-predict-csv-version",
    "predict",
    "predict-version",
    "batch-predict",
    "batch-predict-version",
    "login",
    "logout",
    "api-prediction-feedback",  # see test_anonymous_feedback_is_refused below
}


def every_url() -> list[tuple[str, str]]:
    """Return (name, path) of every URL pattern, parameters filled from ARGS."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                for key, value in ARGS.items():
                    for conv in ("str", "int", "path"):
                        route = route.replace(f"<{conv}:{key}>", value)
                assert "<" not in route, f"no value for a parameter of {route}"
                found.append((p.name or route, "/" + route))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_url_enumeration_finds_the_write_endpoints():
    names = {name for name, _ in every_url()}
    assert {"api-alias", "api-query", "v2-infer"} <= names
    assert len(names) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_anonymous_users_cannot_write_anywhere(method, reg):
    client = Client(enforce_csrf_checks=True)
    before = counts(reg)
    allowed_anonymous = []
    for name, path in every_url():
        body = json.dumps({"version": 1, "label": 1, "statement": "SELECT 1"})
        response = getattr(client, method)(path, body, content_type="application/json")
        status = response.status_code
        if status == 302:
            assert response["Location"].startswith("/accounts/login/"), (name, method)
        elif name in READ_POSTS and method == "post":
            assert status < 500, (name, status, response.content[:300])
        elif status not in (401, 403, 405):
            allowed_anonymous.append((name, path, status))
        assert counts(reg) == before, f"anonymous {method.upper()} {path} changed the store"
    assert allowed_anonymous == [], allowed_anonymous


@pytest.mark.django_db
def test_anonymous_form_posts_are_refused_or_sent_to_login(reg):
    client = Client(enforce_csrf_checks=True)
    before = counts(reg)
    for path in ("/upload", "/models/mm/versions/promote", "/models/mm/versions/rollback"):
        response = client.post(path, {"alias": "production", "version": 1})
        assert response.status_code in (302, 401, 403), (path, response.status_code)
    assert counts(reg) == before


@pytest.mark.django_db
def test_anonymous_feedback_is_refused(reg, settings):
    settings.CATALOG_PREDICTION_LOG = True
    client = Client()
    body = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}
    answer = client.post("/v2/models/mm/infer", json.dumps(body), content_type="application/json")
    prediction_id = answer.json()["parameters"]["prediction_id"]
    feedback = client.post(
        f"/api/predictions/{prediction_id}/feedback",
        json.dumps({"label": 1}),
        content_type="application/json",
    )
    assert feedback.status_code in (401, 403)


@pytest.mark.django_db
def test_a_reader_token_cannot_write_either(reg):
    User.objects.create_user("reader")
    auth = {"Authorization": f"Bearer {create_token('reader')}"}
    client = Client()
    before = counts(reg)
    model = matmul_model(4, 2).SerializeToString()
    assert (
        client.post(
            "/api/models/mm/versions", model, "application/octet-stream", headers=auth
        ).status_code
        == 403
    )
    assert client.delete("/api/models/mm/versions/1", headers=auth).status_code == 403
    moved = client.post(
        "/api/models/mm/aliases/production",
        {"version": 1},
        content_type="application/json",
        headers=auth,
    )
    assert moved.status_code == 403
    assert counts(reg) == before


# -- tokens are stored hashed -----------------------------------------------------------------


@pytest.mark.django_db
def test_no_column_holds_the_token_text(reg):
    User.objects.create_user("writer", is_staff=True)
    token = create_token("writer", name="ci")
    secret = token[len("mct_") :]
    # Use the token once, so anything written on use (last_used) is there too.
    Client().get("/api/query?statement=SELECT+1", headers={"Authorization": f"Bearer {token}"})
    table = APIToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a table name from the model
        rows = cursor.fetchall()
    assert rows
    for row in rows:
        for value in row:
            text = str(value)
            assert token not in text and secret[8:] not in text, "a token is stored in clear"
    # and nothing of it reached the document store
    for ks in reg.ks.all():
        for _, doc, _ in reg.store.scan(ks):
            assert secret[8:] not in (doc if isinstance(doc, str) else json.dumps(doc, default=str))


# -- named limits ---------------------------------------------------------------------------


def test_every_limit_is_a_setting_with_a_unit_and_a_default(settings):
    rows = {row["setting"]: row for row in limits.describe()}
    assert set(rows) >= {
        "CATALOG_QUERY_TIMEOUT_S",
        "CATALOG_PREDICT_TIMEOUT_S",
        "CATALOG_MAX_BATCH",
        "CATALOG_MAX_UPLOAD_MB",
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        "CATALOG_SESSION_CACHE_MB",
    }
    assert all(row["unit"] and row["default"] > 0 for row in rows.values())
    settings.CATALOG_MAX_BATCH = 7
    assert limits.max_batch() == 7
    settings.CATALOG_MAX_UPLOAD_MB = 3
    assert limits.max_upload_bytes() == 3 * 2**20
