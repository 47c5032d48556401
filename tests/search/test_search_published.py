"""Search over versions published through the registry (real ONNX-JSON documents)."""

from __future__ import annotations

import pytest

from catalog.domain.registry import Registry
from catalog.search import search_models
from tests.models import iris, iris_logreg, iris_svc, matmul_model


@pytest.fixture
def reg(store):
    X, _ = iris()
    registry = Registry(store)
    registry.publish(
        "iris-svc",
        iris_svc(),
        sample_input=X[:1],
        tags=["iris", "svm"],
        description="SVM on the iris flowers",
    )
    registry.publish(
        "iris-logreg",
        iris_logreg(),
        sample_input=X[:1],
        tags=["iris"],
        description="Logistic regression",
        format="binary",
    )
    registry.publish("mm", matmul_model(4, 2, seed=1), tags=["toy"])
    registry.publish("mm", matmul_model(4, 2, seed=2), tags=["toy", "second"])
    return registry


def test_published_versions_are_found_by_operator_and_tag(reg, store):
    assert [h.id for h in search_models(store, "opTypes:SVMClassifier").hits] == ["iris-svc::1"]
    assert {h.id for h in search_models(store, "tags:iris").hits} == {
        "iris-svc::1",
        "iris-logreg::1",
    }
    assert [h.id for h in search_models(store, "producer:skl2onnx", limit=5).hits] != []


def test_binary_versions_are_found_from_their_summary(reg, store):
    hits = search_models(store, "opTypes:LinearClassifier").hits
    assert [h.id for h in hits] == ["iris-logreg::1"]
    assert hits[0].fields["format"] == "binary"


def test_node_and_initializer_names_of_real_graphs(reg, store):
    assert [h.id for h in search_models(store, "node:matmul").hits] == ["mm::2"]
    assert [h.id for h in search_models(store, "initializer:W").hits] == ["mm::2"]
    assert {h.id for h in search_models(store, "node:matmul", all_versions=True).hits} == {
        "mm::1",
        "mm::2",
    }


def test_facets_over_published_versions(reg, store):
    facets = search_models(store, "*").facets
    assert dict(facets["framework"].terms)["scikit-learn"] == 2
    assert ("toy", 1) in facets["tags"].terms
    assert store.check_integrity() == []


def test_deleting_a_version_through_the_registry_updates_search(reg, store):
    reg.delete_version("mm", 2)
    assert [h.id for h in search_models(store, "node:matmul").hits] == ["mm::1"]
