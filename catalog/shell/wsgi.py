"""WSGI entry point (gunicorn catalog.shell.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
application = get_wsgi_application()
