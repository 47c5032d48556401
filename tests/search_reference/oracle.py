"""bleve-oracle (Couchbase's full-text engine, bleve v2.5.7) as a long-running process.

It indexes documents with ``catalog/search/index.json`` and answers one query string a line;
see ``../shared/bleve/README.md``. ``BLEVE_ORACLE`` names the binary, else it is looked for
at ``../shared/bleve/bleve-oracle`` next to the repository.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalog.search.definition import DEFINITION_PATH

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATH = REPO.parent / "shared" / "bleve" / "bleve-oracle"
# Longest wait for one answer (a few milliseconds normally).
ANSWER_TIMEOUT_S = 30.0


def oracle_path() -> Path | None:
    """Return the bleve-oracle binary, or None when it is not on this machine."""
    named = os.environ.get("BLEVE_ORACLE")
    path = Path(named) if named else DEFAULT_PATH
    return path if path.is_file() and os.access(path, os.X_OK) else None


def missing_reason() -> str:
    """Return why the differential suite cannot run here."""
    named = os.environ.get("BLEVE_ORACLE")
    where = f"BLEVE_ORACLE={named}" if named else f"{DEFAULT_PATH} (set BLEVE_ORACLE to move it)"
    return f"bleve-oracle not found or not executable: {where}"


class Oracle:
    """One bleve-oracle process holding an index of some documents."""

    def __init__(self, binary: Path, docs: Iterable[tuple[str, Any]]):
        self._dir = tempfile.TemporaryDirectory(prefix="bleve-oracle-")
        docs_path = Path(self._dir.name) / "docs.jsonl"
        with docs_path.open("w") as f:
            for key, doc in docs:
                f.write(json.dumps({"id": key, "doc": doc}) + "\n")
        self._proc = subprocess.Popen(
            [str(binary), str(DEFINITION_PATH), str(docs_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def ask(self, q: str, *, size: int = 10_000, facets: dict[str, Any] | None = None) -> dict:
        """Return bleve's answer to one query string (hits, total, facets, or error)."""
        line: dict[str, Any] = {"q": q, "size": size}
        if facets:
            line["facets"] = facets
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(line) + "\n")
        self._proc.stdin.flush()
        poller = select.poll()  # select() fails on a descriptor past 1023
        poller.register(self._proc.stdout, select.POLLIN | select.POLLHUP)
        # bleve-oracle writes no line when a score is NaN (a ^0 boost)
        if not poller.poll(ANSWER_TIMEOUT_S * 1000):
            raise RuntimeError(f"bleve-oracle gave no answer to {q!r} in {ANSWER_TIMEOUT_S} s")
        answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"bleve-oracle stopped (exit {self._proc.poll()}) on {q!r}")
        return json.loads(answer)

    def close(self) -> None:
        """Stop the process and remove its files."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._dir.cleanup()
