"""Hot swap under load: predictions for ``latest`` keep flowing while a learner publishes.

A gunicorn server (catalog.shell.wsgi on 127.0.0.1, an embedded store in a temp dir) serves
``POST /v2/models/NAME/infer``. Client threads (bounded in number and time, loopback only)
send one-row predictions for ``latest`` back to back; a learner process runs a learning
step (partial_fit -> ONNX -> publish) every 100 ms. Measured:
- failed requests (anything but 200, or a connection error): must be 0;
- per client, versions seen never go down (the OIP response's ``model_version``);
- hot-swap delay: from the moment ``publish`` returns in the learner to the first response
  served by that version or a newer one (0 when a response got there first: ``latest``
  moves inside publish, before it returns); p99 must be at most 100 ms;
- request latency p50/p99 with the learner running, and a baseline with no learner.
Both processes read ``time.monotonic()``, one clock for the whole machine.

    .venv/bin/python bench/bench_hot_swap.py [--seconds 30] [--quick] [--refit [--window N]]
        [--out bench/results/hot_swap.md]

``--refit``: the learner is the source article's iris SVM (StandardScaler + SVC), which
has no partial_fit: every step stores its batch in ``datasets`` and refits on every row
learned so far (``--window N``: on the last N rows), so steps grow slower as rows pile up.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")

from catalog.domain.registry import Registry  # noqa: E402
from catalog.store import open_store  # noqa: E402

NAME = "iris-online"
HOST = "127.0.0.1"  # loopback only
# Upper bounds whatever the arguments say: the load stays small and stops by itself.
MAX_CLIENTS = 16
MAX_SECONDS = 120
HOT_SWAP_P99_LIMIT_MS = 100.0


class TimedRegistry(Registry):
    """A registry that notes when each publish returns (monotonic clock)."""

    published: list[tuple[int, float]]

    def publish(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        ref = super().publish(*args, **kwargs)
        self.published.append((ref.version, time.monotonic()))
        return ref


def iris_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (X_train, X_holdout, y_train, y_holdout) of iris."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    X, y = load_iris(return_X_y=True)
    return train_test_split(X.astype(np.float32), y, test_size=0.3, random_state=0, stratify=y)


def prepare(url: str, refit: bool = False, window: int | None = None) -> None:
    """Start learning on iris: version 1 of the model (an SVC learning by refit if asked)."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from inference.learning import start_learning

    Xtr, Xh, ytr, yh = iris_data()
    reg = Registry(open_store(url))
    estimator = (
        make_pipeline(StandardScaler(), SVC(C=1.0)) if refit else SGDClassifier(random_state=0)
    )
    start_learning(
        reg, NAME, estimator, Xtr[:30], ytr[:30], holdout=(Xh, yh), window=window if refit else None
    )
    reg.store.close()


def learner(url: str, seconds: float, interval: float, out: Any) -> None:
    """Run a learning step every ``interval`` s for ``seconds``; send (version, time) pairs."""
    from inference.learning import learn

    reg = TimedRegistry(open_store(url))
    reg.published = []
    Xtr, _, ytr, _ = iris_data()
    rng = np.random.default_rng(0)
    steps: list[float] = []
    # Imports and the first store access can take seconds on a loaded machine: say when
    # ready, so the load runs while the learner publishes, not before.
    out.send({"ready": True})
    deadline = time.monotonic() + seconds
    tick = time.monotonic()
    i = 0
    while time.monotonic() < deadline:
        rows = rng.choice(len(Xtr), size=16, replace=False)
        started = time.monotonic()
        learn(reg, NAME, Xtr[rows], ytr[rows], batch_id=f"bench-{i}", policy="never")
        steps.append((time.monotonic() - started) * 1000)
        i += 1
        tick += interval
        time.sleep(max(0.0, tick - time.monotonic()))
    out.send({"published": reg.published, "stepMs": steps})
    reg.store.close()


class Client(threading.Thread):
    """Sends predictions back to back over one keep-alive connection until told to stop."""

    def __init__(self, port: int, row: list[float], stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.body = json.dumps(
            {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": row}]}
        ).encode()
        self.samples: list[tuple[float, float, int]] = []  # (sent, received, version)
        self.failures: list[str] = []
        self.decreases = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        last = 0
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                conn.request(
                    "POST",
                    f"/v2/models/{NAME}/infer",
                    self.body,
                    {"Content-Type": "application/json"},
                )
                response = conn.getresponse()
                data = response.read()
                received = time.monotonic()
            except (OSError, http.client.HTTPException) as e:
                self.failures.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
                continue
            if response.status != 200:
                self.failures.append(f"HTTP {response.status}: {data[:200]!r}")
                continue
            version = int(json.loads(data)["model_version"])
            if version < last:
                self.decreases += 1
            last = max(last, version)
            self.samples.append((sent, received, version))
        conn.close()


def run_load(port: int, clients: int, seconds: float) -> list[Client]:
    """Run ``clients`` client threads for ``seconds``; return them (with their samples)."""
    Xtr, _, _, _ = iris_data()
    stop = threading.Event()
    threads = [Client(port, Xtr[i].tolist(), stop) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    return threads


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values, or NaN for none."""
    return float(np.percentile(values, q)) if values else float("nan")


def latency_figures(threads: list[Client]) -> dict[str, float]:
    """Return request count, failures, rate and latency percentiles of a load run."""
    lat = [(r - s) * 1000 for t in threads for s, r, _ in t.samples]
    span = [s for t in threads for s, _, _ in t.samples] + [
        r for t in threads for _, r, _ in t.samples
    ]
    seconds = (max(span) - min(span)) if span else 0.0
    return {
        "requests": len(lat),
        "failed": sum(len(t.failures) for t in threads),
        "decreases": sum(t.decreases for t in threads),
        "rps": len(lat) / seconds if seconds else 0.0,
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "max": max(lat) if lat else float("nan"),
    }


def swap_delays(threads: list[Client], published: list[tuple[int, float]]) -> list[float]:
    """Return, per published version, ms from publish returning to a response serving it."""
    responses = sorted((r, v) for t in threads for _, r, v in t.samples)
    times = np.array([r for r, _ in responses])
    versions = np.array([v for _, v in responses])
    delays = []
    for version, returned in published:
        served = times[versions >= version]
        if served.size == 0:
            continue  # published after the load stopped
        delays.append(max(0.0, (float(served.min()) - returned) * 1000))
    return delays


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 120.0) -> None:
    """Wait until the server answers its readiness probe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/v2/health/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between publishes")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--worker-class",
        default="catalog.shell.balanced_worker.BalancedThreadWorker",
        help="gunicorn worker class (default: the compose default, gthread sharing connections out)",
    )
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="5 s runs, for a smoke test")
    parser.add_argument("--refit", action="store_true", help="learn with an SVC by refit")
    parser.add_argument("--window", type=int, help="--refit: refit on the last N rows only")
    parser.add_argument("--out", default=str(ROOT / "bench/results/hot_swap.md"))
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.baseline_seconds = 5.0, 3.0
    args.clients = max(1, min(args.clients, MAX_CLIENTS))
    args.seconds = min(args.seconds, MAX_SECONDS)
    args.baseline_seconds = min(args.baseline_seconds, MAX_SECONDS)

    tmp = Path(tempfile.mkdtemp(prefix="hot-swap-"))
    url = f"embedded://{tmp / 'catalog.sqlite3'}"
    prepare(url, args.refit, args.window)
    port = free_port()
    env = {
        **os.environ,
        "CATALOG_STORE": url,
        "CATALOG_VAR_DIR": str(tmp),
        "DJANGO_DB": str(tmp / "web.sqlite3"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": HOST,
        "CATALOG_ORT_THREADS": "1",
    }
    python = sys.executable
    gunicorn = str(Path(python).parent / "gunicorn")
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [
            gunicorn,
            "catalog.shell.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_ready(port)
        run_load(port, args.clients, 2.0)  # warm up: sessions built, connections open
        baseline = latency_figures(run_load(port, args.clients, args.baseline_seconds))

        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=learner, args=(url, args.seconds, args.interval, sender))
        proc.start()
        if not receiver.poll(120):
            raise RuntimeError("the learner did not start")
        receiver.recv()  # ready
        threads = run_load(port, args.clients, args.seconds + 0.5)
        report = receiver.recv() if receiver.poll(60) else {"published": [], "stepMs": []}
        proc.join(timeout=30)
        under_swap = latency_figures(threads)
        delays = swap_delays(threads, report["published"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    failures = [f for t in threads for f in t.failures][:5]
    swap = {
        "published": len(report["published"]),
        "p50": percentile(delays, 50),
        "p99": percentile(delays, 99),
        "max": max(delays) if delays else float("nan"),
        "stepP50": percentile(report["stepMs"], 50),
        "stepP99": percentile(report["stepMs"], 99),
    }
    ok = (
        under_swap["failed"] == 0
        and under_swap["decreases"] == 0
        and baseline["failed"] == 0
        and swap["published"] > 0
        and swap["p99"] <= HOT_SWAP_P99_LIMIT_MS
    )
    text = render(args, baseline, under_swap, swap, ok, failures)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0 if ok else 1


def render(
    args: argparse.Namespace,
    baseline: dict[str, float],
    load: dict[str, float],
    swap: dict[str, float],
    ok: bool,
    failures: list[str],
) -> str:
    """Return the results as a Markdown report."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Hot swap under load",
        "",
        f"{stamp}; {platform.python_version()}, {os.cpu_count()} cores; gunicorn"
        f" {args.workers} workers x {args.threads} threads (`{args.worker_class}`), embedded store;"
        f" {args.clients} clients sending one-row iris predictions for `latest` back to back"
        f" on 127.0.0.1; a learner publishing every {args.interval * 1000:.0f} ms for"
        f" {args.seconds:g} s ({_learner_text(args)}, 16-row batches, policy never).",
        "",
        "| run | requests | req/s | failed | version went down | p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        _row("baseline (no learner)", baseline),
        _row("with the learner", load),
        "",
        "| hot swap | value |",
        "| --- | ---: |",
        f"| versions published | {swap['published']} |",
        f"| publish returned -> first prediction by it, p50 | {swap['p50']:.1f} ms |",
        f"| publish returned -> first prediction by it, p99 | {swap['p99']:.1f} ms |",
        f"| publish returned -> first prediction by it, max | {swap['max']:.1f} ms |",
        f"| learning step ({'store rows, refit' if args.refit else 'partial_fit'}, ONNX,"
        " evaluate, commit, publish), p50 |"
        f" {swap['stepP50']:.1f} ms |",
        f"| learning step, p99 | {swap['stepP99']:.1f} ms |",
        "",
        f"Result: {'PASS' if ok else 'FAIL'} (0 failed requests, versions never go down,"
        f" hot-swap p99 <= {HOT_SWAP_P99_LIMIT_MS:.0f} ms).",
    ]
    if failures:
        lines += ["", "First failures:", *[f"- `{f}`" for f in failures]]
    return "\n".join(lines) + "\n"


def _learner_text(args: argparse.Namespace) -> str:
    if not args.refit:
        return "SGDClassifier, partial_fit"
    rows = f"the last {args.window} rows" if args.window else "every row learned"
    return f"StandardScaler + SVC refit on {rows}"


def _row(label: str, f: dict[str, float]) -> str:
    return (
        f"| {label} | {f['requests']} | {f['rps']:.0f} | {f['failed']} | {f['decreases']} |"
        f" {f['p50']:.1f} | {f['p99']:.1f} | {f['max']:.1f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
