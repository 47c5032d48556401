"""URL map of the whole site."""

from django.urls import include, path

from catalog import views

urlpatterns = [
    path("", views.model_list, name="home"),
    path("models/", views.model_list, name="model-list"),
    path("models/<str:name>/", views.model_detail, name="model-detail"),
    path("models/<str:name>/v/<str:ref>/", views.model_detail, name="model-version"),
    path("", include("inference.urls")),
]
