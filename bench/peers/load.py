"""A small closed-loop HTTP load generator: threads + http.client, loopback only.

Each thread opens a new connection per request (``Connection: close``), or with
``--keepalive`` keeps one (reopened whenever the server closes it), and sends the same POST back to back until the time
limit or the request limit, whichever comes first. Latency is measured per request on
the client, from sending the request to reading the whole response.

    python bench/peers/load.py --port 8000 --path /v2/models/NAME/infer --body '{...}'
        [--threads 4] [--duration 15] [--warmup 2] [--max-requests 1000000] [--keepalive]
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import threading
import time
from dataclasses import dataclass, field

# Safety bounds whatever the caller asks for.
MAX_DURATION_S = 120.0
MAX_THREADS = 64
MAX_REQUESTS = 5_000_000


@dataclass
class Result:
    """What one load run measured."""

    requests: int = 0
    errors: int = 0
    duration_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    first_error: str | None = None

    @property
    def throughput(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        s = sorted(self.latencies_ms)
        return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 3),
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 3),
            "p99_ms": round(self.percentile(99), 3),
            "first_error": self.first_error,
        }


def check_loopback(host: str) -> None:
    """Refuse any target that is not on this machine's loopback."""
    if host == "localhost":
        return
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"load generator targets loopback only, not {host}")


def run_load(
    port: int,
    path: str,
    body: bytes,
    *,
    host: str = "127.0.0.1",
    threads: int = 4,
    duration: float = 15.0,
    warmup: float = 2.0,
    max_requests: int = 1_000_000,
    headers: dict[str, str] | None = None,
    keepalive: bool = False,
) -> Result:
    """Send ``body`` to ``path`` from ``threads`` threads for ``duration`` seconds.

    The first ``warmup`` seconds are sent the same way but not counted. Without
    ``keepalive`` every request asks for ``Connection: close`` (a new TCP connection per
    request, as gunicorn's sync workers do anyway); ``max_requests`` is per thread.
    """
    check_loopback(host)
    threads = max(1, min(threads, MAX_THREADS))
    duration = max(0.1, min(duration, MAX_DURATION_S))
    warmup = max(0.0, min(warmup, MAX_DURATION_S))
    max_requests = max(1, min(max_requests, MAX_REQUESTS))
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if not keepalive:
        hdrs["Connection"] = "close"
    result = Result()
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + duration

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        lat: list[float] = []
        errors = 0
        first_error = None
        sent = 0
        try:
            while sent < max_requests:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    break
                sent += 1
                try:
                    conn.request("POST", path, body, hdrs)
                    resp = conn.getresponse()
                    data = resp.read()
                    ok = resp.status == 200
                    if resp.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException) as e:
                    ok, data = False, repr(e).encode()
                    conn.close()
                t1 = time.perf_counter()
                if t0 < measure_from or t1 > deadline:
                    continue  # warm-up, or finished after the window closed
                if ok:
                    lat.append((t1 - t0) * 1000)
                else:
                    errors += 1
                    if first_error is None:
                        first_error = data[:300].decode("utf-8", "replace")
        finally:
            conn.close()
        with lock:
            result.latencies_ms.extend(lat)
            result.requests += len(lat)
            result.errors += errors
            result.first_error = result.first_error or first_error

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=warmup + duration + 30)
    result.duration_s = duration
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--body", required=True, help="JSON request body")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--max-requests", type=int, default=1_000_000, help="per thread")
    ap.add_argument("--keepalive", action="store_true", help="reuse connections")
    args = ap.parse_args()
    res = run_load(
        args.port,
        args.path,
        args.body.encode(),
        host=args.host,
        threads=args.threads,
        duration=args.duration,
        warmup=args.warmup,
        max_requests=args.max_requests,
        keepalive=args.keepalive,
    )
    print(json.dumps(res.summary()))


if __name__ == "__main__":
    main()
