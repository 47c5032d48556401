"""The Django project shell: settings, root URL map, WSGI entry point. Wiring only."""
