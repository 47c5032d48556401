"""Run one read-only SQL++ statement in a forked child with an OS memory limit and a hard kill.

The in-evaluation limits (``catalog.sqlpp.budget``) stop a statement from inside; this is
the layer under them for whatever they miss: the child's address space is capped with
RLIMIT_AS (the memory it already shares with the parent plus the quota and some slack), and
the parent SIGKILLs it a little after its deadline. Nothing the statement does can grow
or stall the calling (web) process. The child opens its own store from the URL (a SQLite
connection must not cross a fork) and sends its rows back as JSON on a pipe.

Cost: a fork per statement (a few milliseconds for a web worker; see bench figures in the
report) on top of the statement itself. POSIX only.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import time
from dataclasses import dataclass
from typing import Any

from catalog.store.base import QueryError, QueryLimitExceeded

MIB = 2**20
# Seconds the child gets past its own deadline before it is killed.
KILL_GRACE_S = 1.0
# Address space the child may add beyond the quota (interpreter, parser, store pages).
SLACK_MB = 256
# CPU priority the child drops to (a user statement yields to page requests).
NICE = 5


@dataclass(frozen=True)
class FenceLimits:
    """The limits of one fenced statement."""

    timeout_s: float = 10.0
    memory_mb: float = 128.0


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(w: int, store_url: str, statement: str, params: Any, query_context: str | None,
           limits: FenceLimits) -> None:  # fmt: skip
    try:
        cap = _vm_size() + int((limits.memory_mb + SLACK_MB) * MIB)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.nice(NICE)  # pages served by the parent's siblings go first on a busy CPU
        from catalog.store import open_store

        store = open_store(store_url)
        rows = store.query(
            statement,
            params,
            query_context,
            read_only=True,
            timeout=limits.timeout_s,
            memory_mb=limits.memory_mb,
        )
        payload: dict[str, Any] = {"rows": rows}
    except QueryLimitExceeded as e:
        payload = {"error": str(e), "limit": e.limit}
    except QueryError as e:
        payload = {"error": str(e)}
    except MemoryError:
        payload = {"error": "Request has exceeded memory quota (out of memory)", "limit": "memory"}
    except BaseException as e:  # noqa: BLE001 - reported to the parent, never raised here
        payload = {"error": f"internal error while running the query: {type(e).__name__}"}
    try:
        data = json.dumps(payload, allow_nan=False).encode()
    except (ValueError, MemoryError):
        data = b'{"error": "the result could not be written as JSON"}'
    view = memoryview(data)
    while view:
        view = view[os.write(w, view) :]


def run_fenced(store_url: str, statement: str, params: Any = None, limits: FenceLimits | None = None,
               query_context: str | None = None) -> list[Any]:  # fmt: skip
    """Return the rows of a read-only statement run in a fenced child process.

    Raises QueryLimitExceeded (limit "time" or "memory") when the child went over a limit
    or had to be killed, QueryError for any other failure.
    """
    limits = limits or FenceLimits()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 0
        try:
            os.close(r)
            _child(w, store_url, statement, params, query_context, limits)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    kill_at = time.monotonic() + limits.timeout_s + KILL_GRACE_S
    killed = False
    poller = select.poll()  # not select(): it fails on descriptors past 1023
    poller.register(r, select.POLLIN | select.POLLHUP)
    try:
        while True:
            left = kill_at - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            if poller.poll(max(1, int(left * 1000))):
                chunk = os.read(r, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    if killed:
        raise QueryLimitExceeded(
            f"Timeout {limits.timeout_s:g}s exceeded: the query was stopped", "time"
        )
    if not chunks:
        if os.WIFSIGNALED(status):
            raise QueryLimitExceeded(
                "Request has exceeded memory quota (the query process was killed)", "memory"
            )
        raise QueryError("the query process ended without an answer")
    payload = json.loads(b"".join(chunks))
    if "rows" in payload:
        return payload["rows"]
    if "limit" in payload:
        raise QueryLimitExceeded(payload["error"], payload["limit"])
    raise QueryError(payload["error"])


__all__ = ["FenceLimits", "run_fenced"]
