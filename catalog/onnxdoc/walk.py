"""Visit every graph, node list and tensor of a model, with the JSON path of each.

Paths use json_format's field names (``onnx.graph.node[3].attribute[0].t``) so an error
message points at the same place in the stored document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import onnx

ROOT = "onnx"


def iter_graphs(graph: onnx.GraphProto, path: str) -> Iterator[tuple[str, onnx.GraphProto]]:
    """Yield the graph and, depth first, every subgraph of its nodes (If, Loop, Scan...)."""
    yield path, graph
    yield from _subgraphs(graph.node, f"{path}.node")


def _subgraphs(nodes: Sequence[onnx.NodeProto], path: str) -> Iterator[tuple[str, onnx.GraphProto]]:
    for i, node in enumerate(nodes):
        for j, attr in enumerate(node.attribute):
            # Most attributes hold no graph: their path is only built for those that do.
            if attr.HasField("g"):
                yield from iter_graphs(attr.g, f"{path}[{i}].attribute[{j}].g")
            for k, sub in enumerate(attr.graphs):
                yield from iter_graphs(sub, f"{path}[{i}].attribute[{j}].graphs[{k}]")


def main_graphs(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.GraphProto]]:
    """Yield the main graph and its subgraphs."""
    if model.HasField("graph"):
        yield from iter_graphs(model.graph, f"{ROOT}.graph")


def all_graphs(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.GraphProto]]:
    """Yield every graph: main graph, training-info graphs, subgraphs inside functions."""
    yield from main_graphs(model)
    yield from _other_graphs(model)


def _other_graphs(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.GraphProto]]:
    for i, info in enumerate(model.training_info):
        for field in ("initialization", "algorithm"):
            if info.HasField(field):
                yield from iter_graphs(getattr(info, field), f"{ROOT}.trainingInfo[{i}].{field}")
    for i, function in enumerate(model.functions):
        yield from _subgraphs(function.node, f"{ROOT}.functions[{i}].node")


def main_graphs_and_node_lists(
    model: onnx.ModelProto,
) -> tuple[list[tuple[str, onnx.GraphProto]], list[tuple[str, Sequence[onnx.NodeProto]]]]:
    """Return (``main_graphs``, ``node_lists``) as lists, visiting the main graph once."""
    main = list(main_graphs(model))
    return main, _node_lists(model, [*main, *_other_graphs(model)])


def node_lists(model: onnx.ModelProto) -> Iterator[tuple[str, Sequence[onnx.NodeProto]]]:
    """Yield every list of nodes: those of each graph and of each model-local function."""
    for path, graph in all_graphs(model):  # lazily: check_node_count stops at its limit
        yield f"{path}.node", graph.node
    for i, function in enumerate(model.functions):
        yield f"{ROOT}.functions[{i}].node", function.node


def _node_lists(
    model: onnx.ModelProto, graphs: Iterable[tuple[str, onnx.GraphProto]]
) -> list[tuple[str, Sequence[onnx.NodeProto]]]:
    lists: list[tuple[str, Sequence[onnx.NodeProto]]] = [
        (f"{path}.node", graph.node) for path, graph in graphs
    ]
    for i, function in enumerate(model.functions):
        lists.append((f"{ROOT}.functions[{i}].node", function.node))
    return lists


def iter_tensors(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """Yield every TensorProto of the model, in a stable order.

    Covers initializers and sparse initializers of every graph, and tensor attributes
    (TENSOR, TENSORS, SPARSE_TENSOR, SPARSE_TENSORS) of every node, functions included.
    The graphs are found once (finding them visits every attribute of every node).
    """
    graphs = list(all_graphs(model))
    for path, graph in graphs:
        for i, tensor in enumerate(graph.initializer):
            yield f"{path}.initializer[{i}]", tensor
        for i, sparse in enumerate(graph.sparse_initializer):
            yield from _sparse(sparse, f"{path}.sparseInitializer[{i}]")
    for path, nodes in _node_lists(model, graphs):
        for i, node in enumerate(nodes):
            for j, attr in enumerate(node.attribute):
                # Whatever the attribute's declared type (a malformed model may set any
                # field); the path is only built for a tensor found.
                if attr.HasField("t"):
                    yield f"{path}[{i}].attribute[{j}].t", attr.t
                for k, tensor in enumerate(attr.tensors):
                    yield f"{path}[{i}].attribute[{j}].tensors[{k}]", tensor
                if attr.HasField("sparse_tensor"):
                    yield from _sparse(
                        attr.sparse_tensor, f"{path}[{i}].attribute[{j}].sparseTensor"
                    )
                for k, sparse in enumerate(attr.sparse_tensors):
                    yield from _sparse(sparse, f"{path}[{i}].attribute[{j}].sparseTensors[{k}]")


def _sparse(sparse: onnx.SparseTensorProto, path: str) -> Iterator[tuple[str, onnx.TensorProto]]:
    if sparse.HasField("values"):
        yield f"{path}.values", sparse.values
    if sparse.HasField("indices"):
        yield f"{path}.indices", sparse.indices
