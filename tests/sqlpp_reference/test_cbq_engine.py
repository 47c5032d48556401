"""The reference engine's harness survives what random statements do to cbq-engine."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.required import missing

from .cbq import MEMORY_LIMIT_MB, NO_ANSWER, CbqEngine, engine_path, missing_reason, write_documents


@pytest.fixture
def cbq(tmp_path):
    binary = engine_path()
    if binary is None:
        missing(missing_reason())
    write_documents(tmp_path / "data", {"ks": {"a": {"n": 1}, "b": {"n": 2}}})
    engine = CbqEngine(binary, tmp_path / "data")
    yield engine
    engine.stop()


def test_its_address_space_is_limited(cbq):
    limits = Path(f"/proc/{cbq.proc.pid}/limits").read_text()
    line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
    assert line.split()[3] == str(MEMORY_LIMIT_MB * 2**20)


def test_a_statement_it_dies_on_gets_no_answer_and_the_next_one_a_new_engine(cbq):
    assert cbq.query("SELECT RAW SUM(k.n) FROM ks k").rows == [3]
    os.kill(cbq.proc.pid, signal.SIGKILL)  # as the kernel's OOM killer does
    answer = cbq.query("SELECT RAW 1")
    assert answer.failed and answer.code == NO_ANSWER
    assert "died" in answer.message
    assert cbq.restarts == 1
    assert cbq.query("SELECT RAW SUM(k.n) FROM ks k").rows == [3]


def test_a_statement_it_does_not_answer_in_time_gets_no_answer_and_a_new_engine(cbq):
    slow = "SELECT RAW COUNT(*) FROM ARRAY_RANGE(0, 3000) a, ARRAY_RANGE(0, 3000) b"
    answer = cbq.query(slow, wait_s=0.2)  # 9 million rows: seconds
    assert answer.failed and answer.code == NO_ANSWER
    assert "did not answer" in answer.message
    assert cbq.restarts == 1
    assert cbq.query("SELECT RAW 2").rows == [2]
