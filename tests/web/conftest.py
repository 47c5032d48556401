"""Fixtures shared by the web tests.

``published`` is the catalog of the access tests (test_access.py, test_permissions.py).
Other files define a ``published`` of their own with the models they look at, which
replaces this one inside that file: test_pages.py, test_pages_inspect.py,
test_pages_workbench.py, test_search_page.py, test_fuzz_api.py, browser/test_browse.py and
browser/test_search_versions_upload.py.
"""

from __future__ import annotations

import pytest

from catalog.domain.registry import Registry, get_registry
from tests.models import matmul_model


@pytest.fixture
def published(catalog_store, db) -> Registry:
    """Return the registry with two versions of the MatMul model ``mm``."""
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2, seed=0))
    reg.publish("mm", matmul_model(4, 2, seed=1))
    return reg
