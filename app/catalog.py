"""The datasets on offer, for the page: what each is, and previews of its examples."""

from __future__ import annotations

import numpy as np

from mlp_engine import DATASETS, dataset_info, load_dataset

from .errors import ApiError


def dataset_list(mnist_dir) -> list[dict]:
    """Every dataset: task, input shape, classes, split sizes, parameters and defaults;
    ``available`` is false where its files are missing (MNIST without its folder)."""
    out = []
    for name, spec in DATASETS.items():
        entry = {"name": name, "task": spec.task, "description": spec.description, "params": spec.params}
        try:
            entry.update(dataset_info(name, mnist_dir=mnist_dir), available=True)
        except FileNotFoundError as exc:
            entry.update(available=False, error=str(exc))
        out.append(entry)
    return out


def dataset_samples(name: str, mnist_dir, params: dict, *, data_seed: int, n: int, split: str, seed: int) -> dict:
    """Up to n seeded-random examples of a split of the dataset built from (params,
    data_seed): {"X", "y", "input_shape", "classes", "feature_names", "task"}."""
    try:
        data = load_dataset(name, mnist_dir=mnist_dir, seed=data_seed, **params)
    except FileNotFoundError as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
    pick = np.sort(np.random.default_rng(seed).permutation(len(X))[:n])
    rows = X[pick]
    if len(data.input_shape) == 2:  # images: (n, H, W)
        rows = rows.reshape(-1, *data.input_shape)
    return {"X": np.round(rows, 4).tolist(), "y": y[pick].tolist(), "input_shape": list(data.input_shape),
            "classes": list(data.classes), "feature_names": list(data.feature_names), "task": data.task}
