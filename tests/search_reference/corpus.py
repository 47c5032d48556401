"""What the differential suite searches: documents, the documented examples, generated strings."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from catalog.search import samples
from catalog.store import open_store

REPO = Path(__file__).resolve().parents[2]
MODELS_KEYSPACE = "ml.catalog.models"
# Size of the generated query corpus, and the seed-free (derandomized) generation.
CORPUS_SIZE = 1200


def store_documents(path: Path) -> list[tuple[str, Any]]:
    """Return (key, document) of every model version in an embedded store file."""
    store = open_store(f"embedded://{path}")
    try:
        return [(key, doc) for key, doc, _ in store.scan(MODELS_KEYSPACE)]
    finally:
        store.close()


def generated_documents() -> list[tuple[str, Any]]:
    """Return varied generated versions (catalog.search.samples), 3 versions of 30 models."""
    return list(samples.catalog(models=30, versions=3, seed=11))


# -- the documented examples ----------------------------------------------------------------

_CODE = re.compile(r"`([^`]+)`")


def readme_queries(text: str | None = None) -> list[str]:
    """Return the query strings of the README's search syntax table (its example column)."""
    text = (REPO / "README.md").read_text() if text is None else text
    found: list[str] = []
    for section in re.split(r"^## ", text, flags=re.M):
        if not section.lower().startswith("search"):
            continue
        for line in section.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("|") and len(cells) >= 2 and not set(cells[1]) <= set("- "):
                found += _CODE.findall(cells[1])
    return list(dict.fromkeys(found))


def page_queries() -> list[str]:
    """Return the search page's placeholder examples and its syntax help's examples."""
    page = (REPO / "templates" / "catalog" / "search.html").read_text()
    placeholder = re.search(r'placeholder="Search models: ([^"]+)"', page)
    found = (
        [p.strip() for p in html.unescape(placeholder.group(1)).split(",")] if placeholder else []
    )
    for term in re.findall(r"<dt>(.*?)</dt>", page):
        found += [html.unescape(code) for code in re.findall(r"<code>(.*?)</code>", term)]
    return list(dict.fromkeys(found))


# -- generated query strings ----------------------------------------------------------------

WORDS = [
    "package's",
    "article",
    "1.5",
    "caffe2",
    "iris",
    "classifier",
    "classifiers",
    "regression",
    "logistic",
    "vector",
    "support",
    "machine",
    "forest",
    "trees",
    "tabular",
    "vision",
    "imagenet",
    "cnn",
    "linear",
    "svm",
    "data",
    "set",
    "flowers",
    "breast",
    "cancer",
    "online",
    "digits",
    "wine",
    "diabetes",
    "network",
    "graph",
    "weights",
    "kernel",
    "neighbors",
    "bayes",
    "gradient",
    "boosted",
    "random",
    "sentiment",
    "transformer",
    "baseline",
    "tuned",
    "distilled",
    "quantized",
    "pruned",
    "batch",
    "trained",
    "export",
    "skl2onnx",
    "pytorch",
    "onnx",
    "convolution",
    "squeezenet",
    "resnet",
    "densenet",
    "inception",
    "shufflenet",
    "conv",
    "relu",
    "matmul",
    "gemm",
    "zipmap",
    "the",
    "of",
    "and",
    "model",
    "label",
    "probabilities",
    "input",
    "output",
]
KEYWORDS = {
    "tags": ["iris", "svm", "tabular", "vision", "linear", "medical", "imagenet", "cnn", "wine"],
    "framework": ["scikit-learn", "onnx", "pytorch", "tensorflow"],
    "task": ["classification", "regression", "clustering", "image-classification"],
    "opTypes": ["Conv", "Relu", "Gemm", "MatMul", "ZipMap", "SVMClassifier", "LinearClassifier"],
}
TEXT_FIELDS = [
    "name",
    "description",
    "metadata.description",
    "producer",
    "initializer",
    "input",
    "output",
    "node",
    "metadata.tags_text",
    "summary.opTypes_text",
]
NUMBER_FIELDS = ["paramCount", "sizeBytes", "nodeCount", "version", "summary.paramCount"]
MALFORMED = ['"open', "+", "-", "tags:", ":iris", "iris^", "iris~x", "iris^-1", 'x:"a', "~", "^2"]


def _word() -> st.SearchStrategy[str]:
    return st.sampled_from(WORDS)


def _typo(word: str, i: int) -> str:
    i %= max(len(word), 1)
    return word[:i] + word[i + 1 :] if len(word) > 3 else word + "x"


@st.composite
def _clause(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            [
                "term",
                "term",
                "field",
                "keyword",
                "phrase",
                "wildcard",
                "prefix",
                "regexp",
                "fuzzy",
                "range",
                "date",
                "malformed",
            ]
        )
    )
    word = draw(_word())
    if kind == "term":
        text = word
    elif kind == "field":
        text = f"{draw(st.sampled_from(TEXT_FIELDS))}:{word}"
    elif kind == "keyword":
        field = draw(st.sampled_from(sorted(KEYWORDS)))
        text = f"{field}:{draw(st.sampled_from(KEYWORDS[field]))}"
    elif kind == "phrase":
        second = draw(_word())
        field = draw(st.sampled_from(["", "description:", "name:"]))
        text = f'{field}"{word} {second}"'
    elif kind == "wildcard":
        i = draw(st.integers(0, 8)) % max(len(word), 1)
        text = word[:i] + "?" + word[i + 1 :]
    elif kind == "prefix":
        text = word[: draw(st.integers(2, 5))] + "*"
    elif kind == "regexp":
        text = (
            "/"
            + word[: draw(st.integers(2, 4))]
            + draw(st.sampled_from([".*", "[a-z]+", ".+s"]))
            + "/"
        )
    elif kind == "fuzzy":
        text = _typo(word, draw(st.integers(0, 9))) + "~" + draw(st.sampled_from(["", "1", "2"]))
    elif kind == "range":
        field = draw(st.sampled_from(NUMBER_FIELDS))
        op = draw(st.sampled_from([">", ">=", "<", "<="]))
        value = draw(st.sampled_from([0, 1, 2, 3, 10, 100, 1000, 50_000, 1_000_000, 2.5]))
        text = f"{field}:{op}{value}"
    elif kind == "date":
        op = draw(st.sampled_from([">", ">=", "<", "<="]))
        day = draw(
            st.sampled_from(["2026-01-01", "2026-01-15", "2026-02-01T00:00:00Z", "2025-12-31"])
        )
        text = f'createdAt:{op}"{day}"'
    else:
        text = draw(st.sampled_from(MALFORMED))
    prefix = draw(st.sampled_from(["", "", "", "+", "-"]))
    boost = draw(st.sampled_from(["", "", "", "", "^2", "^0.5", "^3"]))
    if kind in ("malformed", "fuzzy"):
        boost = ""
    return prefix + text + boost


def query_strings() -> st.SearchStrategy[str]:
    """Return the strategy of generated query strings (1 to 4 clauses over mapped fields)."""
    return st.lists(_clause(), min_size=1, max_size=4).map(" ".join)


def generated_queries(size: int = CORPUS_SIZE, random_seed: int | None = None) -> list[str]:
    """Return ``size`` query strings from ``query_strings()``, the same on every run.

    ``random_seed``: draw another corpus (the exploration command), not derandomized.
    """
    out: list[str] = []

    @settings(
        max_examples=size,
        derandomize=random_seed is None,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(query_strings())
    def collect(q: str) -> None:
        out.append(q)

    (collect if random_seed is None else seed(random_seed)(collect))()
    return list(dict.fromkeys(out))
