"""``python manage.py catalog serve-grpc``: run the gRPC inference server until stopped.

With ``--workers N`` (N > 1) the command forks N server processes that share the port
(SO_REUSEPORT: the kernel spreads connections across them), as gunicorn does for HTTP;
each warms its sessions (inference.warm) before it listens. SIGTERM or SIGINT stops the
servers after a short grace period for requests in flight.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable

from catalog.domain.registry import get_registry
from inference import warm
from inference.grpc import protocol
from inference.grpc.server import DEFAULT_THREADS, build_server

GRACE_S = 5.0


def serve_forever(
    host: str,
    port: int,
    threads: int = DEFAULT_THREADS,
    workers: int = 1,
    say: Callable[[str], None] = print,
) -> None:
    """Serve on host:port until SIGTERM/SIGINT, in ``workers`` processes."""
    protocol.descriptor_set()  # compile inference.proto once, before any fork
    if workers <= 1:
        _serve_one(host, port, threads, say)
        return
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                _serve_one(host, port, threads, say)
            finally:
                os._exit(0)
        children.append(pid)

    def forward(signum: int, frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for pid in children:
        os.waitpid(pid, 0)


def _serve_one(host: str, port: int, threads: int, say: Callable[[str], None]) -> None:
    try:
        warmed = warm.warm_up(get_registry())
    except Exception as e:  # e.g. the store is down: serve anyway, build on demand
        say(f"no sessions warmed: {e}")
        warmed = []
    server, bound = build_server(f"{host}:{port}", threads)
    say(
        f"gRPC inference server (pid {os.getpid()}) on {host}:{bound}, {threads} threads"
        + (f"; warmed {', '.join(f'{n} v{v}' for n, v in warmed)}" if warmed else "")
    )
    sys.stdout.flush()
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stopped.wait()
    server.stop(GRACE_S).wait()
