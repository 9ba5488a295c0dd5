"""Learning-rate schedules: pure functions of the step number.

``make_schedule(...)`` returns ``lr_at(step) -> float`` (step counts from 0).
Periods are given in epochs, which is how a learner thinks of them, and turned
into steps with ``steps_per_epoch``. An optional linear warmup ramps the rate
from ``base_lr / warmup_steps`` up to ``base_lr`` first.
"""

from __future__ import annotations

import math
from typing import Callable

SCHEDULES = ("constant", "step", "exponential", "cosine")


def make_schedule(
    name: str,
    base_lr: float,
    *,
    steps_per_epoch: int,
    epochs: int,
    warmup_epochs: float = 0.0,
    step_size: int = 1,
    gamma: float = 0.5,
    min_lr: float = 0.0,
) -> Callable[[int], float]:
    """Build ``lr_at(step)``.

    - ``constant``: base_lr
    - ``step``: base_lr · gamma^floor(epoch / step_size)
    - ``exponential``: base_lr · gamma^epoch (epoch fractional: decays every step)
    - ``cosine``: min_lr + (base_lr - min_lr) · (1 + cos(π · progress)) / 2, progress
      running 0 -> 1 over the steps after warmup
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}: choose one of {', '.join(SCHEDULES)}")
    if not base_lr > 0:
        raise ValueError(f"learning rate must be > 0, got {base_lr}")
    if steps_per_epoch < 1 or epochs < 1:
        raise ValueError("steps_per_epoch and epochs must be >= 1")
    if warmup_epochs < 0 or warmup_epochs > epochs:
        raise ValueError(f"warmup_epochs must be in [0, epochs={epochs}], got {warmup_epochs}")
    if name == "step" and step_size < 1:
        raise ValueError(f"step_size must be >= 1 epoch, got {step_size}")
    if name in ("step", "exponential") and not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")
    if not 0 <= min_lr <= base_lr:
        raise ValueError(f"min_lr must be in [0, base_lr={base_lr}], got {min_lr}")

    total = steps_per_epoch * epochs
    warmup = round(warmup_epochs * steps_per_epoch)

    def decayed(step: int) -> float:
        epoch = step / steps_per_epoch
        if name == "step":
            return base_lr * gamma ** math.floor(epoch / step_size)
        if name == "exponential":
            return base_lr * gamma**epoch
        if name == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
        return base_lr

    def lr_at(step: int) -> float:
        if step < warmup:
            return base_lr * (step + 1) / warmup
        return decayed(step)

    return lr_at
