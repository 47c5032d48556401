"""The OpenAPI paths of the catalog's own API (search, SQL++, publish, aliases, learn)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_OBJECT = {"description": "OK.", "content": {"application/json": {"schema": {"type": "object"}}}}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_WRITE = "Needs a bearer token (`python manage.py catalog token USER`) or a staff session."


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": properties, "required": required}
            }
        },
    }


def catalog_paths() -> dict[str, Any]:
    """Return the OpenAPI path items of the catalog API."""
    text = {"type": "string"}
    return {
        "/api/models/{name}/predictions": {
            "get": {
                "summary": "A page of a model's logged predictions, newest first",
                "description": _WRITE
                + " Follow `nextUrl` (or pass `next` as `cursor`) for older ones.",
                "operationId": "predictionsPage",
                "tags": ["feedback"],
                "parameters": [
                    _NAME,
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _query("cursor", {"type": "string"}, "`next` of the page before"),
                ],
                "responses": {"200": _OBJECT, "400": _ERROR, "401": _ERROR, "403": _ERROR},
            }
        },
        "/api/search": {
            "get": {
                "summary": "Full-text search over the catalog (Couchbase FTS query strings)",
                "operationId": "search",
                "tags": ["catalog"],
                "parameters": [
                    _query("q", {"type": "string", "maxLength": 1000}, "e.g. `tags:iris svm*`"),
                    _query("offset", {"type": "integer", "minimum": 0, "maximum": 1000000}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    _query("all_versions", {"type": "boolean"}),
                    _query("tag", text),
                    _query("framework", text),
                    _query("task", text),
                    _query("op", text, "operator type"),
                ],
                "responses": {"200": _OBJECT, "400": _ERROR, "429": _ERROR},
            }
        },
        "/api/query": {
            "get": {
                "summary": "Run a read-only SQL++ statement (query context ml.catalog)",
                "operationId": "queryGet",
                "tags": ["catalog"],
                "parameters": [
                    {
                        "name": "statement",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 100000},
                    },
                    _query("params", text, "JSON object ($name) or array ($1)"),
                ],
                "responses": {"200": _OBJECT, "400": _ERROR, "429": _ERROR},
            },
            "post": {
                "summary": "Run a read-only SQL++ statement",
                "operationId": "queryPost",
                "tags": ["catalog"],
                "requestBody": _json_body(
                    {"statement": {"type": "string"}, "params": {}}, ["statement"]
                ),
                "responses": {"200": _OBJECT, "400": _ERROR, "429": _ERROR},
            },
        },
        "/api/models/{name}/versions": {
            "post": {
                "summary": "Publish a .onnx file as a new version. " + _WRITE,
                "operationId": "publish",
                "tags": ["catalog"],
                "parameters": [
                    _NAME,
                    _query("description", text),
                    _query("tags", text),
                    _query("task", text),
                    _query("framework", text),
                    _query("format", {"type": "string", "enum": ["json", "binary"]}),
                    _query("alias", text),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                    },
                },
                "responses": {
                    "201": _OBJECT,
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "413": _ERROR,
                },
            }
        },
        "/api/models/{name}/versions/{version}": {
            "delete": {
                "summary": "Delete a version (refused while aliased unless force=1). " + _WRITE,
                "operationId": "deleteVersion",
                "tags": ["catalog"],
                "parameters": [
                    _NAME,
                    {
                        "name": "version",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    _query("force", {"type": "boolean"}),
                ],
                "responses": {
                    "200": _OBJECT,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "409": _ERROR,
                },
            }
        },
        "/api/models/{name}/aliases/{alias}": {
            method: {
                "summary": summary + " " + _WRITE,
                "operationId": f"alias{method.title()}",
                "tags": ["catalog"],
                "parameters": [
                    _NAME,
                    {"name": "alias", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                **(
                    {
                        "requestBody": _json_body(
                            {"version": {"type": "integer"}, "expected": {"type": "integer"}},
                            ["version"],
                        )
                    }
                    if method != "delete"
                    else {}
                ),
                "responses": {
                    "200": _OBJECT,
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "409": _ERROR,
                },
            }
            for method, summary in (
                ("post", "Move an alias (CAS with expected)."),
                ("put", "Move an alias (CAS with expected)."),
                ("delete", "Remove an alias."),
            )
        },
        "/api/models/{name}/learn": {
            "post": {
                "summary": "One online-learning step on a batch (CSV or JSON rows). " + _WRITE,
                "operationId": "learn",
                "tags": ["learning"],
                "parameters": [_NAME],
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "rows": {"type": "array"},
                                    "labels": {"type": "array"},
                                    "label": {"type": "string"},
                                    "batch_id": {"type": "string"},
                                },
                            }
                        },
                    },
                },
                "responses": {
                    "200": _OBJECT,
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "409": _ERROR,
                },
            }
        },
    }
