"""URL map of the whole site."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from catalog import netron
from catalog.web import aliases, browse, graph, tensors, workbench

handler400 = "catalog.web.errors.bad_request"
handler403 = "catalog.web.errors.permission_denied"
handler404 = "catalog.web.errors.page_not_found"
handler500 = "catalog.web.errors.server_error"

version = "models/<str:name>/v/<str:ref>/"

urlpatterns = [
    # TODO(search): the search page becomes home once catalog.search offers its domain call.
    path("", browse.model_list, name="home"),
    path("models/", browse.model_list, name="model-list"),
    path("models/<str:name>/", browse.model_detail, name="model-detail"),
    path(version, browse.model_detail, name="model-version"),
    path(version + "document", browse.model_document, name="model-document"),
    path(version + "download.onnx", browse.model_download, name="model-download"),
    path(version + "graph", graph.model_graph, name="model-graph"),
    path(version + "initializers", tensors.initializers, name="model-initializers"),
    path(version + "initializers/<path:tensor>", tensors.tensor, name="model-tensor"),
    path("workbench", workbench.workbench, name="workbench"),
    path("api/query", workbench.api_query, name="api-query"),
    path("api/models/<str:name>/aliases/<str:alias>", aliases.api_alias, name="api-alias"),
    path("netron/", netron.serve, name="netron-root"),
    path("netron/<str:path>", netron.serve, name="netron"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, next_page="home"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="home"), name="logout"),
    path("", include("inference.urls")),
]
