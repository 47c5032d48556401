"""Benchmark search over a catalog with many versions per model (a plain script, not a test).

Times search requests in-process with the Django test client against a kept catalog (opened,
never written), and compares with another checkout measured in the same run:

    .venv/bin/python bench/bench_search_versions.py --db /work/bench100k/large.sqlite3 \
        --baseline /tmp/fts-base [--runs 7] [--rounds 3]

Each round runs both trees in fresh processes, taking turns to go first; the table shows the
median over every run of both, and the ratio new / baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PATHS = [
    "/api/search?q=tags:finance",
    "/search?q=classifier",
    "/api/search?q=framework:sklearn",
    "/api/search?q=clasifier~1",
    "/api/search?q=name:model-00*",
    "/api/search?q=%2Bframework:pytorch%20-tags:nlp%20network",
    "/api/search?q=summary.paramCount:%3E1000",
    "/api/search?q=classification",
    "/api/search?q=model",
    "/search?q=model",
    "/api/search?q=%22model%200001%22",
    "/search?q=classification&all_versions=on",
    "/api/search?q=tags:finance&all_versions=1",
    "/?all_versions=1",
]


def _measure(db: str, runs: int) -> dict[str, float]:
    """Return {path: median ms} measured in this process (the tree first on sys.path)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
    import django
    from django.test import Client, override_settings

    django.setup()
    out: dict[str, float] = {}
    with override_settings(
        CATALOG_STORE=f"embedded://{db}", ALLOWED_HOSTS=["testserver"], DEBUG=False
    ):
        client = Client()
        for path in PATHS:
            status = client.get(path).status_code  # warm caches, as a running server has them
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            out[path] = statistics.median(times)
            out[path + " status"] = status
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="/work/bench100k/large.sqlite3")
    parser.add_argument("--baseline", help="another checkout to compare with")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.db, args.runs)))
        return
    trees = {"new": HERE} | ({"baseline": Path(args.baseline)} if args.baseline else {})
    medians: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for round_ in range(args.rounds):
        # the trees take turns going first: the second of two processes ran slower here
        # (1.3-1.9x on requests neither tree had changed), whichever tree it was
        order = list(trees.items())
        for name, tree in order if round_ % 2 else reversed(order):
            env = dict(os.environ, PYTHONPATH=str(tree))
            # this script in both: the same requests (PYTHONPATH picks the tree's catalog)
            command = [sys.executable, __file__]
            result = subprocess.run(
                [*command, "--child", "--db", args.db, "--runs", str(args.runs)],
                env=env,
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            )
            for path, ms in json.loads(result.stdout.splitlines()[-1]).items():
                medians[name].setdefault(path, []).append(ms)
    print(f"{'request':<58} {'status':>6} {'new ms':>8}", end="")
    print(f" {'base ms':>8} {'new/base':>8}" if args.baseline else "")
    for path in PATHS:
        new = statistics.median(medians["new"][path])
        print(f"{path:<58} {int(medians['new'][path + ' status'][0]):>6} {new:8.1f}", end="")
        if args.baseline:
            base = statistics.median(medians["baseline"][path])
            print(f" {base:8.1f} {new / base:8.2f}")
        else:
            print()


if __name__ == "__main__":
    main()
