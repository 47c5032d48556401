"""Couchbase's own query engine (cbq-engine) on a directory datastore, as a reference.

The binary comes from ``CBQ_ENGINE`` or ``../shared/cbq/cbq-engine`` beside the repository
(where ``.ci/run`` makes it present). It runs from a temporary working directory (it may
leave ``query_ffdc_*`` dumps there) on a free port, over documents laid out as
``DATA/default/<keyspace>/<key>.json``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]


def engine_path() -> Path | None:
    """Return the cbq-engine binary to use, or None when there is none."""
    env = os.environ.get("CBQ_ENGINE")
    path = Path(env) if env else REPO.parent / "shared" / "cbq" / "cbq-engine"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def missing_reason() -> str:
    """Say why the reference engine is not available."""
    env = os.environ.get("CBQ_ENGINE")
    where = env or str(REPO.parent / "shared" / "cbq" / "cbq-engine")
    return f"cbq-engine not found or not executable at {where} (set CBQ_ENGINE)"


# The code an Answer carries when cbq-engine gave none (its connection timed out).
NO_ANSWER = -1


@dataclass
class Answer:
    """One statement's answer: rows, or Couchbase's first error (code, message)."""

    rows: list[Any] | None
    code: int | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.rows is None


def write_documents(data_dir: Path, keyspaces: dict[str, dict[str, Any]]) -> None:
    """Write {keyspace: {key: document}} as cbq-engine's directory datastore."""
    for ks, docs in keyspaces.items():
        folder = data_dir / "default" / ks
        folder.mkdir(parents=True, exist_ok=True)
        for key, doc in docs.items():
            name = urllib.parse.quote(key, safe=":-_.@")
            (folder / f"{name}.json").write_text(json.dumps(doc))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# cbq-engine's address space, at most (CBQ_MEMORY_LIMIT_MB): a random statement once made it
# grow past 24 GB until the kernel's OOM killer stopped it. Past this limit it fails alone
# (the query is answered "no reference answer" and the engine restarted).
MEMORY_LIMIT_MB = int(os.environ.get("CBQ_MEMORY_LIMIT_MB", "4096"))


def _limit_memory() -> None:  # runs in the child, before exec
    import resource

    limit = MEMORY_LIMIT_MB * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class CbqEngine:
    """A running cbq-engine; ``query`` sends one statement over a keep-alive session.

    Its memory is limited (MEMORY_LIMIT_MB); when it dies on a statement, that statement
    gets no reference answer and the engine is started again on the same documents.
    """

    def __init__(self, binary: Path, data_dir: Path) -> None:
        self.binary, self.data_dir = binary, data_dir
        self.workdir = Path(tempfile.mkdtemp(prefix="cbq-work-"))
        self.log = self.workdir / "cbq-engine.log"
        self.restarts = 0
        self.session = requests.Session()
        self._start()

    def _start(self) -> None:
        self.port = _free_port()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), f"-datastore={self.data_dir}", f"-http=127.0.0.1:{self.port}",
                 f"-https=127.0.0.1:{_free_port()}", "-loglevel=error"],
                cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_limit_memory,
            )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}/query/service"
        deadline = time.monotonic() + 20
        while True:
            try:
                self.session.get(f"http://127.0.0.1:{self.port}/admin/ping", timeout=1)
                break
            except requests.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"cbq-engine did not start: {self.log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)

    def _restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.session = requests.Session()
        self._start()

    def query(self, statement: str, params: dict | list | None = None,
              timeout_s: float = 20, wait_s: float | None = None) -> Answer:  # fmt: skip
        """Run one statement; params as the embedded engine takes them ($name or positional).

        ``timeout_s`` is the request's own timeout; the answer is waited for ``wait_s``
        (default: 10 s more) before the statement counts as unanswered.
        """
        wait = timeout_s + 10 if wait_s is None else wait_s
        body: dict[str, Any] = {"statement": statement, "timeout": f"{int(timeout_s * 1000)}ms"}
        if isinstance(params, dict):
            for k, v in params.items():
                body["$" + k.lstrip("$")] = v
        elif isinstance(params, (list, tuple)):
            body["args"] = list(params)
        try:
            r = self.session.post(self.url, json=body, timeout=wait)
        except requests.ConnectionError:
            try:
                code = self.proc.wait(5)  # a killed engine's socket can close before it is reaped
            except subprocess.TimeoutExpired:
                raise
            self._restart()
            return Answer(None, NO_ANSWER, f"cbq-engine died on it (exit {code}); restarted")
        except requests.Timeout:
            # cbq-engine ignored its own request timeout: no reference answer, and a fresh
            # engine, since the statement may still be running in this one.
            self._restart()
            return Answer(None, NO_ANSWER, f"cbq-engine did not answer in {wait:g} s")
        answer = r.json()
        errors = answer.get("errors")
        if errors:
            return Answer(None, errors[0].get("code"), errors[0].get("msg", ""))
        return Answer(answer.get("results", []))

    def stop(self) -> None:
        """Stop the engine (SIGTERM, then SIGKILL) and close the session."""
        self.session.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
