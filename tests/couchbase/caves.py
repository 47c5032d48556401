"""Start and stop Couchbase's reference programs for the tests: gocaves and cbq-engine.

gocaves (``../shared/caves/``, beside the repository) is the mock cluster Couchbase tests
its SDKs against; cbq-engine (``../shared/cbq/``) is Couchbase's query service on a
directory datastore. Their folder can be moved with ``CATALOG_SHARED_DIR``. Each is
started through its own ``start.sh`` and stopped by its PID. When a binary is missing the
tests that need it skip with the reason; with ``CATALOG_REQUIRE_CAVES=1`` (set by
``.ci/run``) they fail instead, so CI cannot go green without them.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.required import missing

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CATALOG_SHARED_DIR", ROOT.parent / "shared"))
GOCAVES = SHARED / "caves" / "gocaves"
CBQ_ENGINE = SHARED / "cbq" / "cbq-engine"
# How long start.sh may take (it waits up to 10 s for each program itself).
START_TIMEOUT_S = 60


def require(binary: Path, what: str) -> None:
    """Skip (or fail under CATALOG_REQUIRE_CAVES=1) when a reference binary is missing."""
    if binary.is_file() and os.access(binary, os.X_OK):
        return
    missing(f"{what} is not installed at {binary}")


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)  # a stopped process must run to die of SIGTERM
        os.kill(pid, signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of start.sh's subshell is reparented and may linger as a zombie.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


@dataclass
class Caves:
    """A running gocaves: its PID and the connection string of its bucket."""

    pid: int
    connstr: str
    bucket: str
    query_port: int | None = None  # the cbq-engine it advertises as its query service
    extra: list[int] = field(default_factory=list)  # PIDs stopped with it (cbq-engine)

    def url(self, **params: object) -> str:
        """Return the store URL with extra parameters (``kv_timeout=2``...)."""
        return self.connstr + "".join(f"&{k}={v}" for k, v in params.items())

    def pause(self) -> None:
        """Freeze the cluster (SIGSTOP): its sockets stay open and nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused cluster run again, at the same address with the same data."""
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Kill the cluster (SIGKILL): connections reset, its data is gone."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop gocaves and what was started with it."""
        for pid in [self.pid, *self.extra]:
            _kill(pid)


def start_gocaves(bucket: str = "ml", query_port: int | None = None) -> Caves:
    """Start gocaves with ``bucket`` (advertising a query service on ``query_port``)."""
    require(GOCAVES, "gocaves (Couchbase's mock cluster)")
    env = dict(os.environ)
    env.pop("CAVES_N1QL_PORT", None)
    if query_port is not None:
        env["CAVES_N1QL_PORT"] = str(query_port)
    out = subprocess.run(
        [str(GOCAVES.parent / "start.sh"), bucket],
        capture_output=True,
        text=True,
        env=env,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    lines = out.stdout.split()
    if out.returncode != 0 or len(lines) != 2:
        raise RuntimeError(f"gocaves did not start: {out.stderr.strip() or out.stdout}")
    caves = Caves(int(lines[0]), lines[1], bucket, query_port)
    atexit.register(caves.stop)
    return caves


def connect(store: object, attempts: int = 3) -> None:
    """Open ``store``'s connection to a just-started mock, trying again if it times out.

    Test set-up only: on a machine shared by many busy processes the mock's first bucket
    open has been seen to time out once; what the tests check starts after this.
    """
    from catalog.store import StoreUnavailable

    for attempt in range(attempts):
        try:
            store.cluster()  # type: ignore[attr-defined]
            return
        except StoreUnavailable as e:
            if attempt == attempts - 1:
                raise
            print(f"connecting to the mock failed, trying again: {e}")


def free_port_pair() -> int:
    """Return a free port P whose P + 10000 is free too (cbq-engine listens on both)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports for cbq-engine")


def write_keyspaces(data_dir: Path, keyspaces: dict[str, dict[str, object]]) -> None:
    """Write documents as cbq-engine's directory datastore reads them: default/KS/KEY.json."""
    for keyspace, docs in keyspaces.items():
        folder = data_dir / "default" / keyspace
        folder.mkdir(parents=True, exist_ok=True)
        for key, doc in docs.items():
            (folder / f"{key}.json").write_text(json.dumps(doc))


@dataclass
class CbqEngine:
    """A running cbq-engine: its PID, port and data directory."""

    pid: int
    port: int
    data_dir: Path


def start_cbq_engine(keyspaces: dict[str, dict[str, object]]) -> CbqEngine:
    """Start cbq-engine on a fresh directory datastore holding ``keyspaces``."""
    require(CBQ_ENGINE, "cbq-engine (Couchbase's query service)")
    data_dir = Path(tempfile.mkdtemp(prefix="cbq-data-"))
    write_keyspaces(data_dir, keyspaces)
    port = free_port_pair()
    # start.sh runs the engine from a temporary folder (its ffdc dumps land there).
    out = subprocess.run(
        [str(CBQ_ENGINE.parent / "start.sh"), str(data_dir), str(port)],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    if out.returncode != 0 or not out.stdout.strip().isdigit():
        raise RuntimeError(f"cbq-engine did not start: {out.stderr.strip() or out.stdout}")
    engine = CbqEngine(int(out.stdout.strip()), port, data_dir)
    atexit.register(_kill, engine.pid)
    return engine
