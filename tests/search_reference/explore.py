"""Random exploration of the differences between the embedded store and bleve (not a test).

    python -m tests.search_reference.explore [--queries 5000] [--seed 1] [--demo var/catalog.sqlite3]

``--demo``: an embedded store holding the demo catalog (``./dev.sh`` builds one); without it
only generated versions are indexed.

Prints every query string whose hits, facets or refusal differ, and the figures. Each new
finding becomes a plain regression: a fix in the engine, or an entry of expected.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    """Run the exploration; return 1 when something unexplained differs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")
    from catalog.store import open_store
    from tests.search_reference import compare, corpus
    from tests.search_reference.expected import KNOWN_DIFFERENCES
    from tests.search_reference.oracle import Oracle, missing_reason, oracle_path

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", type=Path, help="an embedded store with the demo catalog")
    args = parser.parse_args()
    binary = oracle_path()
    if binary is None:
        print(missing_reason(), file=sys.stderr)
        return 2
    docs = corpus.generated_documents()
    if args.demo is not None:
        docs = corpus.store_documents(args.demo) + docs
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"embedded://{Path(scratch) / 'explore.sqlite3'}")
        store.ensure_keyspace(corpus.MODELS_KEYSPACE)
        with store.batch():
            for key, doc in docs:
                store.upsert(corpus.MODELS_KEYSPACE, key, doc)
        oracle = Oracle(binary, docs)
        unexplained = non_empty = ordered = 0
        queries = corpus.generated_queries(args.queries, random_seed=args.seed)
        try:
            for q in queries:
                ours, theirs = compare.embedded(store, q), compare.bleve(oracle, q)
                differs = (ours.refused is None) != (theirs.refused is None)
                differs = differs or ours.ids != theirs.ids or ours.facets != theirs.facets
                if differs and q not in KNOWN_DIFFERENCES and ours.refused != "field":
                    unexplained += 1
                    print(
                        f"{q!r}: ours {ours.refused or sorted(ours.ids)[:5]}"
                        f" bleve {theirs.refused or sorted(theirs.ids)[:5]}"
                    )
                elif not differs and ours.hits:
                    non_empty += 1
                    ordered += compare.same_order(ours, theirs)
        finally:
            oracle.close()
            store.close()
    print(
        f"{len(queries)} queries, {unexplained} unexplained differences,"
        f" top-10 order as bleve's for {ordered}/{non_empty}"
    )
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
