"""Several learner processes on one model never lose a batch (CAS on the state head)."""

from __future__ import annotations

import multiprocessing

from sklearn.linear_model import SGDClassifier

from catalog.domain.registry import Registry
from catalog.store import open_store
from inference.learning import learn, learning_head, start_learning
from inference.learning_history import all_history as learning_history
from tests.inference.test_learning import iris_split

LEARNERS = 3
STEPS = 5
BATCH = 8


def learner(url: str, index: int) -> list[dict]:
    """Run STEPS learning steps with this learner's own batches; return their results."""
    store = open_store(url)
    reg = Registry(store)
    Xtr, _, ytr, _ = iris_split()
    results = []
    for step in range(STEPS):
        start = 30 + (index * STEPS + step) * 2  # overlapping rows are fine: ids differ
        rows = slice(start, start + BATCH)
        result = learn(reg, "iris", Xtr[rows], ytr[rows], batch_id=f"L{index}-S{step}")
        results.append(result.to_dict())
    store.close()
    return results


def test_concurrent_learners_count_every_batch(tmp_path):
    url = f"embedded://{tmp_path / 'catalog.sqlite3'}"
    store = open_store(url)
    reg = Registry(store)
    Xtr, Xh, ytr, yh = iris_split()
    start_learning(reg, "iris", SGDClassifier(random_state=0), Xtr[:30], ytr[:30], holdout=(Xh, yh))

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(LEARNERS) as pool:
        outcomes = pool.starmap(learner, [(url, i) for i in range(LEARNERS)])

    results = [r for batch in outcomes for r in batch]
    assert len(results) == LEARNERS * STEPS
    head = learning_head(reg, "iris")
    assert head["rowsSeen"] == 30 + LEARNERS * STEPS * BATCH
    assert head["generation"] == 1 + LEARNERS * STEPS
    history = learning_history(reg, "iris")
    expected = {f"L{i}-S{s}" for i in range(LEARNERS) for s in range(STEPS)}
    assert {h["batchId"] for h in history} == expected | {"initial"}
    assert len(history) == 1 + LEARNERS * STEPS
    # each version's rowsSeen is unique: generations are a chain, no two steps shared one
    assert sorted(h["rowsSeen"] for h in history) == [30 + BATCH * g for g in range(16)]
    assert sorted(h["generation"] for h in history) == list(range(1, 17))
    by_generation = {h["generation"]: h for h in history}
    for g in range(2, 17):
        assert by_generation[g]["parent"] == by_generation[g - 1]["version"]
    assert reg.aliases("iris")["latest"] == max(h["version"] for h in history)
    # only the newest state is kept: superseded and conflicting ones were removed
    states = [key for key, value, _ in store.scan(reg.ks.states) if isinstance(value, bytes)]
    assert states == [head["stateKey"]]
    store.close()
