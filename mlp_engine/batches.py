"""The training data in batches: one epoch's shuffled (and augmented) mini-batches, and
the seeded validation hold-out."""

from __future__ import annotations

import numpy as np

from .augmentation import augment_batch
from .train_config import AugmentConfig

#: Third seed word of the augmentation generator (the batch order uses [seed, epoch]).
AUGMENT_STREAM = 1


class EpochBatches:
    """One epoch's mini-batches, the same wherever they are made: the shuffled order comes
    from (seed, epoch), and so do augmentation's random transforms (drawn batch by batch).
    That is what lets tensor-parallel processes make every batch themselves.

    X: (N, D) features; y: (N,) labels or (N, D_out) targets. pixels: with augmentation,
    the order of the batches' columns (a permutation of X's, which are row-major images).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int, epoch: int,
                 augment: AugmentConfig | None = None, image_shape: tuple[int, int] | None = None,
                 image_background: float = 0.0, pixels: np.ndarray | None = None):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.image_background, self.pixels = image_background, pixels
        self.order = np.random.default_rng([seed, epoch]).permutation(len(X))
        self.augment, self.image_shape = augment, image_shape
        if augment is not None:
            # Its own stream, so the shuffling is the same with and without augmentation.
            self.aug_rng = np.random.default_rng([seed, epoch, AUGMENT_STREAM])
            self._raw = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)
        self._x = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def _indices(self, b: int) -> np.ndarray:
        return self.order[b * self.batch_size : (b + 1) * self.batch_size]

    def labels(self, b: int) -> np.ndarray:
        """Batch ``b``'s targets: (n,) labels or (n, D_out)."""
        return self.y[self._indices(b)]

    def batch(self, b: int, rows: slice = slice(None), out: np.ndarray | None = None) -> np.ndarray:
        """Batch ``b``'s inputs xb: (n, D), ``out[:n]``, by default a buffer that the
        next call overwrites (its targets: :meth:`labels`). Call in order b = 0, 1, ...:
        augmentation draws from one generator. ``rows``: make only these rows of xb (a
        tensor-parallel process's share of the augmentation work); the others are left
        as they are."""
        idx = self._indices(b)
        n = len(idx)
        out = (self._x if out is None else out)[:n]
        # mode="clip" lets take() write straight into the buffer (no temporary).
        if self.augment is None:
            np.take(self.X, idx[rows], axis=0, out=out[rows], mode="clip")
            return out
        raw = self._raw[:n]
        np.take(self.X, idx[rows], axis=0, out=raw[rows], mode="clip")
        augment_batch(raw, self.image_shape, self.aug_rng, max_shift=self.augment.max_shift,
                      max_rotation_deg=self.augment.max_rotation, out=out,
                      background=self.image_background, rows=rows, pixels=self.pixels)
        return out


def split_validation(X: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Seeded random hold-out of ``fraction`` of the rows: (X_train, y_train, X_val, y_val)."""
    order = np.random.default_rng([seed, 2**31]).permutation(len(X))
    n_val = validation_size(len(X), fraction)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def validation_size(n: int, fraction: float) -> int:
    """Rows a ``fraction`` hold-out of ``n`` takes (at least one); raises ValueError when
    none would be left to train on."""
    n_val = max(1, int(round(n * fraction)))
    if n_val >= n:
        raise ValueError(f"validation_split={fraction} of {n} training examples leaves none to train on: lower it")
    return n_val
