"""The catalog's half of the peer benchmark; runs in the project venv, prints JSON on stdout.

    .venv/bin/python bench/peers/catalog_side.py --dir DIR [--models 100] [--versions 10]
        [--lookups 300] [--searches 20] [--cold 20] [--warm 200]
    .venv/bin/python bench/peers/catalog_side.py --dir DIR --cold-start NAME

The catalog lives in the embedded store ``DIR/catalog.sqlite3`` (the HTTP part of the
benchmark then serves it with gunicorn). Timings in milliseconds; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

STARTED = time.perf_counter()

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import workload  # noqa: E402


def log(msg: str) -> None:
    print(f"[catalog] {msg}", file=sys.stderr, flush=True)


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def configure(directory: Path):
    """Point the catalog at the embedded store in ``directory``; return (registry, store)."""
    os.environ["CATALOG_STORE"] = f"embedded://{(directory / 'catalog.sqlite3').resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
    os.environ.setdefault("CATALOG_VAR_DIR", str(directory.resolve()))
    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from catalog.domain.registry import get_registry

    reg = get_registry()
    return reg, reg.store


def infer_request(x) -> object:
    """Return the parsed OIP request of one float32 row (what the HTTP endpoint builds)."""
    from inference import oip

    return oip.parse_infer_request(
        {
            "inputs": [
                {
                    "name": "X",
                    "shape": list(x.shape),
                    "datatype": "FP32",
                    "data": [float(v) for v in x.ravel()],
                }
            ]
        }
    )


def cold_start(directory: Path, name: str) -> None:
    """Fresh process: import, load the production version, predict one row; print JSON."""
    reg, _ = configure(directory)
    from inference.predict import infer

    t0 = time.perf_counter()
    pred = infer(reg, name, workload.ALIAS, infer_request(workload.row(name.split("-")[0])))
    label = pred.output("label")
    print(
        json.dumps(
            {
                "in_process_ms": ms_since(t0),
                "since_start_ms": ms_since(STARTED),
                "prediction": int(label[0]),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    workload.add_arguments(ap)
    ap.add_argument("--cold-start", metavar="NAME")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.cold_start:
        cold_start(args.dir, args.cold_start)
        return

    import_t0 = time.perf_counter()
    reg, store = configure(args.dir)
    import numpy as np
    import onnxruntime
    import sklearn

    from catalog.search import search_models
    from inference.predict import infer
    from inference.sessions import get_session_cache, load_model

    out: dict = {"ort_version": onnxruntime.__version__, "sklearn_version": sklearn.__version__}
    out["import_ms"] = ms_since(import_t0)

    all_specs = list(workload.specs(args.models, args.versions))
    t0 = time.perf_counter()
    fitted = [(s, workload.fit(s)) for s in all_specs]
    out["fit_s"] = ms_since(t0) / 1000
    log(f"fitted {len(fitted)} estimators in {out['fit_s']:.1f} s")

    publish = []
    t_all = time.perf_counter()
    for i, (s, est) in enumerate(fitted):
        x32 = workload.row(s.dataset).astype(np.float32)
        t0 = time.perf_counter()
        ref = reg.publish(
            s.name,
            est,
            sample_input=x32,
            tags=list(s.tags.values()),
            metadata=dict(s.tags),
        )
        publish.append(ms_since(t0))
        if ref.version != s.version:
            raise SystemExit(f"{s.name}: expected version {s.version}, got {ref.version}")
        if (i + 1) % 100 == 0:
            log(f"published {i + 1}/{len(fitted)}")
    out["publish_total_s"] = time.perf_counter() - t_all
    out["publish_ms"] = publish

    names = workload.model_names(args.models)
    alias_version = min(workload.ALIAS_VERSION, args.versions)
    samples = []
    for name in names:
        t0 = time.perf_counter()
        reg.set_alias(name, workload.ALIAS, alias_version)
        samples.append(ms_since(t0))
    out["set_alias_ms"] = samples

    resolve, document = [], []
    for name in workload.lookup_names(args.models, args.lookups):
        t0 = time.perf_counter()
        version = reg.resolve(name, workload.ALIAS)
        resolve.append(ms_since(t0))
        t0 = time.perf_counter()
        doc = reg.document(name, workload.ALIAS)
        document.append(ms_since(t0))
        assert version == alias_version == doc["version"], (version, doc["version"])
    out["alias_resolve_ms"], out["alias_document_ms"] = resolve, document

    def repeat(fn, n):
        fn()  # warm: statement caches, vocabulary
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            result = fn()
            times.append(ms_since(t0))
        return times, result

    # Hits only (no facets, no highlighted fragments): what MLflow's searches return.
    plain = {"limit": 1000, "highlight": False, "facets": []}
    times, res = repeat(
        lambda: search_models(store, "tags:iris", all_versions=True, **plain), args.searches
    )
    out["search_tag_ms"], out["search_tag_hits"] = times, len(res.hits)
    times, res = repeat(lambda: search_models(store, "name:iris*", **plain), args.searches)
    out["search_name_ms"], out["search_name_hits"] = times, len(res.hits)
    times, res = repeat(
        lambda: search_models(store, "opTypes:LinearClassifier", **plain), args.searches
    )
    out["search_op_ms"], out["search_op_hits"] = times, len(res.hits)
    target = names[0]
    times, res = repeat(lambda: reg.list_versions(target), args.searches)
    out["list_versions_ms"], out["list_versions_hits"] = times, len(res)
    log("searches done")

    # Cold: the session cache is emptied before each sample, and each sample is a model
    # this process has not loaded before.
    cache = get_session_cache()
    cold, warm, first = [], [], []
    cold_names = names[1 : 1 + args.cold]
    for name in cold_names:
        request = infer_request(workload.row(name.split("-")[0]).astype(np.float32))
        cache.clear()
        t0 = time.perf_counter()
        load_model(reg, name, workload.ALIAS)
        t1 = time.perf_counter()
        infer(reg, name, workload.ALIAS, request)
        t2 = time.perf_counter()
        cold.append((t2 - t0) * 1000)
        first.append((t1 - t0) * 1000)
        for _ in range(max(1, args.warm // max(1, len(cold_names)))):
            t0 = time.perf_counter()
            infer(reg, name, workload.ALIAS, request)
            warm.append(ms_since(t0))
    out["cold_ms"], out["cold_load_only_ms"], out["warm_ms"] = cold, first, warm
    log("load/predict done")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
