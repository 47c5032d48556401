"""One prediction: the outputs of a model run, with what the log and the pages need."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference import oip
from inference.sessions import LoadedModel


@dataclass
class Prediction:
    """The outcome of one inference request."""

    model: LoadedModel
    outputs: list[tuple[str, np.ndarray]]
    took_ms: float
    request_id: str | None = None
    prediction_id: str | None = None
    inputs: dict[str, np.ndarray] = field(default_factory=dict)

    def response(self) -> dict[str, Any]:
        """Return the OIP response body."""
        body: dict[str, Any] = {
            "model_name": self.model.name,
            "model_version": str(self.model.version),
            "outputs": [oip.encode_output(name, array) for name, array in self.outputs],
        }
        if self.request_id is not None:
            body["id"] = self.request_id
        if self.prediction_id is not None:
            body["parameters"] = {"prediction_id": self.prediction_id}
        return body

    def output(self, name: str) -> np.ndarray | None:
        """Return the array of an output, or None when it was not requested."""
        return next((a for n, a in self.outputs if n == name), None)


def new_prediction_id() -> str:
    """Return a fresh prediction id."""
    return uuid.uuid4().hex
