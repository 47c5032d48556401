"""The security wiring edge by edge (mutation testing of catalog/web/security.py found these
untested): the exact production problems and their order, the key-length boundary, the
system check's ids and registration, and the headers of the configured middleware chain."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core import checks
from django.core.checks.registry import registry
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from catalog.web import security
from catalog.web.serving import fastpath

KEY = "k" * 50
GOOD = {"DEBUG": False, "SECRET_KEY": KEY, "ALLOWED_HOSTS": ["models.example.org"]}
DEBUG_ON = "DEBUG is on: set DEBUG=0"
NO_KEY = "SECRET_KEY is not set"
DEV_KEY = "SECRET_KEY is the development key: set SECRET_KEY"
SHORT_KEY = "SECRET_KEY is shorter than 32 characters"
WILDCARD = "ALLOWED_HOSTS contains '*': list the host names served"


# -- production_problems --------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, problems",
    [
        ({}, []),
        ({"DEBUG": True}, [DEBUG_ON]),
        ({"SECRET_KEY": ""}, [NO_KEY]),
        ({"SECRET_KEY": None}, [NO_KEY]),
        ({"SECRET_KEY": "dev-only-" + KEY}, [DEV_KEY]),
        ({"SECRET_KEY": KEY + "-insecure"}, [DEV_KEY]),
        ({"SECRET_KEY": "short"}, [SHORT_KEY]),
        ({"ALLOWED_HOSTS": ["a.example", "*"]}, [WILDCARD]),
        ({"ALLOWED_HOSTS": None}, []),
        (
            {"DEBUG": True, "SECRET_KEY": "", "ALLOWED_HOSTS": ["*"]},
            [DEBUG_ON, NO_KEY, WILDCARD],
        ),
    ],
)
def test_production_problems_are_named_exactly_in_order(change, problems):
    assert security.production_problems(GOOD | change) == problems


def test_a_key_of_exactly_the_minimum_length_is_accepted():
    minimum = security.MIN_SECRET_KEY_CHARS
    assert minimum == 32
    assert security.production_problems(GOOD | {"SECRET_KEY": "k" * minimum}) == []
    assert security.production_problems(GOOD | {"SECRET_KEY": "k" * (minimum - 1)}) == [SHORT_KEY]


def test_settings_left_out_are_djangos_defaults():
    """DEBUG missing is off (Django's default); SECRET_KEY missing is a problem."""
    assert security.production_problems({"SECRET_KEY": KEY}) == []
    assert security.production_problems({}) == [NO_KEY]


def test_a_settings_object_is_read_by_attribute():
    assert security.production_problems(SimpleNamespace(**GOOD)) == []
    unsafe = SimpleNamespace(DEBUG=True, ALLOWED_HOSTS=["*"])
    assert security.production_problems(unsafe) == [DEBUG_ON, NO_KEY, WILDCARD]


def test_the_refusal_lists_every_problem():
    with pytest.raises(ImproperlyConfigured) as refused:
        security.check_production_settings(GOOD | {"DEBUG": True, "ALLOWED_HOSTS": ["*"]})
    assert str(refused.value) == f"refusing to start in production: {DEBUG_ON}; {WILDCARD}"


def test_without_an_argument_the_current_settings_are_checked(settings):
    settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS = False, KEY, ["a.example"]
    security.check_production_settings()
    settings.DEBUG = True
    with pytest.raises(ImproperlyConfigured, match="DEBUG is on"):
        security.check_production_settings()


# -- the system check -------------------------------------------------------------------------


def test_the_check_gives_one_numbered_error_per_problem(settings):
    settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS = True, "short", ["*"]
    errors = security.production_check()
    assert [(e.id, e.msg, e.obj, e.level) for e in errors] == [
        ("catalog.E100", DEBUG_ON, "settings", checks.ERROR),
        ("catalog.E101", SHORT_KEY, "settings", checks.ERROR),
        ("catalog.E102", WILDCARD, "settings", checks.ERROR),
    ]


@pytest.fixture
def fresh_registration():
    """Take production_check out of Django's check registry; put back what was there."""
    saved = set(registry.registered_checks), set(registry.deployment_checks)
    registry.registered_checks.discard(security.production_check)
    registry.deployment_checks.discard(security.production_check)
    yield
    registry.registered_checks, registry.deployment_checks = saved


@pytest.fixture
def debug_only(settings):
    """Settings fit for production but for DEBUG: the check's one problem is E100."""
    settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS = True, KEY, ["a.example"]
    return settings


def _catalog_errors(deploy: bool) -> list[str]:
    found = checks.run_checks(include_deployment_checks=deploy, tags=[checks.Tags.security])
    return [e.id for e in found if e.id.startswith("catalog.")]


def test_outside_production_the_check_runs_with_deploy_only(debug_only, fresh_registration):
    debug_only.CATALOG_PRODUCTION = False
    assert security.in_production() is False
    security.register_checks()
    assert _catalog_errors(deploy=False) == []
    assert _catalog_errors(deploy=True) == ["catalog.E100"]


def test_in_production_every_check_run_reports_the_problems(debug_only, fresh_registration):
    debug_only.CATALOG_PRODUCTION = True
    assert security.in_production() is True
    security.register_checks()
    assert _catalog_errors(deploy=False) == ["catalog.E100"]


# -- headers of the configured middleware chain ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, csp, frame",
    [
        ("/models/", security.PAGE_CSP, "DENY"),
        ("/no/such/page", security.PAGE_CSP, "DENY"),
        ("/v2/health/live", security.PAGE_CSP, "DENY"),
        ("/netron/", security.NETRON_CSP, "SAMEORIGIN"),
        ("/netron/index.html", security.NETRON_CSP, "SAMEORIGIN"),
        ("/netron/no-such-file.js", security.NETRON_CSP, "DENY"),
    ],
)
def test_each_response_gets_the_policy_of_its_prefix(path, csp, frame, catalog_store):
    response = Client().get(path)
    assert response["Content-Security-Policy"] == csp, path
    assert response["X-Frame-Options"] == frame, path
    for header, value in security.HEADERS.items():
        assert response[header] == value, (path, header)


def test_the_netron_policy_is_looser_only_where_netron_needs_it():
    page = set(security.PAGE_CSP.split("; "))
    netron = set(security.NETRON_CSP.split("; "))
    assert netron - page == {
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "worker-src 'self'",
        "frame-src 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    }


@pytest.mark.django_db
def test_the_fast_path_sends_the_headers_of_the_middleware_chain(catalog_store):
    response = Client().get("/v2/health/live")
    for header, value in fastpath.SECURITY_HEADERS:
        assert response[header] == value, header
