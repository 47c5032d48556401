"""Realistic model-version documents for search tests and the search benchmark."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

_OPSETS = {"ai.onnx": 17}

# (framework, producer, task, operators, tags, description words)
_FAMILIES: list[tuple[str, str, str, list[str], list[str], str]] = [
    (
        "scikit-learn",
        "skl2onnx",
        "classification",
        ["SVMClassifier", "ZipMap"],
        ["svm", "tabular"],
        "support vector machine classifier",
    ),
    (
        "scikit-learn",
        "skl2onnx",
        "classification",
        ["LinearClassifier", "Normalizer", "ZipMap"],
        ["logistic", "tabular"],
        "logistic regression classifier",
    ),
    (
        "scikit-learn",
        "skl2onnx",
        "regression",
        ["TreeEnsembleRegressor"],
        ["forest", "tabular"],
        "random forest regressor of gradient boosted trees",
    ),
    (
        "pytorch",
        "pytorch",
        "image-classification",
        ["Conv", "Relu", "MaxPool", "Gemm", "Flatten", "BatchNormalization"],
        ["vision", "cnn"],
        "convolutional network for image classification",
    ),
    (
        "pytorch",
        "pytorch",
        "text-classification",
        ["Gather", "MatMul", "Add", "Softmax", "LayerNormalization", "Tanh"],
        ["nlp", "transformer"],
        "transformer encoder for sentiment analysis of reviews",
    ),
    (
        "tensorflow",
        "tf2onnx",
        "object-detection",
        ["Conv", "Relu", "Resize", "Concat", "NonMaxSuppression", "TopK"],
        ["vision", "detection"],
        "single shot detector for bounding boxes",
    ),
    (
        "lightgbm",
        "onnxmltools",
        "ranking",
        ["TreeEnsembleRegressor", "Identity"],
        ["ranking", "tabular"],
        "gradient boosting ranker for search results",
    ),
    (
        "pytorch",
        "pytorch",
        "forecasting",
        ["LSTM", "MatMul", "Add", "Sigmoid"],
        ["timeseries", "rnn"],
        "recurrent network forecasting hourly demand",
    ),
]
_DATASETS = [
    "iris",
    "wine",
    "digits",
    "mnist",
    "imdb",
    "coco",
    "m5",
    "titanic",
    "housing",
    "cifar10",
    "adult",
    "energy",
    "traffic",
    "retail",
    "weather",
]


def model_doc(
    name: str,
    version: int,
    *,
    description: str = "",
    tags: Sequence[str] = (),
    framework: str = "scikit-learn",
    task: str = "classification",
    op_types: Sequence[str] = ("SVMClassifier", "ZipMap"),
    producer: str = "skl2onnx",
    created_at: str = "2026-11-25T10:00:00Z",
    param_count: int = 120,
    size_bytes: int = 2300,
    binary: bool = False,
    doc_string: str = "",
    node_doc: str = "",
    inputs: Sequence[str] = ("X",),
    outputs: Sequence[str] = ("label", "probabilities"),
    initializers: Sequence[str] = ("coef",),
    metadata_props: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Return a model-version document shaped as the registry writes them."""
    nodes = [
        {
            "opType": op,
            "name": f"{op}_{i}",
            "domain": "ai.onnx.ml" if "Classifier" in op or "Tree" in op or op == "ZipMap" else "",
            "docString": node_doc if i == 0 else "",
        }
        for i, op in enumerate(op_types)
    ]
    props = metadata_props or {}
    doc: dict[str, Any] = {
        "name": name,
        "version": version,
        "createdAt": created_at,
        "format": "binary" if binary else "json",
        "summary": {
            "opTypes": sorted(set(op_types)),
            "opsets": _OPSETS,
            "irVersion": 8,
            "producer": {"name": producer, "version": "1.17"},
            "inputs": [{"name": n, "dataType": "FLOAT", "shape": [None, 4]} for n in inputs],
            "outputs": [{"name": n, "dataType": "INT64", "shape": [None]} for n in outputs],
            "nodeCount": len(nodes),
            "paramCount": param_count,
            "sizeBytes": size_bytes,
            "initializers": [
                {
                    "name": n,
                    "dims": [3, 4],
                    "dataType": "FLOAT",
                    "numel": 12,
                    "stats": {"min": -1.0, "max": 1.0, "mean": 0.0, "std": 0.5},
                }
                for n in initializers
            ],
            "metadataProps": props,
        },
        "metadata": {
            "description": description,
            "tags": list(tags),
            "framework": framework,
            "task": task,
            "featureNames": ["f0", "f1", "f2", "f3"],
            "metrics": {"accuracy": 0.9},
        },
        "lineage": {"parent": version - 1 if version > 1 else None},
    }
    if not binary:
        doc["onnx"] = {
            "irVersion": "8",
            "producerName": producer,
            "docString": doc_string,
            "metadataProps": [{"key": k, "value": v} for k, v in props.items()],
            "graph": {
                "name": f"{name}-graph",
                "docString": "",
                "node": nodes,
                "initializer": [
                    {"name": n, "dims": ["3", "4"], "dataType": 1, "rawData": "AAAA"}
                    for n in initializers
                ],
                "input": [{"name": n} for n in inputs],
                "output": [{"name": n} for n in outputs],
            },
        }
    return doc


def catalog(models: int = 200, versions: int = 5, seed: int = 7) -> Iterator[tuple[str, dict]]:
    """Yield (key, document) for ``models`` x ``versions`` varied model versions."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for m in range(models):
        framework, producer, task, ops, tags, words = _FAMILIES[m % len(_FAMILIES)]
        dataset = _DATASETS[(m * 7) % len(_DATASETS)]
        name = f"{dataset}-{tags[0]}-{m:03d}"
        for v in range(1, versions + 1):
            layers = rng.randint(1, 6)
            node_ops = [op for _ in range(layers) for op in ops]
            extra = rng.sample(["baseline", "tuned", "distilled", "quantized", "pruned"], 2)
            yield (
                f"{name}::{v}",
                model_doc(
                    name,
                    v,
                    description=f"{words.capitalize()} trained on the {dataset} data set"
                    f" ({extra[0]}, batch {v})",
                    tags=[dataset, *tags, *extra[:1]],
                    framework=framework,
                    task=task,
                    op_types=node_ops,
                    producer=producer,
                    created_at=(start + timedelta(days=m, hours=v)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    param_count=rng.randint(100, 5_000_000),
                    size_bytes=rng.randint(2_000, 20_000_000),
                    binary=(m % 10 == 9),
                    doc_string=f"{producer} export of {name} version {v}",
                    inputs=["input"] if framework != "scikit-learn" else ["X"],
                    outputs=["output"]
                    if framework != "scikit-learn"
                    else ["label", "probabilities"],
                    initializers=[f"layer{i}_weight" for i in range(layers)],
                    metadata_props={
                        "dataset": dataset,
                        "owner": rng.choice(["ada", "grace", "alan"]),
                    },
                ),
            )
