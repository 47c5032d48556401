"""The command line: ``python manage.py catalog ...`` and the demo catalog it builds."""
