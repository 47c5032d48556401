"""A reference program the tests need (gocaves, cbq-engine, bleve-oracle) is missing.

Outside CI its tests skip with the reason. ``.ci/run`` sets ``CATALOG_REQUIRE_CAVES=1``:
there the programs are installed beside the clone (``../shared``), so a missing one fails
the tests instead of turning them into skips that a green run would hide.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it under CATALOG_REQUIRE_CAVES=1."""
    if os.environ.get("CATALOG_REQUIRE_CAVES") == "1":
        pytest.fail(f"{reason} (CATALOG_REQUIRE_CAVES=1)", pytrace=False)
    pytest.skip(reason)
