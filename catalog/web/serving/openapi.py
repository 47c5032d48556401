"""The OpenAPI 3 description of the inference API, written by hand."""

from __future__ import annotations

import copy
from typing import Any

from catalog.web.api_spec import catalog_paths
from catalog.web.serving import openapi_oip
from inference.estimators import ESTIMATORS
from inference.oip import DATATYPES
from inference.oip_config import METADATA_VERSIONS

_ERROR = {"$ref": "#/components/responses/Error"}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Model name.",
}
_VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A version number, or an alias such as `latest` or `production`.",
}


def _model_paths(suffix: str, with_version: bool) -> tuple[str, list[dict[str, Any]]]:
    base = "/v2/models/{name}" + ("/versions/{version}" if with_version else "")
    return base + suffix, [_NAME, _VERSION] if with_version else [_NAME]


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v2/health/live": {
            "get": {
                "summary": "Server liveness",
                "operationId": "healthLive",
                "tags": ["health"],
                "responses": {"200": _json("Live", "The server answers.")},
            }
        },
        "/v2/health/ready": {
            "get": {
                "summary": "Server readiness (the document store answers)",
                "operationId": "healthReady",
                "tags": ["health"],
                "responses": {"200": _json("Ready", "Ready."), "503": _json("Ready", "Not ready.")},
            }
        },
        "/v2": {
            "get": {
                "summary": "Server metadata",
                "operationId": "serverMetadata",
                "tags": ["server"],
                "responses": {"200": _json("ServerMetadata", "Server metadata.")},
            }
        },
    }
    for with_version in (False, True):
        which = "the version named" if with_version else "the latest version"
        path, params = _model_paths("", with_version)
        paths[path] = {
            "get": {
                "summary": f"Model metadata ({which})",
                "operationId": "modelVersionMetadata" if with_version else "modelMetadata",
                "tags": ["models"],
                "parameters": params,
                "responses": {"200": _json("ModelMetadata", "Model metadata."), "404": _ERROR},
            }
        }
        path, params = _model_paths("/ready", with_version)
        paths[path] = {
            "get": {
                "summary": f"Model readiness ({which}); builds its session if cold",
                "operationId": "modelVersionReady" if with_version else "modelReady",
                "tags": ["models"],
                "parameters": params,
                "responses": {"200": _json("ModelReady", "Ready."), "404": _ERROR},
            }
        }
        path, params = _model_paths("/infer", with_version)
        paths[path] = {
            "post": {
                "summary": f"Run inference ({which})",
                "operationId": "modelVersionInfer" if with_version else "modelInfer",
                "tags": ["inference"],
                "parameters": params,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/InferRequest"},
                            "example": {
                                "id": "42",
                                "inputs": [
                                    {
                                        "name": "X",
                                        "datatype": "FP32",
                                        "shape": [1, 4],
                                        "data": [5.1, 3.5, 1.4, 0.2],
                                    }
                                ],
                            },
                        }
                    },
                },
                "responses": {
                    "200": _json("InferResponse", "Outputs."),
                    "400": _ERROR,
                    "404": _ERROR,
                    "405": _ERROR,
                    "413": _ERROR,
                    "503": _ERROR,
                },
            }
        }
    csv_responses = {
        "200": {
            "description": "The CSV with prediction columns added.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        "400": _ERROR,
        "404": _ERROR,
    }
    csv_body = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV with a header row of feature names.",
                        }
                    },
                }
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }
    paths["/api/models/{name}/predict.csv"] = {
        "post": {
            "summary": "Batch prediction over a CSV (latest version, or ?version=)",
            "operationId": "predictCsv",
            "tags": ["batch"],
            "parameters": [
                _NAME,
                {"name": "version", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
            "requestBody": csv_body,
            "responses": csv_responses,
        }
    }
    paths["/api/models/{name}/v/{version}/predict.csv"] = {
        "post": {
            "summary": "Batch prediction over a CSV (the version named)",
            "operationId": "predictCsvVersion",
            "tags": ["batch"],
            "parameters": [_NAME, _VERSION],
            "requestBody": copy.deepcopy(csv_body),
            "responses": copy.deepcopy(csv_responses),
        }
    }
    paths["/api/predictions/{id}/feedback"] = {
        "post": {
            "summary": "Attach the true label to a logged prediction",
            "operationId": "predictionFeedback",
            "tags": ["feedback"],
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "`parameters.prediction_id` of an infer response.",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["label"],
                            "properties": {"label": {}},
                        }
                    }
                },
            },
            "responses": {"200": _json("Feedback", "Stored."), "400": _ERROR, "404": _ERROR},
        }
    }
    paths["/api/openapi.json"] = {
        "get": {
            "summary": "This description",
            "operationId": "openapi",
            "tags": ["server"],
            "responses": {
                "200": {
                    "description": "OpenAPI 3 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return paths


_TENSOR_DATA = {
    "type": "array",
    "description": "Row-major values, flat or nested to the shape. FP inputs accept NaN.",
    "items": {},
}

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Live": {"type": "object", "properties": {"live": {"type": "boolean"}}},
    "Ready": {
        "type": "object",
        "properties": {"ready": {"type": "boolean"}, "error": {"type": "string"}},
    },
    "ServerMetadata": {
        "type": "object",
        "required": ["name", "version", "extensions"],
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "extensions": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Datatype": {"type": "string", "enum": list(DATATYPES)},
    "TensorMetadata": {
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"$ref": "#/components/schemas/Datatype"},
            "shape": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "-1 for a dynamic dimension.",
            },
        },
    },
    "ModelMetadata": {
        "type": "object",
        "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": {
            "name": {"type": "string"},
            "versions": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": METADATA_VERSIONS,
                "description": f"The newest {METADATA_VERSIONS} versions, oldest first.",
            },
            "platform": {"type": "string", "enum": ["onnx"]},
            "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/TensorMetadata"}},
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/TensorMetadata"}},
            "parameters": {"type": "object"},
        },
    },
    "ModelReady": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "ready": {"type": "boolean"},
        },
    },
    "RequestInput": {
        "type": "object",
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {"$ref": "#/components/schemas/Datatype"},
            "parameters": {"type": "object"},
            "data": _TENSOR_DATA,
        },
    },
    "RequestOutput": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
    },
    "InferRequest": {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string", "description": "Echoed in the response."},
            "parameters": {"type": "object"},
            "inputs": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/components/schemas/RequestInput"},
            },
            "outputs": {
                "type": "array",
                "description": "Outputs to compute (default: all).",
                "items": {"$ref": "#/components/schemas/RequestOutput"},
            },
        },
    },
    "ResponseOutput": {
        "type": "object",
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer"}},
            "datatype": {"$ref": "#/components/schemas/Datatype"},
            "data": {
                **_TENSOR_DATA,
                "description": "Flat, row-major; NaN and infinities are written as null.",
            },
        },
    },
    "InferResponse": {
        "type": "object",
        "required": ["model_name", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "parameters": {
                "type": "object",
                "properties": {
                    "prediction_id": {
                        "type": "string",
                        "description": "Set when the prediction log is on.",
                    }
                },
            },
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/ResponseOutput"}},
        },
    },
    "Feedback": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "feedback": {"type": "object", "properties": {"label": {}, "at": {"type": "string"}}},
        },
    },
}


def _learning_paths() -> dict[str, Any]:
    """Return the path item of ``POST /api/models/{name}/learning`` (start learning)."""
    spec_fields: dict[str, Any] = {
        "estimator": {
            "type": "string",
            "enum": list(ESTIMATORS),
            "description": "Incremental estimators learn with partial_fit; the others"
            " (SVC, LogisticRegression, forests, boosting, k-NN, Ridge) are refit on every"
            " row learned so far (or the last `window` rows).",
        },
        "params": {
            "description": "Hyperparameters, checked against the estimator's get_params()"
            " and its own constraints (an object; in a form, its JSON text).",
            "oneOf": [{"type": "object"}, {"type": "string"}],
        },
        "scaler": {"type": "string", "enum": ["none", "standard"]},
        "label": {"type": "string", "description": "The label column (field)."},
        "holdout": {
            "type": "number",
            "description": "Fraction of the first rows kept to evaluate every version"
            " (default 0.2 unless holdoutFile / holdoutRows is sent).",
        },
        "metric": {"type": "string", "enum": ["accuracy", "r2", "rmse", "mae", "inertia"]},
        "policy": {"type": "string", "enum": ["always", "never", "no-worse"]},
        "window": {"type": "integer", "description": "Refit on the last N rows only."},
    }
    json_body = {
        "type": "object",
        "required": ["estimator", "rows"],
        "properties": {
            **spec_fields,
            "rows": {"type": "array", "description": "Objects (column: value) or lists."},
            "labels": {"type": "array"},
            "featureNames": {"type": "array", "items": {"type": "string"}},
            "holdoutRows": {"type": "array"},
            "holdoutLabels": {"type": "array"},
            "batchId": {"type": "string"},
            "description": {"type": "string"},
        },
    }
    form_body = {
        "type": "object",
        "required": ["estimator", "file"],
        "properties": {
            **{k: {"type": "string"} for k in spec_fields},
            "file": {"type": "string", "format": "binary", "description": "The first CSV."},
            "holdoutFile": {"type": "string", "format": "binary"},
            "batchId": {"type": "string"},
            "description": {"type": "string"},
        },
    }
    return {
        "/api/models/{name}/learning": {
            "post": {
                "summary": "Start online learning from an estimator specification and the"
                " first rows; publishes version 1. Needs a bearer token or a staff session.",
                "operationId": "startLearning",
                "tags": ["learning"],
                "parameters": [_NAME],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": json_body},
                        "multipart/form-data": {"schema": form_body},
                    },
                },
                "responses": {
                    "201": {
                        "description": "The first step's result (version, metric, production).",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "409": _ERROR,
                },
            }
        }
    }


def spec() -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of the inference API."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Model catalog API",
            "version": "0.1.0",
            "description": "Open Inference Protocol v2 (REST) over the catalog's ONNX models,"
            " batch CSV prediction, prediction feedback, search, SQL++, publishing, aliases"
            " and online learning. Errors are"
            ' `{"error": "..."}`.',
        },
        "paths": {**_paths(), **openapi_oip.paths(), **catalog_paths(), **_learning_paths()},
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "responses": {"Error": _json("Error", "An error.")},
        },
    }
