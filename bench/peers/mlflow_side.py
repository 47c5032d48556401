"""MLflow's half of the peer benchmark; runs INSIDE the MLflow venv, prints JSON on stdout.

    var/peers/mlflow-venv/bin/python bench/peers/mlflow_side.py --dir DIR [--models 100]
        [--versions 10] [--lookups 300] [--searches 20] [--cold 20] [--warm 200]
    var/peers/mlflow-venv/bin/python bench/peers/mlflow_side.py --dir DIR --cold-start NAME

Registry: SQLite tracking + registry URI (``sqlite:///DIR/mlflow.db``), artifacts under
``DIR/artifacts``. Every timing is in milliseconds; lists of samples are summarised by the
driver (``run.py``). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

STARTED = time.perf_counter()

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workload  # noqa: E402


def log(msg: str) -> None:
    print(f"[mlflow] {msg}", file=sys.stderr, flush=True)


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def configure(directory: Path):
    """Point MLflow at the SQLite registry in ``directory``; return a client."""
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{directory / 'mlflow.db'}")
    os.environ.setdefault("MLFLOW_REGISTRY_URI", os.environ["MLFLOW_TRACKING_URI"])
    # Keep MLflow's own chatter (progress bars, "Registered model ..." lines) off stdout.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    warnings.filterwarnings("ignore")
    import mlflow
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_registry_uri(os.environ["MLFLOW_REGISTRY_URI"])
    return mlflow, MlflowClient()


def cold_start(directory: Path, name: str) -> None:
    """Fresh process: import, load the production version, predict one row; print JSON."""
    mlflow, _ = configure(directory)
    t0 = time.perf_counter()
    model = mlflow.pyfunc.load_model(f"models:/{name}@{workload.ALIAS}")
    pred = model.predict(workload.row(name.split("-")[0]))
    print(
        json.dumps(
            {
                "in_process_ms": ms_since(t0),
                "since_start_ms": ms_since(STARTED),
                "prediction": int(pred[0]),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    workload.add_arguments(ap)
    ap.add_argument("--inferred", type=int, default=3, help="registrations with MLflow defaults")
    ap.add_argument("--cold-start", metavar="NAME")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.cold_start:
        cold_start(args.dir, args.cold_start)
        return

    import_t0 = time.perf_counter()
    mlflow, client = configure(args.dir)
    import sklearn
    from mlflow.models import infer_signature

    out: dict = {"mlflow_version": mlflow.__version__, "sklearn_version": sklearn.__version__}
    out["import_ms"] = ms_since(import_t0)

    t0 = time.perf_counter()
    artifacts = (args.dir / "artifacts").resolve()
    exp_id = mlflow.create_experiment("peers", artifact_location=artifacts.as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    out["setup_ms"] = ms_since(t0)  # creates the SQLite schema (alembic migrations)
    log(f"setup {out['setup_ms']:.0f} ms")

    all_specs = list(workload.specs(args.models, args.versions))
    t0 = time.perf_counter()
    fitted = [(s, workload.fit(s)) for s in all_specs]
    out["fit_s"] = ms_since(t0) / 1000
    log(f"fitted {len(fitted)} estimators in {out['fit_s']:.1f} s")

    # Pinning the requirements skips MLflow's requirement inference (a subprocess that
    # loads the model per log_model call): MLflow at its fastest.
    reqs = [f"scikit-learn=={sklearn.__version__}"]
    signatures = {}
    publish = []
    t_all = time.perf_counter()
    for i, (s, est) in enumerate(fitted):
        x = workload.row(s.dataset)
        if s.dataset not in signatures:
            signatures[s.dataset] = infer_signature(x, est.predict(x))
        t0 = time.perf_counter()
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                est,
                name="model",
                registered_model_name=s.name,
                signature=signatures[s.dataset],
                pip_requirements=reqs,
            )
        version = str(info.registered_model_version)
        for key, value in s.tags.items():
            client.set_model_version_tag(s.name, version, key, value)
        if s.version == 1:
            client.set_registered_model_tag(s.name, "dataset", s.dataset)
        publish.append(ms_since(t0))
        if int(version) != s.version:
            raise SystemExit(f"{s.name}: expected version {s.version}, got {version}")
        if (i + 1) % 100 == 0:
            log(f"registered {i + 1}/{len(fitted)}")
    out["publish_total_s"] = time.perf_counter() - t_all
    out["publish_ms"] = publish

    # MLflow's defaults (requirements inferred per model) on a few extra versions.
    inferred = []
    for s, est in fitted[: args.inferred]:
        t0 = time.perf_counter()
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                est,
                name="model",
                registered_model_name=f"defaults-{s.name}",
                signature=signatures[s.dataset],
            )
        inferred.append(ms_since(t0))
    out["publish_inferred_ms"] = inferred
    log(f"defaults: {[round(v) for v in inferred]} ms")

    names = workload.model_names(args.models)
    alias_version = str(min(workload.ALIAS_VERSION, args.versions))
    samples = []
    for name in names:
        t0 = time.perf_counter()
        client.set_registered_model_alias(name, workload.ALIAS, alias_version)
        samples.append(ms_since(t0))
    out["set_alias_ms"] = samples

    samples = []
    for name in workload.lookup_names(args.models, args.lookups):
        t0 = time.perf_counter()
        mv = client.get_model_version_by_alias(name, workload.ALIAS)
        samples.append(ms_since(t0))
        assert int(mv.version) == int(alias_version), (mv.version, alias_version)
    out["alias_lookup_ms"] = samples

    def repeat(fn, n):
        fn()  # warm: statement caches, connection pool
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            result = fn()
            times.append(ms_since(t0))
        return times, result

    times, hits = repeat(
        lambda: client.search_model_versions("tags.dataset = 'iris'"), args.searches
    )
    out["search_tag_ms"], out["search_tag_hits"] = times, len(hits)
    times, hits = repeat(
        lambda: client.search_registered_models("name LIKE 'iris%'"), args.searches
    )
    out["search_name_ms"], out["search_name_hits"] = times, len(hits)
    target = names[0]
    times, hits = repeat(lambda: client.search_model_versions(f"name = '{target}'"), args.searches)
    out["list_versions_ms"], out["list_versions_hits"] = times, len(hits)
    log("searches done")

    # Cold: a model this process has not loaded yet (each sample a different model).
    cold, warm, first = [], [], []
    cold_names = names[1 : 1 + args.cold]
    for name in cold_names:
        x = workload.row(name.split("-")[0])
        t0 = time.perf_counter()
        model = mlflow.pyfunc.load_model(f"models:/{name}@{workload.ALIAS}")
        t1 = time.perf_counter()
        model.predict(x)
        t2 = time.perf_counter()
        cold.append((t2 - t0) * 1000)
        first.append((t1 - t0) * 1000)
        for _ in range(max(1, args.warm // max(1, len(cold_names)))):
            t0 = time.perf_counter()
            model.predict(x)
            warm.append(ms_since(t0))
    out["cold_ms"], out["cold_load_only_ms"], out["warm_ms"] = cold, first, warm
    log("load/predict done")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
