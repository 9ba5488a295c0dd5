"""Datasets: the ``Dataset`` contract, a registry of loaders, and MNIST's IDX files.

Every dataset arrives as a :class:`Dataset` with float32 inputs of shape ``(N, D)`` and
targets whose form follows the task:

=============  =======================  =========================================
task           ``y``                    network output
=============  =======================  =========================================
multiclass     ``(N,) int64`` in [0, K)  ``K = len(classes)`` logits (softmax)
binary         ``(N,) int64`` in {0, 1}  one logit (sigmoid)
regression     ``(N, 1) float32``        one value
=============  =======================  =========================================

:func:`load_dataset` builds one by name from :data:`DATASETS`, checking the user's
parameters first. The toy sets are generated from ``np.random.default_rng(seed)``, so the
same seed and parameters give identical arrays. MNIST is read from the four IDX files
(:func:`read_idx`), parsed once per folder and process, and fetched by
:func:`download_mnist` where the folder is empty.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

TASKS = ("multiclass", "binary", "regression")


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
        return _info_dict(
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


def _info_dict(
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


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: what a dataset is and which parameters a user may set.

    Parameters
    ----------
    name : str
        Registry key.
    task : str
        One of :data:`TASKS`.
    description : str
        Shown to the learner; copied into every :class:`Dataset` the loader builds.
    loader : callable
        ``loader(rng, **params) -> Dataset``; the MNIST loader also takes ``mnist_dir``.
    params : dict
        Parameter name -> default. The names are keys of ``_PARAM_CHECKS``.
    needs_mnist_dir : bool
        True where the loader reads the MNIST files.
    """

    name: str
    task: str
    description: str
    loader: Callable[..., Dataset]
    params: dict[str, Any] = field(default_factory=dict)
    needs_mnist_dir: bool = False


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


def _get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name]


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
    spec = _get_spec(name)
    values = _check_params(spec, params)
    rng = np.random.default_rng(_integer("seed", seed, 0, 2**63 - 1))
    if spec.needs_mnist_dir:
        values["mnist_dir"] = mnist_dir
    return spec.loader(rng, **values)


def dataset_info(
    name: str, *, mnist_dir: str | Path | None = None, seed: int = 0, **params: Any
) -> dict[str, Any]:
    """``load_dataset(name, ...).info()``, except that MNIST reads only the IDX headers.

    Takes the same arguments and raises the same errors as :func:`load_dataset`.
    """
    spec = _get_spec(name)
    values = _check_params(spec, params)
    if not spec.needs_mnist_dir:
        return load_dataset(name, seed=seed, **params).info()
    directory = _mnist_directory(mnist_dir)
    n_train, n_test = (_idx_dims(directory / f)[0] for f in (_TRAIN_IMAGES, _TEST_IMAGES))
    return _info_dict(
        name=spec.name,
        task=spec.task,
        classes=_DIGITS,
        input_shape=(28, 28),
        feature_names=(),
        description=spec.description,
        train_size=n_train if values["train_subset"] is None else values["train_subset"],
        test_size=n_test,
    )


# --------------------------------------------------------------------------- small sets


def _dataset(name: str, **fields: Any) -> Dataset:
    """A :class:`Dataset` whose name, task and description come from ``DATASETS[name]``."""
    spec = DATASETS[name]
    return Dataset(name=name, task=spec.task, description=spec.description, **fields)


def _split_dataset(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    classes: tuple[str, ...],
    test_fraction: float,
    rng: np.random.Generator,
    feature_names: tuple[str, ...] = ("x1", "x2"),
) -> Dataset:
    """Shuffle ``X: (N, D) float32`` and ``y`` and cut off ``round(N * test_fraction)`` test rows.

    Both parts keep at least one row.
    """
    n = len(X)
    n_test = min(max(round(n * test_fraction), 1), n - 1)
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return _dataset(
        name,
        X_train=X[train],
        y_train=y[train],
        X_test=X[test],
        y_test=y[test],
        classes=classes,
        input_shape=(X.shape[1],),
        feature_names=feature_names,
    )


def _xor(rng: np.random.Generator) -> Dataset:
    """The four XOR points; train and test are the same arrays (``rng`` is unused: nothing is random)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return _dataset(
        "xor", X_train=X, y_train=y, X_test=X, y_test=y,
        classes=("0", "1"), input_shape=(2,), feature_names=("x1", "x2"),
    )


def _letters(rng: np.random.Generator) -> Dataset:
    """26 one-hot rows, row ``k`` labelled ``k``.

    Train and test are the same arrays; ``rng`` is unused, as nothing is random.
    """
    letters = tuple(chr(ord("A") + k) for k in range(26))
    X = np.eye(26, dtype=np.float32)  # (26, 26)
    y = np.arange(26, dtype=np.int64)
    return _dataset(
        "letters", X_train=X, y_train=y, X_test=X, y_test=y,
        classes=letters, input_shape=(26,), feature_names=letters,
    )


def _circle(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> Dataset:
    """Half the points in the disc r < 0.5 (label 1), half in the ring 0.7 < r < 1 (label 0).

    Labels come from where a point was drawn; ``noise`` is the std of Gaussian jitter
    added to both coordinates afterwards, so it blurs the gap.
    """
    inside = np.arange(n_samples) < n_samples // 2
    radius = np.where(inside, rng.uniform(0.0, 0.5, n_samples), rng.uniform(0.7, 1.0, n_samples))
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)  # (N, 2)
    X += noise * rng.standard_normal(X.shape)
    return _split_dataset(
        "circle", X.astype(np.float32), inside.astype(np.int64),
        classes=("outside", "inside"), test_fraction=test_fraction, rng=rng,
    )


def _gaussians(
    rng: np.random.Generator, *, n_samples: int, noise: float, n_classes: int, test_fraction: float
) -> Dataset:
    """``n_classes`` round Gaussian blobs of std ``noise``, centred evenly on the circle r = 0.6.

    Class ``k`` is centred at angle ``2 pi k / n_classes``; classes differ in size by at most one.
    """
    y = np.arange(n_samples) % n_classes
    angle = 2 * np.pi * y / n_classes
    centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (N, 2)
    X = centres + noise * rng.standard_normal((n_samples, 2))
    return _split_dataset(
        "gaussians", X.astype(np.float32), y.astype(np.int64),
        classes=tuple(str(k) for k in range(n_classes)), test_fraction=test_fraction, rng=rng,
    )


def _spiral(
    rng: np.random.Generator, *, n_samples: int, noise: float, n_classes: int, test_fraction: float
) -> Dataset:
    """``n_classes`` spiral arms from the origin to r = 1, one class per arm.

    A point at radius ``r ~ U(0, 1)`` on arm ``k`` sits at angle ``2 pi k / n_classes + 4 r``
    (each arm winds 4 radians); ``noise`` is the std of Gaussian jitter on both coordinates.
    """
    y = np.arange(n_samples) % n_classes
    radius = rng.uniform(0.0, 1.0, n_samples)
    angle = 2 * np.pi * y / n_classes + 4.0 * radius
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (N, 2)
    X += noise * rng.standard_normal(X.shape)
    return _split_dataset(
        "spiral", X.astype(np.float32), y.astype(np.int64),
        classes=tuple(str(k) for k in range(n_classes)), test_fraction=test_fraction, rng=rng,
    )


def _moons(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``) moved and scaled into [-1, 1].

    The upper moon (label 0) is ``(cos t, sin t)``, the lower (label 1) ``(1 - cos t, 0.5 - sin t)``
    for ``t ~ U(0, pi)``; both are shifted by ``(-0.5, -0.25)`` and divided by 1.5, then
    Gaussian jitter of std ``noise`` is added.
    """
    lower = np.arange(n_samples) >= n_samples // 2
    t = rng.uniform(0.0, np.pi, n_samples)
    x1 = np.where(lower, 1.0 - np.cos(t), np.cos(t))
    x2 = np.where(lower, 0.5 - np.sin(t), np.sin(t))
    X = (np.stack([x1, x2], axis=1) - [0.5, 0.25]) / 1.5  # (N, 2)
    X += noise * rng.standard_normal(X.shape)
    return _split_dataset(
        "moons", X.astype(np.float32), lower.astype(np.int64),
        classes=("upper", "lower"), test_fraction=test_fraction, rng=rng,
    )


# Weights and threshold of the spam rule; see _spam.
SPAM_WEIGHTS = {"exclamation_count": 0.5, "contains_free": 2.0, "sender_reputation": -4.0}
SPAM_THRESHOLD = -0.5


def _spam(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> Dataset:
    """Synthetic e-mails with three features and a documented labelling rule.

    Each e-mail has ``excl = min(Poisson(2), 10)`` exclamation marks, contains "free"
    with probability 0.3, and comes from a sender with reputation ``rep ~ U(0, 1)``.
    It is spam (label 1) when::

        0.5 * excl + 2 * free - 4 * rep + noise * N(0, 1) > -0.5

    The columns of X are ``(excl / 10, free, rep)``, all in [0, 1]. Without noise the
    rule is linear in X, so one sigmoid unit can learn it; with the default noise 0.25 the
    rule itself still labels about 95% of e-mails right.
    """
    excl = np.minimum(rng.poisson(2.0, n_samples), 10)
    free = (rng.random(n_samples) < 0.3).astype(np.float64)
    reputation = rng.random(n_samples)
    features = np.stack([excl, free, reputation], axis=1)  # (N, 3), unscaled
    score = features @ np.array(list(SPAM_WEIGHTS.values()))  # (N,)
    y = (score + noise * rng.standard_normal(n_samples) > SPAM_THRESHOLD).astype(np.int64)
    X = (features * [0.1, 1.0, 1.0]).astype(np.float32)  # (N, 3), all columns in [0, 1]
    return _split_dataset(
        "spam", X, y, classes=("ham", "spam"), test_fraction=test_fraction, rng=rng,
        feature_names=tuple(SPAM_WEIGHTS),
    )


def _sine(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> Dataset:
    """``y = sin(x) + noise * N(0, 1)`` for ``x ~ U(-pi, pi)``; X is ``x`` itself, in radians."""
    x = rng.uniform(-np.pi, np.pi, (n_samples, 1))
    y = np.sin(x) + noise * rng.standard_normal((n_samples, 1))  # (N, 1)
    return _split_dataset(
        "sine", x.astype(np.float32), y.astype(np.float32), classes=(),
        test_fraction=test_fraction, rng=rng, feature_names=("x",),
    )


# --------------------------------------------------------------------------- IDX and MNIST

# IDX type byte -> big-endian NumPy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_idx(path: Path) -> BinaryIO:
    """Open ``path`` for reading, through gzip when it starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _read_idx_header(f: BinaryIO, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: it starts with bytes {magic.hex()!r}, expected "
            f"0000 then a type byte in {[hex(c) for c in _IDX_DTYPES]} and the number of dimensions"
        )
    n_dims = magic[3]
    raw_dims = f.read(4 * n_dims)
    if len(raw_dims) < 4 * n_dims:
        raise ValueError(f"{path} is truncated: its header announces {n_dims} dimensions but ends early")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    return np.dtype(_IDX_DTYPES[magic[2]]), dims


def _idx_dims(path: Path) -> tuple[int, ...]:
    """The dimensions in the header of the IDX file at ``path``, without reading its data."""
    try:
        with _open_idx(path) as f:
            return _read_idx_header(f, path)[1]
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path} is not a readable gzip file ({exc}); download it again") from exc


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file, gzipped or raw.

    Layout: 2 zero bytes, a type byte (0x08 = uint8, see ``_IDX_DTYPES``), the number of
    dimensions ``d``, then ``d`` big-endian uint32 sizes, then the data, big-endian and
    row-major.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of shape ``dims`` in native byte order; read-only for uint8 files (a view of
    the file's bytes).

    Raises
    ------
    ValueError
        Naming the file, if the header is malformed, the gzip stream is broken, or the
        data is shorter or longer than the dimensions require.
    """
    path = Path(path)
    try:
        with _open_idx(path) as f:
            dtype, dims = _read_idx_header(f, path)
            data = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path} is not a readable gzip file ({exc}); download it again") from exc
    expected = math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path} holds {len(data)} bytes of data after its header, but dimensions {dims} of "
            f"{dtype.itemsize}-byte items need {expected}: the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


_TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
_TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
_TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
_TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

# The published sha256 of each original MNIST file.
MNIST_SHA256 = {
    _TRAIN_IMAGES: "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    _TRAIN_LABELS: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    _TEST_IMAGES: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    _TEST_LABELS: "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
}

_DIGITS = tuple(str(d) for d in range(10))


def _mnist_directory(mnist_dir: str | Path | None) -> Path:
    """The resolved MNIST folder, or FileNotFoundError saying what is missing and how to fix it."""
    fix = (
        "point the MLP_MNIST_DIR setting (or mnist_dir) at a folder holding "
        f"{', '.join(MNIST_SHA256)}, or fetch them there with download_mnist(dest_dir, base_url)"
    )
    if mnist_dir is None:
        raise FileNotFoundError(f"MNIST needs its data folder and none was given; {fix}")
    directory = Path(mnist_dir).expanduser().resolve()
    missing = [name for name in MNIST_SHA256 if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"MNIST files missing in {directory}: {', '.join(missing)}; {fix}")
    return directory


def _mnist_images(path: Path) -> np.ndarray:
    """IDX images ``(N, 28, 28) uint8`` -> ``(N, 784) float32`` in [0, 1]."""
    raw = read_idx(path)
    if raw.dtype != np.uint8 or raw.shape[1:] != (28, 28):
        raise ValueError(f"{path} holds {raw.dtype} {raw.shape}; MNIST images are uint8 (N, 28, 28)")
    return np.divide(raw.reshape(len(raw), 784), np.float32(255), dtype=np.float32)  # (N, 784)


def _mnist_labels(path: Path, n_images: int) -> np.ndarray:
    """IDX labels ``(N,) uint8`` -> ``(N,) int64`` in 0..9, one per image."""
    raw = read_idx(path)
    if raw.dtype != np.uint8 or raw.shape != (n_images,) or raw.max() > 9:
        raise ValueError(
            f"{path} must hold {n_images} uint8 labels in 0..9 (one per image), "
            f"got {raw.dtype} {raw.shape}"
        )
    return raw.astype(np.int64)


@functools.lru_cache(maxsize=2)
def _mnist_arrays(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)`` parsed from ``directory``, once per process.

    The arrays are read-only so that no caller can change what later callers get.
    """
    X_train = _mnist_images(directory / _TRAIN_IMAGES)
    y_train = _mnist_labels(directory / _TRAIN_LABELS, len(X_train))
    X_test = _mnist_images(directory / _TEST_IMAGES)
    y_test = _mnist_labels(directory / _TEST_LABELS, len(X_test))
    arrays = (X_train, y_train, X_test, y_test)
    for a in arrays:
        a.flags.writeable = False
    return arrays


def standardize_inputs(X: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``(X - mean) / std`` as a new float32 array of X's shape, with no second temporary:
    what ``standardize=True`` does to a dataset, for new raw inputs of a model trained on it."""
    out = np.asarray(X, dtype=np.float32) - np.float32(mean)
    out /= np.float32(std)
    return out


def _load_mnist(
    rng: np.random.Generator,
    *,
    mnist_dir: str | Path | None,
    train_subset: int | None,
    standardize: bool,
) -> Dataset:
    """MNIST digits, pixels scaled to [0, 1] and flattened to 784 columns.

    ``train_subset=k`` keeps ``k`` training images drawn by ``rng`` without replacement
    (kept in file order); the test set is always all 10000. ``standardize=True`` subtracts
    the mean and divides by the std of all pixels of the training images kept, from both
    splits. Without either option the arrays are the cached read-only arrays themselves.
    """
    X_train, y_train, X_test, y_test = _mnist_arrays(_mnist_directory(mnist_dir))
    if train_subset is not None:
        keep = np.sort(rng.choice(len(X_train), size=train_subset, replace=False))
        X_train, y_train = X_train[keep], y_train[keep]
    if standardize:
        mean = X_train.mean(dtype=np.float64)
        # E[x^2] - E[x]^2 in float64, without X.std()'s float64 copy of X.
        mean_sq = np.einsum("ij,ij->", X_train, X_train, dtype=np.float64) / X_train.size
        std = math.sqrt(mean_sq - mean * mean)
        X_train, X_test = (standardize_inputs(X, mean, std) for X in (X_train, X_test))
    return _dataset(
        "mnist", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        classes=_DIGITS, input_shape=(28, 28), standardization=(mean, std) if standardize else None,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_mnist(dest_dir: str | Path, base_url: str, *, timeout: float = 30) -> Path:
    """Download the four MNIST files from ``base_url`` into ``dest_dir`` and verify them.

    Files already in ``dest_dir`` with the right sha256 are skipped. Each download is
    written to a temporary file in ``dest_dir``, checked against :data:`MNIST_SHA256` and
    only then renamed into place, so a failed or bad download leaves no file behind.

    Parameters
    ----------
    dest_dir : str or Path
        Created if missing.
    base_url : str
        ``http(s)://`` folder URL, e.g. ``"https://ossci-datasets.s3.amazonaws.com/mnist/"``.
    timeout : float
        Seconds to wait on the server for each connection and read.

    Returns
    -------
    Path
        ``dest_dir``, ready for ``load_dataset("mnist", mnist_dir=...)``.

    Raises
    ------
    ValueError
        If ``base_url`` is not http(s), ``timeout`` is not positive, or a file's sha256 does
        not match (the bad download is deleted).
    OSError
        If a file cannot be fetched or written; the message names the URL.
    """
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    for name, expected in MNIST_SHA256.items():
        target = dest / name
        if target.is_file() and _sha256(target) == expected:
            continue
        url = base_url.rstrip("/") + "/" + name
        fd, tmp_name = tempfile.mkstemp(dir=dest, prefix=f".{name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise ValueError(
                    f"sha256 of {url} is {digest.hexdigest()}, expected {expected}: the server sent "
                    "a different or corrupted file; the download was deleted, try another base_url"
                )
            os.replace(tmp, target)
        except (urllib.error.URLError, TimeoutError) as exc:
            raise OSError(f"could not download {url}: {exc}; check base_url and the network") from exc
        finally:
            tmp.unlink(missing_ok=True)
    return dest


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "xor", "binary",
            "The four corners of the unit square, labelled 1 when exactly one input is 1. "
            "No straight line separates them; a 2-4-1 net can. Train and test are the same 4 points.",
            _xor,
        ),
        DatasetSpec(
            "circle", "binary",
            "Points in a disc (inside) surrounded by a ring (outside). A curved boundary is needed, "
            "so at least one hidden layer.",
            _circle, {"n_samples": 400, "noise": 0.05, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "gaussians", "multiclass",
            "Round clouds of points, one per class, centred around a circle. "
            "More noise makes the clouds overlap.",
            _gaussians, {"n_samples": 400, "noise": 0.2, "n_classes": 3, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "spiral", "multiclass",
            "Spiral arms winding out from the centre, one class per arm. "
            "Hard for small nets: it needs several hidden units and many epochs.",
            _spiral, {"n_samples": 600, "noise": 0.05, "n_classes": 3, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "moons", "binary",
            "Two interleaving half circles. A small hidden layer learns the curved boundary.",
            _moons, {"n_samples": 400, "noise": 0.1, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "letters", "multiclass",
            "Each of the 26 letters as a one-hot vector that must be mapped back to its own class "
            "(the 26-64-26 exercise). Train and test are the same 26 rows.",
            _letters,
        ),
        DatasetSpec(
            "spam", "binary",
            "Synthetic e-mails: exclamation marks (count / 10), whether 'free' appears, and sender "
            "reputation (0-1). Spam when 0.5*exclamations + 2*free - 4*reputation + noise > -0.5.",
            _spam, {"n_samples": 1000, "noise": 0.25, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "sine", "regression",
            "Predict y = sin(x) + noise for x between -pi and pi: a regression task with one input "
            "and one output.",
            _sine, {"n_samples": 400, "noise": 0.1, "test_fraction": 0.2},
        ),
        DatasetSpec(
            "mnist", "multiclass",
            "70000 handwritten digits, 28x28 grey pixels scaled to [0, 1]: 60000 to train on and "
            "10000 to test. A 784-100-10 net can pass 97% test accuracy.",
            _load_mnist, {"train_subset": None, "standardize": False}, needs_mnist_dir=True,
        ),
    )
}
