"""A publish costs the same whatever the number of versions its model already has.

Online learning publishes a version per batch: a model gathers thousands. A statement of
the write path that walks a model's versions (as the search index's latest flag once did)
makes every publish slower than the one before. SQLite's VM steps of a publish
(tests/sqlite_steps.py) are compared for a model with 2,000 versions and one with 2:
deterministic, unlike a timing.
"""

from __future__ import annotations

from catalog.domain.keys import version_key
from catalog.domain.registry import Registry
from catalog.store import open_store
from tests.models import matmul_model
from tests.sqlite_steps import thousand_steps

DEEP = 2000


def _publish_steps(reg: Registry, name: str) -> int:
    """Return the SQLite VM steps (in thousands) of one publish of ``name``."""
    return thousand_steps(reg.store._conn(), lambda: reg.publish(name, matmul_model(2, 2)))


def test_a_publish_costs_the_same_at_2000_versions_as_at_2(tmp_path):
    reg = Registry(open_store(f"embedded://{tmp_path / 'c.sqlite3'}"))
    for name in ("deep", "shallow"):
        reg.publish(name, matmul_model(2, 2), tags=["t"])
    # 1,999 more versions of "deep" through the store's write path (every index and the
    # search index maintained), copies of its first version: 2 s, against 10 s published.
    first, _ = reg.store.get(reg.ks.models, version_key("deep", 1))
    reg.store.upsert_many(
        reg.ks.models,
        {version_key("deep", v): {**first, "version": v} for v in range(2, DEEP + 1)},
    )
    reg.set_alias("deep", "production", DEEP)  # the aliases document says where it is
    reg.store.upsert(
        reg.ks.aliases,
        "deep",
        {**reg.store.get(reg.ks.aliases, "deep")[0], "maxVersion": DEEP},
    )
    shallow = [_publish_steps(reg, "shallow") for _ in range(3)]
    deep = [_publish_steps(reg, "deep") for _ in range(3)]
    assert reg.resolve("deep", None) == DEEP + 3
    # A walk over 2,000 index entries costs about 9 (thousand steps); a publish about 1-2.
    assert max(deep) <= max(shallow) + 2, (shallow, deep)
    reg.store.close()
