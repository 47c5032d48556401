"""URLs of the inference pages and APIs."""

from __future__ import annotations

from django.urls import path

from catalog.web.serving import api, oip_routes, pages

urlpatterns = [
    # pages
    path("models/<str:name>/predict", pages.predict_page, name="predict"),
    path("models/<str:name>/v/<str:ref>/predict", pages.predict_page, name="predict-version"),
    path("models/<str:name>/batch", pages.batch_page, name="batch-predict"),
    path("models/<str:name>/v/<str:ref>/batch", pages.batch_page, name="batch-predict-version"),
    # Open Inference Protocol v2
    path("v2", api.server_metadata, name="v2-server"),
    path("v2/health/live", api.health_live, name="v2-live"),
    path("v2/health/ready", api.health_ready, name="v2-ready"),
    path("v2/models/<str:name>", api.model_metadata, name="v2-model"),
    path("v2/models/<str:name>/ready", api.model_ready, name="v2-model-ready"),
    path("v2/models/<str:name>/infer", api.infer, name="v2-infer"),
    path("v2/models/<str:name>/config", oip_routes.config, name="v2-model-config"),
    path("v2/models/<str:name>/stats", oip_routes.statistics, name="v2-model-stats"),
    path("v2/repository/index", oip_routes.index, name="v2-repository-index"),
    path(
        "v2/models/<str:name>/versions/<str:version>", api.model_metadata, name="v2-model-version"
    ),
    path(
        "v2/models/<str:name>/versions/<str:version>/ready",
        api.model_ready,
        name="v2-model-version-ready",
    ),
    path("v2/models/<str:name>/versions/<str:version>/infer", api.infer, name="v2-infer-version"),
    path(
        "v2/models/<str:name>/versions/<str:version>/config",
        oip_routes.config,
        name="v2-model-version-config",
    ),
    path(
        "v2/models/<str:name>/versions/<str:version>/stats",
        oip_routes.statistics,
        name="v2-model-version-stats",
    ),
    # batch, feedback, description
    path("api/models/<str:name>/predict.csv", api.predict_csv, name="api-predict-csv"),
    path(
        "api/models/<str:name>/v/<str:ref>/predict.csv",
        api.predict_csv,
        name="api-predict-csv-version",
    ),
    path(
        "api/predictions/<str:prediction_id>/feedback",
        api.prediction_feedback,
        name="api-prediction-feedback",
    ),
    path("api/models/<str:name>/predictions", api.predictions, name="api-predictions"),
    path("api/openapi.json", api.openapi_json, name="api-openapi"),
]
