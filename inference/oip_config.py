"""Triton's model-configuration and repository-index views of the catalog's models.

``model_config`` derives a Triton model configuration from the ONNX signature (platform
``onnxruntime_onnx``). When every input and output has a dynamic first dimension, that
dimension is the batch: ``max_batch_size`` is the catalog's row limit and ``dims`` leave
it out, as Triton's ONNX auto-configuration does; otherwise ``max_batch_size`` is 0 and
``dims`` are the full shapes (-1 when dynamic). ``repository_index`` lists every stored
version as READY: any version is served on demand (its session is built on first use).
"""

from __future__ import annotations

from typing import Any

from catalog.domain.registry import Registry
from inference import oip
from inference.predict import max_batch
from inference.sessions import LoadedModel, TensorSpec

PLATFORM = "onnxruntime_onnx"
BACKEND = "onnxruntime"
# OIP datatype -> Triton's DataType name.
CONFIG_TYPES = {name: f"TYPE_{name}" for name in oip.DATATYPES} | {"BYTES": "TYPE_STRING"}


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
        "input": [_tensor(s, batched, "FORMAT_NONE") for s in model.inputs if s.datatype],
        "output": [_tensor(s, batched) for s in model.outputs if s.datatype],
        "parameters": {"version": {"string_value": str(model.version)}},
    }


def _dynamic_first(spec: TensorSpec) -> bool:
    return bool(spec.shape) and not isinstance(spec.shape[0], int)


def _tensor(spec: TensorSpec, batched: bool, fmt: str | None = None) -> dict[str, Any]:
    dims = spec.oip_shape()
    tensor: dict[str, Any] = {
        "name": spec.name,
        "data_type": CONFIG_TYPES[spec.datatype or "BYTES"],
        "dims": dims[1:] if batched else dims,
    }
    if fmt is not None:
        tensor["format"] = fmt
    return tensor


def repository_index(reg: Registry) -> list[dict[str, str]]:
    """Return one entry per stored version (the newest METADATA_VERSIONS of each), READY."""
    return [
        {"name": model["name"], "version": version, "state": "READY", "reason": ""}
        for model in reg.list_models()
        for version in model_versions(reg, model["name"])
    ]


# The model metadata (HTTP ``GET /v2/models/NAME`` and gRPC ModelMetadata) and the
# repository index list the newest versions of a model, at most this many: the work of a
# metadata request does not grow with the number of versions. Older versions are still
# served by number (``/v2/models/NAME/versions/N``); the catalog's versions page and its
# JSON pages list every one.
METADATA_VERSIONS = 100


def model_versions(reg: Registry, name: str) -> list[str]:
    """Return the newest METADATA_VERSIONS version numbers of a model, oldest first, as
    strings."""
    return [str(v) for v in reg.version_numbers(name, limit=METADATA_VERSIONS)]
