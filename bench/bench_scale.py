"""Benchmark the catalog at the scale online learning reaches (a plain script, not a test).

Builds three embedded catalogs in one run: a large one (1,000 models of 80 versions plus one
model with 20,000: online learning republishes after every batch) and two small ones of about
1,000 versions, one deep (10 models of 80 versions plus one of 200) and one wide (800 models of
one version plus one of 200). Lists and searches are over models, so the wide one, with about
as many models as the large one, tells what 100 times more versions cost alone; the deep one
tells what the models and versions together cost. The version documents are real: one iris SVC and one SGD classifier converted
by skl2onnx and published through the registry, then copied with new names, versions,
metadata and lineage through the store's own write path (``upsert_many``, which keeps the
full-text index in the same transaction). Then, in-process through the Django test client,
it times every page and API a user reaches, the README's SQL++, selective statements of each
index shape, a whole-catalog aggregate, and a publish through the registry, against two
baselines measured in the same run: ``store.get`` of one document and a raw scan of all of
them. The process's startup heap is frozen from the garbage collector first, as a served
worker's is (``catalog.shell.heap``).

    .venv/bin/python bench/bench_scale.py                      # 1,000 and 100,000 versions
    .venv/bin/python bench/bench_scale.py --models 100 --versions 40 --big 4000   # quicker

Results: a markdown table on stdout (and ``--out FILE``); p50 and p95 in milliseconds, and
each large-catalog figure as a ratio to each small catalog's figure.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")

import django  # noqa: E402

django.setup()

from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from catalog.domain.model_input import to_model_proto  # noqa: E402
from catalog.domain.registry import Registry, version_key  # noqa: E402
from catalog.domain.setup import init_catalog  # noqa: E402
from catalog.shell.heap import freeze_startup_heap  # noqa: E402
from catalog.store import open_store  # noqa: E402

BIG_MODEL = "online-big"
PUBLISH_WARMUP = 20
# The model publish_rates publishes; its versions are removed again afterwards (``purge``).
RATE_MODEL = "publish-rate"
TAGS = ["iris", "svm", "vision", "nlp", "tabular", "medical", "finance", "demo"]
TASKS = ["classification", "regression", "clustering"]
SQL = {
    "README: operator ANY": 'SELECT m.name, m.version FROM models m WHERE ANY n IN m.onnx.graph.node SATISFIES n.opType = "SVMClassifier" END LIMIT 20',
    "README: operator histogram": "SELECT n.opType, COUNT(*) AS uses FROM models m UNNEST m.onnx.graph.node n GROUP BY n.opType ORDER BY uses DESC, n.opType",
    "README: latest of every model": "SELECT m.name, MAX(m.version) AS latest FROM models m GROUP BY m.name ORDER BY m.name",
    "name lookup": 'SELECT m.version FROM models m WHERE m.name = "model-0007"',
    "newest versions of the big model": f'SELECT RAW m.version FROM models m WHERE m.name = "{BIG_MODEL}" ORDER BY m.version DESC LIMIT 20',
    "opTypes ANY": 'SELECT RAW META(m).id FROM models m WHERE ANY o IN m.summary.opTypes SATISFIES o = "SVMClassifier" END LIMIT 20',
    "tag IN": 'SELECT RAW META(m).id FROM models m WHERE "finance" IN m.metadata.tags LIMIT 20',
    "ORDER BY paramCount DESC LIMIT 5": "SELECT m.name, m.version FROM models m ORDER BY m.summary.paramCount DESC LIMIT 5",
    "createdAt range": 'SELECT RAW META(m).id FROM models m WHERE m.createdAt BETWEEN "2026-01-01T00:00:00Z" AND "2026-01-01T00:10:00Z"',
    "framework and task": 'SELECT RAW META(m).id FROM models m WHERE m.metadata.framework = "sklearn" AND m.metadata.task = "regression" LIMIT 20',
}
# Whole-catalog statements: reported per version and as a ratio to the raw scan.
AGGREGATES = ("README: operator histogram", "README: latest of every model")


PLANS: dict[str, str] = {}


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Return (p50, p95) in milliseconds of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def templates(reg: Registry) -> dict[str, dict[str, Any]]:
    """Publish two real models and return their version documents as templates."""
    X, y = load_iris(return_X_y=True)
    reg.publish("template-svc", SVC().fit(X, y), sample_input=X[:1], tags=["iris"])
    sgd = SGDClassifier(random_state=0).fit(X, y)
    reg.publish("template-sgd", sgd, sample_input=X[:1], tags=["iris"])
    return {"svc": reg.document("template-svc", 1), "sgd": reg.document("template-sgd", 1)}


def fill(reg: Registry, models: int, versions: int, big: int, docs: dict[str, Any]) -> int:
    """Write models x versions + one model with ``big`` versions; return the version count."""
    rnd = random.Random(0)
    plan = [(f"model-{i:04d}", versions, "svc" if i % 2 else "sgd") for i in range(models)]
    plan.append((BIG_MODEL, big, "sgd"))
    written = 0
    for name, count, kind in plan:
        batch: dict[str, Any] = {}
        for v in range(1, count + 1):
            doc = copy.deepcopy(docs[kind])
            minute, second = divmod(written % 3600, 60)
            doc |= {
                "name": name,
                "version": v,
                "createdAt": f"2026-01-01T{(written // 3600) % 24:02d}:{minute:02d}:{second:02d}Z",
                "lineage": {"parent": v - 1 or None, "batchId": f"b{v}", "rowsSeen": 30 * v},
            }
            doc["metadata"] = {
                **doc["metadata"],
                "tags": rnd.sample(TAGS, 2),
                "task": rnd.choice(TASKS),
                "metrics": {"accuracy": round(rnd.random(), 4)},
            }
            batch[version_key(name, v)] = doc
            written += 1
            if len(batch) == 500:
                reg.store.upsert_many(reg.ks.models, batch)
                batch = {}
        if batch:
            reg.store.upsert_many(reg.ks.models, batch)
        reg.store.upsert(
            reg.ks.aliases,
            name,
            {
                "name": name,
                "aliases": {"latest": count, "production": max(count - 1, 1)},
                "maxVersion": count,
            },
        )
    return written


def measure(url: str, runs: int) -> dict[str, tuple[float, float, int]]:
    """Return {what: (p50 ms, p95 ms, bytes)} of every page, API and statement."""
    out: dict[str, tuple[float, float, int]] = {}
    with override_settings(CATALOG_STORE=url, DEBUG=False):
        from catalog.store import get_store

        store = get_store()

        def sql(statement: str, **options: Any) -> list[Any]:
            return store.query(statement, query_context="ml.catalog", timeout=900, **options)

        for what, statement in SQL.items():
            rows = sql(statement)
            p50, p95 = timed(lambda s=statement: sql(s), max(runs // 2, 3))
            out[f"SQL++ {what}"] = (p50, p95, len(rows))
            scan = sql("EXPLAIN " + statement)[0]["plan"]["~children"][0]
            PLANS[what] = scan.get("index") or scan["#operator"]
            if what not in AGGREGATES:  # the same statement as a full scan, for the ratio
                started = time.perf_counter()
                sql(statement, use_indexes=False)
                once = (time.perf_counter() - started) * 1000
                out[f"SQL++ {what} (indexes off, one run)"] = (once, once, len(rows))
        key = version_key(BIG_MODEL, 1)
        out["store.get (baseline)"] = (
            *timed(lambda: store.get("ml.catalog.models", key), runs * 10),
            0,
        )
        count = sum(1 for _ in store.scan("ml.catalog.models"))
        p50, p95 = timed(lambda: sum(1 for _ in store.scan("ml.catalog.models")), 3)
        out["raw scan of every version (baseline)"] = (p50, p95, count)
    return out


PAGES = {
    "model list": "/models/",
    "model page (big model)": f"/models/{BIG_MODEL}/",
    "versions page (big model)": f"/models/{BIG_MODEL}/versions",
    "versions JSON (big model)": f"/models/{BIG_MODEL}/versions?format=json",
    "diff (big model)": f"/models/{BIG_MODEL}/diff?a=1&b=2",
    "OIP model metadata (big model)": f"/v2/models/{BIG_MODEL}",
    "prediction page (big model)": f"/models/{BIG_MODEL}/predict",
    "search: tags:finance": "/api/search?q=tags:finance",
    "search page: classifier": "/search?q=classifier",
    "search: model (a word of nearly every model's name)": "/api/search?q=model",
    # over every version, not the latest of each model: these grow with the matching versions
    "search all versions: tags:finance": "/api/search?q=tags:finance&all_versions=1",
    "home page, all versions (every version matches)": "/?all_versions=1",
    "health (baseline)": "/v2/health/live",
}


def measure_pages(urls: list[str], runs: int) -> list[dict[str, tuple[float, float, int]]]:
    """Return {page: (p50 ms, p95 ms, bytes)} for each catalog. The catalogs take turns, one
    request each, so a machine that slows down (a shared VM) slows all of them alike and the
    ratios between them hold.

    Only the store changes from one request to the next. DEBUG is set once: overriding it
    for each request made Django drop its template engines every time (its setting_changed
    receiver for DEBUG), so every HTML page parsed its templates again, as no served worker
    does: up to 18 ms of the versions page's time in runs 1-20."""
    clients = [Client() for _ in urls]
    times: list[dict[str, list[float]]] = [{what: [] for what in PAGES} for _ in urls]
    sizes: list[dict[str, int]] = [{} for _ in urls]
    with override_settings(DEBUG=False):
        for what, path in PAGES.items():
            for i, url in enumerate(urls):  # warm-up, and the size of the answer
                with override_settings(CATALOG_STORE=url):
                    sizes[i][what] = len(clients[i].get(path).content)
            for _ in range(runs):
                for i, url in enumerate(urls):
                    with override_settings(CATALOG_STORE=url):
                        started = time.perf_counter()
                        clients[i].get(path)
                        times[i][what].append((time.perf_counter() - started) * 1000)
    out = []
    for i in range(len(urls)):
        figures = {}
        for what, ts in times[i].items():
            ts.sort()
            figures[what] = (
                statistics.median(ts),
                ts[max(int(len(ts) * 0.95) - 1, 0)],
                sizes[i][what],
            )
        out.append(figures)
    return out


def publish_rates(urls: list[str], n: int, rounds: int = 10) -> list[float]:
    """Return small ONNX versions published per second through the registry into each store
    (validation, document conversion, every index and the search index on; the model is
    converted from scikit-learn once, before timing: skl2onnx is not the catalog's cost).

    Every version published in a round is indexed by its end: the round's time includes
    indexing what the search index's queue holds then (``EmbeddedStore.catch_up``).

    Steady state: the first PUBLISH_WARMUP publishes after opening a store are not timed
    (they read the index pages a long-running server holds in its page cache). The stores
    take turns, ``n / rounds`` publishes each per round, in an order that turns from round to
    round, so that a slow spell of the shared machine falls on all of them alike.
    """
    regs = [Registry(open_store(url)) for url in urls]
    X, y = load_iris(return_X_y=True)
    model = to_model_proto(SGDClassifier(random_state=0).fit(X, y), X[:1])[0]
    for reg in regs:
        for _ in range(PUBLISH_WARMUP):  # the page cache fills (a serving process's state)
            reg.publish(RATE_MODEL, model)
        reg.store.catch_up()
    spent = [0.0] * len(regs)
    per_round = max(1, n // rounds)
    for r in range(rounds):
        order = list(range(len(regs)))
        order = order[r % len(order) :] + order[: r % len(order)]
        for i in order:
            started = time.perf_counter()
            for _ in range(per_round):
                regs[i].publish(RATE_MODEL, model)
            regs[i].store.catch_up()  # timed: what the search index's queue still holds
            spent[i] += time.perf_counter() - started
    for reg in regs:
        purge(reg)
        reg.store.close()
    return [per_round * rounds / t for t in spent]


def index_share(path: Path, tmp: Path) -> tuple[int, int]:
    """Return the file size (bytes) with every index and without any (both vacuumed)."""
    with_ix, without = tmp / "with.sqlite3", tmp / "without.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("VACUUM INTO ?", (str(with_ix),))
    conn.close()
    shutil.copy(with_ix, without)
    conn = sqlite3.connect(without, isolation_level=None)
    conn.execute("DELETE FROM index_entries")
    conn.execute("VACUUM")
    conn.close()
    sizes = with_ix.stat().st_size, without.stat().st_size
    with_ix.unlink()
    without.unlink()
    return sizes


def purge(reg: Registry) -> int:
    """Remove the versions ``publish_rates`` published (and the model's alias document), so
    that a catalog kept by ``--dir`` stays as it was built; return how many there were.

    Runs 6-22 did not: each run left its versions in the kept catalogs, and by run 22 the
    large one held 29,878 of them beside its 100,002 (the deep one 12,160 beside 1,002)."""
    keys = reg.store.query(
        "SELECT RAW META(m).id FROM models m WHERE m.name = $name",
        {"name": RATE_MODEL},
        query_context=reg.ks.query_context,
    )
    for start in range(0, len(keys), 1000):  # the index and search entries go with them
        reg.store.remove_many(reg.ks.models, keys[start : start + 1000])
    reg.store.remove_many(reg.ks.aliases, [RATE_MODEL])
    reg.store.catch_up()  # the search index's queue: the kept catalog's index as built
    return len(keys)


def build(path: Path, models: int, versions: int, big: int) -> tuple[str, int, float]:
    url = f"embedded://{path}"
    reg = Registry(open_store(url))
    for _ in init_catalog(reg):
        pass
    docs = templates(reg)
    started = time.perf_counter()
    total = fill(reg, models, versions, big, docs) + 2
    return url, total, time.perf_counter() - started


def kept_or_built(path: Path, models: int, versions: int, big: int) -> tuple[str, int, float]:
    """Build a catalog, or reuse the one an earlier ``--dir`` run built with the same sizes."""
    marker = path.with_suffix(".built")
    sizes = f"{models} {versions} {big}"
    if path.exists() and marker.exists() and marker.read_text().split("\n")[0] == sizes:
        _, total, seconds = marker.read_text().split("\n")
        url = f"embedded://{path}"
        reg = Registry(open_store(url))
        left = purge(reg)  # what an interrupted run (or a run before purge) left
        (found,) = reg.store.query("SELECT RAW COUNT(*) FROM models", None, reg.ks.query_context)
        reg.store.close()
        if left:
            print(f"removed {left:,} versions an earlier run published into {path.name}")
        if found != int(total):
            raise SystemExit(f"{path} holds {found:,} versions, built with {int(total):,}")
        return url, int(total), float(seconds)
    for stale in (path, marker):
        stale.unlink(missing_ok=True)
    url, total, seconds = build(path, models, versions, big)
    marker.write_text(f"{sizes}\n{total}\n{seconds}")
    return url, total, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=80)
    parser.add_argument("--big", type=int, default=20000)
    parser.add_argument("--small-models", type=int, default=10)
    parser.add_argument("--small-versions", type=int, default=80)
    parser.add_argument("--small-big", type=int, default=200)
    parser.add_argument("--wide-models", type=int, default=800)
    parser.add_argument("--wide-versions", type=int, default=1)
    parser.add_argument("--wide-big", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--publishes", type=int, default=200)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--dir", type=Path, help="keep the two catalogs here and reuse them on the next run"
    )
    parser.add_argument("--build-only", action="store_true", help="build the catalogs, stop")
    parser.add_argument("--publish-only", action="store_true", help="measure publishing only")
    args = parser.parse_args()
    setup_test_environment()
    freeze_startup_heap()  # as a served worker does once loaded (catalog/shell/wsgi.py)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.dir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        small_url, small_n, small_s = kept_or_built(
            Path(tmp) / "small.sqlite3", args.small_models, args.small_versions, args.small_big
        )
        wide_url, wide_n, _ = kept_or_built(
            Path(tmp) / "wide.sqlite3", args.wide_models, args.wide_versions, args.wide_big
        )
        large_url, large_n, large_s = kept_or_built(
            Path(tmp) / "large.sqlite3", args.models, args.versions, args.big
        )
        if args.build_only:
            print(f"built {small_n:,}, {wide_n:,} and {large_n:,} versions in {tmp}")
            return
        if args.publish_only:
            (Path(tmp) / "empty.sqlite3").unlink(missing_ok=True)
            empty_url, _, _ = build(Path(tmp) / "empty.sqlite3", 0, 0, 0)
            rates = publish_rates([empty_url, small_url, large_url], args.publishes)
            print(
                f"Publish through the registry (ONNX model, validation on, every index"
                f" maintained): {rates[0]:.0f}/s on an empty store, {rates[1]:.0f}/s at"
                f" {small_n:,} versions, {rates[2]:.0f}/s at {large_n:,}"
                f" ({rates[2] / rates[0]:.2f}x the empty store)."
            )
            return
        pages = measure_pages([small_url, wide_url, large_url], args.runs)
        small = pages[0] | measure(small_url, args.runs)
        wide = pages[1] | measure(wide_url, args.runs)
        large = pages[2] | measure(large_url, args.runs)
        (Path(tmp) / "empty.sqlite3").unlink(missing_ok=True)
        empty_url, _, _ = build(Path(tmp) / "empty.sqlite3", 0, 0, 0)
        rate_empty, rate_small, rate_large = publish_rates(
            [empty_url, small_url, large_url], args.publishes
        )
        size, size_without = index_share(Path(tmp) / "large.sqlite3", Path(tmp))
    deep_m, wide_m, large_m = args.small_models + 1, args.wide_models + 1, args.models + 1
    lines = [
        f"Catalogs: {small_n:,} versions of {deep_m:,} models (deep), {wide_n:,} versions of"
        f" {wide_m:,} models (wide) and {large_n:,} versions of {large_m:,} models (bulk write"
        f" {small_s:.1f} s and {large_s:.1f} s); {args.runs} runs per page, in-process Django"
        " test client. Each ratio is the large catalog's p50 over a small catalog's.",
        "",
        f"| what | p50 ms deep {small_n:,} | p50 ms wide {wide_n:,} | p50 ms at {large_n:,}"
        f" | p95 ms at {large_n:,} | ratio to deep | ratio to wide | size at {large_n:,} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for what, (p50, p95, size_or_rows) in large.items():
        base, base_wide = small[what][0], wide[what][0]
        plan = PLANS.get(what.removeprefix("SQL++ "), "")
        plan = f" ({plan})" if plan else ""
        lines.append(
            f"| {what}{plan} | {base:.2f} | {base_wide:.2f} | {p50:.2f} | {p95:.2f}"
            f" | {p50 / base:.1f}x | {p50 / base_wide:.1f}x | {size_or_rows:,} |"
        )
    raw = large["raw scan of every version (baseline)"][0]
    lines += ["", "Whole-catalog statements at the large size:"]
    for what in AGGREGATES:
        p50 = large[f"SQL++ {what}"][0]
        lines.append(
            f"- {what}: {p50 * 1000 / large_n:.1f} µs per version,"
            f" {p50 / raw:.2f}x the raw scan ({raw * 1000 / large_n:.1f} µs per version)"
        )
    lines += [
        "",
        f"Publish through the registry (ONNX model, validation on, every index maintained):"
        f" {rate_empty:.0f}/s on an empty store, {rate_small:.0f}/s at {small_n:,} versions,"
        f" {rate_large:.0f}/s at {large_n:,} ({rate_large / rate_empty:.2f}x the empty store).",
        f"File size at {large_n:,} versions (vacuumed): {size / 2**20:,.0f} MiB with the"
        f" indexes, {size_without / 2**20:,.0f} MiB without their entries"
        f" ({(size - size_without) / 2**20:,.0f} MiB, {(size - size_without) / size:.1%});"
        f" {size / large_n / 1024:.1f} KiB per version with documents, search and indexes.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
