"""Serving speed: the catalog's OIP routes against a bare WSGI floor, HTTP and gRPC.

One run, on loopback, an embedded store in a temp dir holding iris-svc (an SVC, as in
issue 18), every server with the same gunicorn settings:

- floor: bench/floor_app.py, a bare WSGI app that parses the same JSON and runs the same
  preloaded onnxruntime session;
- catalog HTTP JSON and HTTP binary (the binary tensor data extension);
- catalog gRPC (``catalog serve-grpc``), driven by h2load (nghttp2-client, C; HTTP/2 with
  a pre-built gRPC frame; it sees HTTP statuses, not grpc-status: the answer is checked
  once before) and by a Python client in its own process (asyncio, pre-serialized requests,
  responses not decoded), which also opens a new channel per request;
- keep-alive and a new connection per request; a single row and 256-row batches;
- p50, p99 and requests/s (rows/s for batches) from ``wrk --latency`` for HTTP;
- p99 right after start: the catalog restarted (it remembers its recently used models and
  warms them), wrk started as soon as the server answers, for a few seconds;
- where the time goes: each layer called in this process, without the network.

Ratios are to the floor of the same run. The machine may be shared with other work:
compare ratios, not absolute figures. All servers run at once and every measurement is
repeated (``--rounds``), the servers taking turns within a round; the table gives medians,
and each ratio is the median of the per-round ratios with its range.

    .venv/bin/python bench/bench_serving.py [--seconds 10] [--quick] [--rounds 5] [--sweep]
        [--out bench/results/serving.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
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

MODEL = "iris-svc"
HOST = "127.0.0.1"
CONNECTIONS = 4
BATCH_ROWS = 256
# gunicorn settings compared by --sweep; the first is the compose default.
BALANCED = "catalog.shell.balanced_worker.BalancedThreadWorker"
CONFIGS = {
    "balanced-2x2": ["--workers", "2", "--worker-class", BALANCED, "--threads", "2"],
    "gthread-2x2": ["--workers", "2", "--worker-class", "gthread", "--threads", "2"],
    "sync-2": ["--workers", "2", "--worker-class", "sync"],
    "gthread-2x4": ["--workers", "2", "--worker-class", "gthread", "--threads", "4"],
    "sync-3": ["--workers", "3", "--worker-class", "sync"],
    "gthread-4x1": ["--workers", "4", "--worker-class", "gthread", "--threads", "1"],
    "gthread-4x2": ["--workers", "4", "--worker-class", "gthread", "--threads", "2"],
    "gthread-2x1": ["--workers", "2", "--worker-class", "gthread", "--threads", "1"],
    "gthread-3x1": ["--workers", "3", "--worker-class", "gthread", "--threads", "1"],
}
DEFAULT_CONFIG = "balanced-2x2"
WRK_SCRIPT = """
local f = io.open(os.getenv("BENCH_BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local h = os.getenv("BENCH_HEADER_LEN")
if h and h ~= "" then wrk.headers["Inference-Header-Content-Length"] = h end
if os.getenv("BENCH_CLOSE") == "1" then wrk.headers["Connection"] = "close" end
done = function(s, latency, requests)
  local e = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
  io.write(string.format('BENCHJSON {"requests": %d, "duration_us": %d, "errors": %d,'
    .. ' "non2xx": %d, "p50": %d, "p99": %d, "max": %d}\\n', s.requests, s.duration, e,
    s.errors.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


# -- set-up ---------------------------------------------------------------------------


def publish(store_url: str) -> np.ndarray:
    """Publish iris-svc; return the iris features."""
    from catalog.domain.registry import Registry
    from catalog.store import open_store
    from tests.models import iris, iris_svc

    X, _ = iris()
    reg = Registry(open_store(store_url))
    reg.publish(MODEL, iris_svc(), sample_input=X[:1], alias="production")
    reg.store.close()
    return X


def bodies(X: np.ndarray, tmp: Path) -> dict[str, tuple[Path, str]]:
    """Write the request bodies; return {kind: (file, Inference-Header-Content-Length)}."""
    out = {}
    for rows in (1, BATCH_ROWS):
        x = np.resize(X, (rows, 4)).astype(np.float32)
        plain = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [rows, 4],
                             "data": x.ravel().tolist()}]}  # fmt: skip
        path = tmp / f"json-{rows}.body"
        path.write_bytes(json.dumps(plain).encode())
        out[f"json-{rows}"] = (path, "")
        head = {
            "inputs": [
                {
                    "name": "X",
                    "datatype": "FP32",
                    "shape": [rows, 4],
                    "parameters": {"binary_data_size": x.nbytes},
                }  # fmt: skip
            ],
            "parameters": {"binary_data_output": True},
        }
        header = json.dumps(head).encode()
        path = tmp / f"binary-{rows}.body"
        path.write_bytes(header + x.tobytes())
        out[f"binary-{rows}"] = (path, str(len(header)))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env(store_url: str, var: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CATALOG_STORE": store_url,
        "CATALOG_VAR_DIR": str(var),
        "FLOOR_STORE": store_url,
        "FLOOR_MODEL": MODEL,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": HOST,
    }


def start_http(app: str, config: str, env: dict[str, str], log: Path) -> tuple[Any, int]:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", app, "--bind", f"{HOST}:{port}",
           "--keep-alive", "5", *CONFIGS[config]]  # fmt: skip
    if hasattr(gunicorn_config(), "ControlSocketDisable"):  # gunicorn 24+: not needed here
        cmd.append("--no-control-socket")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT)
    try:
        wait_http(proc, port)
    except RuntimeError as e:
        stop(proc)
        raise RuntimeError(f"{e}; its log:\n{log.read_text()[-3000:]}") from None
    return proc, port


def gunicorn_config() -> Any:
    import gunicorn.config

    return gunicorn.config


def wait_http(proc: Any, port: int, timeout: float = 300) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/v2/health/live")
            conn.getresponse().read()  # any answer: the floor has no health route
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not answer")


def start_grpc(env: dict[str, str], workers: int, log: Path) -> tuple[Any, int]:
    port = free_port()
    cmd = [sys.executable, "manage.py", "catalog", "serve-grpc", "--host", HOST,
           "--port", str(port), "--workers", str(workers)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the gRPC server did not start")


def stop(proc: Any) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- load -------------------------------------------------------------------------------


def wrk(port: int, path: str, body: tuple[Path, str], seconds: float, close: bool,
        script: Path) -> dict[str, float]:  # fmt: skip
    env = {**os.environ, "BENCH_BODY": str(body[0]), "BENCH_HEADER_LEN": body[1],
           "BENCH_CLOSE": "1" if close else "0"}  # fmt: skip
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, int(seconds))}s", "--latency",
           "-s", str(script), f"http://{HOST}:{port}{path}"]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCHJSON "))
    r = json.loads(line.removeprefix("BENCHJSON "))
    return {
        "p50_ms": r["p50"] / 1000,
        "p99_ms": r["p99"] / 1000,
        "max_ms": r["max"] / 1000,
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "errors": r["errors"] + r["non2xx"],
    }


def placement(proc: Any, port: int) -> tuple[int, ...] | None:
    """Return how many established connections each worker process of a server holds,
    smallest first (``ss``; None when it cannot tell, e.g. without ``ss`` or root)."""
    try:
        workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                 text=True, timeout=10).stdout.split()  # fmt: skip
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    counts = sorted(out.count(f"pid={pid},") for pid in workers)
    return tuple(counts) if sum(counts) == CONNECTIONS else None


def with_placement(measure: Any, proc: Any, port: int) -> Any:
    """Return ``measure`` that also records where its keep-alive connections landed (one
    second in): with 4 connections on 2 processes, a round where 3 or 4 land on one process
    runs on one core, for the floor and the catalog alike."""

    def run() -> dict[str, Any]:
        seen: list[Any] = []
        timer = threading.Timer(1.0, lambda: seen.append(placement(proc, port)))
        timer.start()
        figures = measure()
        timer.join()
        return figures | {"placement": seen[0] if seen else None}

    return run


def grpc_load(port: int, rows: int, seconds: float, new_connection: bool) -> dict[str, float]:
    """Run the gRPC client in its own process; return its figures."""
    cmd = [sys.executable, __file__, "--grpc-client", f"{HOST}:{port}", "--rows", str(rows),
           "--seconds", str(seconds), "--connections", str(CONNECTIONS)
           ] + (["--new-connection"] if new_connection else [])  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def grpc_body(X: np.ndarray, rows: int, tmp: Path) -> Path:
    """Write one ModelInferRequest as a gRPC frame (flag byte, big-endian length, message)."""
    from inference.grpc import protocol

    request = protocol.message("ModelInferRequest")(model_name=MODEL)
    request.inputs.add(name="X", datatype="FP32", shape=[rows, 4])
    request.raw_input_contents.append(np.resize(X, (rows, 4)).astype(np.float32).tobytes())
    payload = request.SerializeToString()
    path = tmp / f"grpc-{rows}.body"
    path.write_bytes(b"\x00" + len(payload).to_bytes(4, "big") + payload)
    return path


def h2load(port: int, body: Path, seconds: float, tmp: Path) -> dict[str, float]:
    """Drive ModelInfer with h2load (C, HTTP/2): CONNECTIONS connections, 1 stream each."""
    from inference.grpc import protocol

    log = tmp / "h2load.log"
    log.unlink(missing_ok=True)
    cmd = ["h2load", "-t1", f"-c{CONNECTIONS}", "-m1", f"-D{max(1, int(seconds))}",
           f"--log-file={log}", "-d", str(body), "-H", "content-type: application/grpc",
           "-H", "te: trailers", f"http://{HOST}:{port}{protocol.method_path('ModelInfer')}"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    rows = [line.split("\t") for line in log.read_text().splitlines() if line.strip()]
    latencies = sorted(int(r[2]) / 1000 for r in rows)
    starts = [int(r[0]) for r in rows]
    elapsed = (max(starts) - min(starts)) / 1e6 if len(starts) > 1 else seconds
    return {
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "max_ms": latencies[-1],
        "rps": len(latencies) / elapsed,
        "errors": sum(1 for r in rows if r[1] != "200") + out.returncode,
    }


def grpc_client(address: str, rows: int, seconds: float, new_connection: bool) -> None:
    """Send ModelInfer requests with CONNECTIONS in flight; print figures as JSON."""
    import grpc

    from inference.grpc import protocol
    from tests.models import iris

    X = np.resize(iris()[0], (rows, 4)).astype(np.float32)
    request = protocol.message("ModelInferRequest")(model_name=MODEL)
    request.inputs.add(name="X", datatype="FP32", shape=[rows, 4])
    request.raw_input_contents.append(X.tobytes())
    payload = request.SerializeToString()
    path = protocol.method_path("ModelInfer")
    latencies: list[float] = []
    errors = 0

    def call_on(channel: Any) -> Any:
        return channel.unary_unary(path, request_serializer=None, response_deserializer=None)

    async def worker(deadline: float, shared: Any) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if new_connection:
                    async with grpc.aio.insecure_channel(address) as channel:
                        await call_on(channel)(payload)
                else:
                    await shared(payload)
                latencies.append(time.perf_counter() - started)
            except grpc.RpcError:
                errors += 1

    async def main() -> float:
        async with grpc.aio.insecure_channel(address) as channel:
            shared = call_on(channel)
            answer = protocol.message("ModelInferResponse").FromString(await shared(payload))
            assert answer.model_name == MODEL and len(answer.raw_output_contents) == 2
            started = time.monotonic()
            deadline = started + seconds
            await asyncio.gather(*(worker(deadline, shared) for _ in range(CONNECTIONS)))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    latencies.sort()
    print(json.dumps({
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "max_ms": 1000 * latencies[-1],
        "rps": len(latencies) / elapsed,
        "errors": errors,
    }))  # fmt: skip


# -- where the time goes (in this process) ---------------------------------------------------


def breakdown(
    store_url: str, body_files: dict[str, tuple[Path, str]], calls: int
) -> list[tuple[str, float]]:
    """Return (step, median µs) of each layer called directly, without the network."""
    import io

    import django
    import orjson
    from django.test import override_settings

    django.setup()
    with override_settings(CATALOG_STORE=store_url, ALLOWED_HOSTS=[HOST], DEBUG=False):
        from catalog.domain.jsonbody import decode_json
        from catalog.domain.registry import get_registry
        from catalog.shell import wsgi
        from catalog.web.serving import fastpath
        from inference import oip, oip_binary, predict
        from inference.sessions import load_model

        os.environ["FLOOR_STORE"], os.environ["FLOOR_MODEL"] = store_url, MODEL
        from bench import floor_app

        json_body = body_files["json-1"][0].read_bytes()
        binary_body, header = body_files["binary-1"][0].read_bytes(), body_files["binary-1"][1]
        path = f"/v2/models/{MODEL}/infer"
        fast = fastpath.wrap(wsgi.django_application, warm_sessions=False)

        def environ(body: bytes, extra: dict[str, str] | None = None) -> dict[str, Any]:
            return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": HOST,
                    "SERVER_PORT": "80", "HTTP_HOST": HOST, "CONTENT_LENGTH": str(len(body)),
                    "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body),
                    "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, **(extra or {})}  # fmt: skip

        def wsgi_call(app: Any, body: bytes, extra: dict[str, str] | None = None) -> None:
            status = []
            b"".join(app(environ(body, extra), lambda s, h, *a: status.append(s)))
            assert status[0].startswith("200"), status

        reg = get_registry()
        model = load_model(reg, MODEL)
        request = oip.parse_infer_request(json.loads(json_body))
        feeds = predict.check_inputs(model, request)
        results = predict.run(model, feeds, [o.name for o in model.outputs])
        outputs = [o.name for o in model.outputs]

        def bare() -> bytes:
            """Parse, run and encode with nothing else: the catalog's path minus its checks."""
            tensor = orjson.loads(json_body)["inputs"][0]
            x = np.array(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
            arrays = model.session.run(outputs, {tensor["name"]: x})
            return orjson.dumps({"model_name": MODEL, "outputs": [
                {"name": n, "shape": list(a.shape), "data": a.ravel().tolist()}
                for n, a in zip(outputs, arrays, strict=True)]})  # fmt: skip

        def bare_and_token() -> bytes:
            reg.store.change_token()  # what the alias cache asks the store on every request
            return bare()

        steps = [
            ("floor app (whole request)", lambda: wsgi_call(floor_app.application, json_body)),
            ("bare path: orjson, numpy, session.run, orjson", bare),
            ("bare path + the store's change token", bare_and_token),
            ("Django handler, JSON (whole request)",
             lambda: wsgi_call(wsgi.django_application, json_body)),
            ("fast path, JSON (whole request)", lambda: wsgi_call(fast, json_body)),
            ("fast path, binary (whole request)",
             lambda: wsgi_call(fast, binary_body, {oip_binary.ENVIRON_KEY: header})),
            ("  get_registry()", get_registry),
            ("  resolve latest (alias KV read)", lambda: reg.resolve(MODEL, None)),
            ("  session cache lookup (by version)", lambda: load_model(reg, MODEL, 1)),
            ("  decode the JSON body (orjson)", lambda: decode_json(json_body)),
            ("  decode + parse + check inputs", lambda: predict.check_inputs(
                model, oip.parse_infer_request(decode_json(json_body)))),
            ("  session.run (predict.run)", lambda: predict.run(
                model, feeds, [o.name for o in model.outputs])),
            ("  encode JSON outputs (orjson)", lambda: oip_binary.encode_json(
                [oip.encode_output(o.name, r) for o, r in zip(model.outputs, results, strict=True)])),
        ]  # fmt: skip
        out = []
        for name, fn in steps:
            for _ in range(50):
                fn()
            times = []
            for _ in range(calls):
                started = time.perf_counter_ns()
                fn()
                times.append(time.perf_counter_ns() - started)
            out.append((name, statistics.median(times) / 1000))
        return out


# -- the run ------------------------------------------------------------------------------


def sweep(env: dict[str, str], body_files: dict, seconds: float, tmp: Path, script: Path,
          log: Path) -> list[tuple[str, dict]]:  # fmt: skip
    """Return the catalog's single-row JSON keep-alive figures under each gunicorn config."""
    rows = []
    for config in CONFIGS:
        proc, port = start_http("catalog.shell.wsgi", config, env, log)
        try:
            wrk(port, f"/v2/models/{MODEL}/infer", body_files["json-1"], 1, False, script)
            rows.append((config, wrk(port, f"/v2/models/{MODEL}/infer", body_files["json-1"],
                                     seconds, False, script)))  # fmt: skip
        finally:
            stop(proc)
    return rows


def run(args: argparse.Namespace) -> str:
    for tool, package in (("wrk", "wrk"), ("h2load", "nghttp2-client")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install -y {package}")
    seconds = 3.0 if args.quick else args.seconds
    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    procs: list[Any] = []
    try:
        store_url = f"embedded://{tmp / 'catalog.sqlite3'}"
        X = publish(store_url)
        body_files = bodies(X, tmp)
        script = tmp / "post.lua"
        script.write_text(WRK_SCRIPT)
        var, log = tmp / "var", tmp / "servers.log"
        var.mkdir()
        env = server_env(store_url, var)
        sweep_rows = sweep(env, body_files, seconds, tmp, script, log) if args.sweep else []
        config = args.config
        if sweep_rows and args.config == DEFAULT_CONFIG:  # the sweep picks the settings
            config = max(sweep_rows, key=lambda row: row[1]["rps"])[0]
        infer = f"/v2/models/{MODEL}/infer"
        grpc_frames = {rows: grpc_body(X, rows, tmp) for rows in (1, BATCH_ROWS)}
        # Every server runs for the whole run (an idle one costs nothing); each round
        # measures them back to back, the order turning from round to round, so that a
        # slow spell of the shared machine falls on all of them alike.
        floor, floor_port = start_http("bench.floor_app:application", config, env, log)
        procs.append(floor)
        catalog, catalog_port = start_http("catalog.shell.wsgi", config, env, log)
        procs.append(catalog)
        grpc_proc, grpc_port = start_grpc(env, args.grpc_workers, log)
        procs.append(grpc_proc)
        grpc_load(grpc_port, 1, 1, False)  # checks the answer, warms the workers
        for port in (floor_port, catalog_port):
            wrk(port, infer, body_files["json-1"], 1, False, script)  # warm connections

        servers = {floor_port: floor, catalog_port: catalog}

        def http(port: int, kind: str, close: bool) -> Any:
            measure = lambda: wrk(port, infer, body_files[kind], seconds, close, script)  # noqa: E731
            return measure if close else with_placement(measure, servers[port], port)

        blocks: list[list[tuple[tuple[str, str, str], Any]]] = []
        for rows in (1, BATCH_ROWS):
            for close in (False, True):
                conn = "new connection" if close else "keep-alive"
                block = [
                    (("floor", f"json-{rows}", conn), http(floor_port, f"json-{rows}", close)),
                    (("catalog HTTP", f"json-{rows}", conn),
                     http(catalog_port, f"json-{rows}", close)),
                    (("catalog HTTP", f"binary-{rows}", conn),
                     http(catalog_port, f"binary-{rows}", close)),
                ]  # fmt: skip
                if not close:
                    grpc_measure = with_placement(
                        lambda f=grpc_frames[rows]: h2load(grpc_port, f, seconds, tmp),
                        grpc_proc, grpc_port,
                    )  # fmt: skip
                    block.append((("catalog gRPC (h2load)", f"raw-{rows}", conn), grpc_measure))
                blocks.append(block)
        rounds: list[dict[tuple[str, str, str], dict]] = []
        for r in range(args.rounds):
            figures: dict[tuple[str, str, str], dict] = {}
            for block in blocks:
                turn = r % len(block)
                for key, measure in block[turn:] + block[:turn]:
                    figures[key] = measure()
            rounds.append(figures)
        python_client: dict[tuple[str, str, str], dict] = {}
        for rows in (1, BATCH_ROWS):
            for close in (False, True):
                conn = "new connection" if close else "keep-alive"
                python_client[("catalog gRPC (Python client)", f"raw-{rows}", conn)] = grpc_load(
                    grpc_port, rows, seconds, close
                )
        for proc in procs:
            stop(proc)
        procs.clear()
        # Restarted: it warms what it served before (VAR_DIR/recent-models.json).
        started = time.monotonic()
        proc, port = start_http("catalog.shell.wsgi", config, env, log)
        ready_s = time.monotonic() - started
        try:
            after_start = wrk(port, infer, body_files["json-1"], 3, False, script)
        finally:
            stop(proc)
        steps = breakdown(store_url, body_files, 300 if args.quick else 2000)
        return report(args, config, seconds, rounds, python_client, after_start, ready_s,
                      sweep_rows, steps)  # fmt: skip
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def base_key(key: tuple[str, str, str]) -> tuple[str, str, str] | None:
    """Return the floor row a row is compared with (None for the floor itself)."""
    name, kind, conn = key
    return None if name == "floor" else ("floor", f"json-{kind.rsplit('-', 1)[1]}", conn)


def paired(rounds: list[dict], key: tuple, base: tuple, field: str,
           alike: bool = False) -> list[float]:  # fmt: skip
    """Return key's field over base's field, round by round (``alike``: only the rounds in
    which both had their connections placed alike on their processes)."""
    return [
        r[key][field] / r[base][field]
        for r in rounds
        if key in r and base in r
        and (not alike or (r[key].get("placement") is not None
                           and r[key].get("placement") == r[base].get("placement")))
    ]  # fmt: skip


def placements(rounds: list[dict], key: tuple) -> str:
    """Return the placements of a row's connections over the rounds (e.g. "1+3 x5, 2+2 x2")."""
    seen: dict[str, int] = {}
    for r in rounds:
        p = r.get(key, {}).get("placement")
        label = "+".join(map(str, p)) if p else "unknown"
        seen[label] = seen.get(label, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(seen.items()))


def spread(values: list[float]) -> str:
    """Return 'median (min-max)' of ratios."""
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.2f}x"
    return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"


def report(args, config, seconds, rounds, python_client, after_start, ready_s, sweep_rows,
           steps) -> str:  # fmt: skip
    def median(key: tuple, field: str) -> float:
        return statistics.median(r[key][field] for r in rounds if key in r)

    def row(key: tuple, values: dict[str, float], ratios: tuple[str, str]) -> str:
        name, kind, conn = key
        rows = BATCH_ROWS if kind.endswith(f"-{BATCH_ROWS}") else 1
        return (f"| {name} | {kind} | {conn} | {values['p50_ms']:.2f} | {values['p99_ms']:.2f}"
                f" | {values['rps']:,.0f} | {values['rps'] * rows:,.0f} | {ratios[0]}"
                f" | {ratios[1]} | {values['errors']:.0f} |")  # fmt: skip

    n = len(rounds)
    lines = [
        "# Serving benchmark (bench/bench_serving.py)",
        "",
        f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}; a shared VM",
        f"- iris-svc (SVC, skl2onnx); gunicorn `{' '.join(CONFIGS[config])}` for the floor and the"
        f" catalog; wrk -t1 -c{CONNECTIONS}; gRPC: `catalog serve-grpc"
        f" --workers {args.grpc_workers}`, h2load -c{CONNECTIONS} -m1, and a Python asyncio"
        f" client in its own process with {CONNECTIONS} requests in flight",
        f"- {n} rounds of {seconds:.0f} s per row; in each round the rows of one input and"
        " connection mode run back to back, in an order that turns from round to round."
        " Figures are medians over the rounds; a ratio is the median of the rounds' own ratios"
        " (each round against the floor measured beside it), with their range",
        "",
        "| server | input | connection | p50 ms | p99 ms | req/s | rows/s | p50 / floor"
        " | req/s / floor | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in rounds[0]:
        values = {f: median(key, f) for f in ("p50_ms", "p99_ms", "rps")}
        values["errors"] = sum(r[key]["errors"] for r in rounds)
        base = base_key(key)
        ratios = (
            ("", "")
            if base is None
            else (
                spread(paired(rounds, key, base, "p50_ms")),
                spread(paired(rounds, key, base, "rps")),
            )
        )
        lines.append(row(key, values, ratios))
    for key, values in python_client.items():
        lines.append(row(key, values, ("", "")))
    http_key = ("catalog HTTP", "json-1", "keep-alive")
    grpc_key = ("catalog gRPC (h2load)", "raw-1", "keep-alive")
    lines += [
        "",
        "Single row, keep-alive, against the floor, round by round:",
        f"- HTTP JSON p50: {spread(paired(rounds, http_key, base_key(http_key), 'p50_ms'))};"
        f" req/s: {spread(paired(rounds, http_key, base_key(http_key), 'rps'))}",
        f"- gRPC (h2load) p50 over HTTP JSON p50: "
        f"{spread(paired(rounds, grpc_key, http_key, 'p50_ms'))}",
        "",
        f"Where the {CONNECTIONS} keep-alive connections landed (connections per worker process,"
        " one second"
        " into each row):"
        f" floor {placements(rounds, base_key(http_key))};"
        f" catalog HTTP {placements(rounds, http_key)}; gRPC {placements(rounds, grpc_key)}."
        " In the rounds where the two compared had theirs placed alike"
        f" ({len(paired(rounds, http_key, base_key(http_key), 'rps', True))} of {n} for HTTP"
        f" JSON, {len(paired(rounds, grpc_key, http_key, 'rps', True))} of {n} for gRPC):",
        f"- HTTP JSON p50: {spread(paired(rounds, http_key, base_key(http_key), 'p50_ms', True))};"
        f" req/s: {spread(paired(rounds, http_key, base_key(http_key), 'rps', True))}",
        f"- gRPC (h2load) p50 over HTTP JSON p50: "
        f"{spread(paired(rounds, grpc_key, http_key, 'p50_ms', True))}",
        "",
        f"After a restart (ready in {ready_s:.1f} s, warmed from its recently used models),"
        f" the first 3 s: p50 {after_start['p50_ms']:.2f} ms, p99 {after_start['p99_ms']:.2f} ms,"
        f" max {after_start['max_ms']:.2f} ms, {after_start['errors']} errors.",
        "",
        "## Where the time goes (one request, in-process, median µs)",
        "",
        "| step | µs |",
        "|---|---:|",
        *[f"| {name} | {us:,.1f} |" for name, us in steps],
    ]
    if sweep_rows:
        lines += ["", "## gunicorn settings (catalog, single-row JSON, keep-alive)", "",
                  "| config | p50 ms | p99 ms | req/s |", "|---|---:|---:|---:|"]  # fmt: skip
        lines += [f"| {c} `{' '.join(CONFIGS[c])}` | {r['p50_ms']:.2f} | {r['p99_ms']:.2f}"
                  f" | {r['rps']:,.0f} |" for c, r in sweep_rows]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    global CONNECTIONS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="3 s per measurement")
    parser.add_argument(
        "--sweep", action="store_true", help="compare gunicorn settings first; use the best"
    )
    parser.add_argument("--config", choices=list(CONFIGS), default=DEFAULT_CONFIG)
    parser.add_argument("--grpc-workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every measurement")
    parser.add_argument(
        "--connections",
        type=int,
        default=CONNECTIONS,
        help="connections (wrk, h2load) or requests in flight (Python gRPC client)",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--grpc-client", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--new-connection", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    CONNECTIONS = args.connections
    if args.grpc_client:
        grpc_client(args.grpc_client, args.rows, args.seconds, args.new_connection)
        return
    text = run(args)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
