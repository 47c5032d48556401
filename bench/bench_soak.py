"""Soak: gunicorn under a mixed load for N minutes; no 5xx, steady latency, flat memory.

Starts gunicorn (this virtualenv, ``catalog.shell.wsgi``, 127.0.0.1 only, 2 workers) on a
temporary catalog with the demo models, then runs client threads that loop until the
time is up over a mix of requests: searches, SQL++ queries on ``/api/query``, OIP
predictions on the demo classifiers and on the model being republished, and publishes
(the upload API ``POST /api/models/<name>/versions`` with a bearer token when it exists,
else the Registry on the same store file from this process, as an online learner would).
The RSS of the gunicorn workers is sampled every 10 s. Loopback only; stops by itself.

    .venv/bin/python bench/bench_soak.py                  # 10 minutes
    .venv/bin/python bench/bench_soak.py --minutes 1 --out /tmp/soak.md

Writes a Markdown report (default bench/results/soak.md) and exits non-zero when any
response was a 5xx (or the connection failed) or memory grew past the tolerance.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Seconds between two samples of the workers' memory.
SAMPLE_EVERY_S = 10.0
# Seconds of warm-up excluded from the memory comparison.
WARMUP_S = 60.0
# The last third's mean RSS may exceed the first third's by at most this fraction.
RSS_TOLERANCE = 0.10
# Seconds a client waits for one response.
REQUEST_TIMEOUT_S = 60.0
# Pause of the publisher between two publishes, in seconds (an online learner's pace).
PUBLISH_EVERY_S = 2.0
# Versions of the republished model kept; older ones are deleted (bounded store).
KEEP_VERSIONS = 20
SOAK_MODEL = "soak-online"

QUERIES = [
    "SELECT m.name, m.version FROM models m WHERE ANY op IN m.summary.opTypes"
    ' SATISFIES op = "Conv" END ORDER BY m.name',
    "SELECT m.metadata.task, COUNT(*) AS n FROM models m GROUP BY m.metadata.task",
    "SELECT op, COUNT(*) AS n FROM models m UNNEST m.summary.opTypes AS op"
    " GROUP BY op ORDER BY n DESC LIMIT 10",
    "SELECT m.name, m.summary.paramCount FROM models m ORDER BY m.summary.paramCount DESC LIMIT 5",
    "SELECT a.name, a.aliases FROM aliases a ORDER BY a.name",
    "SELECT RAW m.version FROM models m WHERE m.name = $name ORDER BY m.version DESC LIMIT 1",
]
SEARCHES = ["iris", "tags:tabular", "opTypes:Conv", "classifier -iris", "wine OR digits", "svm~1"]
PREDICT_MODELS = [
    "iris-svc",
    "iris-logistic-regression",
    "wine-random-forest",
    "breast-cancer-sgd",
    "diabetes-ridge",
]


@dataclass
class Stats:
    """Counts and latencies per request kind, shared by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    failures: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1
            if status >= 500 or status == 0:
                self.failures.append(f"{kind} {status} {detail[:200]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout


def prepare(workdir: Path) -> tuple[dict[str, str], str]:
    """Create the catalog (demo models), the Django DB, a staff user; return (env, token)."""
    env = {
        **os.environ,
        "CATALOG_VAR_DIR": str(workdir),
        "CATALOG_STORE": f"embedded://{workdir / 'catalog.sqlite3'}",
        "DJANGO_DB": str(workdir / "web.sqlite3"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16),
    }
    manage = [PYTHON, "manage.py"]
    run([*manage, "migrate", "--noinput"], env)
    run([*manage, "catalog", "init"], env)
    run([*manage, "catalog", "demo"], env)
    run(
        [*manage, "createsuperuser", "--noinput", "--username", "soak", "--email", "s@x.invalid"],
        env,
    )
    token = run([*manage, "catalog", "token", "soak", "--name", "soak"], env).strip()
    return env, token


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(PYTHON).with_name("gunicorn")
    cmd = [
        str(gunicorn),
        "catalog.shell.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "2",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/v2/health/ready")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # ppid is the 4th field, after "pid (comm) state"
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Client:
    """One keep-alive HTTP connection to the server, reopened after errors."""

    def __init__(self, port: int, stats: Stats, token: str):
        self.port, self.stats, self.token = port, stats, token
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, kind: str, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        for attempt in (1, 2):
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S
                    )
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                status = response.status
                break
            except (OSError, http.client.HTTPException) as e:
                self.conn = None
                # gunicorn closes idle keep-alive connections (2 s): retry once, fresh.
                if reused and attempt == 1:
                    continue
                self.stats.record(kind, 0, time.perf_counter() - started, f"{path}: {e!r}")
                return 0, b""
        self.stats.record(kind, status, time.perf_counter() - started, f"{path}: {data[:200]!r}")
        return status, data


def input_specs(client: Client, name: str) -> list[dict[str, Any]]:
    status, data = client.request("metadata", "GET", f"/v2/models/{name}")
    return json.loads(data)["inputs"] if status == 200 else []


def infer_body(specs: list[dict[str, Any]], rng: random.Random) -> bytes:
    rows = rng.randint(1, 64)
    inputs = []
    for spec in specs:
        shape = [rows if (d is None or d < 0) else d for d in spec["shape"]]
        shape[0] = rows
        n = 1
        for d in shape:
            n *= d
        inputs.append(
            {
                "name": spec["name"],
                "datatype": spec["datatype"],
                "shape": shape,
                "data": [round(rng.uniform(0, 8), 3) for _ in range(n)],
            }
        )
    return json.dumps({"inputs": inputs}).encode()


def matmul_onnx(seed: int) -> bytes:
    """Return a small Y = X @ W model (4 -> 3), different weights per seed."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(seed).standard_normal((4, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "soak",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    return model.SerializeToString()


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    out.write(data + b"\r\n" + f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Publisher:
    """Publish a new version every PUBLISH_EVERY_S: over HTTP if the API exists, else direct."""

    def __init__(self, client: Client, env: dict[str, str]):
        self.client, self.env = client, env
        self.mode = "http"
        self.registry: Any = None
        self.seed = 0

    def _registry(self) -> Any:
        if self.registry is None:
            os.environ.update({k: self.env[k] for k in ("CATALOG_STORE", "DJANGO_DB")})
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from catalog.domain.registry import get_registry

            self.registry = get_registry()
        return self.registry

    def publish(self) -> None:
        self.seed += 1
        data = matmul_onnx(self.seed)
        if self.mode == "http":
            body, ctype = multipart({"description": f"soak {self.seed}"}, "soak.onnx", data)
            status, _ = self.client.request(
                "publish",
                "POST",
                f"/api/models/{SOAK_MODEL}/versions",
                body,
                **{"Content-Type": ctype, "Authorization": f"Bearer {self.client.token}"},
            )
            if status in (404, 405) and self.seed == 1:
                self.mode = "registry"  # the upload API has not landed: publish in-process
                self.client.stats.statuses.pop("publish", None)
                self.client.stats.latencies.pop("publish", None)
            else:
                return
        reg = self._registry()
        started = time.perf_counter()
        try:
            reg.publish(SOAK_MODEL, data, description=f"soak {self.seed}")
            status = 201
        except Exception as e:  # report, never stop the soak
            status = 0
            self.client.stats.failures.append(f"publish (registry): {e!r}")
        self.client.stats.record("publish", status, time.perf_counter() - started)
        self._trim(reg)

    def _trim(self, reg: Any) -> None:
        versions = [v["version"] for v in reg.list_versions(SOAK_MODEL)]
        for v in versions[KEEP_VERSIONS:]:
            try:
                reg.delete_version(SOAK_MODEL, v, force=True)
            except Exception as e:  # a concurrent reader is fine; log anything else
                self.client.stats.failures.append(f"delete v{v}: {e!r}")


def reader_loop(port: int, stats: Stats, token: str, until: float, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(port, stats, token)
    specs = {name: input_specs(client, name) for name in PREDICT_MODELS}
    search_path = "/api/search?q="
    status, _ = client.request("search", "GET", search_path + "iris")
    if status == 404:  # no search API yet: the JSON model list stands in
        search_path = ""
    while time.monotonic() < until:
        pick = rng.random()
        if pick < 0.3:
            if search_path:
                q = rng.choice(SEARCHES).replace(" ", "+").replace(":", "%3A")
                client.request("search", "GET", search_path + q)
            else:
                client.request("list", "GET", "/models/?format=json")
        elif pick < 0.55:
            statement = rng.choice(QUERIES)
            body = {"statement": statement}
            if "$name" in statement:
                body["params"] = {"name": SOAK_MODEL}
            client.request(
                "query",
                "POST",
                "/api/query",
                json.dumps(body).encode(),
                **{"Content-Type": "application/json"},
            )
        elif pick < 0.9:
            name = rng.choice(PREDICT_MODELS)
            if specs[name]:
                client.request(
                    "predict",
                    "POST",
                    f"/v2/models/{name}/infer",
                    infer_body(specs[name], rng),
                    **{"Content-Type": "application/json"},
                )
        else:
            body = json.dumps(
                {
                    "inputs": [
                        {
                            "name": "X",
                            "datatype": "FP32",
                            "shape": [2, 4],
                            "data": [rng.random() for _ in range(8)],
                        }
                    ]
                }
            ).encode()
            status, _ = client.request(
                "predict-latest",
                "POST",
                f"/v2/models/{SOAK_MODEL}/infer",
                body,
                **{"Content-Type": "application/json"},
            )


PUBLISH_MODE: dict[str, str] = {}


def publisher_loop(port: int, stats: Stats, token: str, env: dict[str, str], until: float) -> None:
    publisher = Publisher(Client(port, stats, token), env)
    while time.monotonic() < until:
        publisher.publish()
        PUBLISH_MODE["mode"] = publisher.mode
        time.sleep(PUBLISH_EVERY_S)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def report(
    args: argparse.Namespace,
    stats: Stats,
    samples: list[tuple[float, float, list[float]]],
    elapsed: float,
    publish_mode: str,
) -> tuple[str, bool]:
    lines = [
        "# Soak: gunicorn under mixed load",
        "",
        f"`bench/bench_soak.py --minutes {args.minutes:g}` on {time.strftime('%Y-%m-%d')}:"
        f" gunicorn, {args.workers} workers x 2 threads, 127.0.0.1, embedded store with the demo"
        f" catalog; {args.clients} client threads + 1 publisher (every {PUBLISH_EVERY_S:g} s,"
        f" {publish_mode}); CATALOG_SESSION_CACHE_MB={args.cache_mb}.",
        f" Ran {elapsed / 60:.1f} min.",
        "",
        "| kind | requests | 2xx | 4xx | 5xx/failed | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = bad = 0
    for kind in sorted(stats.latencies):
        lat = [x * 1000 for x in stats.latencies[kind]]
        codes = stats.statuses[kind]
        ok = sum(n for c, n in codes.items() if 200 <= c < 300)
        client = sum(n for c, n in codes.items() if 400 <= c < 500)
        failed = sum(n for c, n in codes.items() if c >= 500 or c == 0)
        total += len(lat)
        bad += failed
        lines.append(
            f"| {kind} | {len(lat)} | {ok} | {client} | {failed} | {statistics.median(lat):.1f}"
            f" | {percentile(lat, 0.95):.1f} | {percentile(lat, 0.99):.1f} | {max(lat):.1f} |"
        )
    lines += ["", f"Total {total} requests, {total / elapsed:.1f}/s; 5xx or failed: {bad}."]
    steady = [(t, sum(r)) for t, _, r in samples if t >= min(WARMUP_S, elapsed / 3)]
    mem_ok = True
    if len(steady) >= 3:
        third = max(1, len(steady) // 3)
        first = statistics.mean(r for _, r in steady[:third])
        last = statistics.mean(r for _, r in steady[-third:])
        growth = (last - first) / first if first else 0.0
        mem_ok = growth <= RSS_TOLERANCE
        lines += [
            "",
            f"Worker RSS (sum of {args.workers} workers, sampled every {SAMPLE_EVERY_S:g} s,"
            f" after {min(WARMUP_S, elapsed / 3):.0f} s warm-up): first third {first:.1f} MB,"
            f" last third {last:.1f} MB, growth {growth * 100:+.1f}%"
            f" (limit {RSS_TOLERANCE * 100:.0f}%): {'flat' if mem_ok else 'GROWING'}.",
            "",
            "| t (s) | workers RSS MB |",
            "| ---: | --- |",
        ]
        lines += [f"| {t:.0f} | {', '.join(f'{r:.1f}' for r in rss)} |" for t, _, rss in samples]
    if stats.failures:
        lines += ["", "First failures:", ""]
        lines += [f"- `{f}`" for f in stats.failures[:20]]
    return "\n".join(lines) + "\n", bad == 0 and mem_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cache-mb", type=int, default=64)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.md"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    print(f"preparing the demo catalog in {workdir} ...", flush=True)
    env, token = prepare(workdir)
    env["CATALOG_SESSION_CACHE_MB"] = str(args.cache_mb)
    port = free_port()
    server = start_gunicorn(env, port, args.workers, workdir / "gunicorn.log")
    stats = Stats()
    samples: list[tuple[float, float, list[float]]] = []
    started = time.monotonic()
    until = started + args.minutes * 60
    try:
        threads = [
            threading.Thread(target=reader_loop, args=(port, stats, token, until, i), daemon=True)
            for i in range(args.clients)
        ]
        publisher = threading.Thread(
            target=publisher_loop, args=(port, stats, token, env, until), daemon=True
        )
        for t in [*threads, publisher]:
            t.start()
        while time.monotonic() < until:
            rss = [rss_mb(p) for p in worker_pids(server.pid)]
            samples.append((time.monotonic() - started, sum(rss), rss))
            done = sum(len(v) for v in stats.latencies.values())
            print(
                f"t={samples[-1][0]:5.0f}s requests={done} failures={len(stats.failures)}"
                f" rss={[round(r) for r in rss]}",
                flush=True,
            )
            time.sleep(min(SAMPLE_EVERY_S, max(0.0, until - time.monotonic())))
        for t in [*threads, publisher]:
            t.join(timeout=REQUEST_TIMEOUT_S)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    elapsed = time.monotonic() - started
    mode = (
        "upload API"
        if PUBLISH_MODE.get("mode") == "http"
        else "Registry.publish on the same store file (no upload API yet)"
    )
    text, ok = report(args, stats, samples, elapsed, mode)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    log = (workdir / "gunicorn.log").read_text()
    if log.strip():
        print("gunicorn log (tail):\n" + log[-3000:])
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
