"""Run generated statements on both engines; print or write the differences.

    python -m tests.sqlpp_reference.run --seed 1 --count 2000            # one fixed corpus
    python -m tests.sqlpp_reference.run --minutes 30 --out diffs.py      # random seeds

With ``--out`` every difference is appended as a ready regression case: a
``(statement, params, reason)`` tuple to paste into ``regressions.py``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any


def setup() -> tuple[Any, Any]:
    """Return (embedded store, cbq engine) over the reference documents."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
    import django

    django.setup()
    from .cbq import CbqEngine, engine_path, missing_reason, write_documents
    from .documents import demo_documents, fixture_documents, load_embedded

    binary = engine_path()
    if binary is None:
        sys.exit(missing_reason())
    root = Path(tempfile.mkdtemp(prefix="sqlpp-reference-"))
    keyspaces = demo_documents(root) | fixture_documents()
    write_documents(root / "cbq-data", keyspaces)
    store = load_embedded(root / "embedded.sqlite3", keyspaces)
    return store, CbqEngine(binary, root / "cbq-data")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=None, help="one fixed seed (default: random)")
    ap.add_argument("--count", type=int, default=2000, help="statements per seed")
    ap.add_argument("--minutes", type=float, default=0, help="keep drawing seeds this long")
    ap.add_argument("--out", type=Path, default=None, help="append differences to this file")
    ap.add_argument("-v", action="store_true", help="print every difference")
    args = ap.parse_args()
    from .compare import NO_REFERENCE, check_many
    from .corpus import statements

    store, cbq = setup()
    tried, found, unanswered, reasons = 0, 0, 0, Counter()
    stop = time.monotonic() + args.minutes * 60
    t0 = time.monotonic()
    try:
        while True:
            seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
            for statement, params, why in check_many(store, cbq, statements(seed, args.count)):
                tried += 1
                if why is None:
                    continue
                if why.startswith(NO_REFERENCE):
                    unanswered += 1
                    if args.out:  # not a difference; kept, commented out, to look into
                        with args.out.open("a") as f:
                            f.write(
                                f"    # {why[:200]}: {statement!r}, {params!r}  # seed {seed}\n"
                            )
                    continue
                found += 1
                reasons[why.split(" (")[0][:60]] += 1
                if args.v:
                    print(f"--- {why}\n{statement}\n{params}")
                if args.out:
                    with args.out.open("a") as f:
                        f.write(f"    ({statement!r}, {params!r}, {why[:300]!r}),  # seed {seed}\n")
            if args.seed is not None or time.monotonic() > stop:
                break
    finally:
        cbq.stop()
        store.close()
    took = time.monotonic() - t0
    print(
        f"{tried} statements in {took:.0f} s, {tried - found - unanswered} identical, "
        f"{found} differ, {unanswered} without a reference answer"
    )
    for why, n in reasons.most_common():
        print(f"  {n:5d}  {why}")


if __name__ == "__main__":
    main()
