"""URL map of the whole site."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from catalog.web import aliases, browse, graph, netron, search, tensors, upload, versions, workbench
from catalog.web.serving import learning_api, learning_pages

handler400 = "catalog.web.errors.bad_request"
handler403 = "catalog.web.errors.permission_denied"
handler404 = "catalog.web.errors.page_not_found"
handler500 = "catalog.web.errors.server_error"

version = "models/<str:name>/v/<str:ref>/"

urlpatterns = [
    path("", search.search, name="home"),
    path("search", search.search, name="search"),
    path("api/search", search.search, name="api-search"),
    path("upload", upload.upload, name="upload"),
    path("models/", browse.model_list, name="model-list"),
    path("models/<str:name>/", browse.model_detail, name="model-detail"),
    path("models/<str:name>/versions", versions.versions, name="model-versions"),
    path("models/<str:name>/versions/promote", versions.promote, name="model-promote"),
    path("models/<str:name>/versions/rollback", versions.rollback, name="model-rollback"),
    path("models/<str:name>/diff", versions.diff, name="model-diff"),
    path(version, browse.model_detail, name="model-version"),
    path(version + "document", browse.model_document, name="model-document"),
    path(version + "download.onnx", browse.model_download, name="model-download"),
    path(version + "graph", graph.model_graph, name="model-graph"),
    path(version + "initializers", tensors.initializers, name="model-initializers"),
    path(version + "initializers/<path:tensor>", tensors.tensor, name="model-tensor"),
    path("workbench", workbench.workbench, name="workbench"),
    path("api/query", workbench.api_query, name="api-query"),
    path("api/models/<str:name>/aliases/<str:alias>", aliases.api_alias, name="api-alias"),
    path("api/models/<str:name>/versions", upload.api_publish, name="api-publish"),
    path(
        "api/models/<str:name>/versions/<int:version>",
        upload.api_delete_version,
        name="api-version",
    ),
    path("netron/", netron.serve, name="netron-root"),
    path("netron/<str:path>", netron.serve, name="netron"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, next_page="home"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="home"), name="logout"),
    path("api/models/<str:name>/learn", learning_api.api_learn, name="api-learn"),
    path("learning/new", learning_pages.new_model, name="learning-new"),
    path("models/<str:name>/learn", learning_pages.learn_page, name="model-learn"),
    path("models/<str:name>/learn/batch", learning_pages.learn_batch, name="model-learn-batch"),
    path(
        "api/models/<str:name>/learning",
        learning_api.api_start_learning,
        name="api-start-learning",
    ),
    path("", include("catalog.web.serving.urls")),
]
