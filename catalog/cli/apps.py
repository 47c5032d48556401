"""The command-line app: ``python manage.py catalog ...``."""

from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "catalog.cli"
    label = "catalog_cli"
