"""The OIP infer route over HTTP: one handler for the Django view and the WSGI fast path."""

from __future__ import annotations

import json
from typing import Any

from catalog.domain.registry import Registry
from inference import oip_binary, oip_plain, serving

JSON_CONTENT_TYPE = "application/json"


def infer_body(
    reg: Registry, name: str, version: str | None, body: bytes, declared: str | None
) -> tuple[bytes, int | None]:
    """Return the response body of an infer request and its JSON header length (or None).

    ``declared`` is the request's Inference-Header-Content-Length header, if any.
    """
    value, tail = oip_binary.split_body(body, declared)
    plain = oip_plain.answer(reg, name, serving.version_ref(version), value, tail)
    if plain is not None:
        return plain
    return general_body(reg, name, version, value, tail)


def general_body(
    reg: Registry, name: str, version: str | None, value: Any, tail: memoryview
) -> tuple[bytes, int | None]:
    """Return the response body of any decoded request (binary tensors, requested outputs,
    parameters, nested data, the prediction log) and its JSON header length (or None)."""
    request = oip_binary.parse_request(value, tail)
    prediction = serving.run(reg, name, version, request)
    return oip_binary.encode_response(
        serving.response_head(prediction), prediction.outputs, oip_binary.binary_outputs(value)
    )


def content_type(header_length: int | None) -> str:
    """Return the content type of a response body with this JSON header length."""
    return JSON_CONTENT_TYPE if header_length is None else oip_binary.BINARY_CONTENT_TYPE


def error_body(status: int, message: str) -> bytes:
    """Return the JSON body of an API error."""
    return json.dumps({"error": message, "status": status}).encode("utf-8")
