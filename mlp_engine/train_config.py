"""The training configuration: the optimizer, the learning-rate schedule and the loop's
settings, as frozen dataclasses that check themselves."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .augmentation import check_augment
from .optimizers import Optimizer, make_optimizer


@dataclass(frozen=True)
class OptimizerConfig:
    """Optimizer name, base learning rate, and the hyperparameters its class takes.
    ``weight_decay`` None: the optimizer's own default (0.01 for AdamW, else none)."""

    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # momentum, nesterov
    beta1: float = 0.9  # adam, adamw
    beta2: float = 0.999
    eps: float = 1e-8  # adam, adamw, rmsprop
    rho: float = 0.99  # rmsprop
    weight_decay: float | None = None  # decoupled: p <- p - lr·wd·p

    def build(self) -> Optimizer:
        if not self.lr > 0:
            raise ValueError(f"learning rate must be > 0, got {self.lr}")
        takes = {
            "sgd": ("weight_decay",),
            "momentum": ("momentum", "weight_decay"),
            "nesterov": ("momentum", "weight_decay"),
            "rmsprop": ("rho", "eps", "weight_decay"),
            "adam": ("beta1", "beta2", "eps", "weight_decay"),
            "adamw": ("beta1", "beta2", "eps", "weight_decay"),
        }
        names = takes.get(self.name, ())
        hyper = {k: getattr(self, k) for k in names if getattr(self, k) is not None}
        return make_optimizer(self.name, **hyper)


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = "constant"  # constant | step | exponential | cosine
    warmup_epochs: float = 0.0
    step_size: int = 1  # epochs between decays (step)
    gamma: float = 0.5  # decay factor (step, exponential)
    min_lr: float = 0.0  # floor (cosine)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    l2: float = 0.0  # coupled penalty l2/2·Σ‖W‖²
    clip_norm: float | None = None  # clip gradients to this global L2 norm
    early_stopping_patience: int | None = None  # epochs without val-loss improvement
    validation_split: float = 0.0  # fraction of the training set held out
    seed: int = 0
    histogram_bins: int = 30
    #: Random rotation and shift of training images, e.g. {"max_shift": 2.0, "max_rotation": 10.0}
    #: (pixels, degrees); None: off. Needs image inputs (the Trainer's ``image_shape``).
    augment: dict | None = None

    def __post_init__(self):
        if isinstance(self.optimizer, dict):
            object.__setattr__(self, "optimizer", OptimizerConfig(**self.optimizer))
        if isinstance(self.schedule, dict):
            object.__setattr__(self, "schedule", ScheduleConfig(**self.schedule))
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {self.l2}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ValueError(f"clip_norm must be > 0 (or null for no clipping), got {self.clip_norm}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError(f"early_stopping_patience must be >= 1, got {self.early_stopping_patience}")
        if not 0.0 <= self.validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {self.validation_split}")
        if self.histogram_bins < 1:
            raise ValueError(f"histogram_bins must be >= 1, got {self.histogram_bins}")
        check_augment(self.augment)
        self.optimizer.build()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return cls(**data)
