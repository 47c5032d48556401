"""Iris as CSV text (no pandas): the rows the learning tests start and feed models with."""

from __future__ import annotations

import numpy as np

HEADER = "sepal_length,sepal_width,petal_length,petal_width,species"


def iris_rows() -> list[str]:
    """Return the 150 iris rows as CSV lines (species by name), shuffled with a fixed seed."""
    from sklearn.datasets import load_iris

    data = load_iris()
    order = np.random.default_rng(7).permutation(len(data.target))
    return [
        ",".join(f"{v:g}" for v in data.data[i]) + f",{data.target_names[data.target[i]]}"
        for i in order
    ]


def iris_csv(start: int, stop: int) -> str:
    """Return rows start..stop of the shuffled iris set as CSV text with a header row."""
    return "\n".join([HEADER, *iris_rows()[start:stop]]) + "\n"
