"""Full-text search on the real embedded store: syntax, ranking, facets, pages, versions."""

from __future__ import annotations

import json

import pytest

from catalog.search import index_name, search_models
from catalog.search.samples import model_doc
from catalog.store import open_store
from catalog.store.base import SearchError
from tests.sqlite_steps import thousand_steps

KS = "ml.catalog.models"
INDEX = index_name("ml", "catalog")


def _docs() -> dict[str, dict]:
    svc = dict(
        description="SVM classifier on the iris data set",
        tags=["iris", "svm"],
        op_types=["SVMClassifier", "ZipMap"],
    )
    return {
        "iris-svc::1": model_doc(
            "iris-svc",
            1,
            **{**svc, "description": "First try of a kernel machine"},
            param_count=120,
            created_at="2026-01-01T00:00:00Z",
        ),
        "iris-svc::2": model_doc(
            "iris-svc", 2, **svc, param_count=130, created_at="2026-02-01T00:00:00Z"
        ),
        "iris-svc::3": model_doc(
            "iris-svc", 3, **svc, param_count=140, created_at="2026-03-01T00:00:00Z"
        ),
        "iris-logreg::1": model_doc(
            "iris-logreg",
            1,
            description="Logistic regression classifier for the iris flowers",
            tags=["iris", "logistic"],
            op_types=["LinearClassifier", "Normalizer", "ZipMap"],
            param_count=15,
            created_at="2026-02-10T00:00:00Z",
        ),
        "resnet-mini::1": model_doc(
            "resnet-mini",
            1,
            description="Convolutional network for image classification on cifar10",
            tags=["vision", "cnn"],
            framework="pytorch",
            task="image-classification",
            op_types=["Conv", "Relu", "MaxPool", "Conv", "Relu", "Gemm"],
            producer="pytorch",
            param_count=2_000_000,
            created_at="2026-03-05T00:00:00Z",
            doc_string="Exported by torch.onnx",
            node_doc="first convolution layer",
            inputs=["pixels"],
            outputs=["logits"],
            initializers=["conv1_weight", "fc_bias"],
            metadata_props={"owner": "grace"},
        ),
        "sentiment-bert::1": model_doc(
            "sentiment-bert",
            1,
            description="Transformer encoder for movie reviews",
            tags=["nlp"],
            framework="pytorch",
            task="text-classification",
            op_types=["Gather", "MatMul", "Softmax"],
            producer="pytorch",
            param_count=100_000_000,
            created_at="2026-03-10T00:00:00Z",
        ),
        "sentiment-bert::2": model_doc(
            "sentiment-bert",
            2,
            description="Transformer encoder for sentiment analysis of movie reviews",
            tags=["nlp", "transformer"],
            framework="pytorch",
            task="text-classification",
            op_types=["Gather", "MatMul", "Softmax", "LayerNormalization"],
            producer="pytorch",
            param_count=110_000_000,
            created_at="2026-03-20T00:00:00Z",
        ),
        "wine-forest::1": model_doc(
            "wine-forest",
            1,
            description="Random forest regressor for wine quality",
            tags=["wine", "forest"],
            task="regression",
            op_types=["TreeEnsembleRegressor"],
            param_count=40_000,
            created_at="2026-01-15T00:00:00Z",
            binary=True,
        ),
    }


@pytest.fixture
def store(tmp_path):
    s = open_store(f"embedded://{tmp_path}/c.sqlite3")
    s.upsert_many(KS, _docs())
    s.catch_up()  # the search index's queue: tests below read its tables
    yield s
    s.close()


def ids(store, query, **options):
    return [h.id for h in store.search(INDEX, query, **options).hits]


def found(store, query, **options):
    return set(ids(store, query, limit=100, **options))


# -- syntax -------------------------------------------------------------------------------


def test_a_plain_term_finds_the_latest_versions_that_mention_it(store):
    assert found(store, "iris") == {"iris-svc::3", "iris-logreg::1"}


def test_a_plain_term_is_analysed_with_standard_against_all(store):
    # as in Couchbase: _all holds standard-analysed text (descriptions have a standard twin)
    assert found(store, "classifier") == {"iris-svc::3", "iris-logreg::1"}
    assert found(store, "classifiers") == set()
    assert found(store, "description:classifiers") == {"iris-svc::3", "iris-logreg::1"}  # en
    assert found(store, "svmclassifier") == {"iris-svc::3"}  # opTypes' text twin
    assert found(store, "grace") == {"resnet-mini::1"}  # metadata props


def test_field_term_on_keyword_fields_is_exact(store):
    assert found(store, "tags:vision") == {"resnet-mini::1"}
    assert found(store, "framework:pytorch") == {"resnet-mini::1", "sentiment-bert::2"}
    assert found(store, "opTypes:Conv") == {"resnet-mini::1"}
    assert found(store, "opTypes:conv") == set()


def test_aliases_and_full_paths_are_the_same_field(store):
    assert found(store, "metadata.tags:vision") == found(store, "tags:vision")
    assert found(store, "summary.opTypes:ZipMap") == found(store, "opTypes:ZipMap")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("node:conv_0", {"resnet-mini::1"}),
        ("initializer:conv1_weight", {"resnet-mini::1"}),
        ("input:pixels", {"resnet-mini::1"}),
        ("output:logits", {"resnet-mini::1"}),
        ("producer:pytorch", {"resnet-mini::1", "sentiment-bert::2"}),
        ("doc:convolution", {"resnet-mini::1"}),
        ("doc:exported", {"resnet-mini::1"}),
        ("metadataProps:grace", {"resnet-mini::1"}),
        ("summary.metadataProps.owner:grace", {"resnet-mini::1"}),
        ("name:wine", {"wine-forest::1"}),
        ("task:regression", {"wine-forest::1"}),
        ("format:binary", {"wine-forest::1"}),
    ],
)
def test_each_indexed_field_is_searchable(store, query, expected):
    assert found(store, query) == expected


def test_binary_format_versions_are_found_from_summary_and_metadata(store):
    assert found(store, "TreeEnsembleRegressor") == {"wine-forest::1"}
    assert found(store, "quality") == {"wine-forest::1"}


def test_must_clauses_are_all_required(store):
    assert found(store, "+iris +logistic") == {"iris-logreg::1"}


def test_should_clauses_need_one_match_without_a_must(store):
    assert ids(store, "iris logistic") == ["iris-logreg::1", "iris-svc::3"]


def test_should_clauses_are_optional_next_to_a_must(store):
    assert ids(store, "+framework:pytorch sentiment") == ["sentiment-bert::2", "resnet-mini::1"]


def test_must_not_excludes(store):
    assert found(store, "iris -tags:svm") == {"iris-logreg::1"}


def test_only_exclusions_match_everything_else(store):
    assert found(store, "-framework:pytorch") == {"iris-svc::3", "iris-logreg::1", "wine-forest::1"}


def test_phrases_need_the_words_in_order(store):
    assert found(store, '"movie reviews"') == {"sentiment-bert::2"}
    assert found(store, '"reviews movie"') == set()
    assert found(store, 'description:"image classification"') == {"resnet-mini::1"}
    assert found(store, 'name:"mini resnet"') == set()


def test_a_phrase_on_a_keyword_field_is_the_exact_value(store):
    assert found(store, 'framework:"scikit-learn"') == {
        "iris-svc::3",
        "iris-logreg::1",
        "wine-forest::1",
    }
    assert found(store, 'task:"text-classification"') == {"sentiment-bert::2"}


def test_prefix_and_single_character_wildcards(store):
    assert found(store, "senti*") == {"sentiment-bert::2"}
    assert found(store, "opTypes:Max*") == {"resnet-mini::1"}
    assert found(store, "w?ne") == {"wine-forest::1"}
    assert found(store, "tags:w?ne") == {"wine-forest::1"}
    assert found(store, "*sne*") == {"resnet-mini::1"}
    assert found(store, "*qqq*") == set()
    assert found(store, "*nsf*") == {"sentiment-bert::2"}


def test_a_lone_star_matches_every_latest_version(store):
    assert len(found(store, "*")) == 5


def test_regexps_match_whole_terms(store):
    assert found(store, "/sent.*/") == {"sentiment-bert::2"}
    assert found(store, "/ent.*/") == set()


def test_fuzzy_terms_allow_edits(store):
    assert found(store, "sentimemt~1") == {"sentiment-bert::2"}
    assert found(store, "sentimnet~1") == {"sentiment-bert::2"}  # a transposition: one edit
    assert found(store, "snetimnet~1") == set()  # two transpositions
    assert found(store, "snetimnet~2") == {"sentiment-bert::2"}
    assert found(store, "tags:visoin~2") == {"resnet-mini::1"}


def test_fuzzy_without_a_number_means_one_edit(store):
    assert found(store, "clasifier~") == {"iris-svc::3", "iris-logreg::1"}
    assert found(store, "description:clasifier~") == {"iris-svc::3", "iris-logreg::1"}


def test_numeric_ranges(store):
    assert found(store, "paramCount:>2000000") == {"sentiment-bert::2"}
    assert found(store, "paramCount:>=2000000") == {"sentiment-bert::2", "resnet-mini::1"}
    assert found(store, "paramCount:<140") == {"iris-logreg::1"}
    assert found(store, "paramCount:<=140") == {"iris-logreg::1", "iris-svc::3"}
    assert found(store, "+paramCount:>100 +paramCount:<50000") == {"iris-svc::3", "wine-forest::1"}


def test_numbers_match_numeric_fields_exactly(store):
    assert found(store, "version:2", all_versions=True) == {"iris-svc::2", "sentiment-bert::2"}


def test_date_ranges(store):
    assert found(store, 'createdAt:>"2026-03-06"') == {"sentiment-bert::2"}
    assert found(store, 'createdAt:<="2026-01-15T00:00:00Z"') == {"wine-forest::1"}


def test_boosts_change_the_order(store):
    assert ids(store, "svm^5 logistic")[0] == "iris-svc::3"
    assert ids(store, "svm logistic^5")[0] == "iris-logreg::1"


def test_results_are_ordered_by_score(store):
    hits = store.search(INDEX, "iris classifier logistic").hits
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_an_empty_query_matches_nothing(store):
    result = store.search(INDEX, "")
    assert result.total == 0 and result.hits == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"iris', "unterminated quote"),
        ("tags:", "needs a word"),
        ("iris^x", "invalid boost"),
        ("iris~x", "invalid fuzziness"),
        ("paramCount:>abc", "needs a number or a quoted date"),
        ('paramCount:>"2026-01-01"', "paramCount is a number"),
        ("createdAt:>5", "createdAt is a date"),
        ("description:>5", "not a number or a date field"),
        ("colour:red", "unknown field 'colour'"),
        ("/[a/", "invalid regular expression"),
        ("*e*", "over the limit"),
    ],
)
def test_bad_queries_raise_search_error(store, query, message):
    if query == "*e*":  # make the vocabulary large enough to hit the expansion limit
        store.upsert(
            KS,
            "words::1",
            model_doc("words", 1, description=" ".join(f"e{i}" for i in range(1100))),
        )
    with pytest.raises(SearchError, match=message):
        store.search(INDEX, query)


def test_bad_options_raise_search_error(store):
    with pytest.raises(SearchError, match="unknown search index"):
        store.search("ml.catalog.other", "iris")
    with pytest.raises(SearchError, match="unknown search option"):
        store.search(INDEX, "iris", colour="red")
    with pytest.raises(SearchError, match="limit must be"):
        store.search(INDEX, "iris", limit=-1)
    with pytest.raises(SearchError, match="not a keyword field"):
        store.search(INDEX, "iris", facets=["description"])
    with pytest.raises(SearchError, match="cannot filter"):
        store.search(INDEX, "iris", filters={"description": "x"})


# -- facets and filters ---------------------------------------------------------------------


def test_facets_count_every_match_not_just_the_page(store):
    result = store.search(INDEX, "classification OR classifier OR network OR encoder", limit=1)
    assert len(result.hits) == 1
    assert result.total == 4
    assert dict(result.facets["framework"].terms) == {"scikit-learn": 2, "pytorch": 2}
    assert dict(result.facets["tags"].terms)["iris"] == 2
    assert dict(result.facets["opTypes"].terms)["ZipMap"] == 2
    task = result.facets["task"]
    assert task.field == "metadata.task"
    assert task.total == 4 and task.missing == 0 and task.other == 0


def test_facet_size_and_other(store):
    tags = store.search(INDEX, "*", facets=["tags"], facet_size=2).facets["tags"]
    assert len(tags.terms) == 2
    assert tags.terms[0] == ("iris", 2)
    assert tags.total == 10 and tags.other == 10 - sum(c for _, c in tags.terms)


def test_facets_as_a_dict_of_specs(store):
    facets = store.search(
        INDEX, "*", facets={"ops": {"field": "summary.opTypes", "size": 1}, "fw": "framework"}
    ).facets
    assert facets["ops"].terms == [("ZipMap", 2)]
    assert facets["fw"].field == "metadata.framework"
    assert store.search(INDEX, "*", facets=()).facets == {}


def test_facet_missing_counts_matches_without_the_field(store):
    store.upsert(KS, "bare::1", {"name": "bare", "version": 1, "metadata": {"description": "x"}})
    assert store.search(INDEX, "*").facets["tags"].missing == 1


def test_filters_narrow_matches_and_facets(store):
    result = store.search(INDEX, "classifier", filters={"tags": ["logistic"]})
    assert [h.id for h in result.hits] == ["iris-logreg::1"]
    assert dict(result.facets["tags"].terms) == {"iris": 1, "logistic": 1}


def test_filter_values_of_a_field_are_alternatives_and_fields_all_apply(store):
    assert found(store, "*", filters={"tags": ["vision", "nlp"]}) == {
        "resnet-mini::1",
        "sentiment-bert::2",
    }
    assert found(
        store,
        "*",
        filters={"tags": ["vision", "nlp"], "framework": "pytorch", "task": "text-classification"},
    ) == {"sentiment-bert::2"}
    assert found(store, "*", filters={"version": 1}) == {
        "iris-logreg::1",
        "resnet-mini::1",
        "wine-forest::1",
    }


# -- highlights, fields, pages ---------------------------------------------------------------


def test_fragments_mark_matches(store):
    (hit,) = store.search(INDEX, "+description:movie").hits
    assert hit.fragments["metadata.description"] == [
        "Transformer encoder for sentiment analysis of <mark>movie</mark> reviews"
    ]


def test_fragments_of_keyword_fields_mark_the_matching_values(store):
    (hit,) = store.search(INDEX, "tags:vision").hits
    assert hit.fragments["metadata.tags"] == ["<mark>vision</mark>"]


def test_fragments_escape_html(store):
    store.upsert(KS, "x::1", model_doc("x", 1, description="a <b>bold</b> & risky model"))
    (hit,) = store.search(INDEX, "description:risky").hits
    assert hit.fragments["metadata.description"] == [
        "a &lt;b&gt;bold&lt;/b&gt; &amp; <mark>risky</mark> model"
    ]


def test_excluded_terms_are_not_highlighted_and_highlight_can_be_off(store):
    (hit,) = store.search(INDEX, "+encoder -vision").hits
    assert "vision" not in str(hit.fragments) and "<mark>encoder</mark>" in str(hit.fragments)
    (hit,) = store.search(INDEX, "encoder", highlight=False).hits
    assert hit.fragments == {}


def test_hits_carry_stored_fields(store):
    (hit,) = store.search(INDEX, "tags:vision").hits
    assert hit.fields["name"] == "resnet-mini"
    assert hit.fields["version"] == 1
    assert hit.fields["metadata.tags"] == ["vision", "cnn"]
    assert hit.fields["metadata.framework"] == "pytorch"
    (hit,) = store.search(INDEX, "tags:vision", fields=["tags", "paramCount"]).hits
    assert hit.fields == {"metadata.tags": ["vision", "cnn"], "summary.paramCount": 2_000_000}
    (hit,) = store.search(INDEX, "tags:vision", fields=["*"]).hits
    assert hit.fields["onnx.graph.node.name"][0] == "Conv_0"


def test_pages_split_the_ranked_matches(store):
    everything = ids(store, "*", all_versions=True, limit=100)
    assert len(everything) == 8
    pages = [store.search(INDEX, "*", all_versions=True, limit=3, offset=o) for o in (0, 3, 6)]
    assert [p.total for p in pages] == [8, 8, 8]
    assert [h.id for p in pages for h in p.hits] == everything
    assert store.search(INDEX, "*", limit=3, offset=100).hits == []
    assert store.search(INDEX, "*", limit=0).total == 5


def test_took_ms_is_reported(store):
    assert store.search(INDEX, "iris").took_ms > 0


# -- versions and consistency -----------------------------------------------------------------


def test_older_versions_only_on_request(store):
    assert found(store, "kernel") == set()
    assert found(store, "kernel", all_versions=True) == {"iris-svc::1"}
    assert found(store, "tags:svm", all_versions=True) == {
        "iris-svc::1",
        "iris-svc::2",
        "iris-svc::3",
    }


def test_removing_the_latest_version_makes_the_previous_one_latest(store):
    store.remove(KS, "iris-svc::3")
    assert found(store, "tags:svm") == {"iris-svc::2"}
    store.remove(KS, "iris-svc::2")
    store.remove(KS, "iris-svc::1")
    assert found(store, "tags:svm", all_versions=True) == set()
    assert store.check_integrity() == []


def test_a_new_version_is_found_as_soon_as_it_is_written(store):
    store.insert(
        KS,
        "iris-svc::4",
        model_doc(
            "iris-svc", 4, description="Retrained on fresh petals", tags=["iris", "svm", "online"]
        ),
    )
    assert found(store, "petals") == {"iris-svc::4"}
    assert found(store, "tags:svm") == {"iris-svc::4"}


def test_replace_reindexes_and_old_terms_are_gone(store):
    _, cas = store.get(KS, "resnet-mini::1")
    store.replace(
        KS,
        "resnet-mini::1",
        model_doc("resnet-mini", 1, description="Pruned net", tags=["pruned"]),
        cas=cas,
    )
    assert found(store, "tags:pruned") == {"resnet-mini::1"}
    assert found(store, "tags:vision") == set()
    assert found(store, "convolutional") == set()
    assert store.check_integrity() == []


def test_a_removed_version_is_gone_at_once(store):
    store.remove(KS, "wine-forest::1")
    assert found(store, "wine") == set()
    assert store.search(INDEX, "*").facets["framework"].terms == [
        ("pytorch", 2),
        ("scikit-learn", 2),
    ]


def test_renaming_a_document_moves_it_between_models(store):
    store.upsert(KS, "iris-svc::3", model_doc("iris-svm", 3, tags=["svm"]))
    assert found(store, "tags:svm") == {"iris-svc::2", "iris-svc::3"}
    assert store.check_integrity() == []


def test_a_rolled_back_batch_leaves_the_index_unchanged(store):
    with pytest.raises(RuntimeError), store.batch():
        store.upsert(KS, "ghost::1", model_doc("ghost", 1, description="phantom"))
        assert found(store, "phantom") == {"ghost::1"}  # read-your-writes inside the batch
        raise RuntimeError
    assert found(store, "phantom") == set()
    assert store.check_integrity() == []


def test_binary_values_are_not_indexed(store):
    store.upsert(KS, "blob::1", b"\x08\x07onnx")
    store.upsert(KS, "wine-forest::1", b"\x08\x07onnx")
    assert found(store, "wine") == set()
    assert store.check_integrity() == []


def test_other_collections_and_scopes_are_separate(store):
    store.upsert("ml.catalog.aliases", "iris-svc", {"name": "iris-svc", "production": 3})
    store.upsert("ml.other.models", "zebra::1", model_doc("zebra", 1, description="stripes"))
    assert found(store, "stripes") == set()
    assert [h.id for h in store.search("ml.other.models-fts", "stripes").hits] == ["zebra::1"]
    assert search_models(store, "stripes", scope="other").total == 1


def test_opening_a_store_indexes_documents_written_without_the_index(tmp_path):
    from catalog.store.embedded import EmbeddedStore

    path = tmp_path / "old.sqlite3"
    plain = EmbeddedStore(path, hooks=[])
    plain.upsert_many(KS, _docs())
    plain.close()
    store = open_store(f"embedded://{path}")
    assert found(store, "iris") == {"iris-svc::3", "iris-logreg::1"}
    assert store.check_integrity() == []


def test_the_integrity_check_reports_a_drifted_index(store):
    conn = store._conn()
    conn.execute("DELETE FROM fts_docs WHERE key = 'resnet-mini::1'")
    conn.execute("UPDATE fts_docs SET latest = 1 WHERE key = 'iris-svc::1'")
    problems = store.check_integrity()
    assert any("'resnet-mini::1' not indexed" in p for p in problems)
    assert any("stale latest flag" in p for p in problems)
    assert any("orphan rows" in p for p in problems)


def test_search_models_is_the_domain_entry_point(store):
    result = search_models(store, "iris", limit=1)
    assert result.total == 2 and len(result.hits) == 1


def test_an_existing_file_gains_the_latest_by_name_index_without_a_rebuild(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    store.catch_up()
    conn = store._conn()
    conn.execute("DROP INDEX fts_docs_latest_name")  # a file written before the index existed
    ids = conn.execute("SELECT id, key FROM fts_docs ORDER BY id").fetchall()
    store.close()
    store = open_store(f"embedded://{path}")
    conn = store._conn()
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "fts_docs_latest_name" in names
    assert conn.execute("SELECT id, key FROM fts_docs ORDER BY id").fetchall() == ids  # kept
    # a new version moves the latest flag through the index
    doc = dict(_docs()["iris-svc::3"], version=4)
    store.upsert(KS, "iris-svc::4", doc)
    store.catch_up()
    latest = conn.execute(
        "SELECT key FROM fts_docs WHERE name = 'iris-svc' AND latest = 1"
    ).fetchall()
    assert latest == [("iris-svc::4",)]
    assert store.check_integrity() == []
    store.close()


def test_an_existing_file_trades_its_doc_field_index_for_the_covering_one(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    conn = store._conn()
    facets_before = search_models(store, "iris", facets=["tags"]).facets
    # a file written before fts_terms_doc_term: it has the (doc, field) index instead
    conn.execute("DROP INDEX fts_terms_doc_term")
    conn.execute("CREATE INDEX fts_terms_doc ON fts_terms (doc, field)")
    ids = conn.execute("SELECT id, key FROM fts_docs ORDER BY id").fetchall()
    store.close()
    store = open_store(f"embedded://{path}")
    conn = store._conn()
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "fts_terms_doc_term" in names and "fts_terms_doc" not in names
    assert "fts_docs_latest" not in names  # a prefix of fts_docs_latest_name
    assert conn.execute("SELECT id, key FROM fts_docs ORDER BY id").fetchall() == ids  # kept
    assert search_models(store, "iris", facets=["tags"]).facets == facets_before
    store.upsert(KS, "iris-svc::4", dict(_docs()["iris-svc::3"], version=4))
    assert store.check_integrity() == []


def _keyword_counts(conn) -> tuple[dict, dict]:
    """Return (documents per keyword value from the postings, the kept counts)."""
    counted = {
        (f, t): n
        for f, t, n in conn.execute(
            "SELECT field, term, COUNT(*) FROM fts_terms GROUP BY field, term"
        )
    }
    kept = {(f, t): n for f, t, n in conn.execute("SELECT field, term, n FROM fts_keyword_df")}
    return counted, kept


def test_keyword_document_counts_follow_every_write(store):
    conn = store._conn()
    counted, kept = _keyword_counts(conn)
    assert kept == counted and kept[("metadata.tags", "iris")] == 4
    # replace with new tags; a new version; a removal
    doc = dict(_docs()["iris-svc::3"])
    doc["metadata"] = {**doc["metadata"], "tags": ["iris", "retrained"]}
    store.replace(KS, "iris-svc::3", doc)
    store.upsert(KS, "iris-svc::4", dict(doc, version=4))
    store.remove(KS, "resnet-mini::1")
    store.catch_up()
    counted, kept = _keyword_counts(conn)
    assert kept == counted
    assert kept[("metadata.tags", "retrained")] == 2
    assert ("metadata.tags", "svm") in kept and ("metadata.tags", "vision") not in kept
    assert search_models(store, "tags:vision").total == 0
    assert store.check_integrity() == []


def test_a_rolled_back_write_leaves_the_counts_as_they_were(store):
    conn = store._conn()
    before = _keyword_counts(conn)[1]
    with pytest.raises(RuntimeError, match="abort"), store.batch():
        store.upsert(KS, "new::1", model_doc("new", 1, tags=["iris", "fresh"]))
        raise RuntimeError("abort")
    assert _keyword_counts(conn)[1] == before


def test_a_file_without_the_counts_gets_them_counted_on_open(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    ranked = [(h.id, h.score) for h in search_models(store, "tags:iris", limit=10).hits]
    store._conn().execute("DROP TABLE fts_keyword_df")  # a file from before the counts
    store.close()
    store = open_store(f"embedded://{path}")
    counted, kept = _keyword_counts(store._conn())
    assert kept == counted and kept
    assert [(h.id, h.score) for h in search_models(store, "tags:iris", limit=10).hits] == ranked


def test_check_reports_a_count_that_differs_from_the_postings(store):
    conn = store._conn()
    conn.execute(
        "UPDATE fts_keyword_df SET n = n + 1 WHERE field = 'metadata.tags' AND term = 'iris'"
    )
    problems = store.check_integrity()
    assert any("metadata.tags:'iris' is held by 4 documents, counted 5" in p for p in problems)


def _keysets(conn) -> dict[str, list[list[str]]]:
    """Return {document key: its keyset's [field, value] pairs} (absent: no keyset)."""
    rows = conn.execute(
        "SELECT d.key, k.terms FROM fts_docs d JOIN fts_keysets k ON k.id = d.keyset"
    )
    return {key: json.loads(text) for key, text in rows}


def _values(conn) -> dict[str, list[list[str]]]:
    """Return {document key: its sorted [field, value] pairs, from the postings}."""
    out: dict[str, list[list[str]]] = {}
    rows = conn.execute(
        "SELECT d.key, t.field, t.term FROM fts_terms t JOIN fts_docs d ON d.id = t.doc"
    )
    for key, field, term in rows:
        out.setdefault(key, []).append([field, term])
    return {key: sorted(pairs) for key, pairs in out.items()}


def test_keysets_follow_every_write_and_are_shared(store):
    conn = store._conn()
    assert _keysets(conn) == _values(conn) and _keysets(conn)
    doc = dict(_docs()["iris-svc::3"])
    doc["metadata"] = {**doc["metadata"], "tags": ["iris", "retrained"]}
    store.replace(KS, "iris-svc::3", doc)
    store.upsert(KS, "iris-svc::4", dict(doc, version=4))
    store.remove(KS, "resnet-mini::1")
    store.upsert(KS, "bare::1", {"name": "bare", "version": 1})  # no keyword values
    store.catch_up()
    assert _keysets(conn) == _values(conn)
    assert "bare::1" not in _keysets(conn)
    ids = dict(conn.execute("SELECT key, keyset FROM fts_docs"))
    assert ids["iris-svc::3"] == ids["iris-svc::4"]  # the same values: one keyset
    assert store.check_integrity() == []


def test_a_file_without_keysets_gets_them_on_open_with_the_same_facets(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    before = search_models(store, "*", facets=["tags", "opTypes"], all_versions=True).facets
    conn = store._conn()
    conn.execute("DROP INDEX fts_docs_keyset")  # a file from before keysets
    conn.execute("DROP INDEX fts_docs_latest_keyset")
    conn.execute("ALTER TABLE fts_docs DROP COLUMN keyset")
    conn.execute("DROP TABLE fts_keysets")
    store.close()
    store = open_store(f"embedded://{path}")
    conn = store._conn()
    assert _keysets(conn) == _values(conn) and _keysets(conn)
    after = search_models(store, "*", facets=["tags", "opTypes"], all_versions=True).facets
    assert after == before
    assert store.check_integrity() == []


def test_check_reports_a_keyset_unlike_the_values(store):
    conn = store._conn()
    conn.execute("UPDATE fts_docs SET keyset = NULL WHERE key = 'iris-svc::3'")
    problems = store.check_integrity()
    assert any("'iris-svc::3' has a keyset unlike its values" in p for p in problems), problems


def _totals(conn) -> tuple[dict, dict]:
    """Return (documents per scope counted in fts_docs, the kept totals)."""
    counted = dict(conn.execute("SELECT scope, COUNT(*) FROM fts_docs GROUP BY scope"))
    kept = dict(conn.execute("SELECT scope, docs FROM fts_totals WHERE docs != 0"))
    return counted, kept


def test_document_totals_follow_every_write_and_reach_a_file_without_them(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    store.upsert("ml.other.models", "x::1", model_doc("x", 1))  # a second scope
    store.upsert(KS, "iris-svc::9", dict(_docs()["iris-svc::3"], version=9))
    store.remove(KS, "resnet-mini::1")
    store.catch_up()
    counted, kept = _totals(store._conn())
    assert kept == counted and kept["ml.other"] == 1 and kept["ml.catalog"] == len(_docs())
    ranked = [(h.id, h.score) for h in search_models(store, "tags:iris", limit=10).hits]
    store._conn().execute("DROP TABLE fts_totals")  # a file from before the totals
    store.close()
    store = open_store(f"embedded://{path}")
    assert _totals(store._conn())[1] == counted
    assert [(h.id, h.score) for h in search_models(store, "tags:iris", limit=10).hits] == ranked
    store._conn().execute("UPDATE fts_totals SET docs = docs + 2 WHERE scope = 'ml.catalog'")
    problems = store.check_integrity()
    assert any("scope ml.catalog holds" in p and "counted" in p for p in problems), problems


def _holders(conn) -> tuple[dict, dict]:
    """Return (documents holding a value of each keyword field, from the postings; the kept
    counts)."""
    counted = dict(conn.execute("SELECT field, COUNT(DISTINCT doc) FROM fts_terms GROUP BY field"))
    kept = dict(conn.execute("SELECT field, n FROM fts_keyword_holders"))
    return counted, kept


def test_holders_of_each_keyword_field_follow_every_write_and_reach_a_file_without_them(
    tmp_path,
):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    doc = dict(_docs()["iris-svc::3"])
    doc["metadata"] = {**doc["metadata"], "tags": []}  # no tags: no longer a holder of tags
    store.replace(KS, "iris-svc::3", doc)
    store.upsert(KS, "iris-svc::4", dict(doc, version=4))
    store.remove(KS, "resnet-mini::1")
    store.upsert(KS, "bare::1", {"name": "bare", "version": 1})  # no keyword values
    store.catch_up()
    counted, kept = _holders(store._conn())
    assert kept == counted and kept["metadata.tags"] == len(_docs()) - 2
    # a search matching every version: its facets subtract the others from the counts
    facets = search_models(store, "*", facets=["tags", "framework"], all_versions=True).facets
    assert facets["tags"].missing == 3  # iris-svc::3 and ::4, bare::1
    store._conn().execute("DROP TABLE fts_keyword_holders")  # a file from before the counts
    store.close()
    store = open_store(f"embedded://{path}")
    assert _holders(store._conn()) == (counted, counted)
    assert search_models(store, "*", facets=["tags", "framework"], all_versions=True).facets == (
        facets
    )
    store._conn().execute("UPDATE fts_keyword_holders SET n = n + 1 WHERE field = 'metadata.tags'")
    problems = store.check_integrity()
    assert any("hold a value of metadata.tags, counted" in p for p in problems), problems


def _keyset_counts(conn) -> tuple[dict, dict, dict, dict]:
    """Return (documents of each keyset from fts_docs, the kept counts; each keyset's values
    from its text, the kept listing)."""
    counted = dict(
        conn.execute("SELECT keyset, COUNT(*) FROM fts_docs WHERE keyset IS NOT NULL GROUP BY 1")
    )
    kept_docs = dict(conn.execute("SELECT id, docs FROM fts_keysets WHERE docs != 0"))
    values = {
        keyset: {tuple(pair) for pair in json.loads(text)}
        for keyset, text in conn.execute("SELECT id, terms FROM fts_keysets")
    }
    listed: dict = {}
    for field, term, keyset in conn.execute("SELECT field, term, keyset FROM fts_keyset_terms"):
        listed.setdefault(keyset, set()).add((field, term))
    return counted, kept_docs, values, listed


def test_keyset_counts_and_values_follow_every_write_and_reach_a_file_without_them(tmp_path):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    doc = dict(_docs()["iris-svc::3"])
    doc["metadata"] = {**doc["metadata"], "tags": ["renamed"]}  # a new keyset
    store.replace(KS, "iris-svc::3", doc)
    store.upsert(KS, "iris-svc::4", dict(doc, version=4))
    store.remove(KS, "resnet-mini::1")
    store.upsert(KS, "bare::1", {"name": "bare", "version": 1})  # no keyword values
    store.catch_up()
    counted, kept_docs, values, listed = _keyset_counts(store._conn())
    assert kept_docs == counted and sum(counted.values()) == len(_docs())  # +1 -1, bare none
    assert listed == values
    renamed = search_models(store, "tags:renamed", all_versions=True, limit=10)
    assert [h.id for h in renamed.hits] == ["iris-svc::3", "iris-svc::4"]
    conn = store._conn()
    conn.execute("DROP TABLE fts_keyset_terms")  # a file from before them
    conn.execute("ALTER TABLE fts_keysets DROP COLUMN docs")
    store.close()
    store = open_store(f"embedded://{path}")
    assert _keyset_counts(store._conn()) == (counted, counted, values, values)
    assert search_models(store, "tags:renamed", all_versions=True, limit=10).hits == renamed.hits
    assert store.check_integrity() == []
    store._conn().execute("UPDATE fts_keysets SET docs = docs + 1 WHERE id = 1")
    store._conn().execute("DELETE FROM fts_keyset_terms WHERE keyset = 2")
    problems = store.check_integrity()
    assert any("keyset 1 is held by" in p and "counted" in p for p in problems), problems
    assert any("keyset 2's values are listed unlike it" in p for p in problems), problems


def _search_index_steps(store, key: str, doc: dict) -> int:
    """Return the SQLite VM steps (in thousands) of writing one version, search index included
    (its queue indexed at once)."""
    store.catch_up()

    def write() -> None:
        store.upsert(KS, key, doc)
        store.catch_up()

    return thousand_steps(store._conn(), write)


def test_a_new_versions_latest_flag_costs_the_same_at_20_and_at_2000_versions(tmp_path):
    """Moving the latest flag reads the model's old and new latest rows only: before, the
    UPDATE setting the new one walked every older version (latest = 0) of the model."""
    store = open_store(f"embedded://{tmp_path}/c.sqlite3")
    deep = {f"deep::{v}": model_doc("deep", v, tags=["t"]) for v in range(1, 2001)}
    shallow = {f"shallow::{v}": model_doc("shallow", v, tags=["t"]) for v in range(1, 21)}
    store.upsert_many(KS, {**deep, **shallow})
    few = _search_index_steps(store, "shallow::21", model_doc("shallow", 21, tags=["t"]))
    many = _search_index_steps(store, "deep::2001", model_doc("deep", 2001, tags=["t"]))
    assert many <= few + 5, (few, many)  # thousands of VM steps; 2,000 rows walked cost ~9
    store.catch_up()
    latest = store._conn().execute("SELECT key FROM fts_docs WHERE latest = 1 ORDER BY key")
    assert [k for (k,) in latest] == ["deep::2001", "shallow::21"]
    store.close()


def test_the_latest_flag_follows_versions_written_in_any_order(tmp_path):
    """A newer version goes in flagged latest (its model's previous latest cleared); an older
    one, a rewrite of the newest, or a tie leaves the newest flagged, whatever the order."""
    store = open_store(f"embedded://{tmp_path / 'order.sqlite3'}")
    conn = store._conn()

    def latest() -> list[str]:
        store.catch_up()
        rows = conn.execute("SELECT key FROM fts_docs WHERE name = 'm' AND latest = 1")
        return sorted(k for (k,) in rows)

    def in_latest_tables() -> list[tuple[str, str]]:
        """(key, description as its latest table holds it) of each row of the latest tables."""
        store.catch_up()
        rows = conn.execute(
            "SELECT d.key, l.c0 FROM fts_latest_slots m JOIN fts_text_en_latest l"
            " ON l.rowid = m.slot JOIN fts_docs d ON d.id = m.doc"
        )
        return sorted(rows)

    def described(key: str, text: str) -> tuple[str, str]:
        return key, text  # metadata.description, column c0 of fts_text_en

    store.upsert(KS, "other::1", model_doc("other", 1, description="other"))
    for version, expected in ((2, ["m::2"]), (5, ["m::5"]), (3, ["m::5"]), (1, ["m::5"])):
        store.upsert(KS, f"m::{version}", model_doc("m", version, description=f"v{version}"))
        assert latest() == expected
        assert in_latest_tables() == sorted(
            [
                described("other::1", "other"),
                *(described(k, "v5" if k == "m::5" else "v2") for k in expected),
            ]
        )
    store.upsert(KS, "m::5", model_doc("m", 5, description="again"))  # the newest, rewritten
    assert latest() == ["m::5"]
    assert described("m::5", "again") in in_latest_tables()
    store.upsert(KS, "m::5b", model_doc("m", 5, description="tie"))  # another key, same version
    assert latest() == ["m::5", "m::5b"]
    store.upsert(KS, "m::6", model_doc("m", 6, description="six"))
    assert latest() == ["m::6"]
    assert in_latest_tables() == [described("m::6", "six"), described("other::1", "other")]
    store.remove(KS, "m::6")
    assert latest() == ["m::5", "m::5b"]
    assert in_latest_tables() == [
        described("m::5", "again"),
        described("m::5b", "tie"),
        described("other::1", "other"),
    ]
    store.remove(KS, "other::1")
    assert [k for k, _ in in_latest_tables()] == ["m::5", "m::5b"]
    assert store.check_integrity() == []
    store.close()


@pytest.mark.parametrize("lose_one_table", [False, True])
def test_a_file_without_the_latest_tables_gets_them_on_open_with_the_same_hits(
    tmp_path, lose_one_table
):
    path = tmp_path / "c.sqlite3"
    store = open_store(f"embedded://{path}")
    store.upsert_many(KS, _docs())
    many = {f"deep::{v}": model_doc("deep", v, description=f"deep iris net {v}") for v in range(40)}
    store.upsert_many(KS, many)  # enough versions for the latest-versions path
    queries = ["iris", "classifier", '"iris data set"', "descr*", "iris~1"]
    before = {q: search_models(store, q, limit=10) for q in queries}
    conn = store._conn()
    for table in ("fts_text_en", "fts_text_standard"):  # a file from before them
        conn.execute(f"DROP TABLE {table}_latest_instance")
        conn.execute(f"DROP TABLE {table}_latest")
    conn.execute("DROP TABLE fts_latest_slots")
    store.close()
    if lose_one_table:  # the slots kept, one latest table lost: all of them are made again
        store = open_store(f"embedded://{path}")
        store._conn().execute("DROP TABLE fts_text_en_latest_instance")
        store._conn().execute("DROP TABLE fts_text_en_latest")
        store.close()
    store = open_store(f"embedded://{path}")
    conn = store._conn()
    rows = {r for (r,) in conn.execute("SELECT doc FROM fts_latest_slots")}
    assert rows == {r for (r,) in conn.execute("SELECT id FROM fts_docs WHERE latest = 1")}
    assert len(rows) == 6  # deep::39 and the latest of _docs()'s five models
    for q in queries:
        after = search_models(store, q, limit=10)
        assert (after.total, after.hits) == (before[q].total, before[q].hits), q
    assert before["iris"].total == 3
    assert store.check_integrity() == []
    store.close()


def test_check_reports_latest_tables_unlike_the_latest_versions(store):
    conn = store._conn()
    assert store.check_integrity() == []

    def slot(key: str) -> int:
        return conn.execute(
            "SELECT m.slot FROM fts_latest_slots m JOIN fts_docs d ON d.id = m.doc WHERE d.key = ?",
            (key,),
        ).fetchone()[0]

    conn.execute("DELETE FROM fts_text_en_latest WHERE rowid = ?", (slot("iris-svc::3"),))
    conn.execute(
        "UPDATE fts_text_standard_latest SET c0 = 'renamed' WHERE rowid = ?",
        (slot("iris-logreg::1"),),
    )
    conn.execute("INSERT INTO fts_text_standard_latest (rowid, c0) VALUES (1000000, 'stray')")
    problems = store.check_integrity()
    assert "search index: 1 latest versions missing or unlike in fts_text_en_latest" in problems
    assert "search index: 1 latest versions missing or unlike in fts_text_standard_latest" in (
        problems
    )
    assert "search index: 1 rows unlike their document's in fts_text_standard_latest" in problems
    assert "search index: 1 rows in no slot in fts_text_standard_latest" in problems
    (old,) = conn.execute("SELECT id FROM fts_docs WHERE key = 'iris-svc::2'").fetchone()
    conn.execute("INSERT INTO fts_latest_slots (doc, slot) VALUES (?, 2000000)", (old,))
    problems = store.check_integrity()
    assert "search index: 1 slots of documents that are not latest in fts_latest_slots" in problems
    conn.execute("DELETE FROM fts_latest_slots WHERE slot = ?", (slot("resnet-mini::1"),))
    problems = store.check_integrity()
    assert "search index: 1 latest versions without a slot in fts_latest_slots" in problems


def _fts_segments(conn, table: str) -> list:
    """The FTS5 index of a table as stored: any write to it changes these rows."""
    return conn.execute(f"SELECT id, block FROM {table}_data ORDER BY id").fetchall()


def test_a_new_version_with_its_models_text_takes_the_slot_without_writing_it(tmp_path):
    """A model republished with the same names and descriptions (online learning) leaves the
    latest tables as they are: the new version takes the old one's slot."""
    store = open_store(f"embedded://{tmp_path}/c.sqlite3")
    conn = store._conn()
    store.upsert(KS, "m::1", model_doc("m", 1, description="churn model"))
    store.upsert(KS, "n::1", model_doc("n", 1, description="other model"))
    store.catch_up()
    before = {t: _fts_segments(conn, t) for t in ("fts_text_en_latest", "fts_text_standard_latest")}
    store.upsert(KS, "m::2", model_doc("m", 2, description="churn model"))
    store.catch_up()
    assert {t: _fts_segments(conn, t) for t in before} == before
    slots = dict(
        conn.execute("SELECT d.key, m.slot FROM fts_latest_slots m JOIN fts_docs d ON d.id = m.doc")
    )
    assert set(slots) == {"m::2", "n::1"} and slots["m::2"] != slots["n::1"]
    assert {h.id for h in search_models(store, "churn").hits} == {"m::2"}
    store.upsert(KS, "m::3", model_doc("m", 3, description="retrained churn model"))
    store.catch_up()
    assert _fts_segments(conn, "fts_text_en_latest") != before["fts_text_en_latest"]
    assert {h.id for h in search_models(store, "retrained").hits} == {"m::3"}
    assert store.check_integrity() == []
    store.close()


def test_latest_tables_follow_random_writes_removals_and_renames(tmp_path, monkeypatch):
    """Random writes (older, newer, tied and rewritten versions, two texts, renames) and
    removals: after each, the latest tables hold the latest versions' text exactly, and a
    search of the latest versions, made to read them, finds what the flags say (seeded)."""
    import random

    from catalog.search import engine

    monkeypatch.setattr(engine, "_FEW_DOCS_RATIO", 0)  # the latest tables, however few versions
    rng = random.Random(20261201)
    store = open_store(f"embedded://{tmp_path}/c.sqlite3")
    conn = store._conn()
    keys: set[str] = set()
    for step in range(120):
        action = rng.random()
        if action < 0.2 and keys:
            key = rng.choice(sorted(keys))
            store.remove(KS, key)
            keys.discard(key)
        else:
            name = rng.choice(["a", "b", "c"])
            version = rng.randint(1, 6)
            key = rng.choice([f"{name}::{version}", f"{name}::{version}x", f"x{rng.randint(1, 4)}"])
            words = rng.choice(["gradient boosted trees", "boosted forest", ""])
            store.upsert(KS, key, model_doc(name, version, description=words))
            keys.add(key)
            if step >= 60 and rng.random() < 0.3:  # another scope after 60 (then searches
                # read every version's tables: two scopes share the index)
                store.upsert("ml.other.models", key, model_doc(name, version, description=words))
        assert store.check_integrity() == [], step  # queued documents are not a difference
        store.catch_up()
        flagged = {
            k
            for (k,) in conn.execute(
                "SELECT key FROM fts_docs WHERE latest = 1 AND scope = 'ml.catalog'"
            )
        }
        found = {h.id for h in search_models(store, "boosted", limit=100).hits}
        described = {
            k for k in flagged if "boosted" in store.get(KS, k)[0]["metadata"]["description"]
        }
        assert found == described, step
    store.close()
