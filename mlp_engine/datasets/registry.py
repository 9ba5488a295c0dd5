"""The registry of datasets: what each is, which parameters a user may set, and how it
is built.

:func:`load_dataset` builds a dataset by name from :data:`DATASETS`, checking the user's
parameters first; :func:`dataset_info` gives its metadata, reading as little as it can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import toy
from .dataset import Dataset, DatasetFields, info_dict
from .mnist import load_mnist, mnist_info


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: what a dataset is and which parameters a user may set.

    Parameters
    ----------
    name : str
        Registry key.
    task : str
        One of :data:`~.dataset.TASKS`.
    description : str
        Shown to the learner; copied into every :class:`Dataset` built from this entry.
    loader : callable
        ``loader(rng, **params) -> DatasetFields``: the arrays and metadata of the dataset
        but its name, task and description. The MNIST loader also takes ``mnist_dir``.
    params : dict
        Parameter name -> default. The names are keys of ``_PARAM_CHECKS``.
    needs_mnist_dir : bool
        True where the loader reads the MNIST files.
    read_info : callable, optional
        ``read_info(rng, **params) -> dict`` with the loader's arguments: the metadata of
        :func:`~.dataset.info_dict` but name, task and description, found without building
        the arrays. None: :func:`dataset_info` builds the dataset to describe it.
    """

    name: str
    task: str
    description: str
    loader: Callable[..., DatasetFields]
    params: dict[str, Any] = field(default_factory=dict)
    needs_mnist_dir: bool = False
    read_info: Callable[..., dict[str, Any]] | None = None


# --------------------------------------------------------------------------- parameters


def _is_real(value: Any, types: tuple[type, ...] = (int, float, np.integer, np.floating)) -> bool:
    """True for ints and floats, NumPy's included, but not for bools."""
    return isinstance(value, types) and not isinstance(value, (bool, np.bool_))


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if not _is_real(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def _number(name: str, value: Any, low: float, high: float) -> float:
    if not _is_real(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def _fraction(name: str, value: Any) -> float:
    if not _is_real(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def _optional_subset(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if not _is_real(value, (int, np.integer)) or not 1 <= value <= 60_000:
        raise ValueError(f"{name} must be None (all 60000) or an integer in [1, 60000], got {value!r}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return bool(value)


# Parameter name -> check(name, value) returning the normalised value or raising ValueError.
_PARAM_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "n_samples": lambda name, v: _integer(name, v, 10, 100_000),
    "noise": lambda name, v: _number(name, v, 0.0, 1.0),
    "test_fraction": _fraction,
    "n_classes": lambda name, v: _integer(name, v, 2, 10),
    "train_subset": _optional_subset,
    "standardize": _flag,
}


def _check_params(spec: DatasetSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults of ``spec`` overlaid with ``params``, each value checked and normalised."""
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        allowed = ", ".join(spec.params) or "none"
        raise ValueError(f"unknown parameter(s) {unknown} for dataset {spec.name!r}; allowed: {allowed}")
    merged = spec.params | params
    return {name: _PARAM_CHECKS[name](name, value) for name, value in merged.items()}


def _prepare(
    name: str, mnist_dir: str | Path | None, seed: int, params: dict[str, Any]
) -> tuple[DatasetSpec, np.random.Generator, dict[str, Any]]:
    """The entry ``name``, the generator seeded with ``seed``, and the checked arguments of
    its loader; ValueError for an unknown name, parameter or value."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    values = _check_params(spec, params)
    if spec.needs_mnist_dir:
        values["mnist_dir"] = mnist_dir
    return spec, np.random.default_rng(_integer("seed", seed, 0, 2**63 - 1)), values


def _build(spec: DatasetSpec, rng: np.random.Generator, values: dict[str, Any]) -> Dataset:
    return Dataset(name=spec.name, task=spec.task, description=spec.description, **spec.loader(rng, **values))


def load_dataset(
    name: str, *, mnist_dir: str | Path | None = None, seed: int = 0, **params: Any
) -> Dataset:
    """Build the dataset registered as ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    mnist_dir : str or Path, optional
        Folder with the four MNIST ``.gz`` files; used only by ``"mnist"``.
    seed : int
        Seeds ``np.random.default_rng`` for generation, splitting and subsetting.
    **params
        Overrides of ``DATASETS[name].params``.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an unknown name, an unknown parameter or a value out of range; the message
        lists what is allowed.
    FileNotFoundError
        For ``"mnist"`` when ``mnist_dir`` is missing or lacks a file.
    """
    return _build(*_prepare(name, mnist_dir, seed, params))


def dataset_info(
    name: str, *, mnist_dir: str | Path | None = None, seed: int = 0, **params: Any
) -> dict[str, Any]:
    """``load_dataset(name, ...).info()``, without building the arrays where the entry can
    read its metadata (MNIST reads the IDX headers).

    Takes the same arguments and raises the same errors as :func:`load_dataset`.
    """
    spec, rng, values = _prepare(name, mnist_dir, seed, params)
    if spec.read_info is None:
        return _build(spec, rng, values).info()
    return info_dict(name=spec.name, task=spec.task, description=spec.description, **spec.read_info(rng, **values))


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "xor", "binary",
            "The four corners of the unit square, labelled 1 when exactly one input is 1. "
            "No straight line separates them; a 2-4-1 net can. Train and test are the same 4 points.",
            toy.xor,
        ),
        DatasetSpec(
            "circle", "binary",
            "Points in a disc (inside) surrounded by a ring (outside). A curved boundary is needed, "
            "so at least one hidden layer.",
            toy.circle, {"n_samples": 400, "noise": 0.05, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "gaussians", "multiclass",
            "Round clouds of points, one per class, centred around a circle. "
            "More noise makes the clouds overlap.",
            toy.gaussians, {"n_samples": 400, "noise": 0.2, "n_classes": 3, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "spiral", "multiclass",
            "Spiral arms winding out from the centre, one class per arm. "
            "Hard for small nets: it needs several hidden units and many epochs.",
            toy.spiral, {"n_samples": 600, "noise": 0.05, "n_classes": 3, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "moons", "binary",
            "Two interleaving half circles. A small hidden layer learns the curved boundary.",
            toy.moons, {"n_samples": 400, "noise": 0.1, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "letters", "multiclass",
            "Each of the 26 letters as a one-hot vector that must be mapped back to its own class "
            "(the 26-64-26 exercise). Train and test are the same 26 rows.",
            toy.letters,
        ),
        DatasetSpec(
            "spam", "binary",
            "Synthetic e-mails: exclamation marks (count / 10), whether 'free' appears, and sender "
            "reputation (0-1). Spam when 0.5*exclamations + 2*free - 4*reputation + noise > -0.5.",
            toy.spam, {"n_samples": 1000, "noise": 0.25, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "sine", "regression",
            "Predict y = sin(x) + noise for x between -pi and pi: a regression task with one input "
            "and one output.",
            toy.sine, {"n_samples": 400, "noise": 0.1, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "mnist", "multiclass",
            "70000 handwritten digits, 28x28 grey pixels scaled to [0, 1]: 60000 to train on and "
            "10000 to test. A 784-100-10 net can pass 97% test accuracy.",
            load_mnist, {"train_subset": None, "standardize": False},
            needs_mnist_dir=True, read_info=mnist_info,
        ),
    )
}
