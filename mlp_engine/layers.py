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


class Dense:
    """z = X W + b, a = activation(z).

    Shape:
        X: (N, D_in) -> a: (N, D_out); W: (D_in, D_out); b: (D_out,)

    Backward, from da = dL/da: dz = da ⊙ activation'(z), dW = Xᵀ dz, db = Σ_n dz,
    dX = dz Wᵀ.
    """

    def __init__(self, name: str, W: np.ndarray, b: np.ndarray, activation: str):
        self.name = name
        self.W = W
        self.b = b
        self.activation = get_activation(activation)
        self.grads = {f"{name}.W": np.zeros_like(W), f"{name}.b": np.zeros_like(b)}
        self.dW, self.db = self.grads.values()
        self._buffers: dict[str, np.ndarray] = {}
        self._X = self._z = self._a = None

    def params(self) -> dict[str, np.ndarray]:
        return {f"{self.name}.W": self.W, f"{self.name}.b": self.b}

    def _buffer(self, key: str, rows: int, cols: int) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] != rows:
            buf = self._buffers[key] = np.empty((rows, cols), dtype=self.W.dtype)
        return buf

    def pre_activation(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """X: (N, D_in) -> z: (N, D_out)."""
        z = np.matmul(X, self.W, out=out)
        z += self.b  # (N, D_out) + (D_out,) broadcasts over rows
        return z

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        if not training:
            z = self.pre_activation(X)
            return self.activation.forward(z, np.empty_like(z))
        n, width = X.shape[0], self.W.shape[1]
        z = self.pre_activation(X, self._buffer("z", n, width))
        a = self.activation.forward(z, self._buffer("a", n, width))
        self._X, self._z, self._a = X, z, a
        return a

    def backward(self, da: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """da: (N, D_out) -> dX: (N, D_in); fills grads. May overwrite ``da``."""
        dz = self.activation.backward(self._z, self._a, da)
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
