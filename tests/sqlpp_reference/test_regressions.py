"""Every fixed fuzz finding (``regressions.py``) gives the same answer on both engines."""

from __future__ import annotations

import pytest

from .compare import check, run_embedded
from .regressions import REGRESSIONS


@pytest.mark.parametrize(("statement", "params", "found"), REGRESSIONS,
                         ids=[f"r{i}" for i in range(len(REGRESSIONS))])  # fmt: skip
def test_a_fixed_fuzz_finding_stays_fixed(reference, statement, params, found):
    ours = run_embedded(reference.store, statement, params)
    assert ours.error is None or "internal error" not in str(ours.error), found
    assert check(reference.store, reference.cbq, statement, params) is None, found
