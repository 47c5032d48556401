"""The catalog against MLflow's Model Registry (SQLite backend), measured in one run.

Runs the same workload on both (``workload.py``): publish/register 1,000 versions of small
scikit-learn classifiers with tags, move and look up aliases, search by tag and by name
pattern (and, catalog only, by operator type), load and predict cold and warm, a cold
start in a new process, then single-row predictions over HTTP under the same load
(gunicorn ``catalog.shell.wsgi`` vs ``mlflow models serve``). Prints one table of medians with
the ratio catalog/MLflow and writes it to ``bench/results/peers.md``.

    bash bench/peers/setup_mlflow.sh          # once: MLflow in var/peers/mlflow-venv
    .venv/bin/python bench/peers/run.py [--quick] [--out bench/results/peers.md]
        [--threads 4] [--duration 15] [--workers 2] [--skip-http]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import load  # noqa: E402
import workload  # noqa: E402

MLFLOW_VENV = ROOT / "var" / "peers" / "mlflow-venv"
SIDE_TIMEOUT_S = 3600
SERVER_START_TIMEOUT_S = 120


def log(msg: str) -> None:
    print(f"[run] {msg}", file=sys.stderr, flush=True)


def run_side(python: str, script: str, args: list[str], label: str) -> dict:
    """Run one side's script; show its progress lines; return its JSON output."""
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(
            [python, str(HERE / script), *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + SIDE_TIMEOUT_S
        tail: list[str] = []
        assert proc.stderr is not None
        for line in proc.stderr:  # ends when the process closes stderr
            if line.startswith("["):
                print(line, end="", file=sys.stderr, flush=True)
            tail = (tail + [line])[-20:]
            if time.monotonic() > deadline:
                proc.kill()
                break
        proc.wait(timeout=60)
        if proc.returncode != 0:
            raise SystemExit(f"{label} side failed ({proc.returncode}):\n" + "".join(tail))
        out.seek(0)
        return json.loads(out.read().strip().splitlines()[-1])


def fresh_process_ms(python: str, script: str, directory: Path, name: str) -> tuple[float, int]:
    """Return (wall ms from spawn to exit, predicted label) of a cold start in a new process."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [python, str(HERE / script), "--dir", str(directory), "--cold-start", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    wall = (time.perf_counter() - t0) * 1000
    return wall, json.loads(done.stdout.strip().splitlines()[-1])["prediction"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process in its own process group, stopped (group and all) on exit."""

    def __init__(self, cmd: list[str], env: dict[str, str], port: int, ready_path: str, log_to):
        self.port = port
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log_to, stderr=log_to, start_new_session=True
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited early: {' '.join(cmd)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"server did not start: {' '.join(cmd)}") from None
                time.sleep(0.5)

    def post(self, path: str, body: bytes) -> dict:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group this object started
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def http_bench(directory: Path, mlflow_python: str, args) -> dict:
    """Serve SERVED_MODEL v1 from both servers; return {side: {mode: summary}} + checks.

    Both servers run at once (an idle server costs nothing) and the load alternates
    between them, round after round, so drift in the machine's load hits both alike.
    """
    x = workload.row(workload.SERVED_MODEL.split("-")[0])[0]
    oip_body = json.dumps(
        {
            "inputs": [
                {"name": "X", "shape": [1, len(x)], "datatype": "FP32", "data": list(map(float, x))}
            ],
            "outputs": [{"name": "label"}],  # MLflow's pyfunc returns the label only
        }
    ).encode()
    mlflow_body = json.dumps({"inputs": [list(map(float, x))]}).encode()
    logs = directory / "server-logs"
    logs.mkdir(exist_ok=True)
    web = directory / "web"
    web.mkdir(exist_ok=True)

    c_port = free_port()
    c_env = dict(
        os.environ,
        CATALOG_STORE=f"embedded://{(directory / 'catalog.sqlite3').resolve()}",
        CATALOG_VAR_DIR=str(web),
        DEBUG="0",
        SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    c_cmd = [gunicorn, "catalog.shell.wsgi", "--bind", f"127.0.0.1:{c_port}"]
    c_cmd += ["--workers", str(args.workers), "--timeout", "120"]
    c_path = f"/v2/models/{workload.SERVED_MODEL}/versions/1/infer"

    m_port = free_port()
    bin_dir = Path(mlflow_python).parent
    m_env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        MLFLOW_TRACKING_URI=f"sqlite:///{(directory / 'mlflow.db').resolve()}",
    )
    m_cmd = [str(bin_dir / "mlflow"), "models", "serve", "-m", f"models:/{workload.SERVED_MODEL}/1"]
    m_cmd += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(m_port)]
    m_cmd += ["-w", str(args.workers)]

    targets = {
        "catalog": (c_port, c_path, oip_body),
        "mlflow": (m_port, "/invocations", mlflow_body),
    }
    samples: dict = {side: {"close": [], "keepalive": []} for side in targets}
    out: dict = {}
    with (
        open(logs / "gunicorn.log", "wb") as c_log,
        open(logs / "mlflow-serve.log", "wb") as m_log,
        Server(c_cmd, c_env, c_port, "/v2/health/ready", c_log) as cs,
        Server(m_cmd, m_env, m_port, "/ping", m_log) as ms,
    ):
        out["catalog_label"] = cs.post(c_path, oip_body)["outputs"][0]["data"][0]
        out["mlflow_label"] = ms.post("/invocations", mlflow_body)["predictions"][0]
        for r in range(args.rounds):
            for mode in ("close", "keepalive"):
                for side, (port, path, body) in targets.items():
                    log(f"round {r + 1}/{args.rounds}: {side} HTTP ({mode}), {args.duration:g} s")
                    res = load.run_load(
                        port,
                        path,
                        body,
                        threads=args.threads,
                        duration=args.duration,
                        warmup=args.warmup,
                        keepalive=mode == "keepalive",
                    )
                    samples[side][mode].append(res.summary())
    for side, modes in samples.items():
        out[side] = {}
        for mode, runs in modes.items():
            out[side][mode] = {
                k: med(r[k] for r in runs) for k in ("throughput_rps", "p50_ms", "p99_ms")
            }
            out[side][mode]["errors"] = sum(r["errors"] for r in runs)
            out[side][mode]["runs"] = runs
    return out


def med(values) -> float:
    return workload.median(list(values))


def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def ratio(c: float | None, m: float | None) -> str:
    if c is None or m is None or m == 0:
        return "—"
    r = c / m
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.3f}x"


HTTP_GAP = (
    "gunicorn's sync workers serve one request per process at a time: with"
    " {threads} client connections on {workers} workers the others wait in the listen backlog,"
    " and every request pays for a new TCP connection, while uvicorn's event loop accepts"
    " them all at once. Django's middleware and the OIP request checks add about a"
    " millisecond to a 20 us model run. More sync workers than concurrent clients (the"
    " Dockerfile runs 3) or an ASGI entry point for the inference API would close it;"
    " gunicorn's gthread workers were slower in a probe here (77-380 req/s)."
)

# Why the catalog is slower where it is, and what would close the gap (shown for each
# operation where the measured ratio says "slower").
GAPS = {
    "publish": "Publishing converts the estimator with skl2onnx, runs onnx's full checker and"
    " builds an onnxruntime session to validate it, then writes the JSON document, its search"
    " index rows and the alias in SQLite transactions. MLflow pickles (skops) the estimator"
    " and writes files. `validate=False` (trusted producers) roughly halves our cost"
    " (bench/results/publish_load.md); converting once per estimator class and reusing the"
    " graph would shave skl2onnx's share.",
    "alias_document": "Reading the version document parses the whole ONNX-JSON document (graph,"
    " initializers, summary statistics); MLflow returns a small row. A projection (metadata"
    " and summary only) would close it.",
    "search_tag": "Each search rebuilds the candidate set from the FTS tables and ranks it"
    " (BM25/idf); MLflow runs one indexed SQL equality join. Caching the per-scope universe"
    " or a direct keyword lookup for single-term keyword queries would close it.",
    "search_name": "A wildcard expands against the FTS vocabulary before matching;"
    " MLflow's LIKE 'iris%' is a single SQL scan of 100 rows.",
    "list_versions": "Listing scans the version documents of the model and decodes each JSON"
    " document; an index on name with a projection of the listing fields would close it.",
    "cold": "A cold load rebuilds the ModelProto from its JSON document (json_format.Parse)"
    " and builds an onnxruntime session; MLflow unpickles (skops) a scikit-learn object."
    " Storing the serialized protobuf beside the JSON (format=binary) skips the parse.",
    "warm": "A warm prediction resolves the alias (one KV get) and validates the request"
    " before the onnxruntime run; MLflow's loaded pyfunc calls sklearn directly.",
    "process": "A new process imports Django, onnxruntime and skl2onnx's dependencies"
    " before the first prediction; a lighter inference-only entry point would close it.",
    "set_alias": "Moving an alias reads the version, rewrites the aliases document with CAS"
    " and appends an audit document.",
    "http_rps": HTTP_GAP,
    "http_p50": HTTP_GAP,
    "http_p99": HTTP_GAP,
}


def build_rows(c: dict, m: dict, cold_c, cold_m, http: dict | None, n_versions: int) -> list:
    """Return (label, catalog, mlflow, key, higher_is_better) rows."""
    rows = [
        (
            f"publish / register one version with tags (median of {n_versions})",
            med(c["publish_ms"]),
            med(m["publish_ms"]),
            "publish",
            False,
        ),
        (
            f"publish / register all {n_versions} versions, total s",
            c["publish_total_s"],
            m["publish_total_s"],
            "publish",
            False,
        ),
        (
            "move an alias (`production`)",
            med(c["set_alias_ms"]),
            med(m["set_alias_ms"]),
            "set_alias",
            False,
        ),
        (
            "alias -> version number (`resolve` / `get_model_version_by_alias`)",
            med(c["alias_resolve_ms"]),
            med(m["alias_lookup_ms"]),
            "alias",
            False,
        ),
        (
            "alias -> version record (`document` / `get_model_version_by_alias`)",
            med(c["alias_document_ms"]),
            med(m["alias_lookup_ms"]),
            "alias_document",
            False,
        ),
        (
            f"search by tag, every version ({c['search_tag_hits']} / {m['search_tag_hits']} hits)",
            med(c["search_tag_ms"]),
            med(m["search_tag_ms"]),
            "search_tag",
            False,
        ),
        (
            f"search by name pattern `iris*` ({c['search_name_hits']} / "
            f"{m['search_name_hits']} models)",
            med(c["search_name_ms"]),
            med(m["search_name_ms"]),
            "search_name",
            False,
        ),
        (
            f"search by operator type `opTypes:LinearClassifier` ({c['search_op_hits']} hits;"
            " MLflow cannot: it does not see inside models)",
            med(c["search_op_ms"]),
            None,
            "search_op",
            False,
        ),
        (
            f"list the versions of one model ({c['list_versions_hits']} / "
            f"{m['list_versions_hits']})",
            med(c["list_versions_ms"]),
            med(m["list_versions_ms"]),
            "list_versions",
            False,
        ),
        (
            "load by alias + predict 1 row, cold (model not loaded yet)",
            med(c["cold_ms"]),
            med(m["cold_ms"]),
            "cold",
            False,
        ),
        ("predict 1 row, warm (model loaded)", med(c["warm_ms"]), med(m["warm_ms"]), "warm", False),
        (
            "new process: start, import, load, predict 1 row (wall)",
            med(cold_c),
            med(cold_m),
            "process",
            False,
        ),
    ]
    if http:
        for mode, label in (("close", "new connection per request"), ("keepalive", "keep-alive")):
            hc, hm = http["catalog"][mode], http["mlflow"][mode]
            rows += [
                (
                    f"HTTP 1 row, {label}: throughput (req/s, higher is better)",
                    hc["throughput_rps"],
                    hm["throughput_rps"],
                    "http_rps",
                    True,
                ),
                (
                    f"HTTP 1 row, {label}: p50 latency",
                    hc["p50_ms"],
                    hm["p50_ms"],
                    "http_p50",
                    False,
                ),
                (
                    f"HTTP 1 row, {label}: p99 latency",
                    hc["p99_ms"],
                    hm["p99_ms"],
                    "http_p99",
                    False,
                ),
            ]
    return rows


def render(rows, meta: dict, c: dict, m: dict, http: dict | None, args) -> str:
    lines = [
        f"# The catalog vs MLflow's Model Registry: {meta['date']} on {meta['node']}"
        f" ({meta['cores']} cores, Python {meta['python']}, MLflow {m['mlflow_version']},"
        f" scikit-learn {m['sklearn_version']}, onnxruntime {c['ort_version']})",
        "",
        f"Same run, same machine. Workload: {args.models} model names x {args.versions}"
        f" versions of scikit-learn classifiers (logistic regression and SGD on iris, wine,"
        f" breast cancer and digits, a different random subset and seed per version), each"
        f" with tags `dataset` and `algo`. Catalog: `Registry.publish` into the embedded"
        f" store (SQLite). MLflow: `mlflow.sklearn.log_model(..., registered_model_name=...)`"
        f" with a `sqlite:///` tracking and registry URI, local artifacts, pinned"
        f" `pip_requirements`, then `set_model_version_tag` x2 (+ `set_registered_model_tag`"
        f" on v1). Milliseconds unless stated; medians. Ratio = catalog / MLflow: below 1 the"
        f" catalog is faster, except for throughput, where above 1 it is.",
        "",
        "| operation | catalog | MLflow | catalog / MLflow |",
        "|---|---|---|---|",
    ]
    slower = []
    for label, cv, mv, key, higher in rows:
        lines.append(
            f"| {label} | {fmt(cv)} | {fmt(mv) if mv is not None else 'n/a'} | {ratio(cv, mv)} |"
        )
        if cv is not None and mv is not None and mv > 0:
            worse = cv < mv if higher else cv > mv
            if worse and key in GAPS and key not in [k for k, _ in slower]:
                slower.append((key, label))
    lines += [""]
    if http:
        hc, hm = http["catalog"], http["mlflow"]
        errors = sum(hc[k]["errors"] + hm[k]["errors"] for k in hc)
        lines.append(
            f"HTTP: version 1 of `{workload.SERVED_MODEL}` served by gunicorn `catalog.shell.wsgi`"
            f" (sync workers) at `POST /v2/models/NAME/versions/1/infer` (Open Inference"
            f" Protocol, label output only) and by `mlflow models serve -m models:/NAME/1"
            f' --env-manager local` (uvicorn) at `POST /invocations` with `{{"inputs":'
            f" [[...]]}}`; {args.workers} workers each, {args.threads} client threads,"
            f" {args.duration:g} s after {args.warmup:g} s of warm-up, median of {args.rounds}"
            f" alternating rounds, the same client"
            f" (bench/peers/load.py) on 127.0.0.1. Both answered label"
            f" {http['catalog_label']} / {http['mlflow_label']}; {errors} errors. 1-minute load"
            f" average before the HTTP part: {meta['load_before_http']:.1f} ({meta['cores']}"
            f" cores). The catalog's two modes send gunicorn the same traffic (its sync workers"
            f" close every connection), so their difference is this machine's noise."
        )
        lines.append("")
    lines += [
        "Notes:",
        "",
        f"- MLflow with its defaults (pip requirements inferred: a subprocess loads each model)"
        f" took {fmt(med(m['publish_inferred_ms']))} ms per registration"
        f" ({len(m['publish_inferred_ms'])} samples); the table pins `pip_requirements`, which"
        f" is MLflow at its fastest.",
        "- Catalog publish includes skl2onnx conversion, onnx's full checker and building an"
        " onnxruntime session (validation), the search index update and the `latest` alias."
        " Cold load = alias -> document -> ModelProto -> onnxruntime session (session cache"
        " emptied first); MLflow's = `mlflow.pyfunc.load_model('models:/NAME@production')`.",
        "- Catalog search returns hits without facets or highlighted fragments"
        " (`highlight=False, facets=[]`), as MLflow's searches do; tag search covers every"
        " version (`all_versions=True`), name search the latest version of each model.",
        "- Fitting the estimators is not timed (catalog side"
        f" {c['fit_s']:.1f} s, MLflow side {m['fit_s']:.1f} s for the same models).",
    ]
    if http:
        mk = http["mlflow"]["keepalive"]
        lines.append(
            f"- Keep-alive: MLflow's uvicorn server answered requests on a reused connection"
            f" in {fmt(mk['p50_ms'])} ms (p50) against {fmt(http['mlflow']['close']['p50_ms'])}"
            f" ms on new connections; `curl` reusing one connection shows the same ~40 ms"
            f" stall, the signature of Nagle's algorithm meeting delayed ACKs. So a keep-alive"
            f" client (`requests.Session`, most HTTP client pools) gets about"
            f" {1000 / mk['p50_ms']:.0f} req/s per connection from `mlflow models serve`."
            f" gunicorn's sync workers close the connection after every response in both modes."
        )
    lines += ["", "## Where the catalog is slower, and what would close the gap", ""]
    if http:
        spread = []
        for side in ("catalog", "mlflow"):
            runs = http[side]["close"]["runs"]
            rps = [r["throughput_rps"] for r in runs]
            p99 = max(r["p99_ms"] for r in runs)
            spread.append(f"{side} {min(rps):,.0f}-{max(rps):,.0f} req/s (p99 up to {p99:.0f} ms)")
        slower.append(("http_spread", ""))
        GAPS["http_spread"] = (
            "HTTP with a new connection per request is where the catalog is most sensitive to"
            f" a busy machine (across rounds: {'; '.join(spread)}); with other work on the"
            " same cores it can fall behind MLflow there. " + HTTP_GAP
        )
    if slower:
        for key, label in slower:
            if key == "http_spread":
                text = GAPS[key].format(threads=args.threads, workers=args.workers)
                lines.append(f"- **HTTP, new connection per request, under contention**: {text}")
                continue
            text = GAPS[key].format(threads=args.threads, workers=args.workers)
            lines.append(f"- **{label}**: {text}")
    else:
        lines.append("- Nowhere in this run.")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20 x 3 versions, 4 s of load")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "peers.md"))
    ap.add_argument("--dir", default=str(ROOT / "var" / "peers" / "run"), type=Path)
    ap.add_argument("--mlflow-python", default=str(MLFLOW_VENV / "bin" / "python"))
    ap.add_argument("--models", type=int)
    ap.add_argument("--versions", type=int)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, help="HTTP rounds per side and mode (median)")
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument(
        "--http-only",
        action="store_true",
        help="reuse the registries and results of the last run in --dir; redo the HTTP part",
    )
    ap.add_argument("--render-only", action="store_true", help="rewrite the table from raw.json")
    args = ap.parse_args()
    q = args.quick
    args.models = args.models or (20 if q else 100)
    args.versions = args.versions or (3 if q else 10)
    args.duration = args.duration or (4.0 if q else 15.0)
    args.rounds = args.rounds or (1 if q else 3)
    counts = ["--models", str(args.models), "--versions", str(args.versions)]
    counts += ["--lookups", "100" if q else "300", "--searches", "10" if q else "20"]
    counts += ["--cold", "8" if q else "20", "--warm", "100" if q else "200"]
    fresh = 1 if q else 3

    if not Path(args.mlflow_python).exists():
        raise SystemExit(f"no MLflow venv at {args.mlflow_python}: run bench/peers/setup_mlflow.sh")
    raw_path = args.dir / "raw.json"
    if args.http_only or args.render_only:
        if not raw_path.exists():
            raise SystemExit(f"--http-only needs a previous run in {args.dir}")
        raw = json.loads(raw_path.read_text())
        c, m, (cold_c, cold_m) = raw["catalog"], raw["mlflow"], raw["fresh"]
        args.models, args.versions = raw["size"]
    else:
        if args.dir.exists():
            shutil.rmtree(args.dir)
        args.dir.mkdir(parents=True)
        d = ["--dir", str(args.dir)]

        log(f"catalog side: {args.models} x {args.versions} versions")
        c = run_side(sys.executable, "catalog_side.py", d + counts, "catalog")
        log(f"MLflow side: {args.models} x {args.versions} versions")
        m = run_side(args.mlflow_python, "mlflow_side.py", d + counts, "MLflow")

        names = workload.model_names(args.models)
        cold_c, cold_m = [], []
        for i in range(fresh):  # alternate sides; a model neither process loaded before
            name = names[-1 - i]
            wall, _ = fresh_process_ms(sys.executable, "catalog_side.py", args.dir, name)
            cold_c.append(wall)
            wall, _ = fresh_process_ms(args.mlflow_python, "mlflow_side.py", args.dir, name)
            cold_m.append(wall)
        log(f"new process: catalog {med(cold_c):.0f} ms, MLflow {med(cold_m):.0f} ms")

    load_before_http = os.getloadavg()[0]
    if args.render_only:
        http, load_before_http = raw["http"], raw.get("load_before_http", load_before_http)
    elif args.skip_http:
        http = None
    else:
        http = http_bench(args.dir, args.mlflow_python, args)
    n_versions = args.models * args.versions
    rows = build_rows(c, m, cold_c, cold_m, http, n_versions)
    meta = {
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "node": platform.node(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_before_http": load_before_http,
    }
    text = render(rows, meta, c, m, http, args)
    print(text)
    (args.dir / "raw.json").write_text(
        json.dumps(
            {
                "catalog": c,
                "mlflow": m,
                "http": http,
                "fresh": [cold_c, cold_m],
                "size": [args.models, args.versions],
                "load_before_http": load_before_http,
            }
        )
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
