"""Schemathesis against the served OpenAPI description: no request makes the server fail.

The schema is read from ``/api/openapi.json`` through the WSGI app itself (no socket);
every operation is called with generated path parameters, query strings and bodies, once
as generated and once aimed at a published model (so bodies reach a real session).
The only property checked is the one that matters here: no 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from catalog.domain.registry import get_registry
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


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail(case, published):
    case.call_and_validate(checks=[not_a_server_error])
    params = case.path_parameters or {}
    if "name" in params:
        case.path_parameters = {**params, "name": "mm" if hash(str(case.body)) % 2 else "iris"}
        if "version" in params:
            case.path_parameters["version"] = "1"
        case.call_and_validate(checks=[not_a_server_error])
