"""WSGI entry point (gunicorn catalog.shell.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
django_application = get_wsgi_application()

from catalog.shell.heap import freeze_startup_heap  # noqa: E402
from catalog.web.serving import fastpath  # noqa: E402  (needs the settings configured)

# OIP infer requests that need no session or token skip Django's middleware (fastpath.py).
application = fastpath.wrap(django_application)

# Everything loaded lives as long as the worker: kept out of the garbage collector's walks.
freeze_startup_heap()
