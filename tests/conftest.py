"""Shared fixtures: every test gets its own embedded store file."""

from __future__ import annotations

import pytest
from django.test import override_settings

from catalog.store import open_store


@pytest.fixture
def store(tmp_path):
    """Return a fresh embedded store in a temporary directory."""
    s = open_store(f"embedded://{tmp_path / 'catalog.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def catalog_store(tmp_path):
    """Point the app's CATALOG_STORE at a fresh embedded store; return that store."""
    url = f"embedded://{tmp_path / 'app.sqlite3'}"
    with override_settings(CATALOG_STORE=url):
        from catalog.store import get_store

        yield get_store()
