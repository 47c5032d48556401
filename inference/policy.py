"""Promotion policies: when a freshly learned version may become ``production``.

``latest`` always follows the newest version (the registry moves it on publish);
``production`` moves only when the model's policy says so. A policy compares the
candidate's holdout metrics with production's (both computed on the same holdout set,
kept with the model's learning state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from catalog.domain.registry import RegistryError

# Direction of each metric learning computes.
HIGHER_IS_BETTER = {"accuracy": True, "r2": True, "rmse": False, "mae": False, "inertia": False}


class PolicyError(RegistryError):
    """A policy specification that cannot be understood."""


@dataclass(frozen=True)
class Decision:
    """Whether to promote, and why (shown in step results and the audit trail)."""

    promote: bool
    reason: str


class Policy(Protocol):
    """Decides on promotion from candidate and production metrics."""

    def decide(
        self, candidate: dict[str, float], production: dict[str, float] | None, primary: str
    ) -> Decision: ...

    def spec(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Always:
    """Promote every new version."""

    def decide(
        self, candidate: dict[str, float], production: dict[str, float] | None, primary: str
    ) -> Decision:
        return Decision(True, "policy 'always'")

    def spec(self) -> dict[str, Any]:
        return {"kind": "always"}


@dataclass(frozen=True)
class Never:
    """Never move production automatically (people promote by hand)."""

    def decide(
        self, candidate: dict[str, float], production: dict[str, float] | None, primary: str
    ) -> Decision:
        return Decision(False, "policy 'never'")

    def spec(self) -> dict[str, Any]:
        return {"kind": "never"}


@dataclass(frozen=True)
class NoWorse:
    """Promote when ``metric`` (the model's primary one if None) is no worse than production's.

    ``tolerance`` is how much worse it may be, in the metric's units. With no production
    version yet, the candidate is promoted; a production version without that metric
    (published by hand) is never replaced automatically.
    """

    metric: str | None = None
    tolerance: float = 0.0

    def decide(
        self, candidate: dict[str, float], production: dict[str, float] | None, primary: str
    ) -> Decision:
        name = self.metric or primary
        if name not in HIGHER_IS_BETTER:
            return Decision(False, f"unknown metric {name!r}")
        new = candidate.get(name)
        if new is None or not math.isfinite(new):
            return Decision(False, f"the new version has no {name}")
        if production is None:
            return Decision(True, "no production version yet")
        old = production.get(name)
        if old is None:
            return Decision(False, f"production has no {name} to compare with")
        higher = HIGHER_IS_BETTER[name]
        ok = new >= old - self.tolerance if higher else new <= old + self.tolerance
        verb = "no worse than" if ok else "worse than"
        return Decision(ok, f"{name} {new:.6g} is {verb} production's {old:.6g}")

    def spec(self) -> dict[str, Any]:
        return {"kind": "no-worse", "metric": self.metric, "tolerance": self.tolerance}


def policy_from_spec(spec: Any) -> Policy:
    """Return the policy a spec names: a Policy, "always", "never", "no-worse" or a dict."""
    if spec is None:
        return NoWorse()
    if hasattr(spec, "decide") and hasattr(spec, "spec"):
        return spec
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, dict):
        raise PolicyError("a policy is 'always', 'never', 'no-worse' or {kind, metric, tolerance}")
    kind = str(spec.get("kind", "")).lower().replace("_", "-")
    if kind == "always":
        return Always()
    if kind == "never":
        return Never()
    if kind in ("no-worse", "noworse"):
        metric = spec.get("metric")
        if metric is not None and metric not in HIGHER_IS_BETTER:
            raise PolicyError(
                f"unknown metric {metric!r}: one of {', '.join(sorted(HIGHER_IS_BETTER))}"
            )
        try:
            tolerance = float(spec.get("tolerance") or 0.0)
        except (TypeError, ValueError):
            raise PolicyError("the tolerance must be a number") from None
        if not math.isfinite(tolerance) or tolerance < 0:
            raise PolicyError("the tolerance must be a finite number >= 0")
        return NoWorse(metric, tolerance)
    raise PolicyError(f"unknown policy {spec.get('kind')!r}: use always, never or no-worse")
