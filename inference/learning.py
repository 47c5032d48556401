"""Online learning: load the state, partial_fit a batch, convert to ONNX, publish, promote.

Documents in the ``states`` collection, per model NAME:
- ``NAME``: the head (JSON): which state document is current (``stateKey``), its
  generation, rows seen, classes, feature names, primary metric, policy, the ids of
  recent batches and the feedback cursor. Every step replaces it with CAS: that replace
  is the commit of a step.
- ``NAME::<random hex>``: the fitted estimator as skops bytes (a binary document). A step
  writes a new one before committing the head, so the head and the state it names always
  change together (two documents cannot be replaced atomically; one pointer can).
- ``NAME::holdout``: the holdout set (JSON) every version is evaluated on.
- ``NAME::versions``: generation -> published version, to give each version its parent.

A step: read head + CAS -> read state -> partial_fit -> ONNX -> evaluate -> write the new
state -> replace the head with CAS. On Conflict another learner committed first: drop the
new state, reload and redo the step on the newer state, so no batch is ever lost. Only
then is the version published (``latest`` moves with it) and the policy consulted for
``production``. A crash after the commit and before the publish leaves the batch in the
state (counted in rowsSeen) and the next version carries it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from catalog.domain import cas
from catalog.domain.registry import Registry, check_name, now_iso
from catalog.store import Conflict, NotFound
from inference.learning_input import (
    LearningError,
    as_matrix,
    coerce_labels,
    parse_csv,
)
from inference.learning_refit import (
    REFIT,
    batch_labels,
    first_entry,
    fit_first,
    mode_of,
    train_batch,
)
from inference.policy import HIGHER_IS_BETTER, Always, Never, Policy, policy_from_spec
from inference.state import check_learner, dump_state, learner_of, load_state
from inference.trainable import (
    convert,
    evaluate,
    first_labels,
    fit_transformers,
    is_fitted,
    partial_fit,
    plain,
    task_of,
)

PRODUCTION = "production"
# Batch ids remembered per model to refuse a batch sent twice (a client retrying).
RECENT_BATCHES = 256
# Generation -> version entries kept (enough to find the parent of concurrent steps).
RECENT_VERSIONS = 64
# Values (rows x features) a holdout set may hold: it lives in one JSON document.
MAX_HOLDOUT_VALUES = 500_000
MAX_BATCH_ID = 200
DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2", "clustering": "inertia"}

__all__ = [
    "AlreadyLearning",
    "DuplicateBatch",
    "LearningError",
    "NoLearningState",
    "StepResult",
    "learn",
    "learn_from_csv",
    "learn_csv_bytes",
    "learning_head",
    "start_learning",
]


class NoLearningState(LearningError):
    """The model has no learning state (start it with start_learning)."""


NO_STATE = (
    "model {name!r} has no learning state; start it with"
    " `catalog learn start {name} --estimator ... --label ... first.csv`,"
    " POST /api/models/{name}/learning, or start_learning()"
)


class DuplicateBatch(LearningError):
    """A batch id already learned from (HTTP 409): the batch is not counted twice."""


class AlreadyLearning(LearningError):
    """Learning was started for a model that already learns (HTTP 409)."""

    status = 409


@dataclass
class StepResult:
    """The outcome of one learning step."""

    name: str
    version: int
    parent: int | None
    generation: int
    batch_id: str
    batch_size: int
    rows_seen: int
    metric: dict[str, float]
    metrics: dict[str, float]
    promoted: bool
    production: int | None
    reason: str
    retries: int = 0
    took_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as the API writes it (camelCase keys)."""
        out = asdict(self)
        return {
            "name": out["name"],
            "version": out["version"],
            "parent": out["parent"],
            "generation": out["generation"],
            "batchId": out["batch_id"],
            "batchSize": out["batch_size"],
            "rowsSeen": out["rows_seen"],
            "metric": out["metric"],
            "metrics": out["metrics"],
            "promoted": out["promoted"],
            "production": out["production"],
            "reason": out["reason"],
            "retries": out["retries"],
            "tookMs": round(out["took_ms"], 3),
            **out["extra"],
        }


@dataclass
class Batch:
    """One step's training rows, its id, and head fields to commit with it (a cursor)."""

    X: np.ndarray
    y: np.ndarray
    batch_id: str
    head_updates: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _holdout_key(name: str) -> str:
    return f"{name}::holdout"


def _versions_key(name: str) -> str:
    return f"{name}::versions"


def _new_state_key(name: str) -> str:
    # 12 hex digits keep the longest model name within Couchbase's 246-byte key limit.
    return f"{name}::{uuid.uuid4().hex[:12]}"


# -- starting ---------------------------------------------------------------------------


def start_learning(
    reg: Registry,
    name: str,
    estimator: Any,
    X0: Any,
    y0: Any = None,
    *,
    holdout: tuple[Any, Any] | None,
    classes: list[Any] | None = None,
    metric: str | None = None,
    policy: Policy | str | dict | None = None,
    batch_id: str = "initial",
    feature_names: list[str] | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    format: str = "json",
    user: str | None = None,
    production: bool = True,
    window: int | None = None,
    spec: dict[str, Any] | None = None,
) -> StepResult:
    """Create the learning state of ``name`` from a first batch and publish its version.

    An unfitted estimator is fitted with partial_fit on (X0, y0) (classifiers learn
    ``classes``, default: those in y0); a fitted one is kept as it is, X0 counting as the
    rows it has seen. ``holdout`` = (X, y) is kept with the model to evaluate every version.
    ``production``: point production at the first version (there is nothing to compare it
    with; later versions move it as ``policy`` says). Estimators without partial_fit (SVC,
    ...) learn by refit: their rows are kept in ``datasets`` and every step fits on all of
    them, or on the last ``window`` rows. ``spec``: the estimator specification it was
    started from (``inference.estimators``), kept in the head.
    """
    started = time.perf_counter()
    check_name(name)
    check_learner(estimator)
    X = as_matrix(X0)
    policy_obj = policy_from_spec(policy)
    with contextlib.suppress(NotFound):
        reg.store.get(reg.ks.states, name)
        raise AlreadyLearning(f"model {name!r} is already learning; send it batches instead")
    mode = mode_of(estimator)
    if mode != REFIT and window is not None:
        raise LearningError("a window applies to refit estimators only")
    fresh = not is_fitted(estimator)
    y = np.zeros(0)
    if mode == REFIT:
        if y0 is None:
            raise LearningError("the first batch needs labels")
        if task_of(estimator) == "classification":
            y = np.asarray(np.asarray(y0).tolist())
        else:
            y = first_labels(y0, task_of(estimator), None)
        if len(y) != len(X):
            raise LearningError(f"{len(X)} rows but {len(y)} labels")
        if fresh:
            fit_first(estimator, X, y)
    elif fresh:
        task = task_of(estimator)
        if task == "classification":
            if y0 is None:
                raise LearningError("a classifier's first batch needs labels")
            classes = list(classes) if classes is not None else np.unique(np.asarray(y0)).tolist()
        y = first_labels(y0, task, classes)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit_transformers(estimator, X)
                partial_fit(estimator, X, y, classes=classes)
        except ValueError as e:
            hint = " (pass classes=[...] when the first batch lacks some)" if classes else ""
            raise LearningError(f"the first batch cannot be learned: {e}{hint}") from None
    proto, derived = convert(estimator, X)
    task = derived.get("task") or task_of(estimator)
    classes = (
        [plain(c) for c in learner_of(estimator).classes_] if task == "classification" else None
    )
    metric = metric or DEFAULT_METRIC.get(task)
    if metric not in HIGHER_IS_BETTER:
        raise LearningError(f"unknown metric {metric!r}: one of {', '.join(HIGHER_IS_BETTER)}")
    if feature_names is None and derived.get("featureNames"):
        feature_names = list(derived["featureNames"])
    if feature_names is not None and len(feature_names) != X.shape[1]:
        raise LearningError(f"{len(feature_names)} feature names for {X.shape[1]} features")
    hold = _holdout_doc(holdout, X.shape[1], task, classes)
    metrics = evaluate(proto, hold, task)
    data = dump_state(estimator)
    spec = dict(spec or {})
    refit: dict[str, Any] = {}
    if mode == REFIT:
        refit = {"window": window, "trainedOn": [], "trainingRows": int(X.shape[0])}

    state_key = _new_state_key(name)
    head = {
        "type": "learningState",
        "name": name,
        "estimator": (spec or {}).get("estimator") or type(estimator).__name__,
        "task": task,
        "generation": 1,
        "stateKey": state_key,
        "stateSha256": hashlib.sha256(data).hexdigest(),
        "stateBytes": len(data),
        "rowsSeen": int(X.shape[0]),
        "batches": 1,
        "nFeatures": int(X.shape[1]),
        "featureNames": feature_names,
        "classes": classes,
        "metric": metric,
        "policy": policy_obj.spec(),
        "format": format,
        "tags": list(tags or []),
        "description": description,
        "recentBatches": [batch_id],
        "feedbackCursor": None,
        "mode": mode,
        "spec": spec or None,
        "scalerLearns": mode != REFIT and spec.get("scaler") == "standard",
        **refit,
        "createdAt": now_iso(),
        "updatedAt": now_iso(),
    }
    if mode == REFIT:
        head["trainedOn"] = [first_entry(reg, X, y, batch_id)]
    reg.store.upsert(reg.ks.states, _holdout_key(name), hold)
    reg.store.insert(reg.ks.states, state_key, data)
    try:
        reg.store.insert(reg.ks.states, name, head)
    except Conflict:
        _discard(reg, state_key)
        raise AlreadyLearning(
            f"model {name!r} is already learning; send it batches instead"
        ) from None
    batch = Batch(X, np.zeros(0), batch_id)
    first = Always() if production else Never()
    return _publish(reg, name, head, proto, derived, metrics, batch, first, user, 0, started)


def _holdout_doc(
    holdout: tuple[Any, Any] | None, n_features: int, task: str, classes: list[Any] | None
) -> dict[str, Any]:
    if holdout is None:
        return {"rows": 0, "X": [], "y": []}
    Xh, yh = holdout
    X = as_matrix(Xh, n_features)
    if X.size > MAX_HOLDOUT_VALUES:
        raise LearningError(f"the holdout set holds over {MAX_HOLDOUT_VALUES} values")
    y = coerce_labels(None if yh is None else list(np.asarray(yh).tolist()), task, classes)
    if task != "clustering" and len(y) != len(X):
        raise LearningError(f"the holdout set has {len(X)} rows and {len(y)} labels")
    return {"rows": int(len(X)), "X": X.tolist(), "y": [plain(v) for v in y]}


# -- one step ---------------------------------------------------------------------------


def learn(
    reg: Registry,
    name: str,
    X: Any,
    y: Any = None,
    batch_id: str | None = None,
    policy: Policy | str | dict | None = None,
    *,
    user: str | None = None,
) -> StepResult:
    """Learn from one batch: partial_fit the newest state, publish a version, maybe promote.

    ``batch_id`` (default: a fresh uuid) is remembered: sending the same id again raises
    DuplicateBatch instead of counting the rows twice. ``policy`` overrides the model's.
    """
    matrix = as_matrix(X)
    labels = None if y is None else list(np.asarray(y).tolist())
    bid = batch_id or f"batch-{uuid.uuid4().hex[:16]}"
    if not isinstance(bid, str) or len(bid) > MAX_BATCH_ID:
        raise LearningError(f"a batch id is a string of at most {MAX_BATCH_ID} characters")

    def make(head: dict[str, Any]) -> Batch:
        if matrix.shape[1] != head["nFeatures"]:
            raise LearningError(
                f"the batch has {matrix.shape[1]} features, the model takes {head['nFeatures']}"
            )
        y_arr = batch_labels(labels, head)
        if head["task"] != "clustering" and len(y_arr) != len(matrix):
            raise LearningError(f"{len(matrix)} rows but {len(y_arr)} labels")
        return Batch(matrix, y_arr, bid)

    return run_step(reg, name, make, policy, user)


def learn_from_csv(
    reg: Registry,
    name: str,
    path: str | Path,
    label: str | None,
    *,
    batch_id: str | None = None,
    policy: Policy | str | dict | None = None,
    user: str | None = None,
) -> StepResult:
    """Learn from a CSV file with a header row; ``label`` names the label column.

    The default batch id is the file name and a hash of its content, so learning the
    same file twice is refused (DuplicateBatch).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LearningError(f"cannot read {path}: {e.strerror or e}") from None
    return learn_csv_bytes(
        reg,
        name,
        data,
        label,
        batch_id=batch_id or f"{path.name}:{hashlib.sha256(data).hexdigest()[:16]}",
        policy=policy,
        user=user,
    )


def learn_csv_bytes(
    reg: Registry,
    name: str,
    data: bytes,
    label: str | None,
    *,
    batch_id: str | None = None,
    policy: Policy | str | dict | None = None,
    user: str | None = None,
) -> StepResult:
    """Learn from CSV text with a header row (the API's and the CLI's path)."""
    head = learning_head(reg, name)
    label = label or (head.get("spec") or {}).get("label")  # the one it was started with
    if label is None and head["task"] != "clustering":
        raise LearningError("missing label: name the label column")
    raw = parse_csv(data, label, head.get("featureNames"), head["nFeatures"])
    return learn(reg, name, raw.X, raw.labels, batch_id, policy, user=user)


def learning_head(reg: Registry, name: str) -> dict[str, Any]:
    """Return the learning state's head document of a model (NoLearningState if none)."""
    try:
        head, _ = reg.store.get(reg.ks.states, check_name(name))
    except NotFound:
        raise NoLearningState(NO_STATE.format(name=name)) from None
    return head


def run_step(
    reg: Registry,
    name: str,
    make_batch: Callable[[dict[str, Any]], Batch],
    policy: Policy | str | dict | None,
    user: str | None,
) -> StepResult:
    """Run one CAS-protected step; ``make_batch(head)`` is called again on every retry."""
    started = time.perf_counter()
    check_name(name)
    override = None if policy is None else policy_from_spec(policy)  # refuse a bad one early
    holdout: dict[str, Any] | None = None
    rows_cache: dict[str, Any] = {}  # refit: dataset chunks already read
    attempts = 0

    def attempt() -> StepResult:
        nonlocal holdout, attempts
        attempts += 1
        try:
            head, head_cas = reg.store.get(reg.ks.states, name)
        except NotFound:
            raise NoLearningState(NO_STATE.format(name=name)) from None
        batch = make_batch(head)
        if batch.batch_id in head.get("recentBatches", []):
            raise DuplicateBatch(f"batch {batch.batch_id!r} was already learned by {name!r}")
        try:
            blob, _ = reg.store.get(reg.ks.states, head["stateKey"])
        except NotFound:  # a learner committed after we read the head and removed that state
            raise cas.Retry("the learning state moved on") from None
        estimator, trained = train_batch(
            reg, head, load_state(blob), batch.X, batch.y, batch.batch_id, rows_cache
        )
        proto, derived = convert(estimator, batch.X)
        if holdout is None:
            holdout = _get_holdout(reg, name)
        metrics = evaluate(proto, holdout, head["task"])
        data = dump_state(estimator)
        new_head = {
            **head,
            **batch.head_updates,
            **trained,
            "generation": head["generation"] + 1,
            "stateKey": _new_state_key(name),
            "stateSha256": hashlib.sha256(data).hexdigest(),
            "stateBytes": len(data),
            "rowsSeen": head["rowsSeen"] + int(batch.X.shape[0]),
            "batches": head.get("batches", 0) + 1,
            "recentBatches": [*head.get("recentBatches", []), batch.batch_id][-RECENT_BATCHES:],
            "updatedAt": now_iso(),
        }
        reg.store.insert(reg.ks.states, new_head["stateKey"], data)
        try:
            cas.write(reg.store, reg.ks.states, name, new_head, head_cas)
        except cas.Retry:
            _discard(reg, new_head["stateKey"])
            raise
        _discard(reg, head["stateKey"])
        chosen = override or policy_from_spec(head.get("policy"))
        return _publish(
            reg, name, new_head, proto, derived, metrics, batch, chosen, user, attempts - 1, started
        )

    return cas.retry(attempt, f"the learning state of {name!r}")


def _discard(reg: Registry, key: str) -> None:
    with contextlib.suppress(NotFound):
        reg.store.remove(reg.ks.states, key)


def _get_holdout(reg: Registry, name: str) -> dict[str, Any]:
    try:
        doc, _ = reg.store.get(reg.ks.states, _holdout_key(name))
    except NotFound:
        return {"rows": 0, "X": [], "y": []}
    return doc


# -- publishing and promotion -----------------------------------------------------------


def _publish(
    reg: Registry,
    name: str,
    head: dict[str, Any],
    proto: onnx.ModelProto,
    derived: dict[str, Any],
    metrics: dict[str, float],
    batch: Batch,
    policy: Policy,
    user: str | None,
    retries: int,
    started: float,
) -> StepResult:
    generation = head["generation"]
    parent = _versions(reg, name).get(str(generation - 1))
    primary = head["metric"]
    metric = {primary: metrics[primary]} if primary in metrics else {}
    lineage = {
        "parent": parent,
        "generation": generation,
        "batchId": batch.batch_id,
        "batchSize": int(batch.X.shape[0]),
        "rowsSeen": head["rowsSeen"],
        "metric": metric,
    }
    if head.get("mode") == REFIT:
        lineage["trainedOn"] = head.get("trainedOn", [])
        lineage["trainingRows"] = head.get("trainingRows")
    metadata = {
        **derived,
        "metrics": metrics,
        "learning": {"generation": generation, "rowsSeen": head["rowsSeen"], "metric": primary},
    }
    if head.get("featureNames"):
        metadata["featureNames"] = head["featureNames"]
    ref = reg.publish(
        name,
        proto,
        metadata=metadata,
        tags=head.get("tags") or [],
        description=head.get("description") or f"online {head['estimator']}",
        format=head.get("format", "json"),
        lineage=lineage,
    )
    _record_version(reg, name, generation, ref.version)
    promoted, production, reason = _promote(reg, name, ref.version, metrics, policy, primary, user)
    return StepResult(
        name=name,
        version=ref.version,
        parent=parent,
        generation=generation,
        batch_id=batch.batch_id,
        batch_size=int(batch.X.shape[0]),
        rows_seen=head["rowsSeen"],
        metric=metric,
        metrics=metrics,
        promoted=promoted,
        production=production,
        reason=reason,
        retries=retries,
        took_ms=(time.perf_counter() - started) * 1000,
        extra=batch.extra,
    )


def _versions(reg: Registry, name: str) -> dict[str, int]:
    try:
        doc, _ = reg.store.get(reg.ks.states, _versions_key(name))
    except NotFound:
        return {}
    return dict(doc.get("generations", {}))


def _record_version(reg: Registry, name: str, generation: int, version: int) -> None:
    """Remember which version a generation published (its own document, its own CAS)."""

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        gens = doc.setdefault("generations", {})
        gens[str(generation)] = version
        if len(gens) > RECENT_VERSIONS:
            for g in sorted(gens, key=int)[: len(gens) - RECENT_VERSIONS]:
                del gens[g]
        return doc

    cas.update(
        reg.store,
        reg.ks.states,
        _versions_key(name),
        change,
        initial=lambda: {"name": name, "generations": {}},
    )


_metrics_cache: dict[tuple[str, str, str, int], dict[str, float]] = {}


def _version_metrics(reg: Registry, name: str, version: int) -> dict[str, float]:
    """Return a version's metrics (versions are immutable, so they are cached)."""
    key = (reg.store.url, reg.ks.query_context, name, version)
    if key not in _metrics_cache:
        doc = reg.document(name, version)
        _metrics_cache[key] = dict((doc.get("metadata") or {}).get("metrics") or {})
    return _metrics_cache[key]


def _promote(
    reg: Registry,
    name: str,
    version: int,
    metrics: dict[str, float],
    policy: Policy,
    primary: str,
    user: str | None,
) -> tuple[bool, int | None, str]:
    """Move production to ``version`` if the policy allows; never backwards."""

    def attempt() -> tuple[bool, int | None, str]:
        production = reg.aliases(name).get(PRODUCTION)
        if production is not None and production >= version:
            return False, production, f"production is already at version {production}"
        current = None if production is None else _version_metrics(reg, name, production)
        decision = policy.decide(metrics, current, primary)
        if not decision.promote:
            return False, production, decision.reason
        try:
            reg.set_alias(name, PRODUCTION, version, expected=production, user=user or "learner")
        except Conflict as e:  # another learner moved production: decide again against it
            raise cas.Retry(str(e)) from None
        return True, version, decision.reason

    try:
        return cas.retry(attempt, f"the production alias of {name!r}")
    except Conflict:  # the version is published; it only stays out of production
        return False, reg.aliases(name).get(PRODUCTION), "too much contention on production"
