"""The URL configuration (catalog/shell/urls.py and the serving routes it includes): every
address clients, pages and the README use reaches its view through the project's own URL
map, and Django's error handlers are the catalog's. Deleting any route, or any handler, makes
a test here fail (``./dev.sh mutate-urls`` checks that route by route)."""

from __future__ import annotations

import pytest
from django.contrib.auth.views import LoginView, LogoutView
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from catalog.web import (
    aliases,
    browse,
    errors,
    graph,
    netron,
    search,
    tensors,
    upload,
    versions,
    workbench,
)
from catalog.web.serving import api, learning_api, learning_pages, oip_routes, pages
from tests.models import matmul_model

PID = "0" * 32
# (route name, an address clients use, the view that must answer it)
ROUTES = [
    ("home", "/", search.search),
    ("search", "/search", search.search),
    ("api-search", "/api/search", search.search),
    ("upload", "/upload", upload.upload),
    ("model-list", "/models/", browse.model_list),
    ("model-detail", "/models/mm/", browse.model_detail),
    ("model-versions", "/models/mm/versions", versions.versions),
    ("model-promote", "/models/mm/versions/promote", versions.promote),
    ("model-rollback", "/models/mm/versions/rollback", versions.rollback),
    ("model-diff", "/models/mm/diff", versions.diff),
    ("model-version", "/models/mm/v/1/", browse.model_detail),
    ("model-document", "/models/mm/v/1/document", browse.model_document),
    ("model-download", "/models/mm/v/production/download.onnx", browse.model_download),
    ("model-graph", "/models/mm/v/1/graph", graph.model_graph),
    ("model-initializers", "/models/mm/v/1/initializers", tensors.initializers),
    ("model-tensor", "/models/mm/v/1/initializers/W", tensors.tensor),
    ("model-tensor", "/models/mm/v/1/initializers/a/b:0", tensors.tensor),
    ("workbench", "/workbench", workbench.workbench),
    ("api-query", "/api/query", workbench.api_query),
    ("api-alias", "/api/models/mm/aliases/production", aliases.api_alias),
    ("api-publish", "/api/models/mm/versions", upload.api_publish),
    ("api-version", "/api/models/mm/versions/1", upload.api_delete_version),
    ("netron-root", "/netron/", netron.serve),
    ("netron", "/netron/index.html", netron.serve),
    ("login", "/accounts/login/", LoginView),
    ("logout", "/accounts/logout/", LogoutView),
    ("api-learn", "/api/models/mm/learn", learning_api.api_learn),
    ("learning-new", "/learning/new", learning_pages.new_model),
    ("model-learn", "/models/mm/learn", learning_pages.learn_page),
    ("model-learn-batch", "/models/mm/learn/batch", learning_pages.learn_batch),
    ("api-start-learning", "/api/models/mm/learning", learning_api.api_start_learning),
    ("predict", "/models/mm/predict", pages.predict_page),
    ("predict-version", "/models/mm/v/1/predict", pages.predict_page),
    ("batch-predict", "/models/mm/batch", pages.batch_page),
    ("batch-predict-version", "/models/mm/v/1/batch", pages.batch_page),
    ("v2-server", "/v2", api.server_metadata),
    ("v2-live", "/v2/health/live", api.health_live),
    ("v2-ready", "/v2/health/ready", api.health_ready),
    ("v2-model", "/v2/models/mm", api.model_metadata),
    ("v2-model-ready", "/v2/models/mm/ready", api.model_ready),
    ("v2-infer", "/v2/models/mm/infer", api.infer),
    ("v2-model-config", "/v2/models/mm/config", oip_routes.config),
    ("v2-model-stats", "/v2/models/mm/stats", oip_routes.statistics),
    ("v2-repository-index", "/v2/repository/index", oip_routes.index),
    ("v2-model-version", "/v2/models/mm/versions/1", api.model_metadata),
    ("v2-model-version-ready", "/v2/models/mm/versions/1/ready", api.model_ready),
    ("v2-infer-version", "/v2/models/mm/versions/1/infer", api.infer),
    ("v2-model-version-config", "/v2/models/mm/versions/1/config", oip_routes.config),
    ("v2-model-version-stats", "/v2/models/mm/versions/1/stats", oip_routes.statistics),
    ("api-predict-csv", "/api/models/mm/predict.csv", api.predict_csv),
    ("api-predict-csv-version", "/api/models/mm/v/1/predict.csv", api.predict_csv),
    ("api-prediction-feedback", f"/api/predictions/{PID}/feedback", api.prediction_feedback),
    ("api-predictions", "/api/models/mm/predictions", api.predictions),
    ("api-openapi", "/api/openapi.json", api.openapi_json),
]


def _view_of(func):
    return getattr(func, "view_class", func)


def _configured_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                names.add(p.name)

    walk(get_resolver().url_patterns)
    return names


@pytest.mark.parametrize("name, address, view", ROUTES, ids=[r[1] for r in ROUTES])
def test_each_address_reaches_its_view(name, address, view):
    match = resolve(address)
    assert (match.url_name, _view_of(match.func)) == (name, view)


def test_every_configured_route_is_in_the_table():
    """A new route gets a line in ROUTES (and so in the anonymous-write sweep's view)."""
    assert _configured_names() == {name for name, _, _ in ROUTES}


def test_the_error_handlers_are_the_catalogs():
    resolver = get_resolver()
    assert resolver.resolve_error_handler(400) is errors.bad_request
    assert resolver.resolve_error_handler(403) is errors.permission_denied
    assert resolver.resolve_error_handler(404) is errors.page_not_found
    assert resolver.resolve_error_handler(500) is errors.server_error


NO_ROUTE = (b"no such route", b"There is no page at this address")


@pytest.mark.django_db
def test_every_address_is_answered_by_a_view_not_the_no_route_404(catalog_store):
    """Through the configured app: with model mm published, no address of the table gets
    the 404 of an unknown address (a view's own 404, e.g. no prediction, is fine)."""
    from catalog.domain.registry import get_registry

    get_registry().publish("mm", matmul_model(4, 2))
    client = Client()
    unrouted = []
    for name, address, _ in ROUTES:
        response = client.get(address)
        if response.status_code == 405:  # POST-only routes: the method is refused, not the URL
            continue
        if response.status_code == 404 and any(text in response.content for text in NO_ROUTE):
            unrouted.append((name, address, response.content[:200]))
    assert unrouted == []
