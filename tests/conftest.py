"""Shared fixtures: every test gets its own embedded store file."""

from __future__ import annotations

import os

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, Phase, settings

from catalog.store import open_store

# Hypothesis profiles. "ci" (the default, used by ./dev.sh test and CI) is derandomized:
# the same examples every run, so a red run is a real regression, never the luck of a draw.
# "fuzz" (HYPOTHESIS_PROFILE=fuzz, or ./dev.sh fuzz) explores with random seeds, many more
# examples, and prints a reproduction blob for every failure.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=2000,
    print_blob=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    deadline=5000,
    print_blob=True,
    max_examples=5000,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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


FUZZ_TIMEOUT_S = int(os.environ.get("FUZZ_TEST_TIMEOUT", "600"))


def pytest_collection_modifyitems(config, items):
    """Mark the randomized tests "fuzz" and give each a hard per-test timeout (pytest-timeout)."""
    for item in items:
        if item.path.name.startswith("test_fuzz_") or "sqlpp_reference" in item.path.parts:
            item.add_marker(pytest.mark.fuzz)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(FUZZ_TIMEOUT_S))
