"""Abuse: the worst SQL++ statements of issue 14 in a loop; a normal page must stay fast.

Starts gunicorn as production runs it (2 sync workers, DEBUG=0, CATALOG_PRODUCTION=1, a
SECRET_KEY and ALLOWED_HOSTS, 127.0.0.1 only) on a fresh catalog with the demo models
(``manage.py migrate``, ``catalog init``, ``catalog demo``). First a baseline: one client
GETs ``/models/iris-svc/`` alone for ``--baseline`` seconds. Then 4 attacker threads POST
the worst statements (REPEAT of REPEAT, a backtracking REGEXP, RPAD to 1e9, nested
ARRAY ... FOR over ARRAY_RANGE(0,100000)) to ``/api/query`` in a loop for ``--seconds``
while the 5th client keeps GETting the page. The workers' peak RSS (VmHWM in /proc) is
read every 0.5 s, respawned workers included. Loopback only; stops by itself.

    .venv/bin/python bench/bench_abuse.py                 # 120 s under attack
    .venv/bin/python bench/bench_abuse.py --seconds 20 --out /tmp/abuse.md

Writes a Markdown report (default bench/results/abuse.md); exits non-zero when the page's
p99 under attack is over P99_TARGET_MS, a worker's peak RSS over RSS_TARGET_MB, or any
answer was a 5xx or a dropped connection.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The WSGI application gunicorn serves.
WSGI_MODULE = "catalog.shell.wsgi"
WORKERS = 2
ATTACKERS = 4
# gunicorn's worker timeout (its default; docker-compose uses 120).
WORKER_TIMEOUT_S = 30
# Targets of issue 14: the page's p99 under attack and each worker's peak RSS.
P99_TARGET_MS = 500.0
RSS_TARGET_MB = 1024.0
# Seconds a client waits for one answer.
REQUEST_TIMEOUT_S = 120.0
# Seconds between two reads of the workers' memory.
SAMPLE_EVERY_S = 0.5
PAGE = "/models/iris-svc/"

ATTACKS = [
    'SELECT RAW LENGTH(REPEAT(REPEAT("x",100000),100000))',
    'SELECT RAW REGEXP_CONTAINS(REPEAT("a",40)||"!","(a+)+$")',
    'SELECT RAW LENGTH(RPAD("x",1e9,"y"))',
    "SELECT RAW ARRAY_LENGTH(ARRAY ARRAY_RANGE(0,100000) FOR x IN ARRAY_RANGE(0,100000) END)",
    "SELECT RAW ARRAY_LENGTH(ARRAY (ARRAY [y] FOR y IN ARRAY_RANGE(0,100000) END)"
    " FOR x IN ARRAY_RANGE(0,100000) END)",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir: Path) -> dict[str, str]:
    """Create the demo catalog and the Django DB in workdir; return the server's environment."""
    env = {
        **os.environ,
        "CATALOG_VAR_DIR": str(workdir),
        "CATALOG_STORE": f"embedded://{workdir / 'catalog.sqlite3'}",
        "DJANGO_DB": str(workdir / "web.sqlite3"),
        "DEBUG": "0",
        "CATALOG_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    for args in (["migrate", "--noinput"], ["catalog", "init"], ["catalog", "demo"]):
        subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return env


def start_gunicorn(env: dict[str, str], port: int, log: Path,
                   server: list[str] | None = None) -> subprocess.Popen:  # fmt: skip
    """Start gunicorn: WORKERS sync workers, or the worker settings ``server`` gives."""
    gunicorn = Path(PYTHON).with_name("gunicorn")
    workers = server or ["--workers", str(WORKERS)]
    cmd = [str(gunicorn), WSGI_MODULE, "--bind", f"127.0.0.1:{port}", *workers,
           "--timeout", str(WORKER_TIMEOUT_S), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", PAGE)
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    """Return the peak resident memory (VmHWM) of a process in MB, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, float, bytes]:
    """Send one request on a fresh connection; return (status or 0, seconds, body)."""
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, time.perf_counter() - started, data
    except (OSError, http.client.HTTPException) as e:
        return 0, time.perf_counter() - started, repr(e).encode()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def victim(port: int, stop: threading.Event, latencies: list[float], statuses: Counter) -> None:
    while not stop.is_set():
        status, seconds, _ = request(port, "GET", PAGE)
        latencies.append(seconds)
        statuses[status] += 1


def attacker(port: int, first: int, stop: threading.Event, seen: dict[str, Counter],
             errors: dict[str, str], times: dict[str, list[float]]) -> None:  # fmt: skip
    i = first
    while not stop.is_set():
        statement = ATTACKS[i % len(ATTACKS)]
        body = json.dumps({"statement": statement}).encode()
        status, seconds, data = request(port, "POST", "/api/query", body)
        seen[statement][status] += 1
        times[statement].append(seconds)
        try:
            errors[statement] = json.loads(data).get("error") or "(rows)"
        except ValueError:
            errors[statement] = data[:120].decode(errors="replace")
        i += 1


FENCE_STATEMENTS = [
    "SELECT RAW 1",
    "SELECT m.name, m.version FROM models m ORDER BY m.name",
    "SELECT op, COUNT(*) AS n FROM models m UNNEST m.summary.opTypes AS op GROUP BY op",
]


def fence_cost(env: dict[str, str], runs: int) -> list[str]:
    """Return report lines: median ms of statements in-process vs in a fenced child.

    Measured in this process after loading what a web worker loads (Django, the registry,
    onnxruntime), since the cost of a fork grows with the parent's memory.
    """
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import onnxruntime  # noqa: F401  (a web worker has it loaded)

    from catalog.domain.registry import get_registry
    from catalog.store.fenced import FenceLimits, run_fenced

    reg = get_registry()
    qc, url = reg.ks.query_context, env["CATALOG_STORE"]
    lines = ["| statement | in-process ms | fenced ms | extra ms |", "| --- | --- | --- | --- |"]
    for statement in FENCE_STATEMENTS:
        inside, fenced = [], []
        for _ in range(runs):
            t = time.perf_counter()
            a = reg.store.query(statement, None, qc, read_only=True, timeout=10, memory_mb=128)
            inside.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = run_fenced(url, statement, None, FenceLimits(10, 128), qc)
            fenced.append(time.perf_counter() - t)
            assert a == b, (statement, a, b)
        m_in, m_f = statistics.median(inside) * 1000, statistics.median(fenced) * 1000
        lines.append(f"| `{statement}` | {m_in:.1f} | {m_f:.1f} | {m_f - m_in:.1f} |")
    rss = peak_rss_mb(os.getpid())
    return [*lines, "", f"Parent process peak RSS {rss:.0f} MB; {runs} runs each, medians."]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds under attack")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of baseline")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "abuse.md")
    parser.add_argument("--fence-runs", type=int, default=30, help="0: skip the fork cost")
    parser.add_argument(
        "--server",
        help='gunicorn worker settings instead of 2 sync workers, e.g. "--workers 3'
        ' --worker-class gthread --threads 1"',
    )
    parser.add_argument(
        "--fenced",
        action="store_true",
        help="serve with CATALOG_QUERY_FENCED=1 (child per statement)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp:
        workdir = Path(tmp)
        env = prepare(workdir)
        env["CATALOG_QUERY_FENCED"] = "1" if args.fenced else "0"
        port = free_port()
        server = start_gunicorn(
            env, port, workdir / "gunicorn.log", args.server.split() if args.server else None
        )
        peaks: dict[int, float] = {}
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                for pid in worker_pids(server.pid):
                    peaks[pid] = max(peaks.get(pid, 0.0), peak_rss_mb(pid))
                time.sleep(SAMPLE_EVERY_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            base_lat: list[float] = []
            base_status: Counter = Counter()
            stop = threading.Event()
            t = threading.Thread(target=victim, args=(port, stop, base_lat, base_status))
            t.start()
            time.sleep(args.baseline)
            stop.set()
            t.join()

            lat: list[float] = []
            page_status: Counter = Counter()
            seen: dict[str, Counter] = {s: Counter() for s in ATTACKS}
            times: dict[str, list[float]] = {s: [] for s in ATTACKS}
            errors: dict[str, str] = {}
            stop = threading.Event()
            threads = [threading.Thread(target=victim, args=(port, stop, lat, page_status))]
            threads += [
                threading.Thread(target=attacker, args=(port, k, stop, seen, errors, times))
                for k in range(ATTACKERS)
            ]
            for th in threads:
                th.start()
            time.sleep(args.seconds)
            stop.set()
            for th in threads:
                th.join()
            log_tail = (workdir / "gunicorn.log").read_text()[-2000:]
            fence = fence_cost(env, args.fence_runs) if args.fence_runs else []
        finally:
            sampling.set()
            sampler.join()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

    p50, p99 = percentile(lat, 0.5) * 1000, percentile(lat, 0.99) * 1000
    b50, b99 = percentile(base_lat, 0.5) * 1000, percentile(base_lat, 0.99) * 1000
    worst_rss = max(peaks.values(), default=0.0)
    bad = sum(n for c in [page_status, *seen.values()] for s, n in c.items() if s == 0 or s >= 500)
    ok = p99 < P99_TARGET_MS and worst_rss < RSS_TARGET_MB and bad == 0
    lines = [
        "# Abuse benchmark (issue 14)",
        "",
        f"gunicorn `{WSGI_MODULE}`,"
        f" {'`' + args.server + '`' if args.server else f'{WORKERS} sync workers'},"
        f" timeout {WORKER_TIMEOUT_S} s, "
        f"DEBUG=0, CATALOG_PRODUCTION=1, demo catalog; {ATTACKERS} attackers on `/api/query` "
        f"for {args.seconds:g} s, one client on `GET {PAGE}`; statements "
        f"{'in a fenced child each (CATALOG_QUERY_FENCED=1)' if args.fenced else 'in-process'}; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "| | requests | p50 ms | p99 ms | max ms | statuses |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| page alone (baseline) | {len(base_lat)} | {b50:.1f} | {b99:.1f} | "
        f"{max(base_lat, default=0) * 1000:.1f} | {dict(base_status)} |",
        f"| page under attack | {len(lat)} | {p50:.1f} | {p99:.1f} | "
        f"{max(lat, default=0) * 1000:.1f} | {dict(page_status)} |",
        "",
        f"p99 under attack / p99 alone: {p99 / b99:.1f}x (target: p99 < {P99_TARGET_MS:g} ms)",
        "",
        "| attack statement | sent | mean ms | statuses | answer |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in ATTACKS:
        mean = statistics.fmean(times[s]) * 1000 if times[s] else float("nan")
        answer = errors.get(s, "").replace("|", "\\|")[:90]
        lines.append(
            f"| `{s}` | {sum(seen[s].values())} | {mean:.0f} | {dict(seen[s])} | {answer} |"
        )
    lines += [
        "",
        "| worker pid | peak RSS MB |",
        "| --- | --- |",
        *[f"| {pid} | {mb:.0f} |" for pid, mb in sorted(peaks.items())],
        "",
        f"Workers seen: {len(peaks)} (more than {WORKERS} means one was killed and respawned). "
        f"Worst peak RSS {worst_rss:.0f} MB (target < {RSS_TARGET_MB:g} MB). "
        f"5xx or dropped: {bad}. Result: {'PASS' if ok else 'FAIL'}.",
    ]
    if fence:
        lines += ["", "## Cost of running a statement in a fenced child (catalog.store.fenced)",
                  "", *fence]  # fmt: skip
    if "WORKER TIMEOUT" in log_tail or "SIGKILL" in log_tail:
        lines += ["", "gunicorn log (tail):", "", "```", log_tail, "```"]
    report = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
