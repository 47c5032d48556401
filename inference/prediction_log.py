"""The prediction log: inputs, outputs and later the true label, as future training data.

On when CATALOG_PREDICTION_LOG is true. One document per request in the ``predictions``
collection, key ``<prediction id>``, expiring CATALOG_PREDICTION_TTL_S seconds after the
prediction. A feedback label keeps the original expiry: Couchbase (and the embedded store)
reset the expiry on a replace without one, so the remaining time is passed again.
"""

from __future__ import annotations

import time
from typing import Any

from catalog.domain import cas, limits, queries
from catalog.domain.registry import Registry, RegistryError, check_name, now_iso
from catalog.store import NotFound
from inference import oip
from inference.prediction import Prediction, new_prediction_id

# Inputs larger than this (elements over all inputs) are not copied into the log:
# a document must stay far below the 20 MB value limit.
MAX_LOGGED_ELEMENTS = 100_000


class PredictionNotFound(RegistryError):
    """No logged prediction with this id (never logged, or expired)."""


def ttl_seconds() -> int:
    """Return how long a logged prediction is kept."""
    return limits.prediction_ttl_s()


def record(reg: Registry, prediction: Prediction) -> str:
    """Store a prediction in the log; return its id."""
    pid = new_prediction_id()
    ttl = ttl_seconds()
    size = sum(a.size for a in prediction.inputs.values())
    doc: dict[str, Any] = {
        "type": "prediction",
        "id": pid,
        "requestId": prediction.request_id,
        "model": prediction.model.name,
        "version": prediction.model.version,
        "at": now_iso(),
        "expiresAt": time.time() + ttl if ttl > 0 else None,
        "tookMs": round(prediction.took_ms, 3),
        "outputs": [oip.encode_output(n, a) for n, a in prediction.outputs],
    }
    if size <= MAX_LOGGED_ELEMENTS:
        doc["inputs"] = [oip.encode_output(n, a) for n, a in prediction.inputs.items()]
    else:
        doc["inputsOmitted"] = size
    reg.store.insert(reg.ks.predictions, pid, doc, expiry=ttl if ttl > 0 else None)
    return pid


def attach_feedback(reg: Registry, prediction_id: str, label: Any) -> dict[str, Any]:
    """Attach the true label to a logged prediction; return the updated document."""
    if not isinstance(prediction_id, str) or not prediction_id.isalnum() or len(prediction_id) > 64:
        raise PredictionNotFound(f"no prediction {prediction_id!r}")

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "feedback": {"label": label, "at": now_iso()}}

    def keep_expiry(doc: dict[str, Any]) -> float | None:
        expires = doc.get("expiresAt")
        return None if expires is None else max(expires - time.time(), 1.0)

    try:
        return cas.update(reg.store, reg.ks.predictions, prediction_id, change, expiry=keep_expiry)
    except NotFound:
        raise PredictionNotFound(f"no prediction {prediction_id!r} (or it expired)") from None


def labelled_predictions(
    reg: Registry, name: str, at: str, prediction_id: str, limit: int
) -> list[dict[str, Any]]:
    """Return logged predictions of ``name`` with a feedback label given after the position
    (``at``, ``prediction_id``), oldest label first: ``id``, ``inputs``, ``feedback``."""
    params = {"name": name, "at": at, "id": prediction_id, "limit": max(1, int(limit))}
    return queries.run(reg.store, reg.ks.query_context, queries.LABELLED_PREDICTIONS, params)


def logged_predictions(
    reg: Registry, name: str, *, cursor: str | None = None, limit: int | None = None
) -> queries.Page:
    """Return a page of the logged predictions of ``name``, newest first: ``id``,
    ``version``, ``at``, ``tookMs``, ``requestId``, ``outputs`` and ``feedback`` (inputs stay
    in the log); ``Page.next`` is the cursor of the following page."""
    before, last_id = queries.decode_cursor(cursor, ["9999", ""])
    size = queries.page_limit(limit)
    params = {"name": check_name(name), "before": before, "id": last_id, "limit": size}
    rows = queries.run(reg.store, reg.ks.query_context, queries.PREDICTIONS_PAGE, params)
    page = queries.Page(rows)
    if len(rows) == size:
        page.next = queries.encode_cursor([rows[-1].get("at"), rows[-1].get("id")])
    return page
