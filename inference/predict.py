"""Check inputs against a model's signature, run it, and shape the outputs.

Every way in (the OIP API, the prediction page, batch CSV) builds an ``InferRequest``
and calls ``infer``: one path to validate, run, log and encode.

The warm path: resolve the ref (one KV get for an alias), a cache lookup, numpy
conversion, ``session.run``, encoding. No document is read.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from catalog.domain import limits
from catalog.domain.registry import Registry
from inference import oip
from inference.oip import InferRequest, ProtocolError
from inference.prediction import Prediction
from inference.prediction_log import record
from inference.sessions import LoadedModel, load_model


class InferenceFailed(Exception):
    """The runtime failed on an input the checks accepted (HTTP 500, or 503 on timeout)."""

    def __init__(self, message: str, status: int = 500):
        super().__init__(message)
        self.status = status


def max_batch() -> int:
    """Return the most rows one request may carry."""
    return limits.max_batch()


def infer(reg: Registry, name: str, ref: int | str | None, request: InferRequest) -> Prediction:
    """Return the prediction of model ``name`` at ``ref`` for a parsed request."""
    model = load_model(reg, name, ref)
    feeds = check_inputs(model, request)
    names = check_outputs(model, request.outputs)
    started = time.perf_counter()
    results = run(model, feeds, names)
    took_ms = (time.perf_counter() - started) * 1000
    prediction = Prediction(
        model, list(zip(names, results, strict=True)), took_ms, request.id, inputs=feeds
    )
    if limits.prediction_log_on():
        prediction.prediction_id = record(reg, prediction)
    return prediction


def check_inputs(model: LoadedModel, request: InferRequest) -> dict[str, np.ndarray]:
    """Return the runtime feeds of a request, or raise ProtocolError naming the input."""
    feeds: dict[str, np.ndarray] = {}
    limit = max_batch()
    for tensor in request.inputs:
        if tensor.name not in model.input_specs:
            raise ProtocolError(
                f"model {model.name!r} has no input {tensor.name!r}; its inputs are "
                + ", ".join(repr(s.name) for s in model.inputs),
                tensor.name,
            )
        if tensor.name in feeds:
            raise ProtocolError(f"input {tensor.name!r} is given twice", tensor.name)
        spec = model.input(tensor.name)
        if spec.datatype is None:
            raise ProtocolError(
                f"input {spec.name!r} is a {spec.ort_type}; only tensor inputs can be sent",
                spec.name,
            )
        if tensor.datatype != spec.datatype:
            raise ProtocolError(
                f"input {spec.name!r}: datatype {tensor.datatype} does not match the"
                f" model's {spec.datatype}",
                spec.name,
            )
        check_shape(spec.name, tensor.shape, spec.shape, limit)
        feeds[spec.name] = oip.to_array(tensor)
    missing = [s.name for s in model.inputs if s.name not in feeds]
    if missing:
        raise ProtocolError(
            "missing input" + ("s " if len(missing) > 1 else " ") + ", ".join(map(repr, missing)),
            missing[0],
        )
    return feeds


def check_shape(
    name: str, shape: list[int], expected: list[int | str | None] | None, limit: int
) -> None:
    """Raise ProtocolError unless ``shape`` fits the model's and holds 1 to ``limit`` rows."""
    if expected is not None:
        if len(shape) != len(expected):
            raise ProtocolError(
                f"input {name!r}: rank {len(shape)} (shape {shape}) does not match the model's"
                f" rank {len(expected)} (shape {_shape_text(expected)})",
                name,
            )
        for i, (got, want) in enumerate(zip(shape, expected, strict=True)):
            if isinstance(want, int) and want >= 0 and got != want:
                raise ProtocolError(
                    f"input {name!r}: dimension {i} is {got}, the model needs {want}"
                    f" (shape {_shape_text(expected)})",
                    name,
                )
    if math.prod(shape) == 0:
        raise ProtocolError(f"input {name!r} is empty (shape {shape})", name)
    if shape and shape[0] > limit:
        raise ProtocolError(
            f"input {name!r}: batch of {shape[0]} rows is over the limit of {limit}", name
        )


def _shape_text(shape: list[int | str | None]) -> str:
    return "[" + ", ".join(str(d) if d is not None else "?" for d in shape) + "]"


def check_outputs(model: LoadedModel, requested: list[str] | None) -> list[str]:
    """Return the output names to compute (all when none are requested), or raise."""
    if not requested:
        return list(model.output_order)
    for name in requested:
        if name not in model.output_order:
            raise ProtocolError(
                f"model {model.name!r} has no output {name!r}; its outputs are "
                + ", ".join(repr(s.name) for s in model.outputs)
            )
    if len(set(requested)) != len(requested):
        raise ProtocolError("an output is requested twice")
    return list(requested)


def run(model: LoadedModel, feeds: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
    """Return the runtime's outputs as arrays, mapping its errors to ours."""
    timeout = limits.predict_timeout_s()
    options = ort.RunOptions() if timeout > 0 else None
    token = _watchdog.watch(options, timeout) if options is not None else None
    try:
        results = model.session.run(names, feeds, options)
    except ort_errors.InvalidArgument as e:
        raise ProtocolError(f"the runtime refused the input: {_first_line(e)}") from None
    except Exception as e:  # onnxruntime's own types (Fail, RuntimeException, ...)
        if options is not None and options.terminate:
            raise InferenceFailed(f"the prediction took longer than {timeout:g} s", 503) from None
        raise InferenceFailed(f"the runtime failed: {_first_line(e)}") from None
    finally:
        if token is not None:
            _watchdog.release(token)
    return [r if type(r) is np.ndarray else _as_array(r) for r in results]


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:500] if text else type(error).__name__


def _as_array(value: Any) -> np.ndarray:
    """Return a runtime result as an array (ZipMap's list of dicts -> 2-D scores)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        keys = list(value[0])
        return np.array([[row[k] for k in keys] for row in value])
    return np.array(value, dtype=object)


class _Watchdog:
    """One thread that sets ``terminate`` on runs past their deadline.

    A run registers its deadline and RunOptions in a dict and removes them when it ends;
    dict operations are atomic in CPython, so a request takes no lock (a lock, a heap and a
    condition cost about 6 µs of a 30 µs prediction). The thread sleeps until the nearest
    deadline it knows of; a run whose deadline comes sooner wakes it (``_next_wake``), which
    happens about once per timeout period on a busy server, not once per request.
    """

    def __init__(self) -> None:
        self._runs: dict[int, tuple[float, ort.RunOptions]] = {}
        self._tokens = itertools.count(1)
        self._next_wake = math.inf  # when the thread will look next; inf while it is looking
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, options: ort.RunOptions, timeout: float) -> int:
        token = next(self._tokens)
        deadline = time.monotonic() + timeout
        self._runs[token] = (deadline, options)
        if deadline < self._next_wake:  # read after the run is registered: see _loop
            self._wake_up()
        return token

    def release(self, token: int) -> None:
        self._runs.pop(token, None)

    def _wake_up(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="predict-watchdog", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            # While looking, _next_wake is inf: a run registered after the copy below
            # sees it and sets the event, so the wait at the end returns at once.
            self._wake.clear()
            self._next_wake = math.inf
            now = time.monotonic()
            nearest = math.inf
            for token, (deadline, options) in self._runs.copy().items():
                if deadline <= now:
                    options.terminate = True
                    self._runs.pop(token, None)
                else:
                    nearest = min(nearest, deadline)
            self._next_wake = nearest
            self._wake.wait(None if nearest == math.inf else nearest - now)


_watchdog = _Watchdog()


# -- reading a prediction as a classifier's -------------------------------------------------


@dataclass(frozen=True)
class ClassifierOutputs:
    """Which outputs hold a classifier's labels and scores, and the class names."""

    label: str | None
    scores: str | None
    classes: list[Any]
    names: list[str]

    def display(self, value: Any) -> str:
        """Return the name of a predicted label value."""
        if isinstance(value, (bytes, np.bytes_)):
            value = value.decode("utf-8", "replace")
        if isinstance(value, np.generic):
            value = value.item()
        if value in self.classes:
            return self.names[self.classes.index(value)]
        if isinstance(value, int) and 0 <= value < len(self.names):
            return self.names[value]
        return str(value)


def classifier_outputs(model: LoadedModel) -> ClassifierOutputs | None:
    """Return how to read the model's outputs as a classifier's, or None if it is not one."""
    meta = model.metadata
    labels = meta.get("classLabels")
    names = meta.get("classNames")
    if meta.get("task") != "classification" and not labels and not names:
        return None
    classes = list(labels) if isinstance(labels, list) else list(range(len(names or [])))
    if not isinstance(names, list) or len(names) != len(classes):
        names = [str(c) for c in classes]
    label = _find_output(model, ("label", "output_label"), ("INT64", "INT32", "BYTES"))
    scores = _find_output(
        model,
        ("probabilities", "output_probability", "scores"),
        ("FP32", "FP64"),
        width=len(classes) or None,
    )
    if label is None and scores is None:
        return None
    if not classes and scores is not None:
        width = model.outputs[[s.name for s in model.outputs].index(scores)].shape
        n = width[-1] if width and isinstance(width[-1], int) else 0
        classes, names = list(range(n)), [str(i) for i in range(n)]
    return ClassifierOutputs(
        label,
        scores,
        [str(c) if isinstance(c, bytes) else c for c in classes],
        [str(n) for n in names],
    )


def _find_output(
    model: LoadedModel,
    preferred: tuple[str, ...],
    datatypes: tuple[str, ...],
    width: int | None = None,
) -> str | None:
    for spec in model.outputs:
        if spec.name in preferred and spec.datatype in datatypes:
            return spec.name
    for spec in model.outputs:
        if spec.datatype not in datatypes or spec.shape is None:
            continue
        if width is not None and (len(spec.shape) != 2 or spec.shape[-1] != width):
            continue
        if width is None and len(spec.shape) > 2:
            continue
        return spec.name
    return None
