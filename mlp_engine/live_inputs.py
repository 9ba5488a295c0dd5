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
    """Indices of the columns of X: (N, D) that are non-zero in some row, or None when
    all D are (or none is: nothing to compact then)."""
    live = np.flatnonzero(np.any(X, axis=0))
    return live if 0 < len(live) < X.shape[1] else None


def skip_is_exact(l2: float, weight_decay: float, augment: dict | None) -> bool:
    """Whether dead inputs' weights provably never move (see the module docstring)."""
    return l2 == 0 and weight_decay == 0 and augment is None


class LiveFirstLayer:
    """While inside ``with``, the model's first dense layer holds only the rows of the
    ``live`` inputs (W: (len(live), H)), and so do its gradient and the optimizer's state
    for it; on exit the trained rows go back into the full arrays, which the model, the
    checkpoints and every reader outside the training loop see.

    Feed the model X[:, live] while inside.
    """

    def __init__(self, model: MLP, optimizer: Optimizer, live: np.ndarray):
        self.layer = model.dense[0]
        self.optimizer = optimizer
        self.live = live
        self.name = f"{self.layer.name}.W"

    def __enter__(self) -> "LiveFirstLayer":
        layer, live = self.layer, self.live
        self.W, self.dW = layer.W, layer.dW
        self.state = self.optimizer.state.get(self.name)
        layer.W = self.W[live]  # fancy indexing: contiguous copies
        layer.dW = layer.grads[self.name] = np.zeros_like(layer.W)
        if self.state is not None:
            self.optimizer.state[self.name] = {k: a[live] for k, a in self.state.items()}
        return self

    def __exit__(self, *exc) -> None:
        layer, live = self.layer, self.live
        self.W[live] = layer.W
        self.dW.fill(0.0)  # the dead rows' gradient: exactly zero
        self.dW[live] = layer.dW
        layer.W, layer.dW = self.W, self.dW
        layer.grads[self.name] = self.dW
        compact = self.optimizer.state.get(self.name)
        if compact is not None:
            full = self.state or {k: np.zeros_like(self.W) for k in compact}
            for k, a in compact.items():
                full[k][live] = a
            self.optimizer.state[self.name] = full
