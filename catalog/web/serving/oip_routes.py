"""OIP routes tritonclient calls beyond the core protocol: config, repository index, stats.

- ``GET /v2/models/NAME[/versions/V]/config``: a Triton model configuration derived from
  the ONNX signature (platform ``onnxruntime_onnx``). When every input and output has a
  dynamic first dimension, it is the batch dimension: ``max_batch_size`` is the catalog's
  row limit and ``dims`` leave it out, as Triton's own ONNX auto-configuration does;
  otherwise ``max_batch_size`` is 0 and ``dims`` are the full shapes (-1 when dynamic).
- ``POST /v2/repository/index``: every stored version, state ``READY`` (any version is
  served on demand: its session is built on first use).
- ``GET /v2/models/NAME[/versions/V]/stats``: counts and durations of this process only
  (``"scope": "process"``: each web worker and the gRPC server count their own requests).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from catalog.domain.registry import Registry, get_registry
from catalog.web.permissions import read_access
from catalog.web.serving.api import api
from catalog.web.serving.infer_http import version_ref
from inference import oip, stats
from inference.predict import max_batch
from inference.sessions import LoadedModel, TensorSpec, load_model

PLATFORM = "onnxruntime_onnx"
BACKEND = "onnxruntime"
# OIP datatype -> Triton's model-configuration DataType name.
CONFIG_TYPES = {name: f"TYPE_{name}" for name in oip.DATATYPES} | {"BYTES": "TYPE_STRING"}
# Every version of every model, oldest first (the repository index).
ALL_VERSIONS = "SELECT m.name, m.version FROM models m ORDER BY m.name, m.version"


def model_config(model: LoadedModel) -> dict[str, Any]:
    """Return the Triton-style configuration of a loaded model version."""
    tensors = [s for s in (*model.inputs, *model.outputs) if s.datatype is not None]
    batched = bool(tensors) and all(_dynamic_first(s) for s in tensors)
    return {
        "name": model.name,
        "platform": PLATFORM,
        "backend": BACKEND,
        "version_policy": {"specific": {"versions": [model.version]}},
        "max_batch_size": max_batch() if batched else 0,
        "input": [_config_tensor(s, batched, "FORMAT_NONE") for s in model.inputs if s.datatype],
        "output": [_config_tensor(s, batched) for s in model.outputs if s.datatype],
        "parameters": {"version": {"string_value": str(model.version)}},
    }


def _dynamic_first(spec: TensorSpec) -> bool:
    return bool(spec.shape) and not isinstance(spec.shape[0], int)


def _config_tensor(spec: TensorSpec, batched: bool, fmt: str | None = None) -> dict[str, Any]:
    dims = spec.oip_shape()
    tensor: dict[str, Any] = {
        "name": spec.name,
        "data_type": CONFIG_TYPES[spec.datatype or "BYTES"],
        "dims": dims[1:] if batched else dims,
    }
    if fmt is not None:
        tensor["format"] = fmt
    return tensor


def repository_index(reg: Registry) -> list[dict[str, Any]]:
    """Return one entry per stored version (all READY: sessions are built on demand)."""
    rows = reg.store.query(ALL_VERSIONS, {}, query_context=reg.ks.query_context)
    return [
        {"name": row["name"], "version": str(row["version"]), "state": "READY", "reason": ""}
        for row in rows
        if isinstance(row, dict) and "name" in row and "version" in row
    ]


@api("GET")
@read_access
def config(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return the model configuration of a version (latest when none is named)."""
    model = load_model(get_registry(), name, version_ref(version))
    return JsonResponse(model_config(model))


@api("POST")
@read_access
def index(request: HttpRequest) -> HttpResponse:
    """Return the repository index (a body of ``{"ready": true}`` changes nothing)."""
    if request.body and not isinstance(oip.parse_json(request.body), dict):
        raise oip.ProtocolError('send {} or {"ready": true}')
    return JsonResponse(repository_index(get_registry()), safe=False)


@api("GET")
@read_access
def statistics(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    """Return this process's inference statistics of a model (one version, or all)."""
    reg = get_registry()
    if version is not None:
        versions = [reg.resolve(name, version_ref(version))]
    else:
        reg.resolve(name, None)  # 404 for an unknown model
        versions = sorted(stats.snapshot(name).versions)
    return JsonResponse(stats.statistics(name, versions))
