"""Limits checked before the expensive work: graph node count on publish, .npy headers."""

from __future__ import annotations

import io

import numpy as np
import onnx
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import TensorProto, helper

from catalog.domain.registry import InvalidModel, get_registry
from catalog.domain.tokens import create_token
from tests.models import matmul_model
from tests.web.bad_input_cases import NPY_HEADER_CASES


def identity_chain(nodes: int, *, in_subgraph: bool = False) -> onnx.ModelProto:
    """Return X -> Identity x nodes -> Y (optionally inside the then-branch of an If)."""
    chain = [helper.make_node("Identity", [f"t{i}"], [f"t{i + 1}"]) for i in range(nodes)]
    x = helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info(f"t{nodes}", TensorProto.FLOAT, [1])
    if not in_subgraph:
        graph = helper.make_graph(chain, "chain", [x], [y])
    else:
        then = helper.make_graph(chain, "then", [], [y])
        other = helper.make_graph(
            [helper.make_node("Identity", ["t0"], [f"t{nodes}"])], "else", [], [y]
        )
        cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
        node = helper.make_node("If", ["c"], [f"t{nodes}"], then_branch=then, else_branch=other)
        graph = helper.make_graph([node], "branch", [cond, x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


# -- node count -----------------------------------------------------------------------------


def test_a_graph_over_the_node_limit_is_refused_before_validation(catalog_store, settings):
    settings.CATALOG_MAX_NODES = 50
    with pytest.raises(InvalidModel, match="51 nodes; at most 50") as raised:
        get_registry().publish("chain", identity_chain(51))
    assert getattr(raised.value, "status", None) == 413
    assert list(catalog_store.scan("ml.catalog.models")) == []
    assert list(catalog_store.scan("ml.catalog.tensors")) == []


def test_nodes_inside_subgraphs_count(catalog_store, settings):
    settings.CATALOG_MAX_NODES = 50
    with pytest.raises(InvalidModel, match="more than 50 nodes, subgraphs"):
        get_registry().publish("chain", identity_chain(60, in_subgraph=True))


def test_a_graph_at_the_limit_is_published(catalog_store, settings):
    settings.CATALOG_MAX_NODES = 50
    assert get_registry().publish("chain", identity_chain(50)).version == 1


def test_the_default_limit_lets_ordinary_models_through(catalog_store):
    assert get_registry().publish("chain", identity_chain(2000)).version == 1


@pytest.fixture
def token(db, catalog_store) -> str:
    User.objects.create_user("alice", is_staff=True)
    return create_token("alice")


def test_the_api_refuses_a_graph_over_the_limit_with_a_json_4xx(client, token, settings):
    settings.CATALOG_MAX_NODES = 50
    response = client.post(
        "/api/models/chain/versions",
        identity_chain(80).SerializeToString(),
        content_type="application/octet-stream",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (400, 413)
    assert "at most 50 are accepted" in response.json()["error"]


# -- .npy uploads ---------------------------------------------------------------------------


def npy(shape: tuple[int, ...], data: bytes = b"", descr: str = "<f8") -> bytes:
    """Return a .npy file whose header declares ``shape`` and whose data is ``data``."""
    out = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + data


@pytest.fixture
def wide(catalog_store):
    get_registry().publish("wide", matmul_model(40, 3))


def post_npy(client, content: bytes):
    upload = SimpleUploadedFile("rows.npy", content)
    return client.post("/models/wide/predict", {"file0": upload})


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(NPY_HEADER_CASES))
def test_a_npy_header_is_checked_before_loading(client, wide, case):
    shape, descr, size, message = NPY_HEADER_CASES[case]
    response = post_npy(client, npy(shape, b"\0" * size, descr=descr))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")


@pytest.mark.django_db
def test_a_well_formed_npy_is_still_predicted(client, wide):
    buffer = io.BytesIO()
    np.save(buffer, np.ones((3, 40)))
    response = post_npy(client, buffer.getvalue())
    assert response.status_code == 200
    assert "<code>[3, 3]</code>" in response.content.decode()
