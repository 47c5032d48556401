"""Between gRPC messages and the catalog's inference types.

A ModelInferRequest is turned into the same JSON-shaped value the HTTP route parses, so
both transports validate names, datatypes and shapes with one parser (inference.oip);
raw contents are decoded by the binary codec (inference.oip_binary).
"""

from __future__ import annotations

from typing import Any

from inference import oip, oip_binary, oip_plain
from inference.grpc import protocol
from inference.oip import InferRequest, ProtocolError
from inference.prediction import Prediction
from inference.sessions import LoadedModel

# Which typed ``contents`` field holds each datatype (FP16 has none: raw only).
CONTENTS_FIELDS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def _parameters(params: Any) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        which = value.WhichOneof("parameter_choice")
        out[key] = getattr(value, which) if which else None
    return out


def infer_request(request: Any) -> InferRequest:
    """Return the InferRequest of a ModelInferRequest, or raise ProtocolError."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise ProtocolError(
            f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs"
        )
    value: dict[str, Any] = {
        "inputs": [
            {
                "name": tensor.name,
                "datatype": tensor.datatype,
                "shape": list(tensor.shape),
                "data": [],
                "parameters": _parameters(tensor.parameters),
            }
            for tensor in request.inputs
        ],
        "parameters": _parameters(request.parameters),
    }
    if request.id:
        value["id"] = request.id
    if request.outputs:
        value["outputs"] = [{"name": out.name} for out in request.outputs]
    parsed = oip.parse_infer_request(value)
    for index, (tensor, message) in enumerate(zip(parsed.inputs, request.inputs, strict=True)):
        if raw:
            if message.HasField("contents"):
                raise ProtocolError(
                    f"input {tensor.name!r} has contents and raw_input_contents", tensor.name
                )
            tensor.data = oip_binary.decode_tensor(
                tensor.name, tensor.datatype, tensor.shape, raw[index]
            )
        else:
            tensor.data = _typed_contents(tensor.name, tensor.datatype, message)
    return parsed


def plain_tensors(request: Any) -> list[oip_plain.Tensor] | None:
    """Return the tensors of a plain ModelInferRequest (oip_plain), or None.

    Plain: every input in raw contents, no parameters, no requested outputs; whatever the
    general path (``infer_request``) would refuse gives None here, so it says why.
    """
    raw, inputs = request.raw_input_contents, request.inputs
    if not raw or len(raw) != len(inputs) or request.outputs or request.parameters:
        return None
    tensors = []
    for message, chunk in zip(inputs, raw, strict=True):
        name, datatype, shape = message.name, message.datatype, list(message.shape)
        if not name or datatype not in oip.NUMPY_TYPES or not oip_plain.plain_shape(shape):
            return None
        if message.parameters or message.HasField("contents"):
            return None
        try:
            array = oip_binary.decode_tensor(name, datatype, shape, chunk)
        except ProtocolError:
            return None
        tensors.append(oip_plain.Tensor(name, datatype, shape, array))
    return tensors


def _typed_contents(name: str, datatype: str, message: Any) -> list[Any]:
    field = CONTENTS_FIELDS.get(datatype)
    if field is None:
        raise ProtocolError(f"input {name!r}: {datatype} must be sent in raw_input_contents", name)
    values = list(getattr(message.contents, field))
    if datatype == "BYTES":
        try:
            return [v.decode("utf-8") for v in values]
        except UnicodeDecodeError:
            raise ProtocolError(
                f"input {name!r}: BYTES contents must be UTF-8 text", name
            ) from None
    return values


def infer_response(prediction: Prediction) -> Any:
    """Return the ModelInferResponse of a prediction (outputs as raw contents)."""
    response = protocol.message("ModelInferResponse")(
        model_name=prediction.model.name,
        model_version=str(prediction.model.version),
        id=prediction.request_id or "",
    )
    if prediction.prediction_id is not None:
        response.parameters["prediction_id"].string_param = prediction.prediction_id
    for name, array in prediction.outputs:
        out = response.outputs.add()
        out.name = name
        out.datatype = oip.datatype_of(array)
        out.shape.extend(array.shape)
        response.raw_output_contents.append(oip_binary.encode_tensor(array))
    return response


def metadata_response(model: LoadedModel, versions: list[str]) -> Any:
    """Return the ModelMetadataResponse of a loaded model."""
    tensor = protocol.message("ModelMetadataResponse.TensorMetadata")

    def describe(spec: Any) -> Any:
        return tensor(
            name=spec.name, datatype=spec.datatype or spec.ort_type, shape=spec.oip_shape()
        )

    return protocol.message("ModelMetadataResponse")(
        name=model.name,
        versions=versions,
        platform="onnx",
        inputs=[describe(s) for s in model.inputs],
        outputs=[describe(s) for s in model.outputs],
    )


def model_config_response(config: dict[str, Any]) -> Any:
    """Return the ModelConfigResponse of a configuration from oip_routes.model_config."""
    model_input, model_output = protocol.message("ModelInput"), protocol.message("ModelOutput")
    message = protocol.message("ModelConfig")(
        name=config["name"],
        platform=config["platform"],
        backend=config["backend"],
        max_batch_size=config["max_batch_size"],
        input=[
            model_input(
                name=t["name"], data_type=t["data_type"], format=t["format"], dims=t["dims"]
            )
            for t in config["input"]
        ],
        output=[
            model_output(name=t["name"], data_type=t["data_type"], dims=t["dims"])
            for t in config["output"]
        ],
    )
    return protocol.message("ModelConfigResponse")(config=message)


def statistics_response(body: dict[str, Any]) -> Any:
    """Return the ModelStatisticsResponse of inference.stats.statistics()."""
    duration = protocol.message("StatisticDuration")
    rows = []
    for row in body["model_stats"]:
        infer_stats = protocol.message("InferStatistics")(
            **{key: duration(**value) for key, value in row["inference_stats"].items()}
        )
        rows.append(
            protocol.message("ModelStatistics")(
                name=row["name"],
                version=row["version"],
                last_inference=row["last_inference"],
                inference_count=row["inference_count"],
                execution_count=row["execution_count"],
                inference_stats=infer_stats,
            )
        )
    return protocol.message("ModelStatisticsResponse")(model_stats=rows)
