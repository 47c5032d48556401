"""The floor for bench_serving.py: a bare WSGI app over the same preloaded session.

``POST /v2/models/NAME/infer`` with an OIP JSON body: parse the JSON, build one numpy
array per input, run the onnxruntime session (loaded once at start from the same store
and version the catalog serves, single-threaded like the catalog's), and write the
outputs as OIP JSON. No validation, no routing, no framework: what any server of this
protocol has to do at the least. Configured by environment variables:

    FLOOR_STORE=embedded:///path.sqlite3 FLOOR_MODEL=iris-svc \
        gunicorn bench.floor_app:application
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.domain.registry import Registry  # noqa: E402
from catalog.store import open_store  # noqa: E402

DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def _session() -> ort.InferenceSession:
    reg = Registry(open_store(os.environ["FLOOR_STORE"]))
    data = reg.load_bytes(os.environ["FLOOR_MODEL"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


SESSION = _session()
MODEL = os.environ["FLOOR_MODEL"]


def application(environ, start_response):
    """Answer every POST with the model's outputs for the OIP JSON body."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    request = json.loads(body)
    feeds = {
        t["name"]: np.array(t["data"], dtype=DTYPES[t["datatype"]]).reshape(t["shape"])
        for t in request["inputs"]
    }
    names = [o.name for o in SESSION.get_outputs()]
    results = SESSION.run(names, feeds)
    outputs = [
        {
            "name": n,
            "datatype": NAMES.get(r.dtype, "BYTES"),
            "shape": list(r.shape),
            "data": r.ravel().tolist(),
        }
        for n, r in zip(names, results, strict=True)
    ]
    payload = json.dumps({"model_name": MODEL, "outputs": outputs}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
