"""Training on the live inputs only: features that are non-zero in some training example.

MNIST has 67 border pixels (of 784) that no training digit ever touches. The first-layer
weights of such an input get an exactly zero gradient at every step,

    dL/dW1[i, :] = Σ_n x_ni · dz1_n = 0      (x_ni = 0 for every example n),

so every optimizer here leaves them where initialisation put them (Adam's m and v stay 0,
and its step is 0 / (√0 + ε) = 0), and they add 0 to every forward pass. Training can drop
those rows from the two big first-layer matmuls and from the optimizer's update: 8.5% of
an MNIST step's work, for the same result (up to float rounding: the matmuls sum fewer
zeros, in a different order).

It is exact only while nothing else moves those weights or feeds those inputs: no L2
penalty or weight decay (either would shrink them) and no augmentation (a shifted digit
puts ink on the border). :func:`skip_is_exact` says whether a setup qualifies. The model
itself always keeps every row: a drawing or a test image may well have ink on the border.
"""

from __future__ import annotations

import numpy as np

from .model import MLP
from .optimizers import Optimizer


def live_features(X: np.ndarray) -> np.ndarray | None:
    """Indices of the columns of X: (N, D) that are non-zero in some row, the most often
    non-zero first (ties in column order), or None when all D are (or none is: nothing to
    compact then). That order puts the columns a batch uses in a long leading run, which
    :class:`~mlp_engine.layers.Dense` multiplies in place (``skip_zero_inputs``)."""
    counts = np.count_nonzero(X, axis=0)
    live = np.flatnonzero(counts)
    if not 0 < len(live) < X.shape[1]:
        return None
    return live[np.argsort(-counts[live], kind="stable")]


def skip_is_exact(l2: float, weight_decay: float, augment: dict | None) -> bool:
    """Whether dead inputs' weights provably never move (see the module docstring)."""
    return l2 == 0 and weight_decay == 0 and augment is None


class LiveFirstLayer:
    """While inside ``with``, the model's first dense layer holds only the rows of the
    ``live`` inputs (W: (len(live), H)), and so do its gradient and the optimizer's state
    for it. :meth:`sync` puts the trained rows back into the full arrays and those back into
    the model, for whoever reads it between epochs (statistics, checkpoints, validation);
    :meth:`resume` returns to the compact rows. Leaving ``with`` syncs.

    Feed the model X[:, live] while compact.
    """

    def __init__(self, model: MLP, optimizer: Optimizer, live: np.ndarray):
        self.layer = model.dense[0]
        self.optimizer = optimizer
        self.live = live
        self.name = f"{self.layer.name}.W"
        self.compact = False

    def __enter__(self) -> "LiveFirstLayer":
        layer, live = self.layer, self.live
        self.full_W, self.full_dW = layer.W, layer.dW
        self.full_state = self.optimizer.state.get(self.name)
        self.W = layer.W[live]  # fancy indexing: contiguous copies
        self.dW = np.zeros_like(self.W)
        self.state = None if self.full_state is None else {k: a[live] for k, a in self.full_state.items()}
        self.resume()
        return self

    def __exit__(self, *exc) -> None:
        self.sync()

    def resume(self) -> None:
        """Put the compact rows (and their optimizer state) in the model."""
        if self.compact:
            return
        self._show(self.W, self.dW, self.state)
        self.compact = True

    def sync(self) -> None:
        """Copy the compact rows into the full arrays and put those in the model."""
        if not self.compact:
            return
        live = self.live
        self.state = self.optimizer.state.get(self.name)  # created at the first step if it was not there
        self.full_W[live] = self.W
        self.full_dW.fill(0.0)  # the dead rows' gradient: exactly zero
        self.full_dW[live] = self.dW
        if self.state is not None:
            self.full_state = self.full_state or {k: np.zeros_like(self.full_W) for k in self.state}
            for k, a in self.state.items():
                self.full_state[k][live] = a
        self._show(self.full_W, self.full_dW, self.full_state)
        self.compact = False

    def _show(self, W: np.ndarray, dW: np.ndarray, state: dict | None) -> None:
        layer = self.layer
        layer.W, layer.dW = W, dW
        layer.grads[self.name] = dW
        if state is None:
            self.optimizer.state.pop(self.name, None)
        else:
            self.optimizer.state[self.name] = state
