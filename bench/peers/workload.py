"""The workload both sides run: the same scikit-learn models, names, tags and rows.

Imported by ``catalog_side.py`` (project venv) and ``mlflow_side.py`` (MLflow venv), so it
depends on scikit-learn and numpy only. Both venvs pin the same scikit-learn, so the same
seed gives the same fitted estimator on both sides.

100 model names x 10 versions by default: names cycle over four of scikit-learn's shipped
datasets (iris, wine, cancer, digits) and two estimators (logistic regression, SGD with
log loss); each version is fitted on a different random subset with its own seed, as an
online learner republishing after each batch would.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("iris", "wine", "cancer", "digits")
ALGOS = ("logreg", "sgd")
ALIAS = "production"
# The version every model's alias points at (1-based, clamped to the versions published).
ALIAS_VERSION = 5
# At most this many training rows per version (keeps fitting 1,000 models quick).
MAX_ROWS = 300
# The model both HTTP servers serve (version 1 of it).
SERVED_MODEL = "iris-logreg-000"


@dataclass(frozen=True)
class Spec:
    """One model version to publish."""

    name: str
    version: int  # 1-based, the number both registries should assign
    dataset: str
    algo: str
    seed: int

    @property
    def tags(self) -> dict[str, str]:
        """Version tags as key/value pairs (MLflow); the catalog stores their values."""
        return {"dataset": self.dataset, "algo": self.algo}


def model_names(n_models: int) -> list[str]:
    """Return the model names, e.g. ``iris-logreg-000``, ``wine-logreg-001``."""
    names = []
    for i in range(n_models):
        dataset = DATASETS[i % len(DATASETS)]
        algo = ALGOS[(i // len(DATASETS)) % len(ALGOS)]
        names.append(f"{dataset}-{algo}-{i:03d}")
    return names


def specs(n_models: int, n_versions: int) -> Iterator[Spec]:
    """Yield every version to publish, version-major (v1 of every model, then v2, ...)."""
    names = model_names(n_models)
    for v in range(1, n_versions + 1):
        for i, name in enumerate(names):
            dataset, algo = name.split("-")[:2]
            yield Spec(name, v, dataset, algo, seed=i * 1000 + v)


_DATA: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (X float64, y) of one of scikit-learn's shipped datasets."""
    if name not in _DATA:
        from sklearn import datasets

        loader = {
            "iris": datasets.load_iris,
            "wine": datasets.load_wine,
            "cancer": datasets.load_breast_cancer,
            "digits": datasets.load_digits,
        }[name]
        X, y = loader(return_X_y=True)
        _DATA[name] = (np.asarray(X, dtype=np.float64), np.asarray(y))
    return _DATA[name]


def fit(spec: Spec) -> Any:
    """Return the fitted estimator of one version (deterministic in its seed)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    X, y = dataset(spec.dataset)
    rng = np.random.default_rng(spec.seed)
    n = min(MAX_ROWS, int(len(X) * 0.8))
    rows = rng.choice(len(X), size=n, replace=False)
    if spec.algo == "logreg":
        est = LogisticRegression(max_iter=200, C=float(rng.uniform(0.1, 10.0)))
    else:
        est = SGDClassifier(loss="log_loss", max_iter=50, random_state=spec.seed)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: tiny fits are slower, and erratic, with a thread pool on 2 cores.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X[rows], y[rows])
    return est


def row(dataset_name: str) -> np.ndarray:
    """Return the one row both sides predict (float64, shape (1, n_features))."""
    X, _ = dataset(dataset_name)
    return X[:1].copy()


def lookup_names(n_models: int, count: int) -> list[str]:
    """Return ``count`` model names to look up, spread over every model."""
    names = model_names(n_models)
    return [names[(i * 7) % len(names)] for i in range(count)]


def median(values: list[float]) -> float:
    """Return the median (no statistics import needed by callers)."""
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """Add the options both sides take, so they always run the same workload."""
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--models", type=int, default=100)
    ap.add_argument("--versions", type=int, default=10)
    ap.add_argument("--lookups", type=int, default=300)
    ap.add_argument("--searches", type=int, default=20)
    ap.add_argument("--cold", type=int, default=20)
    ap.add_argument("--warm", type=int, default=200)
