"""The all-versions shortcuts against the general path, over generated catalogs.

A search of one keyword value over every version is answered per keyset (``one_value``)
and a lone ``*`` from FTS5's row count (``engine._everything_score``). On catalogs drawn by
hypothesis (repeated values, versions without a field's values, replaced and removed
versions), each such search must give the hits, scores, total, facets and fragments that
scoring every match gives (the shortcuts switched off).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from catalog.search import engine, index_name
from catalog.search.samples import model_doc
from catalog.store import open_store

KS = "ml.catalog.models"
INDEX = index_name("ml", "catalog")
TAGS = ["iris", "wine", "svm", "nlp", "tuned", "iris-2", "Iris"]
FRAMEWORKS = ["pytorch", "scikit-learn", "xgboost"]
OPS = ["Conv", "MatMul", "Relu", "ZipMap"]

_versions = st.lists(
    st.fixed_dictionaries(
        {
            "model": st.integers(0, 3),
            "tags": st.lists(st.sampled_from(TAGS), max_size=4),  # repeats kept
            "framework": st.sampled_from(FRAMEWORKS),
            "ops": st.lists(st.sampled_from(OPS), min_size=1, max_size=3),
        }
    ),
    min_size=1,
    max_size=24,
)
_changes = st.lists(st.tuples(st.sampled_from(["remove", "retag"]), st.integers(0, 30)), max_size=4)
_queries = st.sampled_from(
    [f"tags:{t}" for t in TAGS]
    + [f"framework:{f}" for f in FRAMEWORKS]
    + [f"opTypes:{o}" for o in OPS]
    + ["+tags:iris", "tags:wine^0.5", "format:json", "tags:absent", "*", "*^2"]
)
_pages = st.tuples(st.integers(0, 30), st.integers(0, 12))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return itertools.count(), tmp_path_factory.mktemp("shortcuts")


def _catalog(path, versions, changes):
    store = open_store(f"embedded://{path}")
    counters: dict[int, int] = {}
    keys = []
    for v in versions:
        name = f"model-{v['model']}"
        counters[v["model"]] = version = counters.get(v["model"], 0) + 1
        key = f"{name}::{version}"
        doc = model_doc(name, version, tags=v["tags"], framework=v["framework"], op_types=v["ops"])
        store.upsert(KS, key, doc)
        keys.append((key, doc))
    for what, i in changes:
        key, doc = keys[i % len(keys)]
        if what == "remove":
            store.remove_many(KS, [key])
        else:
            store.upsert(KS, key, dict(doc, metadata={**doc["metadata"], "tags": ["nlp", "nlp"]}))
    return store


def _result(store, query, offset, limit, taken=None, **switches):
    """Return a search's result with the engine's ``switches`` set; ``taken``: a list that
    gets the names of the shortcuts that answered it."""
    saved = {name: getattr(engine, name) for name in switches}
    for name, value in switches.items():
        setattr(engine, name, value)
    ranks = {name: getattr(engine, name) for name in ("_rank_everything", "_rank_one_value")}

    def recording(name):
        def rank(*args, **kwargs):
            ranked = ranks[name](*args, **kwargs)
            if ranked is not None and taken is not None:
                taken.append(name)
            return ranked

        return rank

    for name in ranks:
        setattr(engine, name, recording(name))
    try:
        return store.search(
            INDEX,
            query,
            all_versions=True,
            offset=offset,
            limit=limit,
            fields=["*"],
            facets={"tags": {"field": "tags", "size": 3}, "fw": "framework", "ops": "opTypes"},
        )
    finally:
        for name, value in (saved | ranks).items():
            setattr(engine, name, value)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=_versions, changes=_changes, queries=st.lists(_queries, min_size=1, max_size=4),
       page=_pages)  # fmt: skip
def test_the_shortcuts_give_what_scoring_every_match_gives(files, versions, changes, queries, page):
    counter, folder = files
    store = _catalog(folder / f"c{next(counter)}.sqlite3", versions, changes)
    try:
        assert store.check_integrity() == []
        for query in queries:
            taken: list[str] = []
            fast = _result(store, query, *page, taken)
            assert taken == ["_rank_everything" if "*" in query else "_rank_one_value"], query
            slow = _result(
                store, query, *page, _one_value_shortcut=False, _everything_shortcut=False
            )
            assert fast.total == slow.total, query
            assert [(h.id, h.score) for h in fast.hits] == [(h.id, h.score) for h in slow.hits]
            assert fast.hits == slow.hits, query
            assert fast.facets == slow.facets, query
    finally:
        store.close()
