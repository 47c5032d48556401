"""The domain app: holds the API token model (app label "catalog", as before the move)."""

from django.apps import AppConfig


class DomainConfig(AppConfig):
    name = "catalog.domain"
    label = "catalog"
