"""The training configuration: the optimizer, the learning-rate schedule, augmentation and
the loop's settings, as frozen dataclasses whose fields declare their own defaults,
bounds and meaning (:mod:`.fields`) and are checked when the config is made."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields

from .fields import check_fields, setting
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer
from .schedules import SCHEDULES

#: The hyperparameters each optimizer takes (the others in its config are ignored).
HYPERPARAMETERS = {
    "sgd": ("weight_decay",),
    "momentum": ("momentum", "weight_decay"),
    "nesterov": ("momentum", "weight_decay"),
    "rmsprop": ("rho", "eps", "weight_decay"),
    "adam": ("beta1", "beta2", "eps", "weight_decay"),
    "adamw": ("beta1", "beta2", "eps", "weight_decay"),
}


@dataclass(frozen=True)
class OptimizerConfig:
    """Optimizer name, base learning rate, and the hyperparameters its class takes."""

    name: str = setting("adam", choices=tuple(OPTIMIZERS), doc="How each step moves the weights.")
    lr: float = setting(1e-3, gt=0, doc="Base learning rate.")
    momentum: float = setting(0.9, ge=0, lt=1, doc="momentum, nesterov: decay of the velocity")
    beta1: float = setting(0.9, ge=0, lt=1, doc="adam, adamw: decay of the gradient average")
    beta2: float = setting(0.999, ge=0, lt=1, doc="adam, adamw: decay of the squared-gradient average")
    eps: float = setting(1e-8, gt=0, doc="adam, adamw, rmsprop: added to the root mean square")
    rho: float = setting(0.99, ge=0, lt=1, doc="rmsprop: decay of the squared-gradient average")
    weight_decay: float | None = setting(
        None, ge=0, doc="Decoupled weight decay p <- p - lr·wd·p, of the weights, never the biases; "
                        "null: the optimizer's default (0.01 for adamw, else 0).")

    def __post_init__(self):
        check_fields(self, "optimizer.")

    def build(self) -> Optimizer:
        hyper = {k: getattr(self, k) for k in HYPERPARAMETERS[self.name] if getattr(self, k) is not None}
        return make_optimizer(self.name, **hyper)


@dataclass(frozen=True)
class ScheduleConfig:
    """How the learning rate changes over the epochs."""

    name: str = setting("constant", choices=tuple(SCHEDULES), doc="The learning-rate schedule.")
    warmup_epochs: float = setting(0.0, ge=0, doc="Epochs of linear warmup from 0 to the base rate.")
    step_size: int = setting(1, ge=1, doc="step: epochs between decays")
    gamma: float = setting(0.5, gt=0, le=1, doc="step, exponential: decay factor")
    min_lr: float = setting(0.0, ge=0, doc="cosine: the rate it ends at")

    def __post_init__(self):
        check_fields(self, "schedule.")


@dataclass(frozen=True)
class AugmentConfig:
    """Random rotation and shift of each training image, drawn afresh every epoch (image
    datasets only; validation and test images are never changed)."""

    max_shift: float = setting(2.0, ge=0, le=4, doc="Largest shift in pixels, uniform in ±max_shift along each axis.")
    max_rotation: float = setting(10.0, ge=0, le=30, doc="Largest rotation in degrees, uniform in ±max_rotation.")

    def __post_init__(self):
        check_fields(self, "augment.")


@dataclass(frozen=True)
class TrainConfig:
    """The training loop's settings. ``optimizer``, ``schedule`` and ``augment`` may be
    given as dicts of their fields."""

    epochs: int = setting(10, ge=1, doc="Passes over the training set.")
    batch_size: int = setting(64, ge=1, doc="Examples per step.")
    optimizer: OptimizerConfig = setting(default_factory=OptimizerConfig, doc="The optimizer and its settings.")
    schedule: ScheduleConfig = setting(default_factory=ScheduleConfig, doc="The learning-rate schedule.")
    l2: float = setting(0.0, ge=0, doc="Coupled L2 penalty l2/2·Σ‖W‖² (the weights, not the biases).")
    clip_norm: float | None = setting(None, gt=0, doc="Clip gradients to this global L2 norm; null: off.")
    early_stopping: int | None = setting(
        None, ge=1, doc="Stop after this many epochs without a better validation loss; needs validation_split > 0.")
    validation_split: float = setting(0.0, ge=0, lt=1, doc="Fraction of the training set held out for validation.")
    seed: int = setting(0, ge=0, doc="Shuffling, the validation split and augmentation.")
    histogram_bins: int = setting(30, ge=1, doc="Bins of the per-layer weight and gradient histograms.")
    augment: AugmentConfig | None = setting(
        None, doc="Training-time augmentation of image datasets (MNIST), e.g. "
                  "{\"max_shift\": 2, \"max_rotation\": 10}; null: off.")

    def __post_init__(self):
        for name, cls in (("optimizer", OptimizerConfig), ("schedule", ScheduleConfig), ("augment", AugmentConfig)):
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, config_from_dict(cls, value, name))
        check_fields(self)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return cls(**data)


def config_from_dict(cls: type, data: dict, name: str):
    """``cls(**data)``, where an unknown or missing key is a ValueError naming ``name``."""
    if not isinstance(data, dict):
        raise ValueError(f"{name} must be an object, got {data!r}")
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{name} has unknown keys {unknown}: use {', '.join(known)}")
    missing = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
               and f.name not in data]
    if missing:
        raise ValueError(f"{name} needs {', '.join(missing)}")
    return cls(**data)
