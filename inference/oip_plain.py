"""The plain OIP infer request, answered in one pass.

Most requests are alike: every input of the model given once, each a name, a datatype, a
shape and its values (a flat JSON list of plain numbers, or gRPC's raw contents), no
requested outputs or parameters, the prediction log off. ``answer`` (HTTP JSON) and the
gRPC server's ``model_infer`` check exactly that, make the arrays, and ``predict`` runs them
with the steps the general path takes (``predict.run``, the statistics, the warm list)
without building its request objects or walking its general checks: in a server those
steps cost several times what they cost in a loop, and they were most of what the
catalog's infer route cost above the bare session run (bench/results/serving.md).

Anything else, including every request the general path would refuse, gets None before
anything is run or counted, and goes to the general path (``infer_http.general_body``,
``serving.run``), which gives the same answer to what both accept
(tests/inference/test_oip_plain.py compares them). What the request alone decides is
checked before the model is looked up, so a request the general path refuses on its own
(400) is never answered with the model's absence (404) instead.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import numpy as np

from catalog.domain import limits
from catalog.domain.registry import Registry
from inference import oip, oip_binary, predict, stats, warm
from inference.oip import ProtocolError
from inference.predict import InferenceFailed
from inference.prediction import Prediction
from inference.sessions import LoadedModel, load_model

# The keys of a plain request and of a plain input (values checked below).
_REQUEST_KEYS = frozenset({"inputs", "id"})
_INPUT_KEYS = frozenset({"name", "datatype", "shape", "data"})


class Tensor(NamedTuple):
    """One input of a plain request, its values made into an array of its datatype."""

    name: str
    datatype: str
    shape: list[int]
    array: np.ndarray


def answer(reg: Registry, name: str, ref: int | str | None, value: Any) -> bytes | None:
    """Return the JSON response to a decoded plain JSON request, or None if it is not plain.

    From the model's lookup on, this raises what the general path raises (ModelNotFound,
    then ProtocolError or InferenceFailed from the runtime).
    """
    if type(value) is not dict or not value.keys() <= _REQUEST_KEYS:
        return None
    request_id = value.get("id")
    if not (request_id is None or type(request_id) is str):
        return None
    tensors = _json_tensors(value.get("inputs"))
    if tensors is None:
        return None
    prediction = predict_tensors(reg, name, ref, tensors, request_id)
    if prediction is None:
        return None
    response: dict[str, Any] = {
        "model_name": prediction.model.name,
        "model_version": str(prediction.model.version),
    }
    if request_id is not None:
        response["id"] = request_id
    response["outputs"] = [oip.encode_output(n, a) for n, a in prediction.outputs]
    return oip_binary.encode_json(response)


def _json_tensors(inputs: Any) -> list[Tensor] | None:
    """Return the tensors of a non-empty list of plain JSON inputs, or None."""
    if type(inputs) is not list or not inputs:
        return None
    tensors = []
    for item in inputs:
        if type(item) is not dict or item.keys() != _INPUT_KEYS:
            return None
        name, datatype, shape, data = item["name"], item["datatype"], item["shape"], item["data"]
        if type(name) is not str or not plain_shape(shape) or type(data) is not list:
            return None
        dtype = oip.NUMPY_TYPES.get(datatype) if type(datatype) is str else None
        array = None if dtype is None else oip.plain_array(data, dtype, shape)
        if array is None:
            return None
        tensors.append(Tensor(name, datatype, shape, array))
    return tensors


def plain_shape(shape: Any) -> bool:
    """Return whether ``shape`` is a list of one or more non-negative integers.

    (A scalar input has no first dimension to count rows by: the general path takes it.)
    """
    return type(shape) is list and bool(shape) and all(type(d) is int and d >= 0 for d in shape)


def predict_tensors(
    reg: Registry, name: str, ref: int | str | None, tensors: list[Tensor], request_id: str | None
) -> Prediction | None:
    """Return the prediction of plain tensors, or None when they do not fit the model as
    they are (or the prediction log is on): then the general path answers."""
    if limits.prediction_log_on():  # the general path logs the prediction
        return None
    started = time.perf_counter_ns()
    model = load_model(reg, name, ref)
    feeds = _feeds(model, tensors)
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
    stats.record_success(
        name, model.version, done - started, done - run_started, tensors[0].shape[0]
    )
    warm.note_use(name)
    outputs = list(zip(names, results, strict=True))
    return Prediction(model, outputs, (done - run_started) / 1e6, request_id, inputs=feeds)


def _feeds(model: LoadedModel, tensors: list[Tensor]) -> dict[str, np.ndarray] | None:
    """Return the runtime feeds of tensors that fit the model, or None."""
    if len(tensors) != len(model.inputs):
        return None
    limit = limits.max_batch()
    feeds = {}
    for tensor in tensors:
        spec = model.input_specs.get(tensor.name)
        if spec is None or tensor.name in feeds or tensor.datatype != spec.datatype:
            return None
        try:
            predict.check_shape(tensor.name, tensor.shape, spec.shape, limit)
        except ProtocolError:
            return None
        feeds[tensor.name] = tensor.array
    return feeds
