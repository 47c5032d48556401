"""The plain OIP infer request, answered in one pass.

Most requests are alike: every input of the model given once, each a name, a datatype, a
shape and its values (a flat JSON list of plain numbers, binary tensor data, or gRPC's raw
contents), no requested outputs or other parameters, the prediction log off. ``answer``
(HTTP) and the gRPC server's ``model_infer`` check exactly that and make the arrays, and
``predict_tensors`` runs them with the steps the general path takes (``predict.run``,
``serving.count_success``) without building its request objects or walking its general
checks, which were a quarter to a third of what the infer route cost in a loop above the
bare session run (bench/results/serving.md, runs 15-17).

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
from inference import oip, oip_binary, predict, serving, stats
from inference.oip import ProtocolError
from inference.predict import InferenceFailed
from inference.prediction import Prediction
from inference.sessions import LoadedModel, load_model

# The keys of a plain request, of its parameters, and of a plain input with its values in
# ``data`` or in the binary tail (values checked below).
_REQUEST_KEYS = frozenset({"inputs", "id", "parameters"})
_BINARY_OUT = frozenset({"binary_data_output"})
_INPUT_KEYS = frozenset({"name", "datatype", "shape", "data"})
_BINARY_INPUT_KEYS = frozenset({"name", "datatype", "shape", "parameters"})
_BINARY_SIZE = frozenset({"binary_data_size"})


class Tensor(NamedTuple):
    """One input of a plain request, its values made into an array of its datatype."""

    name: str
    datatype: str
    shape: list[int]
    array: np.ndarray


def answer(
    reg: Registry, name: str, ref: int | str | None, value: Any, tail: memoryview
) -> tuple[bytes, int | None] | None:
    """Return the response to a plain HTTP request and its JSON header length (None for
    plain JSON), or None if the request is not plain.

    ``value`` is the decoded JSON (header) and ``tail`` the binary tensor data after it, as
    ``oip_binary.split_body`` gives them. Plain here: the keys ``inputs``, ``id`` and
    ``parameters`` with ``binary_data_output`` alone, each input's values in ``data`` or in
    the tail (``parameters`` with ``binary_data_size`` alone): what tritonclient sends by
    default. From the model's lookup on, this raises what the general path raises
    (ModelNotFound, then ProtocolError or InferenceFailed from the runtime).
    """
    if type(value) is not dict or not value.keys() <= _REQUEST_KEYS:
        return None
    request_id, parameters = value.get("id"), value.get("parameters")
    if not (request_id is None or type(request_id) is str):
        return None
    if not (parameters is None or type(parameters) is dict and parameters.keys() <= _BINARY_OUT):
        return None
    tensors = _http_tensors(value.get("inputs"), tail)
    if tensors is None:
        return None
    prediction = predict_tensors(reg, name, ref, tensors, request_id)
    if prediction is None:
        return None
    head: dict[str, Any] = {
        "model_name": prediction.model.name,
        "model_version": str(prediction.model.version),
    }
    if request_id is not None:
        head["id"] = request_id
    binary = parameters is not None and parameters.get("binary_data_output") is True
    choice = oip_binary.ALL_BINARY if binary else oip_binary.ALL_JSON
    return oip_binary.encode_response(head, prediction.outputs, choice)


def _http_tensors(inputs: Any, tail: memoryview) -> list[Tensor] | None:
    """Return the tensors of a non-empty list of plain inputs, their values in ``data`` or
    in ``tail`` (which they must use up), or None."""
    if type(inputs) is not list or not inputs:
        return None
    tensors, offset = [], 0
    for item in inputs:
        if type(item) is not dict:
            return None
        name, datatype, shape = item.get("name"), item.get("datatype"), item.get("shape")
        if type(name) is not str or type(datatype) is not str or not plain_shape(shape):
            return None
        dtype = oip.NUMPY_TYPES.get(datatype)
        if dtype is None:
            return None
        if item.keys() == _INPUT_KEYS:
            data = item["data"]
            array = oip.plain_array(data, dtype, shape) if type(data) is list else None
        elif item.keys() == _BINARY_INPUT_KEYS:
            size = _binary_size(item["parameters"], len(tail) - offset)
            if size is None:
                return None
            try:
                array = oip_binary.decode_tensor(
                    name, datatype, shape, tail[offset : offset + size]
                )
            except ProtocolError:
                return None
            offset += size
        else:
            return None
        if array is None:
            return None
        tensors.append(Tensor(name, datatype, shape, array))
    return tensors if offset == len(tail) else None


def _binary_size(parameters: Any, left: int) -> int | None:
    """Return an input's binary_data_size if it is its only parameter and fits in ``left``."""
    if type(parameters) is not dict or parameters.keys() != _BINARY_SIZE:
        return None
    size = parameters["binary_data_size"]
    return size if type(size) is int and 0 <= size <= left else None


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
    took_ms = (time.perf_counter_ns() - run_started) / 1e6
    outputs = list(zip(names, results, strict=True))
    prediction = Prediction(model, outputs, took_ms, request_id, inputs=feeds)
    serving.count_success(name, prediction, started)
    return prediction


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
