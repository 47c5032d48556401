"""The estimator specification: what the CLI, the HTTP API and the browser start learning with.

One ``LearningSpec`` says which scikit-learn estimator learns, with which hyperparameters,
behind which preprocessing, from which label column, evaluated on which holdout, by which
metric, promoted by which policy. ``spec_from_mapping`` reads it from a JSON object, a form
or the command line's options (values may be text there) and refuses anything it cannot
carry out with a LearningError whose message says what to change.

Estimators (``ESTIMATORS``) learn in one of two modes:
- incremental: ``partial_fit`` on each batch; the StandardScaler, if any, is updated with
  its own ``partial_fit`` on the same batch before the estimator sees it;
- refit: the catalog keeps every row learned from (``inference.datasets``) and each step
  fits a fresh copy on all of them, or on the last ``window`` rows.
Hyperparameters are checked against the estimator's own ``get_params()`` and its own
parameter constraints (``_validate_params``), so a misspelt or ill-typed one is refused
before anything is stored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from inference.learning_input import LearningError
from inference.policy import HIGHER_IS_BETTER, PolicyError, policy_from_spec

INCREMENTAL = "incremental"
REFIT = "refit"

# name -> (module, mode). The documented list: nothing else can be started by name.
ESTIMATORS: dict[str, tuple[str, str]] = {
    "SGDClassifier": ("sklearn.linear_model", INCREMENTAL),
    "SGDRegressor": ("sklearn.linear_model", INCREMENTAL),
    "PassiveAggressiveClassifier": ("sklearn.linear_model", INCREMENTAL),
    "PassiveAggressiveRegressor": ("sklearn.linear_model", INCREMENTAL),
    "Perceptron": ("sklearn.linear_model", INCREMENTAL),
    "MultinomialNB": ("sklearn.naive_bayes", INCREMENTAL),
    "GaussianNB": ("sklearn.naive_bayes", INCREMENTAL),
    "BernoulliNB": ("sklearn.naive_bayes", INCREMENTAL),
    "MLPClassifier": ("sklearn.neural_network", INCREMENTAL),
    "MLPRegressor": ("sklearn.neural_network", INCREMENTAL),
    "MiniBatchKMeans": ("sklearn.cluster", INCREMENTAL),
    "SVC": ("sklearn.svm", REFIT),
    "LogisticRegression": ("sklearn.linear_model", REFIT),
    "RandomForestClassifier": ("sklearn.ensemble", REFIT),
    "RandomForestRegressor": ("sklearn.ensemble", REFIT),
    "GradientBoostingClassifier": ("sklearn.ensemble", REFIT),
    "GradientBoostingRegressor": ("sklearn.ensemble", REFIT),
    "KNeighborsClassifier": ("sklearn.neighbors", REFIT),
    "KNeighborsRegressor": ("sklearn.neighbors", REFIT),
    "Ridge": ("sklearn.linear_model", REFIT),
}
SCALERS = ("none", "standard")
# Hyperparameters a request may not set: they would spend the shared machine's cores or
# flood the server's log.
FORBIDDEN_PARAMS = frozenset({"n_jobs", "verbose", "warm_start"})
# Upper bounds on the parameters that decide how long one fit runs.
PARAM_CAPS = {
    "n_estimators": 500,
    "max_iter": 100_000,
    "n_neighbors": 1_000,
    "max_depth": 64,
    "n_clusters": 1_000,
}
MAX_HIDDEN_UNITS = 4_096
MAX_WINDOW = 1_000_000


@dataclass
class LearningSpec:
    """Everything a learning model is started with (besides its first rows)."""

    estimator: str
    params: dict[str, Any] = field(default_factory=dict)
    scaler: str = "none"
    label: str | None = None
    holdout: float | None = None
    metric: str | None = None
    policy: Any = None
    window: int | None = None

    @property
    def mode(self) -> str:
        return ESTIMATORS[self.estimator][1]

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as stored in the learning state's head (JSON)."""
        return {
            "estimator": self.estimator,
            "params": self.params,
            "scaler": self.scaler,
            "label": self.label,
            "holdout": self.holdout,
            "metric": self.metric,
            "window": self.window,
            "mode": self.mode,
        }


def estimator_list() -> list[dict[str, str]]:
    """Return the documented estimators as ``{name, mode}`` rows (for pages and errors)."""
    return [{"name": n, "mode": m} for n, (_, m) in ESTIMATORS.items()]


def spec_from_mapping(values: dict[str, Any]) -> LearningSpec:
    """Return the spec in a JSON object, a form or CLI options; raise LearningError if bad.

    Keys: estimator, params (an object, or its JSON text), scaler ("none" | "standard"),
    label, holdout (a fraction in (0, 0.9]), metric, policy, window (refit: last N rows).
    """
    name = _text(values.get("estimator"), "estimator")
    if not name:
        raise LearningError("name an estimator: one of " + ", ".join(ESTIMATORS))
    if name not in ESTIMATORS:
        raise LearningError(f"unknown estimator {name!r}: use one of {', '.join(ESTIMATORS)}")
    params = _params(values.get("params"))
    scaler = (_text(values.get("scaler"), "scaler") or "none").lower()
    if scaler not in SCALERS:
        raise LearningError(f"unknown scaler {scaler!r}: use none or standard")
    label = _text(values.get("label"), "label") or None
    metric = _text(values.get("metric"), "metric") or None
    if metric is not None and metric not in HIGHER_IS_BETTER:
        raise LearningError(f"unknown metric {metric!r}: one of {', '.join(HIGHER_IS_BETTER)}")
    policy = values.get("policy") or None
    try:
        policy_from_spec(policy)
    except PolicyError as e:
        raise LearningError(str(e)) from None
    spec = LearningSpec(
        estimator=name,
        params=params,
        scaler=scaler,
        label=label,
        holdout=_fraction(values.get("holdout")),
        metric=metric,
        policy=policy,
        window=_window(values.get("window")),
    )
    if spec.window is not None and spec.mode != REFIT:
        raise LearningError(f"a window applies to refit estimators; {name} learns incrementally")
    build_estimator(spec)  # checks every hyperparameter
    return spec


def build_estimator(spec: LearningSpec) -> Any:
    """Return the unfitted estimator (a Pipeline behind a StandardScaler if asked)."""
    module, _ = ESTIMATORS[spec.estimator]
    cls = getattr(import_module(module), spec.estimator)
    estimator = cls()
    known = estimator.get_params(deep=False)
    unknown = sorted(set(spec.params) - set(known))
    if unknown:
        raise LearningError(
            f"{spec.estimator} has no parameter {', '.join(map(repr, unknown))};"
            f" its parameters: {', '.join(sorted(known))}"
        )
    refused = sorted(set(spec.params) & FORBIDDEN_PARAMS)
    if refused:
        raise LearningError(f"parameter {', '.join(refused)} cannot be set here")
    for key, value in spec.params.items():
        _check_cap(key, value)
    estimator.set_params(**{k: _param_value(k, v) for k, v in spec.params.items()})
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as e:  # sklearn's InvalidParameterError is a ValueError
        raise LearningError(f"bad parameter for {spec.estimator}: {e}") from None
    if spec.scaler == "standard":
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        return Pipeline([("scaler", StandardScaler()), ("estimator", estimator)])
    return estimator


def _param_value(key: str, value: Any) -> Any:
    # JSON has no tuples: MLP layer sizes arrive as a list.
    if key == "hidden_layer_sizes" and isinstance(value, list):
        return tuple(value)
    return value


def _check_cap(key: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise LearningError(f"parameter {key!r} must be finite")
    cap = PARAM_CAPS.get(key)
    if cap is not None and isinstance(value, (int, float)) and value > cap:
        raise LearningError(f"parameter {key!r} is at most {cap} here")
    if key == "hidden_layer_sizes":
        sizes = value if isinstance(value, list) else [value]
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
            raise LearningError("hidden_layer_sizes must be a list of whole numbers")
        if sum(sizes) > MAX_HIDDEN_UNITS:
            raise LearningError(f"hidden_layer_sizes add up to at most {MAX_HIDDEN_UNITS} here")


def _params(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise LearningError(f"params is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise LearningError('params must be a JSON object, e.g. {"C": 1.0}')
    for key, item in value.items():
        if isinstance(item, dict):
            raise LearningError(f"parameter {key!r} must be a number, a string or a list")
    return value


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LearningError(f"{what} must be a string")
    return value.strip()


def _fraction(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LearningError(f"holdout must be a fraction such as 0.2, not {value!r}") from None
    if isinstance(value, bool) or not (0 < number <= 0.9):
        raise LearningError("holdout must be a fraction above 0 and at most 0.9")
    return number


def _window(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise LearningError(f"window must be a whole number of rows, not {value!r}") from None
    if isinstance(value, (bool, float)) or not 1 <= number <= MAX_WINDOW:
        raise LearningError(f"window must be a whole number of rows from 1 to {MAX_WINDOW}")
    return number
