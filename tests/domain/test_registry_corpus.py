"""Every model shipped in onnx's backend test data, published into the embedded store
through the registry (both formats) and loaded back identical."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from catalog.domain.registry import Registry
from tests.models import assert_same_model
from tests.onnxdoc.test_onnxdoc_corpus import CASES


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    from catalog.store import open_store

    return Registry(open_store(f"embedded://{tmp_path_factory.mktemp('corpus') / 'c.sqlite3'}"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_corpus_model_is_published_and_loads_back_identical(reg, case):
    model = onnx.load(case.path)
    name = case.name.replace("/", "--").replace("_", "-")
    # Validation is the publish policy, tested elsewhere: some corpus models use opsets the
    # installed onnxruntime has no kernels for, and the catalog must still store them.
    ref = reg.publish(name, model, validate=False, tags=["onnx-test-data"])
    assert_same_model(model, reg.load(name, ref.version))
    binary = reg.publish(name, model, validate=False, format="binary")
    assert reg.load_bytes(name, binary.version) == model.SerializeToString()
    summary = reg.document(name, ref.version)["summary"]
    assert summary["nodeCount"] >= len(model.graph.node)
    assert summary["paramCount"] == sum(int(np.prod(t.dims)) for t in model.graph.initializer)
