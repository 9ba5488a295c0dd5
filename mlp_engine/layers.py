"""Layers: a dense (fully connected) layer with its activation, and dropout.

Layer protocol (as in ConvNetJS and micrograd):
    ``forward(X, training) -> out`` caches what backward needs when training;
    ``backward(dout) -> dX`` fills ``grads``; ``params()`` and ``grads`` are
    dicts keyed by the same names (``"dense0.W"``).

In training mode the dense layer writes into buffers it keeps between batches
(no allocation per step); in eval mode it returns fresh arrays the caller owns.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation

#: ``skip_zero_inputs`` multiplies the batch's non-zero columns only when they are at most
#: this fraction of all: the gather and scatter it costs eat the saving above that.
SPARSE_MAX_FRACTION = 0.8


class Dense:
    """z = X W + b, a = activation(z).

    Shape:
        X: (N, D_in) -> a: (N, D_out); W: (D_in, D_out); b: (D_out,)

    ``skip_zero_inputs``: in training, multiply only the input columns that are non-zero
    somewhere in the batch (X[:, c] W[c, :], and dW[c, :] = X[:, c]ᵀ dz, the other rows of
    dW exactly 0). The same numbers for fewer FLOPs when inputs are sparse: an MNIST batch
    of 64 digits inks about 490 of the 784 pixels. For the first layer (it computes no dX).
    The columns are taken in two parts: the leading run of non-zero columns, [0, k0), used
    in place (views of X, W and dW), and the later non-zero columns (the tail), gathered
    into scratch buffers. With inputs ordered by how often they are non-zero (as
    :func:`~mlp_engine.live_inputs.input_order` orders them), an MNIST batch's run is
    about 400 columns long and its tail about 90, so little is copied.
    Measured on one core (a tensor-parallel shard, 717x256): 15-20% off the layer's forward
    and backward with the whole set gathered, a further ~7% with the run in place. On two
    BLAS threads the full matmul is faster, so training turns skipping on only where the
    layer runs on one thread (every tensor-parallel process; a serial run on one thread).
    """

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str):
        self.name = name
        self.W = W
        self.b = b
        self.activation = get_activation(activation)
        self.grads = {f"{name}.W": np.zeros_like(W), f"{name}.b": np.zeros_like(b)}
        self.dW, self.db = self.grads.values()
        self.skip_zero_inputs = False
        self._buffers: dict[str, np.ndarray] = {}
        self._X = self._z = self._a = self._skip = self._X_tail = None

    def params(self) -> dict[str, np.ndarray]:
        return {f"{self.name}.W": self.W, f"{self.name}.b": self.b}

    def _buffer(self, key: str, rows: int, cols: int) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] != rows:
            buf = self._buffers[key] = np.empty((rows, cols), dtype=self.W.dtype)
        return buf

    def _scratch(self, key: str, rows: int, cols: int) -> np.ndarray:
        """A (rows, cols) array in a buffer kept at its largest size: the column count of a
        sparse batch changes every step, and a fresh array each step would be slow."""
        buf = self._buffers.get(key)
        if buf is None or buf.size < rows * cols:
            buf = self._buffers[key] = np.empty(rows * cols, dtype=self.W.dtype)
        return buf[: rows * cols].reshape(rows, cols)

    def pre_activation(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """X: (N, D_in) -> z: (N, D_out)."""
        z = np.matmul(X, self.W, out=out)
        z += self.b  # (N, D_out) + (D_out,) broadcasts over rows
        return z

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
        if not training:
            z = self.pre_activation(X)
            return self.activation.forward(z, np.empty_like(z))
        n, width = X.shape[0], self.W.shape[1]
        z = self._buffer("z", n, width)
        self._skip = self._nonzero_columns(X) if self.skip_zero_inputs else None
        if self._skip is None:
            self.pre_activation(X, z)
        else:
            self._X_tail = self._pre_activation_on(X, *self._skip, z)
        a = self.activation.forward(z, self._buffer("a", n, width))
        self._X, self._z, self._a = X, z, a
        return a

    def backward(self, da: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """da: (N, D_out) -> dX: (N, D_in); fills grads. May overwrite ``da``."""
        dz = self.activation.backward(self._z, self._a, da)
        if self._skip is not None:
            k0, tail = self._skip
            np.matmul(self._X[:, :k0].T, dz, out=self.dW[:k0])
            self.dW[k0:] = 0.0
            self.dW[tail] = np.matmul(self._X_tail.T, dz, out=self._scratch("dW_tail", len(tail), dz.shape[1]))
        else:
            np.matmul(self._X.T, dz, out=self.dW)  # (D_in, N) @ (N, D_out)
        np.add.reduce(dz, axis=0, out=self.db)  # np.sum's wrapper costs as much as the sum
        if not need_input_grad:  # the first layer: nobody needs dL/dX
            return None
        dX = self._buffer("dX", dz.shape[0], self.W.shape[0])
        return np.matmul(dz, self.W.T, out=dX)  # (N, D_out) @ (D_out, D_in)


class Dropout:
    """Inverted dropout: at train time zero each unit with probability ``rate`` and
    scale the survivors by 1/(1-rate), so eval needs no rescaling."""

    def __init__(self, rate: float, rng: np.random.Generator):
        self.rate = rate
        self.rng = rng
        self.grads: dict[str, np.ndarray] = {}
        self._mask = None

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return X
        keep = self.rng.random(X.shape, dtype=X.dtype) >= self.rate
        self._mask = keep * X.dtype.type(1.0 / (1.0 - self.rate))
        return X * self._mask  # a new array: the dense layer's backward still needs X

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        if self._mask is None:
            return dout
        return np.multiply(dout, self._mask, out=dout)
