"""Benchmark the cost of a full scan per version document, this branch against main (a script).

Builds one embedded catalog of real version documents (four skl2onnx models published
through the registry, copied under new keys with ``store.upsert_many`` as bench_scale.py
does), then reads it with two stores side by side in one process: the ``EmbeddedStore`` of
``--baseline`` (default ``main``, loaded from ``git show REF:catalog/store/embedded.py``) and
this tree's. Runs are interleaved, timed in CPU time of the thread (``time.thread_time``: on a
shared, loaded machine wall time mostly measures waiting for a core), and each figure is the
median of ``--runs``: report the ratios, not the absolute times.

Measured: a full ``store.scan`` of the models keyspace (documents dropped as read, and kept
in a list as the SQL++ engine and the registry do), ``SELECT COUNT(*) FROM models m``, the
README's operator histogram; and where the time goes: SQLite alone, decoding alone, the
cyclic garbage collector (timed with ``gc.callbacks``), a cProfile of the histogram, and the
memory a decoded document takes (what a cache of decoded documents would have to hold).

    .venv/bin/python bench/bench_scan.py                     # 2,000 versions, 7 runs
    .venv/bin/python bench/bench_scan.py --versions 500 --runs 3 --out bench/results/scan.md
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import io
import json
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")

import django  # noqa: E402

django.setup()

from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from catalog.domain.registry import Registry, version_key  # noqa: E402
from catalog.domain.setup import init_catalog  # noqa: E402
from catalog.store import decode  # noqa: E402
from catalog.store.embedded import EmbeddedStore  # noqa: E402

KS = "ml.catalog.models"
COUNT = "SELECT COUNT(*) FROM models m"
HISTOGRAM = (
    "SELECT n.opType, COUNT(*) AS uses FROM models m UNNEST m.onnx.graph.node n GROUP BY n.opType"
)


def build(path: Path, versions: int) -> None:
    """Publish four real models and copy their documents up to ``versions`` documents."""
    reg = Registry(EmbeddedStore(path))
    for _ in init_catalog(reg):
        pass
    X, y = load_iris(return_X_y=True)
    models = {
        "svc": SVC().fit(X, y),
        "sgd": SGDClassifier(random_state=0).fit(X, y),
        "tree": DecisionTreeClassifier(random_state=0).fit(X, y),
        "pipe": make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y),
    }
    docs = []
    for name, model in models.items():
        reg.publish(f"template-{name}", model, sample_input=X[:1], tags=["iris"])
        docs.append(reg.document(f"template-{name}", 1))
    batch: dict[str, Any] = {}
    for i in range(versions - len(docs)):
        doc = copy.deepcopy(docs[i % len(docs)])
        doc |= {"name": f"model-{i % 50:03d}", "version": i // 50 + 1}
        batch[version_key(doc["name"], doc["version"])] = doc
        if len(batch) == 500:
            reg.store.upsert_many(reg.ks.models, batch)
            batch = {}
    if batch:
        reg.store.upsert_many(reg.ks.models, batch)


def baseline_store_class(ref: str) -> type:
    """Return the EmbeddedStore class of ``ref``'s catalog/store/embedded.py."""
    source = subprocess.run(
        ["git", "show", f"{ref}:catalog/store/embedded.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("catalog.store._embedded_baseline")
    module.__file__ = f"<{ref}:catalog/store/embedded.py>"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module.EmbeddedStore


class GcTimer:
    """Time spent in the cyclic garbage collector, from gc.callbacks."""

    def __init__(self) -> None:
        self.total, self._start = 0.0, 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.total += time.thread_time() - self._start


def operations(store: Any) -> dict[str, Callable[[], Any]]:
    return {
        "store.scan, documents dropped": lambda: sum(1 for _ in store.scan(KS)),
        "store.scan, documents kept (list)": lambda: len(list(store.scan(KS))),
        "SELECT COUNT(*)": lambda: store.query(COUNT, query_context="ml.catalog"),
        "operator histogram (UNNEST, GROUP BY)": lambda: store.query(
            HISTOGRAM, query_context="ml.catalog"
        ),
    }


def components(path: Path) -> dict[str, Callable[[], Any]]:
    """The parts of a scan measured alone: SQLite reads, and each decoder on kept rows."""
    conn = sqlite3.connect(path)
    select = "SELECT key, cas, is_binary, value FROM docs WHERE keyspace = ? ORDER BY key"
    rows = conn.execute(select, (KS,)).fetchall()
    texts = [r[3] for r in rows]
    return {
        "SQLite rows only": lambda: len(conn.execute(select, (KS,)).fetchall()),
        "decode: json.loads": lambda: len([json.loads(t) for t in texts]),
        "decode: orjson guarded (decode.loads)": lambda: len([decode.loads(t) for t in texts]),
    }


def decoded_size(path: Path, sample: int = 200) -> tuple[int, int]:
    """Return (JSON bytes, Python bytes) of ``sample`` decoded documents (tracemalloc)."""
    conn = sqlite3.connect(path)
    texts = [r[0] for r in conn.execute("SELECT value FROM docs WHERE keyspace = ?", (KS,))]
    texts = texts[:sample]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    docs = [decode.loads(t) for t in texts]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del docs
    return sum(len(t.encode()) for t in texts), after - before


def interleaved(
    cases: dict[str, Callable[[], Any]], runs: int, gc_timer: GcTimer
) -> dict[str, tuple[float, float]]:
    """Return {case: (median seconds, median GC seconds)}, cases run in turn ``runs`` times."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    gcs: dict[str, list[float]] = {k: [] for k in cases}
    for fn in cases.values():
        fn()  # warm-up
    for _ in range(runs):
        for name, fn in cases.items():
            gc.collect()
            gc_before = gc_timer.total
            started = time.thread_time()
            fn()
            times[name].append(time.thread_time() - started)
            gcs[name].append(gc_timer.total - gc_before)
    return {k: (statistics.median(times[k]), statistics.median(gcs[k])) for k in cases}


def profile(fn: Callable[[], Any], lines: int) -> str:
    """Return the top ``lines`` functions by own time of one call of ``fn``."""
    prof = cProfile.Profile()
    saved, gc.callbacks[:] = gc.callbacks[:], []  # keep the GC timer out of the profile
    gc.collect()
    prof.enable()
    fn()
    prof.disable()
    gc.callbacks[:] = saved
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(lines)
    text = out.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip().replace(str(ROOT) + "/", "").replace(sys.prefix, "<py>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default="main", help="git ref of the baseline store")
    parser.add_argument("--db", type=Path, help="reuse (or build once into) this file")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    gc_timer = GcTimer()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "scan.sqlite3"
        if not path.exists():
            build(path, args.versions)
        stores = {"baseline": baseline_store_class(args.baseline)(path), "new": EmbeddedStore(path)}
        n = stores["new"].count(KS)
        cases = {
            f"{what}|{side}": fn
            for side, store in stores.items()
            for what, fn in operations(store).items()
        }
        cases |= {f"{what}|part": fn for what, fn in components(path).items()}
        result = interleaved(cases, args.runs, gc_timer)
        profiles = {
            side: profile(operations(store)["operator histogram (UNNEST, GROUP BY)"], 14)
            for side, store in stores.items()
        }
        json_bytes, python_bytes = decoded_size(path)
    us = 1e6 / n
    lines = [
        f"# Full-scan cost per version document: {args.baseline} against this branch",
        "",
        f"{n:,} real version documents (4 skl2onnx models, copied), one process, the two stores"
        f" read in turn; median of {args.runs} interleaved runs; CPU µs per version (thread"
        " time); GC = time in the cyclic garbage collector during the run (gc.callbacks).",
        "",
        f"| operation | {args.baseline} µs/version (GC) | new µs/version (GC) | speed-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    for what in operations(stores["new"]):
        (old, old_gc), (new, new_gc) = result[f"{what}|baseline"], result[f"{what}|new"]
        lines.append(
            f"| {what} | {old * us:,.0f} ({old_gc * us:,.0f}) | {new * us:,.0f} ({new_gc * us:,.0f})"
            f" | {old / new:.2f}x |"
        )
    lines += ["", "Parts of a scan, measured alone in the same runs (rows kept):", ""]
    lines += ["| part | µs/version (GC) |", "| --- | ---: |"]
    for key, (t, g) in result.items():
        if key.endswith("|part"):
            lines.append(f"| {key[:-5]} | {t * us:,.0f} ({g * us:,.0f}) |")
    lines += [
        "",
        f"A decoded document takes {python_bytes / json_bytes:.0f}x its JSON in memory"
        f" ({python_bytes / 200 / 1024:.0f} KiB against {json_bytes / 200 / 1024:.1f} KiB,"
        " tracemalloc over 200 documents).",
    ]
    for side, text in profiles.items():
        name = args.baseline if side == "baseline" else "new"
        lines += ["", f"cProfile of the operator histogram, {name} (top by own time):", ""]
        lines += ["```", text, "```"]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
