"""The ``Dataset`` contract: what every dataset holds, checked when one is built.

Every dataset arrives as a :class:`Dataset` with float32 inputs of shape ``(N, D)`` and
targets whose form follows the task:

=============  =======================  =========================================
task           ``y``                    network output
=============  =======================  =========================================
multiclass     ``(N,) int64`` in [0, K)  ``K = len(classes)`` logits (softmax)
binary         ``(N,) int64`` in {0, 1}  one logit (sigmoid)
regression     ``(N, 1) float32``        one value
=============  =======================  =========================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

TASKS = ("multiclass", "binary", "regression")

#: What a loader returns: the keyword arguments of :class:`Dataset` other than ``name``,
#: ``task`` and ``description``, which the registry adds from its entry.
DatasetFields = dict[str, Any]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split with the metadata the model builder and the UI need.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"mnist"``.
    task : str
        One of ``"multiclass"``, ``"binary"``, ``"regression"``.
    X_train : (N_train, D) float32, C-contiguous
    y_train : (N_train,) int64 for multiclass and binary; (N_train, 1) float32 for regression
    X_test : (N_test, D) float32, C-contiguous
    y_test : like ``y_train``, with ``N_test`` rows
    classes : tuple of str
        Class names, indexed by label; two names for binary (label 0, label 1);
        ``()`` for regression.
    input_shape : tuple of int
        Shape of one example before flattening, e.g. ``(28, 28)``; its product is ``D``.
    description : str
        One or two sentences for a learner.
    feature_names : tuple of str, optional
        One name per input column, or ``()`` where columns are anonymous (MNIST pixels).
    standardization : (mean, std), optional
        When the inputs were standardised, ``x = (raw - mean) / std``: new raw inputs
        (a drawn digit in [0, 1]) need the same (:func:`standardize_inputs`). None: raw inputs.

    Raises
    ------
    ValueError
        If an array's shape, dtype or layout, or a label, breaks the contract above.
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    input_shape: tuple[int, ...]
    description: str
    feature_names: tuple[str, ...] = ()
    standardization: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.task == "regression" and self.classes:
            raise ValueError("a regression dataset has no classes; pass classes=()")
        if self.task == "binary" and len(self.classes) != 2:
            raise ValueError(f"a binary dataset needs 2 class names, got {self.classes!r}")
        if self.task == "multiclass" and len(self.classes) < 2:
            raise ValueError(
                f"a multiclass dataset needs at least 2 class names, got {self.classes!r}"
            )
        n_features = math.prod(self.input_shape)
        if self.feature_names and len(self.feature_names) != n_features:
            raise ValueError(
                f"feature_names has {len(self.feature_names)} names for {n_features} features; "
                "give one name per feature or none"
            )
        for split, X, y in (("train", self.X_train, self.y_train), ("test", self.X_test, self.y_test)):
            self._check_split(split, X, y, n_features)

    def _check_split(self, split: str, X: np.ndarray, y: np.ndarray, n_features: int) -> None:
        if X.dtype != np.float32 or X.ndim != 2 or not X.flags.c_contiguous:
            raise ValueError(
                f"X_{split} must be a C-contiguous 2-D float32 array, got {X.ndim}-D {X.dtype}"
            )
        if X.shape[0] == 0 or X.shape[1] != n_features:
            raise ValueError(
                f"X_{split} has shape {X.shape}; it needs at least one row and "
                f"{n_features} columns (the product of input_shape {self.input_shape})"
            )
        if self.task == "regression":
            if y.dtype != np.float32 or y.shape != (X.shape[0], 1):
                raise ValueError(
                    f"y_{split} for regression must be float32 of shape ({X.shape[0]}, 1), "
                    f"got {y.dtype} {y.shape}"
                )
            return
        if y.dtype != np.int64 or y.shape != (X.shape[0],):
            raise ValueError(
                f"y_{split} for {self.task} must be int64 of shape ({X.shape[0]},), "
                f"got {y.dtype} {y.shape}"
            )
        if y.min() < 0 or y.max() >= len(self.classes):
            raise ValueError(
                f"y_{split} holds labels {y.min()}..{y.max()}; they must index classes, "
                f"0..{len(self.classes) - 1}"
            )

    @property
    def n_features(self) -> int:
        """Input width ``D``, the product of ``input_shape``."""
        return math.prod(self.input_shape)

    @property
    def image_shape(self) -> tuple[int, int] | None:
        """``(H, W)`` when examples are images (a 2-D ``input_shape``), else None."""
        return tuple(self.input_shape) if len(self.input_shape) == 2 else None

    @property
    def image_background(self) -> float:
        """The value of a blank pixel (raw 0) in X: what augmentation shifts in at the borders."""
        if self.standardization is None:
            return 0.0
        return float(standardize_inputs(np.zeros(1, np.float32), *self.standardization)[0])

    @property
    def n_outputs(self) -> int:
        """Output width: ``len(classes)`` for multiclass, 1 for binary and regression."""
        return _n_outputs(self.task, self.classes)

    def info(self) -> dict[str, Any]:
        """Metadata without the arrays, as a JSON-able dict (lists, not tuples)."""
        return info_dict(
            name=self.name,
            task=self.task,
            classes=self.classes,
            input_shape=self.input_shape,
            feature_names=self.feature_names,
            description=self.description,
            train_size=len(self.X_train),
            test_size=len(self.X_test),
            standardization=self.standardization,
        )


def _n_outputs(task: str, classes: tuple[str, ...]) -> int:
    return len(classes) if task == "multiclass" else 1


def info_dict(
    *,
    name: str,
    task: str,
    classes: tuple[str, ...],
    input_shape: tuple[int, ...],
    feature_names: tuple[str, ...],
    description: str,
    train_size: int,
    test_size: int,
    standardization: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """What :meth:`Dataset.info` returns, from the metadata alone (no arrays needed)."""
    return {
        "name": name,
        "task": task,
        "input_shape": list(input_shape),
        "n_features": math.prod(input_shape),
        "n_outputs": _n_outputs(task, classes),
        "classes": list(classes),
        "train_size": train_size,
        "test_size": test_size,
        "description": description,
        "feature_names": list(feature_names),
        "standardization": None if standardization is None else dict(zip(("mean", "std"), standardization)),
    }


def standardize_inputs(X: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``(X - mean) / std`` as a new float32 array of X's shape, with no second temporary:
    what ``standardize=True`` does to a dataset, for new raw inputs of a model trained on it."""
    out = np.asarray(X, dtype=np.float32) - np.float32(mean)
    out /= np.float32(std)
    return out
