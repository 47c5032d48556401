"""Schemathesis against the served OpenAPI description: no request makes the server fail.

The schema is read from ``/api/openapi.json`` through the WSGI app itself (no socket);
every operation is called with generated path parameters, query strings and bodies: as
generated, then aimed at each published model (so bodies reach a real session), each time
anonymously and with a staff user's API token (so write routes get past the 401 and run).
The only property checked is the one that matters here: no 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from catalog.domain.registry import get_registry
from catalog.domain.tokens import create_token
from catalog.shell.wsgi import application
from tests.models import iris, iris_logreg, matmul_model

# Examples per operation; 13 operations stay well under a minute.
MAX_EXAMPLES = 25

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def published(catalog_store, settings):
    """Publish a matmul model and an iris classifier; log predictions (feedback has targets)."""
    settings.CATALOG_PREDICTION_LOG = True
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2))
    X, _ = iris()
    reg.publish("iris", iris_logreg(), sample_input=X[:1])
    return reg


@pytest.fixture
def staff_token(db) -> str:
    """Return an API token of a staff user (allowed to write)."""
    User.objects.create_user("fuzzer", is_staff=True)
    return create_token("fuzzer")


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail(case, published, staff_token):
    anonymous = dict(case.headers or {})
    with_token = {**anonymous, "Authorization": f"Bearer {staff_token}"}
    generated = dict(case.path_parameters or {})
    targets = [generated]
    if "name" in generated:
        for model in ("mm", "iris"):
            aimed = {**generated, "name": model}
            if "version" in aimed:
                aimed["version"] = "1"
            targets.append(aimed)
    for params in targets:
        for headers in (anonymous, with_token):
            case.path_parameters, case.headers = dict(params), dict(headers)
            case.call_and_validate(checks=[not_a_server_error])
