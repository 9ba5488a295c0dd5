"""The sparse first layer: a :class:`~mlp_engine.layers.Dense` that, in training, multiplies
only the inputs that are non-zero somewhere in the batch.

    z = X[:, c] W[c, :] + b,    dW[c, :] = X[:, c]ᵀ dz,    the other rows of dW exactly 0

(c: the batch's non-zero columns). The same numbers for fewer FLOPs when inputs are sparse:
an MNIST batch of 64 digits inks about 490 of the 784 pixels. It computes no dX, so it
serves as the first layer only.

The columns are taken in two parts: the leading run of non-zero columns, [0, k0), used in
place (views of X, W and dW), and the later non-zero columns (the tail), gathered into
scratch buffers. With inputs ordered by how often they are non-zero (as
:func:`~mlp_engine.engines.live_inputs.input_order` orders them), an MNIST batch's run is
about 400 columns long and its tail about 90, so little is copied.

Measured on one core (a tensor-parallel shard, 717x256): 15-20% off the layer's forward and
backward with the whole set gathered, a further ~7% with the run in place. On two BLAS
threads the full matmul is faster, so the engines use this layer only where the first layer
runs on one thread (every tensor-parallel process; a serial run on one thread).
"""

from __future__ import annotations

import numpy as np

from ..layers import Dense

#: The batch's non-zero columns are multiplied alone only when they are at most this
#: fraction of all: the gather and scatter it costs eat the saving above that.
SPARSE_MAX_FRACTION = 0.8


class SparseInputDense(Dense):
    """A first dense layer that skips, in training, the batch's all-zero inputs (see the
    module docstring); in eval mode it is a plain :class:`Dense`.

    Shape:
        X: (N, D_in) -> a: (N, D_out); W: (D_in, D_out); b: (D_out,)
    """

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str):
        super().__init__(name, W, b, activation)
        self._skip = self._X_tail = None

    @classmethod
    def over(cls, layer: Dense) -> "SparseInputDense":
        """A sparse layer that trains ``layer``'s own arrays (W, b and their gradients)."""
        sparse = cls(layer.name, layer.W, layer.b, layer.activation.name)
        sparse.grads, sparse.dW, sparse.db = layer.grads, layer.dW, layer.db
        return sparse

    def _scratch(self, key: str, rows: int, cols: int) -> np.ndarray:
        """A (rows, cols) array in a buffer kept at its largest size: the column count of a
        sparse batch changes every step, and a fresh array each step would be slow."""
        buf = self._buffers.get(key)
        if buf is None or buf.size < rows * cols:
            buf = self._buffers[key] = np.empty(rows * cols, dtype=self.W.dtype)
        return buf[: rows * cols].reshape(rows, cols)

    def _nonzero_columns(self, X: np.ndarray) -> tuple[int, np.ndarray] | None:
        """(k0, tail): X's columns [0, k0) are non-zero in some row and column k0 is zero
        in every row; tail (t,) holds the later columns that are non-zero somewhere. None
        when so many columns are non-zero that skipping the rest does not pay."""
        nonzero = X.any(axis=0)
        if np.count_nonzero(nonzero) > SPARSE_MAX_FRACTION * X.shape[1]:
            return None
        k0 = int(np.argmin(nonzero))  # the first all-zero column: there is one
        return k0, k0 + np.flatnonzero(nonzero[k0:])

    def _pre_activation_on(self, X: np.ndarray, k0: int, tail: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = X[:, :k0] W[:k0] + X[:, tail] W[tail] + b; returns X[:, tail]: (N, t),
        which the backward needs."""
        n, width = X.shape[0], self.W.shape[1]
        # mode="clip" lets take() write straight into the buffer (no temporary).
        X_tail = np.take(X, tail, axis=1, out=self._scratch("X_tail", n, len(tail)), mode="clip")
        W_tail = np.take(self.W, tail, axis=0, out=self._scratch("W_tail", len(tail), width), mode="clip")
        np.matmul(X[:, :k0], self.W[:k0], out=out)
        out += np.matmul(X_tail, W_tail, out=self._buffer("z_tail", n, width))
        out += self.b
        return X_tail

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        self._skip = self._nonzero_columns(X) if training else None
        if self._skip is None:
            return super().forward(X, training)
        n, width = X.shape[0], self.W.shape[1]
        z = self._buffer("z", n, width)
        self._X_tail = self._pre_activation_on(X, *self._skip, z)
        a = self.activation.forward(z, self._buffer("a", n, width))
        self._X, self._z, self._a = X, z, a
        return a

    def backward(self, da: np.ndarray, need_input_grad: bool = False) -> np.ndarray | None:
        """da: (N, D_out); fills grads. May overwrite ``da``."""
        if self._skip is None or need_input_grad:  # the full product gives dW (and dX) too
            return super().backward(da, need_input_grad)
        dz = self.activation.backward(self._z, self._a, da)
        k0, tail = self._skip
        np.matmul(self._X[:, :k0].T, dz, out=self.dW[:k0])
        self.dW[k0:] = 0.0
        self.dW[tail] = np.matmul(self._X_tail.T, dz, out=self._scratch("dW_tail", len(tail), dz.shape[1]))
        np.add.reduce(dz, axis=0, out=self.db)
        return None
