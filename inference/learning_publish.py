"""Publishing a learned version and moving ``production`` by policy (never backwards)."""

from __future__ import annotations

import time
from typing import Any

import onnx

from catalog.domain import cas
from catalog.domain.registry import Registry
from catalog.store import Conflict, NotFound
from inference.learning_refit import REFIT
from inference.learning_types import (
    PRODUCTION,
    RECENT_VERSIONS,
    Batch,
    StepResult,
    _versions_key,
)
from inference.policy import Policy


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
