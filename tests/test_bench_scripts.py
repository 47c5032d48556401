"""The benchmark scripts are not run by the tests (they take minutes and measure speed), but
they must still compile: a script broken on main is found by the next person who needs it.
"""

from __future__ import annotations

import py_compile
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(BENCH.glob("*.py")) + sorted(BENCH.glob("peers/*.py"))


def test_there_are_benchmark_scripts():
    assert len(SCRIPTS) >= 10, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(BENCH)))
def test_each_benchmark_script_compiles(script, tmp_path):
    py_compile.compile(str(script), cfile=str(tmp_path / "compiled.pyc"), doraise=True)
