"""The demo catalog: real models trained on scikit-learn's shipped datasets, and the
network graphs shipped in the onnx package's test data."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catalog.domain.registry import Registry

SEED = 0


@dataclass
class DemoModel:
    """One scikit-learn model of the demo catalog."""

    name: str
    dataset: str
    make: Callable[[], Any]
    description: str
    tags: list[str] = field(default_factory=list)


def _estimators() -> list[DemoModel]:
    from sklearn.cluster import KMeans
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return [
        DemoModel(
            "iris-svc",
            "iris",
            lambda: SVC(kernel="rbf", C=1.0),
            "Support vector classifier (RBF kernel) on the iris flowers: the source"
            " article's worked example.",
            ["iris", "svm", "tabular"],
        ),
        DemoModel(
            "iris-logistic-regression",
            "iris",
            lambda: LogisticRegression(max_iter=1000),
            "Multinomial logistic regression on the iris flowers.",
            ["iris", "linear", "tabular"],
        ),
        DemoModel(
            "iris-gaussian-nb",
            "iris",
            GaussianNB,
            "Gaussian naive Bayes on the iris flowers.",
            ["iris", "naive-bayes", "tabular"],
        ),
        DemoModel(
            "iris-kmeans",
            "iris",
            lambda: KMeans(n_clusters=3, n_init=10, random_state=SEED),
            "K-means clustering of the iris flowers into three clusters.",
            ["iris", "clustering", "tabular"],
        ),
        DemoModel(
            "wine-random-forest",
            "wine",
            lambda: RandomForestClassifier(n_estimators=50, max_depth=6, random_state=SEED),
            "Random forest on the wine recognition data set.",
            ["wine", "ensemble", "trees", "tabular"],
        ),
        DemoModel(
            "wine-knn",
            "wine",
            lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)),
            "k-nearest neighbours on standardised wine features.",
            ["wine", "knn", "pipeline", "tabular"],
        ),
        DemoModel(
            "breast-cancer-gradient-boosting",
            "breast_cancer",
            lambda: GradientBoostingClassifier(n_estimators=60, random_state=SEED),
            "Gradient-boosted trees on the Wisconsin breast cancer data set.",
            ["breast-cancer", "ensemble", "trees", "medical", "tabular"],
        ),
        DemoModel(
            "breast-cancer-sgd",
            "breast_cancer",
            lambda: make_pipeline(
                StandardScaler(), SGDClassifier(loss="log_loss", random_state=SEED)
            ),
            "Linear classifier trained by stochastic gradient descent, on standardised"
            " breast cancer features; can keep learning online.",
            ["breast-cancer", "linear", "online", "pipeline", "medical", "tabular"],
        ),
        DemoModel(
            "breast-cancer-scaled-logreg",
            "breast_cancer",
            lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
            "StandardScaler + logistic regression pipeline on the breast cancer data set.",
            ["breast-cancer", "linear", "pipeline", "medical", "tabular"],
        ),
        DemoModel(
            "digits-mlp",
            "digits",
            lambda: MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=SEED),
            "Multi-layer perceptron recognising 8x8 handwritten digits.",
            ["digits", "neural-network", "vision"],
        ),
        DemoModel(
            "diabetes-ridge",
            "diabetes",
            lambda: Ridge(alpha=1.0),
            "Ridge regression of diabetes disease progression after one year.",
            ["diabetes", "linear", "regression", "medical", "tabular"],
        ),
    ]


LIGHT_MODELS = {
    "light_resnet50": ("resnet50", "ResNet-50 image classifier (ImageNet)."),
    "light_densenet121": ("densenet121", "DenseNet-121 image classifier (ImageNet)."),
    "light_inception_v1": ("inception-v1", "Inception v1 (GoogLeNet) image classifier."),
    "light_inception_v2": ("inception-v2", "Inception v2 image classifier."),
    "light_vgg19": ("vgg19", "VGG-19 image classifier (ImageNet)."),
    "light_squeezenet": (
        "squeezenet",
        "SqueezeNet image classifier: AlexNet accuracy, 50x fewer parameters.",
    ),
    "light_shufflenet": ("shufflenet", "ShuffleNet image classifier for mobile devices."),
    "light_bvlc_alexnet": ("alexnet", "AlexNet image classifier (BVLC)."),
    "light_zfnet512": ("zfnet512", "ZFNet-512 image classifier."),
}


def _load_dataset(name: str) -> Any:
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")()


def _metric(model: Any, task: str, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    if task == "classification":
        return {"accuracy": round(float((model.predict(X) == y).mean()), 4)}
    if task == "regression":
        from sklearn.metrics import r2_score

        return {"r2": round(float(r2_score(y, model.predict(X))), 4)}
    from sklearn.metrics import adjusted_rand_score

    return {"adjustedRandIndex": round(float(adjusted_rand_score(y, model.predict(X))), 4)}


def _light_dir() -> Path:
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def demo_items() -> Iterator[tuple[str, Callable[[Registry], None]]]:
    """Yield (name, publish function) for every model of the demo catalog."""
    from sklearn.base import is_classifier, is_regressor
    from sklearn.model_selection import train_test_split

    for item in _estimators():

        def publish(reg: Registry, item: DemoModel = item) -> None:
            data = _load_dataset(item.dataset)
            X = data.data.astype(np.float32)
            X_train, X_test, y_train, y_test = train_test_split(
                X,
                data.target,
                test_size=0.25,
                random_state=SEED,
                stratify=(data.target if item.dataset != "diabetes" else None),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = item.make().fit(X_train, y_train)
            task = (
                "classification"
                if is_classifier(model)
                else "regression"
                if is_regressor(model)
                else "clustering"
            )
            meta: dict[str, Any] = {
                "task": task,
                "dataset": item.dataset,
                "featureNames": [str(n) for n in data.feature_names],
                "metrics": _metric(model, task, X_test, y_test),
                # float32 values in their shortest form (5.1, not 5.099999904632568)
                "sampleRow": [float(str(v)) for v in X_test[0]],
                "trainRows": int(len(X_train)),
            }
            if task == "classification" and "target_names" in data:
                meta["classNames"] = [str(n) for n in data.target_names]
            reg.publish(
                item.name,
                model,
                sample_input=X_test[:1],
                tags=item.tags,
                description=item.description,
                metadata=meta,
                alias="production",
            )

        yield item.name, publish

    for stem, (name, text) in LIGHT_MODELS.items():
        path = _light_dir() / f"{stem}.onnx"

        def publish_light(
            reg: Registry, path: Path = path, name: str = name, text: str = text
        ) -> None:
            reg.publish(
                name,
                path,
                description=text + " From the onnx package's test data: the graph is the real"
                " network, its weights are generated by ConstantOfShape nodes.",
                tags=["vision", "imagenet", "cnn", "onnx-model-zoo"],
                metadata={
                    "task": "image-classification",
                    "framework": "onnx",
                    "dataset": "imagenet",
                },
            )

        if path.exists():
            yield name, publish_light

    yield ONLINE_NAME, publish_online
    yield IRIS_ONLINE_NAME, publish_iris_online


ONLINE_NAME = "breast-cancer-online"
IRIS_ONLINE_NAME = "iris-svm-online"


def publish_online(reg: Registry, steps: int = 6) -> None:
    """Publish a model that learned online: a first small batch, then one version a batch."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    from inference.learning import learn, start_learning

    data = load_breast_cancer()
    X = data.data.astype(np.float32)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # SGD needs comparable scales
    X_train, X_hold, y_train, y_hold = train_test_split(
        X, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    batch = 40
    start_learning(
        reg,
        ONLINE_NAME,
        SGDClassifier(loss="log_loss", random_state=SEED),
        X_train[:batch],
        y_train[:batch],
        holdout=(X_hold, y_hold),
        classes=[0, 1],
        feature_names=[str(n) for n in data.feature_names],
        description="Online learning demo: an SGD classifier on standardised breast cancer"
        " features, republished after every batch of 40 new rows (see its Versions page).",
        tags=["breast-cancer", "online", "linear", "medical", "tabular"],
        policy="no-worse",
    )
    for step in range(1, steps):
        rows = slice(step * batch, (step + 1) * batch)
        learn(reg, ONLINE_NAME, X_train[rows], y_train[rows], batch_id=f"demo-{step}")


def publish_iris_online(reg: Registry, steps: int = 4, batch: int = 20) -> None:
    """Publish the source article's iris SVM learning by refit: 30 rows, then a batch a step.

    SVC has no partial_fit: the catalog keeps every row it learned from (``datasets``) and
    refits on all of them at each step; each version's lineage names the batches it saw.
    """
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from inference.learning import learn, start_learning

    data = load_iris()
    X = data.data.astype(np.float32)
    y = np.asarray([str(data.target_names[t]) for t in data.target])
    X_train, X_hold, y_train, y_hold = train_test_split(
        X, y, test_size=0.3, random_state=SEED, stratify=y
    )
    first = 30
    start_learning(
        reg,
        IRIS_ONLINE_NAME,
        make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0)),
        X_train[:first],
        y_train[:first],
        holdout=(X_hold, y_hold),
        feature_names=[str(n) for n in data.feature_names],
        description="The source article's worked example learning online: an SVM on the"
        " iris flowers, first trained on 30 rows, then refit on every row seen after each"
        " batch of 20 (SVC has no partial_fit; the rows are kept in the datasets collection).",
        tags=["iris", "svm", "online", "refit", "tabular"],
        policy="no-worse",
        batch_id="demo-iris-0",
        spec={"estimator": "SVC", "params": {"C": 1.0}, "scaler": "standard", "label": "species"},
    )
    for step in range(1, steps):
        rows = slice(first + (step - 1) * batch, first + step * batch)
        learn(reg, IRIS_ONLINE_NAME, X_train[rows], y_train[rows], batch_id=f"demo-iris-{step}")


def publish_demo(reg: Registry, progress: Callable[[str], None] | None = None) -> list[str]:
    """Publish every demo model that is not in the catalog yet; return the names published."""
    done = []
    for name, publish in demo_items():
        if progress:
            progress(name)
        if reg.aliases(name):
            continue
        publish(reg)
        done.append(name)
    return done
