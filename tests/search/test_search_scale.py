"""Search over many versions per model: scoring only the latest versions changes nothing.

With few documents to return next to the index's (the latest versions of models with many
versions), the engine looks each clause up for those documents only, counting document
frequencies over the whole index. These tests run the same searches that way and with every
clause evaluated over all its postings (``engine._full_postings``, the earlier algorithm) and
want the very same hits, scores, fragments, totals and facets.
"""

from __future__ import annotations

import math
import random
import struct
from datetime import UTC, datetime, timedelta

import pytest

from catalog.search import engine, index_name, kept, ranking, scoring
from catalog.search.samples import _DATASETS, _FAMILIES, catalog, model_doc
from catalog.store import open_store

KS = "ml.catalog.models"
INDEX = index_name("ml", "catalog")
BIG_VERSIONS = 300
SEED = 20261130
QUERIES = 160

_WORDS = [
    "classifier", "network", "regression", "forest", "iris", "data", "set", "trained",
    "batch", "tuned", "vision", "transformer", "sentiment", "reviews", "gradient", "trees",
    "svm", "tabular", "grace", "ada", "skl2onnx", "churn", "detector", "conv", "export",
]  # fmt: skip
_KEYWORDS = {
    "tags": ["iris", "wine", "svm", "tabular", "vision", "nlp", "tuned", "pruned", "churn"],
    "framework": ["pytorch", "scikit-learn", "tensorflow", "lightgbm"],
    "task": ["classification", "regression", "ranking", "forecasting"],
    "opTypes": ["Conv", "ZipMap", "MatMul", "TreeEnsembleRegressor", "LSTM", "Relu"],
    "format": ["json", "binary"],
}
_RANGES = [
    "paramCount:>1000000", "paramCount:<=250000", "paramCount:>=100", "version:>=3",
    "version:<2", "version:2", "sizeBytes:<5000000", 'createdAt:>"2026-01-05"',
    'createdAt:<="2026-01-09T12:00:00Z"', "nodeCount:>4",
]  # fmt: skip
_PHRASES = ['"data set"', '"trained on the iris data"', '"gradient boosted trees"',
            'description:"image classification"', '"set of data"', '"churn model"']  # fmt: skip


def _big_model() -> dict[str, dict]:
    """One model whose 300 versions wander over the families, tags, sizes and dates."""
    rng = random.Random(3)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    docs = {}
    for v in range(1, BIG_VERSIONS + 1):
        framework, producer, task, ops, tags, words = _FAMILIES[(v * 5) % len(_FAMILIES)]
        dataset = _DATASETS[v % len(_DATASETS)]
        docs[f"churn-big::{v}"] = model_doc(
            "churn-big",
            v,
            description=f"{words} churn model on {dataset} data set, batch {v % 7}",
            tags=[dataset, *tags[: 1 + v % 2], "churn"],
            framework=framework,
            task=task,
            op_types=ops[: 1 + v % len(ops)],
            producer=producer,
            created_at=(start + timedelta(days=v)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            param_count=rng.randint(100, 5_000_000),
            size_bytes=rng.randint(2_000, 20_000_000),
            binary=v % 11 == 0,
        )
    return docs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = open_store(f"embedded://{tmp_path_factory.mktemp('scale')}/c.sqlite3")
    docs = _big_model() | dict(catalog(models=16, versions=3, seed=5))
    items = list(docs.items())
    for start in range(0, len(items), 100):
        s.upsert_many(KS, dict(items[start : start + 100]))
    yield s
    s.close()


@pytest.fixture
def shortcut_taken(monkeypatch):
    """Record, for each search, whether its clauses were looked up for a few docs only."""
    taken: list[bool] = []
    evaluator = engine._Evaluator

    class Recording(evaluator):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            taken.append(self.only is not None)

    monkeypatch.setattr(engine, "_Evaluator", Recording)
    return taken


def _both(store, monkeypatch, query: str, **options):
    """Return the result of a search with the shortcut, then with every posting."""
    options = {"limit": 100, "fields": ["*"]} | options
    fast = store.search(INDEX, query, **options)
    monkeypatch.setattr(engine, "_full_postings", True)
    try:
        full = store.search(INDEX, query, **options)
    finally:
        monkeypatch.setattr(engine, "_full_postings", False)
    return fast, full


def _same(fast, full, query: str) -> None:
    assert fast.total == full.total, query
    assert [(h.id, h.score) for h in fast.hits] == [(h.id, h.score) for h in full.hits], query
    assert fast.hits == full.hits, query  # stored fields and highlighted fragments too
    assert fast.facets == full.facets, query


def _clause(rng: random.Random) -> str:
    kind = rng.choice(["word", "word", "keyword", "fuzzy", "wildcard", "regexp", "range",
                       "phrase", "field word", "all"])  # fmt: skip
    word = rng.choice(_WORDS)
    if kind == "word":
        clause = word
    elif kind == "field word":
        clause = f"{rng.choice(['description', 'name'])}:{word}"
    elif kind == "keyword":
        field = rng.choice(list(_KEYWORDS))
        clause = f"{field}:{rng.choice(_KEYWORDS[field])}"
    elif kind == "fuzzy":
        at = rng.randrange(len(word))
        typo = word[:at] + rng.choice("aeioxz") + word[at + 1 :]
        field = rng.choice(["", "", "tags:", "description:"])
        clause = f"{field}{typo}~{rng.choice([1, 2])}"
    elif kind == "wildcard":
        field = rng.choice(["", "", "tags:", "opTypes:", "name:"])
        pattern = rng.choice([word[:3] + "*", "*" + word[1:4] + "*", word[:2] + "?" + word[3:]])
        clause = f"{field}{pattern}"
    elif kind == "regexp":
        clause = f"{rng.choice(['', 'tags:'])}/{word[:3]}.*/"
    elif kind == "range":
        clause = rng.choice(_RANGES)
    elif kind == "phrase":
        clause = rng.choice(_PHRASES)
    else:
        clause = "*"
    if rng.random() < 0.15 and kind != "fuzzy":  # "~1^2" reads as a fuzziness of "1^2"
        clause += f"^{rng.choice([2, 5])}"
    return clause


def _query(rng: random.Random) -> str:
    clauses = []
    for _ in range(rng.randint(1, 4)):
        clauses.append(rng.choice(["", "", "+", "-"]) + _clause(rng))
    return " ".join(clauses)


def test_the_catalog_is_big_enough_for_the_shortcut(store, shortcut_taken):
    result = store.search(INDEX, "*", limit=100)
    assert result.total == 17  # the latest versions: one of the big model, 16 others
    everything = store.search(INDEX, "*", all_versions=True, limit=1)
    assert everything.total == BIG_VERSIONS + 16 * 3
    assert shortcut_taken == [True, False]


@pytest.mark.parametrize(
    "query",
    [
        "tags:churn",
        "tags:iris",
        "classifier",
        "description:churn",
        "clasifier~1",
        "tags:tabulr~1",
        "opTypes:Max*",
        "name:churn*",
        "*sne*",
        "/clas.*/",
        "tags:/ir.*/",
        "paramCount:>1000000",
        'createdAt:>"2026-01-05"',
        "version:>=3",
        "version:2",
        '"data set"',
        '"trained on the iris data"',
        '"set of data"',
        "+framework:pytorch -tags:nlp network",
        "+tags:tabular classifier forest^5",
        "iris wine churn",
        "-tags:churn",
        "*",
        "tags:*",
        "name:*",
    ],
)
def test_a_search_over_latest_versions_scores_as_over_every_posting(
    store, monkeypatch, shortcut_taken, query
):
    fast, full = _both(store, monkeypatch, query)
    assert shortcut_taken == [True, False]
    _same(fast, full, query)


def test_filters_facets_and_pages_are_unchanged(store, monkeypatch, shortcut_taken):
    cases = [
        ("classifier", {"filters": {"tags": ["tabular", "churn"]}}),
        ("*", {"filters": {"framework": "pytorch", "version": [1, 2]}}),
        ("network data", {"facets": {"tags": {"field": "tags", "size": 3}, "fw": "framework"}}),
        ("data", {"offset": 5, "limit": 4}),
        ("churn", {"highlight": False}),
    ]
    for query, options in cases:
        fast, full = _both(store, monkeypatch, query, **options)
        _same(fast, full, query)
    assert shortcut_taken == [True, False] * len(cases)


@pytest.mark.parametrize("per_lookup", [engine._POSTINGS_PER_LOOKUP, 0])
def test_random_queries_score_as_over_every_posting(store, monkeypatch, shortcut_taken, per_lookup):
    # 0: keyword values are looked up document by document, never read off their postings
    monkeypatch.setattr(engine, "_POSTINGS_PER_LOOKUP", per_lookup)
    rng = random.Random(SEED)
    with_hits = 0
    for _ in range(QUERIES):
        query = _query(rng)
        fast, full = _both(store, monkeypatch, query)
        _same(fast, full, query)
        with_hits += bool(fast.hits)
    assert shortcut_taken == [True, False] * QUERIES
    assert with_hits > QUERIES // 3  # the queries reach documents, not only empty results


def test_all_versions_take_the_full_path(store, monkeypatch, shortcut_taken):
    fast, full = _both(store, monkeypatch, "churn classifier", all_versions=True)
    assert shortcut_taken == [False, False]
    _same(fast, full, "churn classifier")
    assert fast.total > 17


@pytest.mark.parametrize(
    "query,filters",
    [
        ("*", {}),
        ("-tags:churn", {}),
        ("tags:* name:*", {}),
        ("churn classifier", {}),
        ("-tags:nlp -opTypes:LSTM", {"framework": ["pytorch", "scikit-learn", "lightgbm"]}),
    ],
)
def test_facets_of_most_of_the_index_are_its_counts_less_the_rest(
    store, monkeypatch, query, filters
):
    """A search matching more than half of the documents counts its facets as the index's
    counts less those of the documents it does not match: the same facets as counting them."""
    from catalog.search import page

    used = []
    less = page._less
    monkeypatch.setattr(page, "_less", lambda *a: used.append(a[1]) or less(*a))
    facets = {"tags": "tags", "fw": "framework", "task": "task", "ops": "opTypes", "fmt": "format"}
    options = {"all_versions": True, "filters": filters, "facets": facets, "facet_size": 3}
    fast, full = _both(store, monkeypatch, query, **options)
    _same(fast, full, query)
    everything = BIG_VERSIONS + 16 * 3
    assert bool(used) == (fast.total * 2 > everything), (fast.total, everything)
    assert all(f.missing >= 0 and f.other >= 0 for f in fast.facets.values())


@pytest.mark.parametrize("walk_ratio", [ranking.KEY_WALK_RATIO, 10**9])
def test_a_page_ranks_by_score_then_key_reading_only_the_tied_keys(store, monkeypatch, walk_ratio):
    """The page is the slice of every match sorted by (-score, key), whether the tied matches'
    keys are read by id or walked in key order (10**9: always walked)."""
    monkeypatch.setattr(ranking, "KEY_WALK_RATIO", walk_ratio)
    conn = store._conn()
    keys = dict(conn.execute("SELECT id, key FROM fts_docs"))
    scope_count = len(keys)
    rng = random.Random(SEED)
    for _ in range(200):
        docs = rng.sample(sorted(keys), rng.randint(0, len(keys)))
        if rng.random() < 0.5:  # a few scores, many ties
            values = [rng.choice([0.5, 1.0, 2.0, 3.25]) for _ in range(rng.randint(1, 4))]
        else:  # many scores: groups above, on and below the page
            values = [rng.random() for _ in range(rng.randint(5, 80))]
        scores = {doc: rng.choice(values) for doc in docs}
        offset, limit = rng.randint(0, len(keys) + 2), rng.randint(0, 40)
        page, got = ranking.page_of(conn, "ml.catalog", scores, offset, limit, scope_count)
        ranked = sorted(scores, key=lambda doc: (-scores[doc], keys[doc]))
        assert page == ranked[offset : offset + limit], (offset, limit)
        assert {doc: got[doc] for doc in page} == {doc: keys[doc] for doc in page}


@pytest.mark.parametrize("all_versions", [False, True])
def test_lengths_read_by_document_or_for_the_whole_field_score_alike(
    store, monkeypatch, all_versions
):
    """Field lengths (bleve's norms) are read for the matching documents, or for every
    document of the field when most documents match: the scores are the same either way."""
    rng = random.Random(SEED + 1)
    queries = ["tags:churn", "churn classifier", "*", "data set", "tags:iris wine"] + [
        _query(rng) for _ in range(20)
    ]
    options = {"limit": 100, "fields": ["*"], "all_versions": all_versions}
    by_doc = [store.search(INDEX, q, **options) for q in queries]
    monkeypatch.setattr(scoring, "LENGTHS_BY_DOC", 0)
    monkeypatch.setattr(scoring, "LENGTHS_BY_DOC_SHARE", 0.0)
    whole = [store.search(INDEX, q, **options) for q in queries]
    for q, a, b in zip(queries, by_doc, whole, strict=True):
        _same(a, b, q)
    assert sum(bool(r.hits) for r in by_doc) > len(queries) // 3


def test_the_row_vocabulary_counts_the_documents_of_each_term(store):
    """A word searched in every column of a text table (``_all``) counts its documents in
    the table's fts5vocab ``row`` table; each term's count is the one a MATCH or the term's
    instances give."""
    conn = store._conn()
    stats = scoring.TermStats(conn, scoring.ScopeDocs(conn, "ml.catalog"))
    columns = engine.columns().values()
    checked = 0
    for table in sorted({c.table for c in columns}):
        assert kept.has_table(conn, scoring.row_vocab(table))
        cols = sorted(c.name for c in columns if c.table == table)
        words = [r[0] for r in conn.execute(f"SELECT DISTINCT term FROM {table}_vocab")]
        assert len(words) > 50
        for word in words:
            counted = stats.text_df(table, cols, word, every_column=True)
            assert counted == stats.text_df(table, cols, word), (table, word)
            assert counted > 0
            checked += 1
    assert stats.text_df("fts_text_standard", ["c0"], "no-such-word", every_column=True) == 0
    assert checked > 200


def test_a_file_without_the_row_vocabularies_gets_them_on_open(tmp_path):
    path = tmp_path / "c.sqlite3"
    s = open_store(f"embedded://{path}")
    s.upsert_many(KS, dict(catalog(models=4, versions=2, seed=3)))
    conn = s._conn()
    tables = sorted({c.table for c in engine.columns().values()})
    before = s.search(INDEX, "classifier data", limit=100, fields=["*"])
    for table in tables:
        conn.execute(f"DROP TABLE {scoring.row_vocab(table)}")
    conn.commit()
    s.close()
    s = open_store(f"embedded://{path}")
    try:
        assert all(kept.has_table(s._conn(), scoring.row_vocab(t)) for t in tables)
        after = s.search(INDEX, "classifier data", limit=100, fields=["*"])
        _same(after, before, "classifier data")
    finally:
        s.close()


@pytest.mark.parametrize("field", ["metadata.tags", "summary.opTypes", "_all", "name"])
def test_a_term_scores_sqrt_tf_times_the_float32_norm_of_its_field_length_times_idf_squared(
    store, field
):
    """bleve's term score, computed here from the rows; a document without a length row
    counts as a length of 1. Keyword values (every tf 1) take a shortcut: one score per length."""
    conn = store._conn()
    stats = scoring.TermStats(conn, scoring.ScopeDocs(conn, "ml.catalog"))
    lengths = dict(conn.execute("SELECT doc, length FROM fts_lengths WHERE field = ?", (field,)))
    by_length = sorted(lengths, key=lambda doc: (lengths[doc], doc))
    docs = by_length[:30] + by_length[-30:]  # the shortest and the longest
    assert len(docs) == 60 and len({lengths[doc] for doc in docs}) > 1  # lengths that differ
    nowhere = max(lengths) + 1000  # no length row
    for tfs in ([1] * 61, [1 + i % 3 for i in range(61)]):
        postings = dict(zip([*docs, nowhere], tfs, strict=True))
        got = stats.term_scores(postings, field, df=7)
        idf = 1.0 + math.log(stats.total / 8)
        for doc, tf in postings.items():
            norm = struct.unpack("f", struct.pack("f", 1 / math.sqrt(lengths.get(doc) or 1)))[0]
            assert got[doc] == pytest.approx(math.sqrt(tf) * norm * idf * idf, rel=1e-12), doc


def _recorded(monkeypatch, name: str) -> list:
    """Record what the engine's decision ``name`` returns, search by search."""
    taken: list = []
    decide = getattr(engine, name)

    def recording(*args, **kwargs):
        taken.append(decide(*args, **kwargs))
        return taken[-1]

    monkeypatch.setattr(engine, name, recording)
    return taken


def _with_and_without(store, monkeypatch, switch: str, query: str, **options):
    """Return a search's result over every version with the engine's ``switch`` on, then off."""
    options = {"fields": ["*"], "all_versions": True} | options
    fast = store.search(INDEX, query, **options)
    monkeypatch.setattr(engine, switch, False)
    try:
        slow = store.search(INDEX, query, **options)
    finally:
        monkeypatch.setattr(engine, switch, True)
    return fast, slow


@pytest.fixture
def everything_taken(monkeypatch):
    """The score the match-everything shortcut gave each search (None: not taken)."""
    return _recorded(monkeypatch, "_everything_score")


def _without_everything(store, monkeypatch, query: str, **options):
    return _with_and_without(store, monkeypatch, "_everything_shortcut", query, **options)


@pytest.mark.parametrize("query,score", [("*", 1.0), ("**", 1.0), ("+*", 1.0), ("*^3", 3.0)])
@pytest.mark.parametrize("offset,limit", [(0, 10), (0, 0), (290, 40), (340, 100), (10**6, 5)])
def test_a_match_of_every_version_reads_only_its_page(
    store, monkeypatch, everything_taken, query, score, offset, limit
):
    fast, slow = _without_everything(store, monkeypatch, query, offset=offset, limit=limit)
    _same(fast, slow, query)
    assert everything_taken == [score, None]
    assert fast.total == BIG_VERSIONS + 16 * 3


def test_a_document_without_text_turns_the_shortcut_off(tmp_path, monkeypatch, everything_taken):
    s = open_store(f"embedded://{tmp_path}/c.sqlite3")
    try:
        s.upsert_many(KS, dict(catalog(models=4, versions=2, seed=9)))
        fast, slow = _without_everything(s, monkeypatch, "*")
        assert everything_taken == [1.0, None]
        _same(fast, slow, "*")
        # Every indexed version has a name (its key's when the document has none), so each
        # has a row of the text table; without one, ``*`` does not match it.
        conn = s._conn()
        (doc,) = conn.execute(
            "SELECT id FROM fts_docs WHERE key = ?", ("titanic-logistic-001::2",)
        ).fetchone()
        with conn:
            conn.execute("DELETE FROM fts_text_standard WHERE rowid = ?", (doc,))
        fast, slow = _without_everything(s, monkeypatch, "*")
        assert everything_taken[2:] == [None, None]
        _same(fast, slow, "*")
        assert fast.total == 7
        assert "titanic-logistic-001::2" not in {h.id for h in fast.hits}
    finally:
        s.close()


@pytest.fixture
def one_value_taken(monkeypatch):
    """The keyword value the one-value shortcut took for each search (None: not taken)."""
    return _recorded(monkeypatch, "_one_value")


def _without_one_value(store, monkeypatch, query: str, **options):
    return _with_and_without(store, monkeypatch, "_one_value_shortcut", query, **options)


_ONE_VALUES = [
    "tags:churn",  # every version of the big model: lengths 2 to 4, several score groups
    "tags:iris",
    "+tags:tabular",
    "tags:churn^2.5",
    "framework:pytorch",
    "task:classification",
    "opTypes:Conv",
    "format:binary",
    "metadata.tags:wine",
    "tags:absent",
]


@pytest.mark.parametrize("query", _ONE_VALUES)
@pytest.mark.parametrize("offset,limit", [(0, 10), (0, 0), (3, 40), (120, 100), (10**6, 5)])
def test_one_keyword_value_over_every_version_is_answered_per_keyset(
    store, monkeypatch, one_value_taken, query, offset, limit
):
    facets = {"tags": {"field": "tags", "size": 3}, "task": "task", "ops": "opTypes"}
    fast, slow = _without_one_value(
        store, monkeypatch, query, offset=offset, limit=limit, facets=facets
    )
    _same(fast, slow, query)
    assert one_value_taken[0] is not None and one_value_taken[1] is None


def test_one_value_groups_small_and_large_and_ties(store):
    """The cases above read groups both ways: off the key index and through postings."""
    from catalog.search import one_value, querystring
    from catalog.search.scoring import ScopeDocs, TermStats

    conn = store._conn()
    scope_docs = ScopeDocs(conn, "ml.catalog")
    seen = set()
    for query in _ONE_VALUES:
        one = one_value.clause(querystring.parse(query))
        groups = one_value.groups(
            one, one_value.matching_keysets(conn, one), TermStats(conn, scope_docs)
        )
        seen |= {g.docs * ranking.KEY_WALK_RATIO >= len(scope_docs) for g in groups}
        assert [g.score for g in groups] == sorted({g.score for g in groups}, reverse=True)
    assert seen == {True, False}


_EVERYTHING = ("_everything_score", "_everything_shortcut")
_ONE_VALUE = ("_one_value", "_one_value_shortcut")


@pytest.mark.parametrize(
    "shortcut,query,options",
    [
        (_EVERYTHING, "*", {"all_versions": False}),  # the latest versions: a few of the index's
        (_EVERYTHING, "*", {"filters": {"framework": "pytorch"}}),
        (_EVERYTHING, "* -tags:iris", {}),
        (_EVERYTHING, "* tags:iris", {}),
        (_EVERYTHING, "name:*", {}),  # one column of the text table: a row may lack it
        (_EVERYTHING, "description:*", {}),  # the stemmed table's column
        (_EVERYTHING, "tags:*", {}),
        (_ONE_VALUE, "tags:churn", {"all_versions": False}),
        (_ONE_VALUE, "tags:churn", {"filters": {"framework": "pytorch"}}),
        (_ONE_VALUE, "tags:churn -tags:iris", {}),
        (_ONE_VALUE, "tags:churn tags:iris", {}),
        (_ONE_VALUE, "tags:chrn~1", {}),
        (_ONE_VALUE, "tags:churn*", {}),
        (_ONE_VALUE, 'tags:"churn"', {}),
        (_ONE_VALUE, "description:churn", {}),
        (_ONE_VALUE, "churn", {}),
        (_ONE_VALUE, "version:3", {}),
    ],
)
def test_other_searches_take_the_usual_path(store, monkeypatch, shortcut, query, options):
    decision, switch = shortcut
    taken = _recorded(monkeypatch, decision)
    fast, slow = _with_and_without(store, monkeypatch, switch, query, **options)
    _same(fast, slow, query)
    assert taken[0] is None


def test_repeated_values_and_a_replaced_version_keep_one_value_exact(tmp_path, monkeypatch):
    s = open_store(f"embedded://{tmp_path}/c.sqlite3")
    try:
        s.upsert_many(KS, dict(catalog(models=6, versions=3, seed=4)))
        doc = model_doc("dup", 1, tags=["x", "x", "y"], description="repeated tags")
        s.upsert(KS, "dup::1", doc)
        s.upsert(KS, "dup::2", model_doc("dup", 2, tags=["x"], description="one tag"))
        s.upsert(KS, "dup::2", model_doc("dup", 2, tags=["x", "z", "w"], description="three"))
        for query in ("tags:x", "tags:y", "tags:z"):
            fast, slow = _without_one_value(s, monkeypatch, query, limit=50)
            _same(fast, slow, query)
            assert fast.total >= 1
    finally:
        s.close()


def test_text_document_frequencies_are_remembered_until_the_next_write(tmp_path, monkeypatch):
    """A word's document frequency over every version is counted once per change token: the
    same search again reads none, and a write that changes the count is seen by the next
    search (the same hits and scores as with nothing remembered)."""
    s = open_store(f"embedded://{tmp_path}/df.sqlite3")
    s.upsert_many(KS, _big_model() | dict(catalog(models=16, versions=3, seed=5)))
    counted: list[str] = []
    text_df = scoring.TermStats._text_df

    def counting(self, table, cols, term, every_column):
        counted.append(term)
        return text_df(self, table, cols, term, every_column)

    monkeypatch.setattr(scoring.TermStats, "_text_df", counting)

    def search() -> list[tuple[str, float]]:
        return [(h.id, h.score) for h in s.search(INDEX, "churn data", limit=50).hits]

    def uncached() -> list[tuple[str, float]]:
        conn = s._conn()
        return [(h.id, h.score) for h in engine.run(conn, INDEX, "churn data", limit=50).hits]

    first = search()
    assert first and sorted(counted) == ["churn", "data"]
    assert search() == first and len(counted) == 2  # remembered
    assert uncached() == first and len(counted) == 4  # no token: counted again, same scores
    # a new model holding both words: one more version counts each
    s.upsert(KS, "another::1", model_doc("another", 1, description="churn data"))
    after = search()
    assert len(counted) == 6 and after == uncached() and after != first
    s.close()


def test_remembered_values_keep_the_newest_and_vocabularies_follow_the_store_token(tmp_path):
    """``terms.Remembered`` drops its oldest entry past its size; a vocabulary read under the
    store's change token is read again under the next token (a write), and a fuzzy search
    sees a term written after the first one."""
    from catalog.search import terms

    made: list[str] = []
    kept_values = terms.Remembered(2)
    for key in ["a", "b", "a", "c", "a"]:
        kept_values.get(key, lambda k=key: made.append(k) or k.upper())
    assert made == ["a", "b", "c", "a"]  # "a" was the oldest when "c" came

    s = open_store(f"embedded://{tmp_path}/v.sqlite3")
    s.upsert(KS, "m::1", model_doc("m", 1, description="gradient model"))
    assert [h.id for h in s.search(INDEX, "quantile~1").hits] == []
    before = s.change_token()
    s.upsert(KS, "q::1", model_doc("q", 1, description="quantile model"))
    assert s.change_token() != before
    assert [h.id for h in s.search(INDEX, "quantile~1").hits] == ["q::1"]
    s.close()
