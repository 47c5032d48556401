"""Publish and load in three forms, measured in one run (issue 2's benchmark).

Forms: our document + content-addressed chunks ("doc+chunks"), plain json_format with the
weights inline as base64 ("inline json"), and the whole protobuf ("binary").
Models: the iris SVC, a ~12 MB MLP and a ~100 MB MLP (random weights, built with onnx).
Also: small versions published per second on the embedded store.

    .venv/bin/python bench/bench_publish_load.py [--quick] [--out bench/results/publish_load.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx
from google.protobuf import json_format
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.shell.settings")

from catalog.domain.registry import Registry  # noqa: E402
from catalog.store import open_store  # noqa: E402
from catalog.store.base import MAX_VALUE_BYTES  # noqa: E402


def mlp(target_mb: float, seed: int = 0) -> onnx.ModelProto:
    """Return a 3-layer MLP (Gemm + Relu) whose float32 weights total about target_mb."""
    hidden = int(((target_mb * 1024 * 1024 / 4) / 2.2) ** 0.5)
    sizes = [(64, hidden), (hidden, hidden), (hidden, int(hidden * 1.2)), (int(hidden * 1.2), 10)]
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "X"
    for i, (a, b) in enumerate(sizes):
        w = (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
        bias = np.zeros(b, dtype=np.float32)
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(bias, f"B{i}")]
        out = f"H{i}" if i < len(sizes) - 1 else "Y"
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"B{i}"], [f"G{i}"]))
        if i < len(sizes) - 1:
            nodes.append(helper.make_node("Relu", [f"G{i}"], [out]))
        else:
            nodes.append(helper.make_node("Identity", [f"G{i}"], [out]))
        prev = out
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def iris_svc() -> onnx.ModelProto:
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    from catalog.domain.model_input import from_sklearn

    X, y = load_iris(return_X_y=True)
    return from_sklearn(SVC().fit(X, y), X[:1].astype(np.float32))[0]


def timed(fn, repeat: int) -> float:
    """Return the median wall time of fn() in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


class InlineJsonForm:
    """Baseline: the whole ModelProto as one json_format document, weights inline."""

    def __init__(self, store, keyspace: str):
        self.store, self.ks, self.n = store, keyspace, 0

    def publish(self, model: onnx.ModelProto) -> str | None:
        doc = json_format.MessageToDict(model)
        if len(json.dumps(doc)) > MAX_VALUE_BYTES:
            return None
        self.n += 1
        key = f"inline::{self.n}"
        self.store.upsert(self.ks, key, {"onnx": doc})
        return key

    def load(self, key: str) -> onnx.ModelProto:
        doc, _ = self.store.get(self.ks, key)
        return json_format.ParseDict(doc["onnx"], onnx.ModelProto())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 100 MB model, fewer repeats")
    ap.add_argument("--out", default="bench/results/publish_load.md")
    args = ap.parse_args()
    repeat = 3 if args.quick else 5

    models = {"iris SVC": iris_svc(), "MLP ~12 MB": mlp(12)}
    if not args.quick:
        models["MLP ~100 MB"] = mlp(100)

    rows = []
    # Small versions per second: full publish path (validation included) of the iris SVC,
    # measured first, in a fresh store and before the large models churn the heap.
    small = models["iris SVC"]
    count = 100 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry(open_store(f"embedded://{tmp}/rate.sqlite3"))
        reg.publish("warm-up", small)
        t0 = time.perf_counter()
        for _ in range(count):
            reg.publish("rate-test", small)
        rate = count / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(count):
            reg.publish("rate-test-novalidate", small, validate=False)
        rate_nv = count / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"embedded://{tmp}/bench.sqlite3")
        reg = Registry(store)
        inline = InlineJsonForm(store, "ml.catalog.bench")
        for label, model in models.items():
            size = model.ByteSize()
            r = {"model": label, "size_mb": size / 2**20}
            for form in ("json", "binary"):
                n = [0]

                def pub(form=form, n=n, model=model):
                    n[0] += 1
                    reg.publish(f"b-{form}-{len(rows)}", model, format=form, validate=False)

                r[f"publish_{form}"] = timed(pub, repeat)
                name = f"b-{form}-{len(rows)}"
                r[f"load_{form}"] = timed(lambda name=name: reg.load(name), repeat)
            key = inline.publish(model)
            if key is None:
                r["publish_inline"] = r["load_inline"] = None
                d = json_format.MessageToDict(model)
                t0 = time.perf_counter()
                json_format.ParseDict(d, onnx.ModelProto())
                r["parse_inline_only"] = (time.perf_counter() - t0) * 1000
            else:
                r["publish_inline"] = timed(lambda model=model: inline.publish(model), repeat)
                r["load_inline"] = timed(lambda key=key: inline.load(key), repeat)
            data = model.SerializeToString()
            r["parse_binary_only"] = timed(
                lambda data=data: onnx.load_model_from_string(data), repeat
            )
            rows.append(r)
            print(json.dumps(r), flush=True)

    def fmt(v):
        return "n/a" if v is None else f"{v:.1f}"

    lines = [
        f"# Publish and load: {datetime.now(UTC):%Y-%m-%d} on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()})",
        "",
        "Median milliseconds. `doc+chunks` is the catalog's JSON form (large tensors in"
        " content-addressed binary chunks); `binary` stores the whole protobuf; `inline` is"
        " plain json_format with weights as base64 (n/a: over Couchbase's 20 MB value limit).",
        "",
        "| model | MB | publish doc+chunks | publish binary | publish inline | load doc+chunks"
        " | load binary | load inline | ParseFromString alone | load doc+chunks / load binary |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['size_mb']:.1f} | {fmt(r['publish_json'])} | "
            f"{fmt(r['publish_binary'])} | {fmt(r['publish_inline'])} | {fmt(r['load_json'])} | "
            f"{fmt(r['load_binary'])} | {fmt(r['load_inline'])} | {fmt(r['parse_binary_only'])} | "
            f"{r['load_json'] / r['load_binary']:.2f}x |"
        )
    lines += [
        "",
        f"Small versions (iris SVC) published per second, full path with validation: "
        f"**{rate:.0f}/s**; without validation (trusted producers such as the online learner):"
        f" **{rate_nv:.0f}/s**.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
