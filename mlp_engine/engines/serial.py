"""The serial engine: each training step in this process, on the BLAS threads NumPy has."""

from __future__ import annotations

from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info

from ..batches import EpochBatches
from ..model import MLP
from ..optimizers import Optimizer
from .sparse_input import SparseInputDense


def blas_threads() -> int:
    """How many threads the BLAS behind NumPy's matmul uses now."""
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most max_norm.
    Returns the norm before clipping."""
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


class SerialStep:
    """One training step in this process: forward and backward, gradient clipping, the
    optimizer update. :class:`~mlp_engine.engines.parallel.TensorParallel` does the same on
    several. ``with SerialStep(...) as engine:`` at the start of each epoch ``batches =
    engine.begin_epoch(epoch)`` (``batches_for(epoch)``), then for each of its batches, in
    order, ``loss, logits = engine.step(batches, b, batches.labels(b), lr)``; after it
    ``engine.end_epoch()``.

    On one BLAS thread the first layer multiplies only each batch's non-zero inputs: during
    each epoch the model's first layer is a :class:`SparseInputDense` over its own arrays.
    Measured on MNIST's 784-512-10 first layer, 17% off its forward and backward on one
    thread (11% off a plain-recipe epoch), 23% slower on two (where the full matmul splits
    better over the threads)."""

    def __init__(self, model: MLP, optimizer: Optimizer, *, l2: float, clip_norm: float | None,
                 batches_for: Callable[[int], EpochBatches]):
        self.model, self.optimizer, self.l2, self.clip_norm = model, optimizer, l2, clip_norm
        self.batches_for = batches_for
        self._first = None  # during an epoch on one thread: the model's own first layer

    def __enter__(self) -> "SerialStep":
        # Taken here, not in __init__: a wrapper may have swapped the model's arrays since.
        self.params, self.grads = self.model.params(), self.model.grads()
        self.sparse_first_layer = blas_threads() == 1
        return self

    def __exit__(self, *exc) -> None:
        self.end_epoch()

    def begin_epoch(self, epoch: int) -> EpochBatches:
        """``epoch``'s batches; on one thread, the sparse first layer in the model."""
        if self.sparse_first_layer:
            model = self.model
            self._first = model.dense[0]
            model.layers[0] = model.dense[0] = SparseInputDense.over(self._first)
        return self.batches_for(epoch)

    def end_epoch(self) -> None:
        """The model's own first layer back (it holds what the sparse one trained)."""
        if self._first is not None:
            self.model.layers[0] = self.model.dense[0] = self._first
            self._first = None

    def step(self, batches: EpochBatches, b: int, yb: np.ndarray, lr: float) -> tuple[float, np.ndarray]:
        """One step on batch ``b`` of ``batches`` (its targets ``yb``); (loss, logits (n, C))."""
        loss, logits = self.model.forward_backward(batches.batch(b), yb, self.l2)
        if self.clip_norm is not None:
            clip_by_global_norm(self.grads, self.clip_norm)
        self.optimizer.step(self.params, self.grads, lr)
        return loss, logits
