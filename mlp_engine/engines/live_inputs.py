"""Training on the live inputs only, most often non-zero first.

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

Whether or not dead inputs are dropped, training orders the inputs most often non-zero
first. That is always exact (a permutation of the rows of W1 and of the columns of X), and
it puts the pixels a batch inks in a long leading run, which the first layer multiplies in
place when it skips a batch's zero inputs
(:class:`~mlp_engine.engines.sparse_input.SparseInputDense`).

:class:`LiveInputs` wraps an engine (serial or tensor-parallel) so that it trains that way;
:func:`batch_inputs` says where its batches come from.
"""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np

from ..batches import EpochBatches
from ..model import MLP
from ..optimizers import Optimizer
from ..train_config import AugmentConfig


def input_order(X: np.ndarray, drop_dead: bool) -> np.ndarray | None:
    """The inputs the first layer trains on, in the order it sees them: indices of the
    columns of X: (N, D), the most often non-zero first (ties in column order), without
    the columns that are zero in every row when ``drop_dead``. None when that is all D
    columns in their own order (or no column at all): nothing to reorder or drop."""
    counts = np.count_nonzero(X, axis=0)
    order = np.argsort(-counts, kind="stable")
    if drop_dead:
        order = order[counts[order] > 0]
    if len(order) == 0 or np.array_equal(order, np.arange(X.shape[1])):
        return None
    return order


def skip_is_exact(l2: float, weight_decay: float, augment: AugmentConfig | None) -> bool:
    """Whether dead inputs' weights provably never move (see the module docstring)."""
    return l2 == 0 and weight_decay == 0 and augment is None


def batch_inputs(X: np.ndarray, order: np.ndarray | None,
                 augment: AugmentConfig | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(X_batches, pixels): the training batches are made from X_batches' rows, and with
    augmentation, which needs whole images, their columns are put in the order ``pixels``
    (for :class:`~mlp_engine.batches.EpochBatches`). X: (N, D); ``order`` from
    :func:`input_order`. Without augmentation, X_batches is X[:, order], copied once."""
    if order is None:
        return X, None
    if augment is None:
        return np.ascontiguousarray(X[:, order]), None
    return X, order


class LiveFirstLayer:
    """While inside ``with``, the model's first dense layer holds only the rows of the
    ``live`` inputs, in their order (W: (len(live), H); ``live`` from :func:`input_order`),
    and so do its gradient and the optimizer's state for it. :meth:`sync` puts the trained
    rows back into the full arrays and those back into the model, for whoever reads it
    between epochs (statistics, checkpoints, validation); :meth:`resume` returns to the
    compact rows. Leaving ``with`` syncs.

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


class LiveInputs:
    """Wraps an engine (:class:`~mlp_engine.engines.serial.SerialStep` or
    :class:`~mlp_engine.engines.parallel.TensorParallel`, with the same interface) so that it
    trains the first layer's rows of the inputs in ``order`` only (from :func:`input_order`;
    the engine's batches must hold those columns in that order: :func:`batch_inputs`).
    Between epochs, and after ``with``, the model holds every row."""

    def __init__(self, engine, model: MLP, optimizer: Optimizer, order: np.ndarray):
        self.engine, self.model, self.optimizer, self.order = engine, model, optimizer, order

    def __enter__(self) -> "LiveInputs":
        with ExitStack() as stack:  # leaves the model whole if the engine fails to start
            self.live = stack.enter_context(LiveFirstLayer(self.model, self.optimizer, self.order))
            stack.enter_context(self.engine)  # after: the engine trains the compact rows
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc) -> bool:
        return self._stack.__exit__(*exc)

    def begin_epoch(self, epoch: int) -> EpochBatches:
        self.live.resume()
        return self.engine.begin_epoch(epoch)

    def step(self, batches: EpochBatches, b: int, yb: np.ndarray, lr: float) -> tuple[float, np.ndarray]:
        return self.engine.step(batches, b, yb, lr)

    def end_epoch(self) -> None:
        self.engine.end_epoch()  # first: the engine's results into the compact rows
        self.live.sync()  # then those into the full rows
