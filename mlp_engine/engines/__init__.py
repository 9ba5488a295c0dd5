"""The speed wing: the engines that take the training steps, and the tricks that make
them fast without changing what they compute.

- :mod:`.serial`: each step in this process (:class:`SerialStep`);
- :mod:`.parallel`: each step split over several processes, one per core
  (:class:`TensorParallel`);
- :mod:`.live_inputs`: the first layer trains on the inputs most often non-zero first,
  without those that are zero in every example where that is exact (:class:`LiveInputs`);
- :mod:`.sparse_input`: a first layer that multiplies only a batch's non-zero inputs
  (:class:`SparseInputDense`).

The Trainer asks :func:`make_engine` for an engine and drives it the same way whichever
it is::

    with engine:
        for epoch in ...:
            batches = engine.begin_epoch(epoch)
            for b in range(len(batches)):
                loss, logits = engine.step(batches, b, batches.labels(b), lr)
            engine.end_epoch()  # the model holds every trained weight again

Each engine can be entered again (another ``run()``), and is in step with the model it
was given at each ``with``.
"""

from __future__ import annotations

import numpy as np

from ..batches import EpochBatches
from ..model import MLP
from ..optimizers import Optimizer
from ..train_config import TrainConfig
from .live_inputs import LiveInputs, batch_inputs, input_order, skip_is_exact
from .parallel import TensorParallel, processes_for, unsupported_reason
from .serial import SerialStep, clip_by_global_norm
from .sparse_input import SparseInputDense

__all__ = ["make_engine", "processes_for", "clip_by_global_norm", "SerialStep", "TensorParallel", "LiveInputs",
           "SparseInputDense"]


def make_engine(model: MLP, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, config: TrainConfig, *,
                image_shape: tuple[int, int] | None = None, image_background: float = 0.0,
                skip_dead_inputs: bool = True, processes: int = 1) -> SerialStep | TensorParallel | LiveInputs:
    """The engine that trains ``model`` with ``optimizer`` on (X, y) under ``config``
    (batching, augmentation, ``l2``, ``clip_norm``): see the module docstring.

    X: (N, D) checked features; y: (N,) labels or (N, D_out) targets. image_shape,
    image_background: what augmentation needs (see :class:`~mlp_engine.batches.EpochBatches`).
    skip_dead_inputs: train the first layer on the inputs most often non-zero first, without
    the dead ones (zero in every example) where that is exact (:mod:`.live_inputs`). processes: split each step over
    this many processes (:mod:`.parallel`; Linux on x86-64); 1 trains in this process.
    """
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer, got {processes!r}")
    if processes > 1 and (reason := unsupported_reason(model, processes)):
        raise ValueError(f"{reason}: train with processes=1")
    order = None
    if skip_dead_inputs:
        order = input_order(X, drop_dead=skip_is_exact(config.l2, optimizer.weight_decay, config.augment))
    X_batches, pixels = batch_inputs(X, order, config.augment)

    def batches_for(epoch: int) -> EpochBatches:
        return EpochBatches(X_batches, y, batch_size=config.batch_size, seed=config.seed, epoch=epoch,
                            augment=config.augment, image_shape=image_shape, image_background=image_background,
                            pixels=pixels)

    steps = {"l2": config.l2, "clip_norm": config.clip_norm, "batches_for": batches_for}
    if processes > 1:
        engine = TensorParallel(model, optimizer, processes=processes, **steps)
    else:
        engine = SerialStep(model, optimizer, **steps)
    return engine if order is None else LiveInputs(engine, model, optimizer, order)
