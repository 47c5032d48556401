"""Trainable state: fitted estimators saved with skops and loaded with trusted types only.

Nothing here unpickles. ``skops.io`` writes an estimator as a zip of a JSON schema and
``.npy`` arrays (read without pickle); loading rebuilds only the types the schema names.
Before loading, every type in the schema is checked against ALLOWED_TYPES below, not only
the ones skops itself would call untrusted: skops trusts all of scikit-learn and numpy by
default, and a state document should hold nothing but the estimators online learning
supports. Anything else is refused with UntrustedState before a single object is built.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import skops.io as sio

from catalog.domain.registry import RegistryError
from catalog.store.base import MAX_VALUE_BYTES

# Estimators that learn incrementally (partial_fit) and that skl2onnx converts.
LEARNERS = frozenset(
    {
        "sklearn.linear_model._stochastic_gradient.SGDClassifier",
        "sklearn.linear_model._stochastic_gradient.SGDRegressor",
        "sklearn.linear_model._perceptron.Perceptron",
        "sklearn.linear_model._passive_aggressive.PassiveAggressiveClassifier",
        "sklearn.linear_model._passive_aggressive.PassiveAggressiveRegressor",
        "sklearn.naive_bayes.GaussianNB",
        "sklearn.naive_bayes.MultinomialNB",
        "sklearn.naive_bayes.BernoulliNB",
        "sklearn.naive_bayes.ComplementNB",
        "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
        "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
        "sklearn.cluster._kmeans.MiniBatchKMeans",
    }
)
# Estimators without partial_fit: refit on the rows kept in ``datasets`` at every step.
REFITTERS = frozenset(
    {
        "sklearn.svm._classes.SVC",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.ensemble._gb.GradientBoostingClassifier",
        "sklearn.ensemble._gb.GradientBoostingRegressor",
        "sklearn.neighbors._classification.KNeighborsClassifier",
        "sklearn.neighbors._regression.KNeighborsRegressor",
    }
)
# Fitted-once transformers a Pipeline may put before its learner.
TRANSFORMERS = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._data.MinMaxScaler",
        "sklearn.preprocessing._data.MaxAbsScaler",
        "sklearn.preprocessing._data.RobustScaler",
        "sklearn.preprocessing._data.Normalizer",
        "sklearn.preprocessing._data.Binarizer",
    }
)
# What the estimators above keep inside them (found by walking their skops schemas).
INTERNALS = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float16",
        "numpy.float32",
        "numpy.float64",
        "numpy.int8",
        "numpy.int16",
        "numpy.int32",
        "numpy.int64",
        "numpy.uint8",
        "numpy.uint16",
        "numpy.uint32",
        "numpy.uint64",
        "numpy.bool_",
        "numpy.str_",
        "numpy.random.mtrand.RandomState",
        "sklearn.preprocessing._label.LabelBinarizer",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.linear_model._sgd_fast.Hinge",
        "sklearn.linear_model._sgd_fast.SquaredHinge",
        "sklearn.linear_model._sgd_fast.ModifiedHuber",
        "sklearn.linear_model._sgd_fast.EpsilonInsensitive",
        "sklearn.linear_model._sgd_fast.SquaredEpsilonInsensitive",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss._loss.CyHuberLoss",
    }
)
# What the refit estimators keep (their skops schemas, walked for every one of REFITTERS
# with its default parameters, alone and behind a StandardScaler): trees, boosting's
# losses, links and initial estimator, nearest neighbours' search trees and distance.
REFIT_INTERNALS = frozenset(
    {
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.tree._tree.Tree",
        "sklearn.dummy.DummyClassifier",
        "sklearn.dummy.DummyRegressor",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.link.Interval",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
    }
)
ALLOWED_TYPES = LEARNERS | REFITTERS | TRANSFORMERS | INTERNALS | REFIT_INTERNALS


class UntrustedState(RegistryError):
    """A state holds a type outside ALLOWED_TYPES (or is not a skops file): not loaded."""


def type_name(obj: Any) -> str:
    """Return the ``module.Class`` name skops writes for an object's type."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def learner_of(estimator: Any) -> Any:
    """Return the step that learns: the estimator itself, or a Pipeline's last step."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def check_learner(estimator: Any) -> None:
    """Raise UntrustedState unless the estimator is one online learning supports."""
    learner = learner_of(estimator)
    if type_name(learner) not in LEARNERS | REFITTERS:
        supported = ", ".join(sorted(n.rsplit(".", 1)[1] for n in LEARNERS | REFITTERS))
        raise UntrustedState(
            f"{type(learner).__name__} is not supported for online learning; use one of"
            f" {supported} (alone or as the last step of a Pipeline)"
        )
    for _, step in getattr(estimator, "steps", [])[:-1]:
        if type_name(step) not in TRANSFORMERS:
            raise UntrustedState(
                f"pipeline step {type(step).__name__} is not a supported fixed transformer"
            )


def schema_types(data: bytes) -> set[str]:
    """Return every ``module.Class`` a skops file's schema names (raise if not skops)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            schema = json.loads(z.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise UntrustedState(f"not a skops state file: {e}") from None
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__module__"), str) and isinstance(node.get("__class__"), str):
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def untrusted_types(data: bytes) -> list[str]:
    """Return the types of a skops file that are not in ALLOWED_TYPES, sorted."""
    named = schema_types(data)
    try:
        flagged = set(sio.get_untrusted_types(data=data))
    except Exception as e:  # skops raises several types on a malformed schema
        raise UntrustedState(f"unreadable skops state: {e}") from None
    return sorted((named | flagged) - ALLOWED_TYPES)


def dump_state(estimator: Any) -> bytes:
    """Return the skops bytes of a supported estimator (refused before writing otherwise)."""
    check_learner(estimator)
    data = sio.dumps(estimator, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    refused = untrusted_types(data)
    if refused:
        raise UntrustedState(f"the state would hold types outside the allow-list: {refused}")
    if len(data) > MAX_VALUE_BYTES:
        raise UntrustedState(
            f"the state is {len(data)} bytes, over the {MAX_VALUE_BYTES}-byte document limit"
        )
    return data


def load_state(data: bytes) -> Any:
    """Return the estimator in skops bytes, after checking every type against the allow-list."""
    if not isinstance(data, (bytes, bytearray)):
        raise UntrustedState("a state document must be binary (skops bytes)")
    refused = untrusted_types(bytes(data))
    if refused:
        raise UntrustedState(
            "refusing to load a state holding types outside the allow-list: " + ", ".join(refused)
        )
    trusted = sio.get_untrusted_types(data=bytes(data))  # all within ALLOWED_TYPES here
    estimator = sio.loads(bytes(data), trusted=trusted)
    check_learner(estimator)
    return estimator
