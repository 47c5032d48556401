"""The generated corpus: the same answers as cbq-engine, statement by statement.

A fixed seed makes the corpus the same in every run. A difference that is not a known one
(``known.py``, each explained in ``catalog/sqlpp/README.md``) fails the test with the
statement to reproduce it. ``./dev.sh fuzz`` runs the same generator with random seeds.
"""

from __future__ import annotations

import os
import time

from .compare import NO_REFERENCE, check_many
from .corpus import statements
from .known import KNOWN

SEED = 20261130
SIZE = int(os.environ.get("SQLPP_CORPUS_SIZE", "2000"))


def test_generated_corpus_matches_couchbase(reference):
    t0 = time.monotonic()
    found, unknown, no_reference, fixed = [], [], 0, []
    for statement, params, why in check_many(
        reference.store, reference.cbq, statements(SEED, SIZE)
    ):
        if why is None:
            if statement in KNOWN:
                fixed.append(statement)
            continue
        if why.startswith(NO_REFERENCE):
            no_reference += 1
            continue
        found.append(statement)
        if statement not in KNOWN:
            unknown.append(f"{why}\n    {statement!r}, {params!r}")
    took = time.monotonic() - t0
    print(f"\n{SIZE} statements in {took:.0f} s: {SIZE - len(found) - no_reference} identical, "
          f"{len(found)} known differences, {no_reference} without a reference answer")  # fmt: skip
    assert not unknown, f"{len(unknown)} new differences:\n" + "\n".join(unknown[:20])
    if SIZE == 2000:  # the known list is for the fixed corpus
        assert not fixed, "fixed, remove from known.py:\n" + "\n".join(map(repr, fixed))
