"""Benchmark full-text search on the embedded store (a plain script, not a test).

Builds a 1,000-version catalog (200 models x 5 versions), then times term, phrase, fuzzy,
wildcard, range and faceted queries against a key-value ``get`` measured in the same run.

    .venv/bin/python bench/bench_search.py [--models 200] [--versions 5] [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.search import engine, index_name  # noqa: E402
from catalog.search.samples import catalog  # noqa: E402
from catalog.store import open_store  # noqa: E402

KEYSPACE = "ml.catalog.models"
INDEX = index_name("ml", "catalog")
# The acceptance target for term, phrase, fuzzy and faceted queries.
TARGET_P50_MS = 10.0


def _percentiles(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm caches (statements, vocabulary) as a running server would have them
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    """Run the benchmark and print a table of p50/p95 per query."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"embedded://{tmp}/bench.sqlite3")
        docs = dict(catalog(args.models, args.versions))
        started = time.perf_counter()
        for start in range(0, len(docs), 100):
            store.upsert_many(KEYSPACE, dict(list(docs.items())[start : start + 100]))
        load_s = time.perf_counter() - started
        print(
            f"{len(docs)} versions indexed in {load_s:.2f} s "
            f"({load_s / len(docs) * 1000:.2f} ms per version)\n"
        )

        some_key = next(iter(docs))
        base_p50, base_p95 = _percentiles(lambda: store.get(KEYSPACE, some_key), args.runs)
        cases: list[tuple[str, str, dict, bool]] = [
            ("term", "classifier", {}, True),
            ("term, all versions", "classifier", {"all_versions": True}, False),
            ("field term", "tags:vision", {}, True),
            ("phrase", '"data set"', {}, True),
            ("fuzzy ~1", "clasifier~1", {}, True),
            ("fuzzy ~2", "transfomer~2", {}, False),
            ("prefix", "conv*", {}, False),
            ("wildcard ?", "t?ned", {}, False),
            ("numeric range", "paramCount:>1000000", {}, False),
            ("boolean", "+framework:pytorch -tags:nlp network", {}, False),
            ("faceted + filter", "network", {"filters": {"tags": ["vision"]}}, True),
            ("faceted, no highlight", "network", {"highlight": False}, True),
        ]
        print(f"{'query':<24} {'string':<40} {'hits':>5} {'p50 ms':>8} {'p95 ms':>8} {'x get':>7}")
        print(
            f"{'get (baseline)':<24} {'store.get':<40} {'':>5} {base_p50:8.3f} "
            f"{base_p95:8.3f} {1.0:7.1f}"
        )
        failed = []
        for label, query, options, targeted in cases:
            result = store.search(INDEX, query, **options)
            p50, p95 = _percentiles(
                lambda q=query, o=options: store.search(INDEX, q, **o), args.runs
            )
            flag = " *" if targeted and p50 > TARGET_P50_MS else ""
            if flag:
                failed.append(label)
            print(
                f"{label:<24} {query:<40} {result.total:>5} {p50:8.3f} {p95:8.3f} "
                f"{p50 / base_p50:7.1f}{flag}"
            )

        def cold_fuzzy() -> object:
            engine._vocab._entries.clear()  # as after a write: the vocabulary is re-read
            return store.search(INDEX, "clasifier~1")

        p50, p95 = _percentiles(cold_fuzzy, args.runs)
        label, query = "fuzzy ~1, after a write", "clasifier~1"
        print(f"{label:<24} {query:<40} {'':>5} {p50:8.3f} {p95:8.3f} {p50 / base_p50:7.1f}")
        print(
            f"\ntarget: term, phrase, fuzzy ~1 and faceted p50 <= {TARGET_P50_MS} ms"
            f" (facets tags/framework/task/opTypes over all matches, 10 hits highlighted)"
        )
        print("result:", "all within target" if not failed else f"over target: {failed}")
        store.close()


if __name__ == "__main__":
    main()
