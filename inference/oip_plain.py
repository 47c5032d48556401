"""The plain OIP JSON infer request, answered in one pass.

Most requests are alike: an object with ``inputs`` (and perhaps an ``id``), each input a
``name``, ``datatype``, ``shape`` and a flat list of plain numbers, every input of the model
given once, no requested outputs or parameters, the prediction log off. ``answer`` checks
exactly that and predicts with the same steps the general path takes (``predict.run``, the
statistics, the warm list) but without building its request, prediction and response
objects: in a server those steps cost several times what they cost in a loop, and they were
most of what the catalog's infer route cost above the bare session run
(bench/results/serving.md).

Anything else, including every request the general path would refuse, gets None before
anything is run or counted, and goes to the general path (``infer_http.infer_body``), which
gives the same answer to what both accept (tests/inference/test_oip_plain.py compares them).
"""

from __future__ import annotations

import time
from typing import Any

from catalog.domain import limits
from catalog.domain.registry import Registry
from inference import oip, oip_binary, predict, stats, warm
from inference.oip import ProtocolError
from inference.predict import InferenceFailed
from inference.sessions import LoadedModel, load_model

# The keys of a plain request and of a plain input (values checked below).
_REQUEST_KEYS = frozenset({"inputs", "id"})
_INPUT_KEYS = frozenset({"name", "datatype", "shape", "data"})


def answer(reg: Registry, name: str, ref: int | str | None, value: Any) -> bytes | None:
    """Return the JSON response to a decoded plain request, or None if it is not plain.

    What the request alone decides is checked before the model is looked up, so a request
    the general path would refuse on its own (400) is never answered with the model's
    absence (404) instead. From the lookup on, this raises what the general path raises
    (ModelNotFound, then ProtocolError or InferenceFailed from the runtime).
    """
    if type(value) is not dict or not value.keys() <= _REQUEST_KEYS:
        return None
    inputs, request_id = value.get("inputs"), value.get("id")
    if not _plain_inputs(inputs) or not (request_id is None or type(request_id) is str):
        return None
    if limits.prediction_log_on():  # the general path logs the prediction
        return None
    started = time.perf_counter_ns()
    model = load_model(reg, name, ref)
    feeds = _feeds(model, inputs)
    if feeds is None:
        return None
    names = model.output_order
    run_started = time.perf_counter_ns()
    try:
        results = predict.run(model, feeds, names)
    except (ProtocolError, InferenceFailed):
        stats.record_failure(name, time.perf_counter_ns() - started)
        raise
    done = time.perf_counter_ns()
    first = next(iter(feeds.values()))
    stats.record_success(
        name, model.version, done - started, done - run_started, int(first.shape[0])
    )
    warm.note_use(name)
    response: dict[str, Any] = {"model_name": model.name, "model_version": str(model.version)}
    if request_id is not None:
        response["id"] = request_id
    response["outputs"] = [oip.encode_output(n, a) for n, a in zip(names, results, strict=True)]
    return oip_binary.encode_json(response)


def _plain_inputs(inputs: Any) -> bool:
    """Return whether ``inputs`` is a non-empty list of plain inputs (no model needed)."""
    if type(inputs) is not list or not inputs:
        return False
    for item in inputs:
        if type(item) is not dict or item.keys() != _INPUT_KEYS:
            return False
        shape = item["shape"]
        if type(item["name"]) is not str or item["datatype"] not in oip.NUMPY_TYPES:
            return False
        if type(shape) is not list or not shape or type(item["data"]) is not list:
            return False  # a scalar input has no first dimension to count rows by
        if not all(type(d) is int and d >= 0 for d in shape):
            return False
    return True


def _feeds(model: LoadedModel, inputs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the runtime feeds of plain inputs that fit the model, or None."""
    if len(inputs) != len(model.inputs):
        return None
    limit = limits.max_batch()
    feeds = {}
    for item in inputs:
        tensor_name, shape = item["name"], item["shape"]
        spec = model.input_specs.get(tensor_name)
        if spec is None or tensor_name in feeds or item["datatype"] != spec.datatype:
            return None
        try:
            predict.check_shape(tensor_name, shape, spec.shape, limit)
        except ProtocolError:
            return None
        array = oip.plain_array(item["data"], oip.NUMPY_TYPES[spec.datatype], shape)
        if array is None:
            return None
        feeds[tensor_name] = array
    return feeds
