"""Search is bounded: a time limit, a budget of expanded terms per query, RE2 regexps."""

from __future__ import annotations

import pytest

from catalog.domain.registry import get_registry
from catalog.search import index_name, search_models
from catalog.search.results import SearchError, SearchLimitExceeded
from catalog.search.samples import model_doc
from tests.models import matmul_model

KS = "ml.catalog.models"
INDEX = index_name("ml", "catalog")
# A description of 1,000 distinct words: w000 ... w999.
WORDS = " ".join(f"w{i:03d}" for i in range(1000))


@pytest.fixture
def wordy(store):
    store.ensure_keyspace(KS)
    store.upsert(KS, "wordy::1", model_doc("wordy", 1, description=WORDS, tags=["words"]))
    store.upsert(
        KS,
        "plain::1",
        model_doc(
            "plain", 1, description="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", tags=["a"]
        ),
    )
    return store


def test_expansions_are_counted_over_the_whole_query(wordy):
    one = search_models(wordy, "description:/w[0-9]+/")
    assert [h.id for h in one.hits] == ["wordy::1"]  # 1,000 terms: within the per-term cap
    with pytest.raises(SearchLimitExceeded, match="more than 4096 terms in all"):
        search_models(wordy, " ".join(["description:/w[0-9]+/"] * 5))


def test_the_expansion_budget_is_an_option(wordy):
    with pytest.raises(SearchLimitExceeded, match="more than 10 terms"):
        search_models(wordy, "description:w0??", max_expansions=10)  # 100 terms
    assert search_models(wordy, "description:w00?", max_expansions=10).total  # 10 terms: fits


def test_fuzzy_terms_spend_the_same_budget(wordy):
    query = " ".join(f"w{i:03d}~1" for i in range(20))  # each is within 1 edit of ~30 terms
    with pytest.raises(SearchLimitExceeded):
        search_models(wordy, query, max_expansions=100)


def test_a_search_stops_at_its_time_limit(wordy):
    query = " ".join(f"x{i}~2" for i in range(100))  # issue 14's slow query
    with pytest.raises(SearchLimitExceeded, match="time limit of 1e-06 s"):
        search_models(wordy, query, timeout=1e-6)
    with pytest.raises(SearchError, match="timeout must be a positive number"):
        search_models(wordy, "x", timeout=0)


def test_regexps_are_re2_linear_and_in_gos_syntax(wordy):
    # Catastrophic for a backtracking engine; RE2 answers at once.
    assert search_models(wordy, "description:/(a+)+b/").total == 0
    assert [h.id for h in search_models(wordy, "description:/(a+)+/").hits] == ["plain::1"]
    for bad in ("(a)\\1", "(?=a)a", "a(?!b)"):  # backreferences and lookarounds: not RE2
        with pytest.raises(SearchError, match="invalid regular expression"):
            search_models(wordy, f"description:/{bad}/")


@pytest.fixture
def wordy_catalog(catalog_store):
    reg = get_registry()
    reg.publish("wordy", matmul_model(4, 2), tags=["words"], description=WORDS)
    return reg


def test_the_api_answers_400_json_over_the_budget(client, wordy_catalog):
    query = " ".join(["description:/w[0-9]+/"] * 5)
    response = client.get("/api/search", {"q": query})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and "4096 terms in all" in body["error"]
