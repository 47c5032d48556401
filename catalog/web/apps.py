"""The web app: pages, HTTP APIs, template tags, and the production checks."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "catalog.web"
    label = "catalog_web"

    def ready(self) -> None:
        from catalog.web.security import register_checks

        register_checks()
