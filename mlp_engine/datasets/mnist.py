"""MNIST: the four IDX files, checked by sha256, parsed once per folder and process.

:func:`load_mnist` builds the dataset's arrays from a folder holding the files;
:func:`mnist_info` reports the same metadata from the IDX headers alone;
:func:`download_mnist` fetches the files into a folder, verifying each one.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import DatasetFields, standardize_inputs
from .idx import idx_dims, read_idx

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
_IMAGE_SHAPE = (28, 28)


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
    if raw.dtype != np.uint8 or raw.shape[1:] != _IMAGE_SHAPE:
        raise ValueError(f"{path} holds {raw.dtype} {raw.shape}; MNIST images are uint8 (N, 28, 28)")
    return np.divide(raw.reshape(len(raw), math.prod(_IMAGE_SHAPE)), np.float32(255), dtype=np.float32)


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


def _training_split(
    directory: Path, rng: np.random.Generator, train_subset: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(X_train, y_train)``: all 60000, or ``train_subset`` rows drawn by ``rng`` without
    replacement, kept in file order."""
    X_train, y_train, _, _ = _mnist_arrays(directory)
    if train_subset is None:
        return X_train, y_train
    keep = np.sort(rng.choice(len(X_train), size=train_subset, replace=False))
    return X_train[keep], y_train[keep]


def _pixel_statistics(X: np.ndarray) -> tuple[float, float]:
    """Mean and std of all entries of ``X: (N, 784) float32``, in float64."""
    mean = X.mean(dtype=np.float64)
    # E[x^2] - E[x]^2 in float64, without X.std()'s float64 copy of X.
    mean_sq = np.einsum("ij,ij->", X, X, dtype=np.float64) / X.size
    return float(mean), math.sqrt(mean_sq - mean * mean)


def load_mnist(
    rng: np.random.Generator,
    *,
    mnist_dir: str | Path | None,
    train_subset: int | None,
    standardize: bool,
) -> DatasetFields:
    """MNIST digits, pixels scaled to [0, 1] and flattened to 784 columns.

    ``train_subset=k`` keeps ``k`` training images drawn by ``rng`` without replacement
    (kept in file order); the test set is always all 10000. ``standardize=True`` subtracts
    the mean and divides by the std of all pixels of the training images kept, from both
    splits. Without either option the arrays are the cached read-only arrays themselves.
    """
    directory = _mnist_directory(mnist_dir)
    X_train, y_train = _training_split(directory, rng, train_subset)
    _, _, X_test, y_test = _mnist_arrays(directory)
    standardization = _pixel_statistics(X_train) if standardize else None
    if standardization is not None:
        X_train, X_test = (standardize_inputs(X, *standardization) for X in (X_train, X_test))
    return dict(
        X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        classes=_DIGITS, input_shape=_IMAGE_SHAPE, standardization=standardization,
    )


def mnist_info(
    rng: np.random.Generator,
    *,
    mnist_dir: str | Path | None,
    train_subset: int | None,
    standardize: bool,
) -> dict[str, Any]:
    """What :func:`load_mnist` with the same arguments gives, but sizes for the arrays:
    ``{"classes", "input_shape", "feature_names", "train_size", "test_size", "standardization"}``.

    Reads only the IDX headers, unless ``standardize=True``: the mean and std need the
    pixels of the training images kept.
    """
    directory = _mnist_directory(mnist_dir)
    standardization = None
    if standardize:
        standardization = _pixel_statistics(_training_split(directory, rng, train_subset)[0])
    n_train, n_test = (idx_dims(directory / name)[0] for name in (_TRAIN_IMAGES, _TEST_IMAGES))
    return {
        "classes": _DIGITS,
        "input_shape": _IMAGE_SHAPE,
        "feature_names": (),
        "train_size": n_train if train_subset is None else train_subset,
        "test_size": n_test,
        "standardization": standardization,
    }


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
