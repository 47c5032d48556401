"""The connection-balanced gthread worker (catalog/shell/balanced_worker.py) in a real gunicorn.

Each test starts gunicorn with 2 workers of 2 threads on tests/shell/pid_app.py, which
answers with the pid of the worker that served the request, and opens kept-alive
connections. gunicorn's own gthread worker placed 4 connections opened together 1+3 or 0+4
in 20 of 20 tries on this machine; these tests ask for an even spread every time.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = "catalog.shell.balanced_worker.BalancedThreadWorker"
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _ask(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200
    return int(response.read())


def _connect(port: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.connect()
    return conn


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], port: int):
        self.proc, self.port = proc, port

    def workers(self) -> set[int]:
        """Return the pids of the arbiter's live workers (its children)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return {int(pid) for pid in children.split()}

    def wait_workers(self, count: int, without: set[int] = frozenset()) -> set[int]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = self.workers()
            if len(pids) == count and not pids & without:
                time.sleep(0.5)  # booted: listening and in the table
                return pids
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not get to {count} workers: {self.workers()}")


@pytest.fixture
def server() -> Iterator[Server]:
    port = _free_port()
    cmd = [sys.executable, "-m", "gunicorn", "tests.shell.pid_app:application",
           "--bind", f"{HOST}:{port}", "--workers", "2", "--threads", "2",
           "--worker-class", WORKER, "--keep-alive", "30", "--graceful-timeout", "2",
           "--no-control-socket"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    srv = Server(proc, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _ask(_connect(port))
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else ""
                    ) from None
                time.sleep(0.05)
        srv.wait_workers(2)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _spread(pids: list[int]) -> list[int]:
    return sorted(Counter(pids).values())


@pytest.mark.parametrize("count", [4, 5, 16])
def test_connections_opened_together_are_spread_evenly(server: Server, count: int) -> None:
    for _ in range(5):
        conns = [_connect(server.port) for _ in range(count)]
        pids = [_ask(c) for c in conns]
        assert [_ask(c) for c in conns] == pids  # each stays with its worker
        assert set(pids) == server.workers()
        spread = _spread(pids)
        assert spread[-1] - spread[0] <= 1, spread
        for c in conns:
            c.close()
        time.sleep(0.2)  # the workers see the connections closed


def test_a_worker_that_lost_connections_gets_the_next_ones(server: Server) -> None:
    conns = [_connect(server.port) for _ in range(6)]
    pids = [_ask(c) for c in conns]
    assert _spread(pids) == [3, 3]
    by_pid: dict[int, list[http.client.HTTPConnection]] = {}
    for conn, pid in zip(conns, pids, strict=True):
        by_pid.setdefault(pid, []).append(conn)
    first, _ = by_pid
    # one worker gives up two of its three (1 + 3): the next four even it out (4 + 4). The
    # other may take the first of them: it looks at the table when it accepts, not before.
    for conn in by_pid[first][:2]:
        conn.close()
    time.sleep(0.2)
    more = []
    for _ in range(4):
        more.append(_connect(server.port))
        pids.append(_ask(more[-1]))
    assert Counter(pids[6:])[first] >= 3
    kept = [pid for conn, pid in zip(conns, pids[:6], strict=True) if conn not in by_pid[first][:2]]
    assert _spread(kept + pids[6:]) == [4, 4]


def test_a_killed_worker_does_not_hold_connections_back(server: Server) -> None:
    first = [_connect(server.port) for _ in range(2)]
    a, b = (_ask(c) for c in first)
    assert {a, b} == server.workers()
    # the worker holding the second connection gives it up, then dies without a word: its
    # slot still says it holds none, fewer than the survivor
    first[1].close()
    time.sleep(0.2)
    os.kill(b, signal.SIGKILL)
    started = time.monotonic()
    later = [_connect(server.port) for _ in range(3)]
    pids = [_ask(c) for c in later]
    assert time.monotonic() - started < 5
    assert b not in pids
    assert _ask(first[0]) == a
    workers = server.wait_workers(2, without={b})
    for c in later:
        c.close()
    time.sleep(0.2)
    # the arbiter's new worker takes its share
    conns = [_connect(server.port) for _ in range(4)]
    pids = [_ask(c) for c in conns]
    assert set(pids) | {a} == workers
    assert _spread([a, *pids]) == [2, 3]


def test_a_reload_starts_balanced_workers_again(server: Server) -> None:
    old = server.workers()
    os.kill(server.proc.pid, signal.SIGHUP)
    new = server.wait_workers(2, without=old)
    conns = [_connect(server.port) for _ in range(4)]
    pids = [_ask(c) for c in conns]
    assert set(pids) == new
    assert _spread(pids) == [2, 2]
