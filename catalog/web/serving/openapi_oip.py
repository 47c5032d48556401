"""OpenAPI paths of the OIP extensions: model configuration, repository index, statistics."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A version number, or an alias such as `latest` or `production`.",
}
_OBJECT = {"type": "object"}


def _ok(description: str, schema: dict[str, Any] = _OBJECT) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def paths() -> dict[str, Any]:
    """Return the OpenAPI path items of the extension routes."""
    out: dict[str, Any] = {
        "/v2/repository/index": {
            "post": {
                "summary": "Every stored model version, with its state (READY)",
                "operationId": "repositoryIndex",
                "tags": ["models"],
                "responses": {
                    "200": _ok("The index.", {"type": "array", "items": _OBJECT}),
                    "400": _ERROR,
                },
            }
        }
    }
    for with_version in (False, True):
        base = "/v2/models/{name}" + ("/versions/{version}" if with_version else "")
        params = [_NAME, _VERSION] if with_version else [_NAME]
        suffix = "Version" if with_version else ""
        out[base + "/config"] = {
            "get": {
                "summary": "Triton-style model configuration (platform onnxruntime_onnx)",
                "operationId": f"model{suffix}Config",
                "tags": ["models"],
                "parameters": params,
                "responses": {"200": _ok("The configuration."), "404": _ERROR},
            }
        }
        out[base + "/stats"] = {
            "get": {
                "summary": "Inference statistics of this server process (scope: process)",
                "operationId": f"model{suffix}Stats",
                "tags": ["models"],
                "parameters": params,
                "responses": {"200": _ok("The statistics."), "404": _ERROR},
            }
        }
    return out
