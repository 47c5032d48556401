"""Shared fixtures: every test gets its own embedded store file."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, Phase, settings

from catalog.cli.demo import publish_demo
from catalog.domain.registry import Registry
from catalog.domain.setup import init_catalog
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
        from catalog.store import forget_store, get_store

        yield get_store()
        forget_store(url)  # its connection's descriptors: a long worker would run out


FUZZ_TIMEOUT_S = int(os.environ.get("FUZZ_TEST_TIMEOUT", "600"))


def pytest_collection_modifyitems(config, items):
    """Mark the randomized tests "fuzz" and give each a hard per-test timeout (pytest-timeout)."""
    for item in items:
        if item.path.name.startswith("test_fuzz_") or "sqlpp_reference" in item.path.parts:
            item.add_marker(pytest.mark.fuzz)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(FUZZ_TIMEOUT_S))


@pytest.fixture(scope="session")
def demo_catalog_file(tmp_path_factory) -> Path:
    """Return an embedded store file holding the demo catalog (``catalog demo``), built once
    per test run and shared by the xdist workers (the first one builds it under a lock).

    Open it read-only in spirit: tests that write copy it first.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "demo-catalog.sqlite3"
    with open(root / "demo-catalog.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "demo-catalog.done"
        if not done.exists():
            store = open_store(f"embedded://{path}")
            reg = Registry(store)
            for _ in init_catalog(reg):
                pass
            publish_demo(reg)
            store.close()
            done.touch()
    return path


@pytest.fixture
def demo_registry(demo_catalog_file, tmp_path) -> Registry:
    """Return a registry on a private copy of the demo catalog."""
    copy = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_catalog_file, copy)
    reg = Registry(open_store(f"embedded://{copy}"))
    yield reg
    reg.store.close()


def pytest_terminal_summary(terminalreporter) -> None:
    """Close the run with its skips and expected failures counted by reason (none hidden)."""
    for kind in ("skipped", "xfailed"):
        reports = terminalreporter.stats.get(kind, [])
        if not reports:
            continue
        reasons: Counter[str] = Counter()
        for report in reports:
            if kind == "xfailed":
                reasons[str(getattr(report, "wasxfail", "")) or "expected failure"] += 1
            elif isinstance(report.longrepr, tuple):
                reasons[report.longrepr[2].removeprefix("Skipped: ")] += 1
            else:
                reasons[str(report.longrepr)] += 1
        terminalreporter.write_sep("-", f"{len(reports)} {kind}, by reason")
        # most first, ties by reason: the same run prints the same summary (xdist order varies)
        for reason, count in sorted(reasons.items(), key=lambda rc: (-rc[1], rc[0])):
            terminalreporter.write_line(f"{count:5d}  {reason}")
