"""The training loop: shuffled mini-batches, validation, early stopping, metrics.

It knows nothing of the web: it reports through callbacks (``on_batch``,
``on_epoch``) and checks ``should_stop()`` between batches. Everything it
reports is plain floats, lists and dicts, ready for JSON.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info

from .augmentation import augment_batch, check_augment
from .live_inputs import LiveFirstLayer, input_order, skip_is_exact
from .parallel import TensorParallel, unsupported_reason
from .model import EVAL_CHUNK, MLP
from .optimizers import Optimizer, make_optimizer
from .schedules import make_schedule

#: Samples used to measure dead units at the end of each epoch.
DEAD_UNIT_SAMPLES = 1024
#: Third seed word of the augmentation generator (the batch order uses [seed, epoch]).
AUGMENT_STREAM = 1


@dataclass(frozen=True)
class OptimizerConfig:
    """Optimizer name, base learning rate, and the hyperparameters its class takes."""

    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # momentum, nesterov
    beta1: float = 0.9  # adam, adamw
    beta2: float = 0.999
    eps: float = 1e-8  # adam, adamw, rmsprop
    rho: float = 0.99  # rmsprop
    weight_decay: float = 0.0  # decoupled: p <- p - lr·wd·p

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
        hyper = {k: getattr(self, k) for k in names}
        if self.name == "adamw" and self.weight_decay == 0.0:
            hyper["weight_decay"] = 0.01  # AdamW's usual default; plain Adam is there for none
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


def histogram(values: np.ndarray, bins: int) -> dict:
    counts, edges = np.histogram(values, bins=bins)
    # Six significant digits are plenty for drawing and keep each epoch event small.
    return {"counts": counts.tolist(), "edges": [float(f"{e:.6g}") for e in edges]}


def evaluate(model: MLP, X: np.ndarray, y: np.ndarray) -> dict:
    """Loss and metrics over (X, y) in eval mode (no dropout), without the L2 term.

    Returns ``{"loss", "accuracy"}`` for classification, ``{"loss", "mse", "r2"}``
    for regression.
    """
    output, loss, y = outputs_and_loss(model, X, y)
    return {"loss": loss, **model.head.metrics(output, y)}


def outputs_and_loss(model: MLP, X, y) -> tuple[np.ndarray, float, np.ndarray]:
    """Head outputs (N, K) over (X, y) in eval mode, in chunks, with the mean loss
    (no L2 term) and the checked targets."""
    X = model.check_inputs(X)
    y = model.check_targets(y, X.shape[0])
    outputs, loss = [], 0.0
    for s in range(0, len(X), EVAL_CHUNK):
        logits = model.forward(X[s : s + EVAL_CHUNK])
        loss += model.head.loss(logits, y[s : s + EVAL_CHUNK]) * len(logits)
        outputs.append(model.head.output(logits))
    return np.concatenate(outputs), loss / len(X), y


def layer_stats(model: MLP, X_sample: np.ndarray, bins: int) -> list[dict]:
    """Per dense layer: weight and gradient histograms (with bin edges), L2 norms, and
    for ReLU layers the fraction of dead units (zero for every sample in X_sample)."""
    stats, out = [], X_sample
    for i, layer in enumerate(model.dense):
        out = layer.forward(out)
        dead = None
        if layer.activation.can_die and i < len(model.dense) - 1:
            dead = float(np.mean(out.max(axis=0) <= 0))
        stats.append(
            {
                "name": layer.name,
                "shape": list(layer.W.shape),
                "activation": layer.activation.name if i < len(model.dense) - 1 else model.head.name,
                "weights": histogram(layer.W, bins),
                "gradients": histogram(layer.dW, bins),
                "weight_norm": float(np.linalg.norm(layer.W)),
                "grad_norm": float(np.linalg.norm(layer.dW)),
                "bias_norm": float(np.linalg.norm(layer.b)),
                "dead_fraction": dead,
            }
        )
    return stats


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most max_norm.
    Returns the norm before clipping."""
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


class EpochBatches:
    """One epoch's mini-batches, the same wherever they are made: the shuffled order comes
    from (seed, epoch), and so do augmentation's random transforms (drawn batch by batch).
    That is what lets tensor-parallel processes make every batch themselves.

    X: (N, D) features; y: (N,) labels or (N, D_out) targets. pixels: with augmentation,
    the order of the batches' columns (a permutation of X's, which are row-major images).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int, epoch: int,
                 augment: dict | None = None, image_shape: tuple[int, int] | None = None,
                 image_background: float = 0.0, pixels: np.ndarray | None = None):
        self.X, self.y, self.batch_size = X, y, batch_size
        self.image_background, self.pixels = image_background, pixels
        self.order = np.random.default_rng([seed, epoch]).permutation(len(X))
        self.augment, self.image_shape = augment, image_shape
        if augment is not None:
            # Its own stream, so the shuffling is the same with and without augmentation.
            self.aug_rng = np.random.default_rng([seed, epoch, AUGMENT_STREAM])
            self._raw = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)
        self._x = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def _indices(self, b: int) -> np.ndarray:
        return self.order[b * self.batch_size : (b + 1) * self.batch_size]

    def labels(self, b: int) -> np.ndarray:
        """Batch ``b``'s targets: (n,) labels or (n, D_out)."""
        return self.y[self._indices(b)]

    def batch(self, b: int, rows: slice = slice(None), out: np.ndarray | None = None) -> np.ndarray:
        """Batch ``b``'s inputs xb: (n, D), ``out[:n]``, by default a buffer that the
        next call overwrites (its targets: :meth:`labels`). Call in order b = 0, 1, ...:
        augmentation draws from one generator. ``rows``: make only these rows of xb (a
        tensor-parallel process's share of the augmentation work); the others are left
        as they are."""
        idx = self._indices(b)
        n = len(idx)
        out = (self._x if out is None else out)[:n]
        # mode="clip" lets take() write straight into the buffer (no temporary).
        if self.augment is None:
            np.take(self.X, idx[rows], axis=0, out=out[rows], mode="clip")
            return out
        raw = self._raw[:n]
        np.take(self.X, idx[rows], axis=0, out=raw[rows], mode="clip")
        augment_batch(raw, self.image_shape, self.aug_rng, max_shift=self.augment.get("max_shift", 0.0),
                      max_rotation_deg=self.augment.get("max_rotation", 0.0), out=out,
                      background=self.image_background, rows=rows, pixels=self.pixels)
        return out


def blas_threads() -> int:
    """How many threads the BLAS behind NumPy's matmul uses now."""
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


class SerialStep:
    """One training step in this process: forward and backward, gradient clipping, the
    optimizer update. :class:`~mlp_engine.parallel.TensorParallel` does the same on several.

    On one BLAS thread the first layer multiplies only each batch's non-zero inputs
    (``Dense.skip_zero_inputs``): measured on MNIST's 784-512-10 first layer, 17% off its
    forward and backward on one thread (11% off a plain-recipe epoch), 23% slower on two
    (where the full matmul splits better over the threads)."""

    def __init__(self, model: MLP, optimizer: Optimizer, *, l2: float, clip_norm: float | None):
        self.model, self.optimizer, self.l2, self.clip_norm = model, optimizer, l2, clip_norm
        self.params, self.grads = model.params(), model.grads()

    def __enter__(self) -> "SerialStep":
        self.model.dense[0].skip_zero_inputs = blas_threads() == 1
        return self

    def __exit__(self, *exc) -> None:
        self.model.dense[0].skip_zero_inputs = False

    def begin_epoch(self, epoch: int) -> None:
        """Nothing to do: :meth:`step` makes each batch."""

    def sync(self) -> None:
        """Nothing to do: the model's own arrays are the ones trained."""

    def step(self, batches: EpochBatches, b: int, yb: np.ndarray, lr: float) -> tuple[float, np.ndarray]:
        """One step on batch ``b`` of ``batches`` (its targets ``yb``); (loss, logits (n, C))."""
        loss, logits = self.model.forward_backward(batches.batch(b), yb, self.l2)
        if self.clip_norm is not None:
            clip_by_global_norm(self.grads, self.clip_norm)
        self.optimizer.step(self.params, self.grads, lr)
        return loss, logits


@dataclass
class TrainResult:
    history: list[dict]
    stop_reason: str  # completed | early_stopping | cancelled
    best_epoch: int | None


class Trainer:
    """Trains ``model`` on (X, y) under ``config``; resumable from :meth:`state_dict`.

    X: (N, D) features; y: labels (N,) or regression targets (N, D_out).
    Validation data is (X_val, y_val) when given, else ``validation_split`` of
    the training set (a seeded random hold-out), else none.
    image_shape: (H, W) of one example when X holds flattened images (``Dataset.image_shape``);
    ``config.augment`` needs it. image_background: the value of a blank pixel in X, which
    augmentation shifts in at the borders (``Dataset.image_background``: 0 unless standardised).
    skip_dead_inputs: leave out of the first layer's training work the inputs that are zero
    in every training example, where that provably gives the same result, and order the
    rest most often non-zero first (:mod:`mlp_engine.live_inputs`); ``live_inputs`` holds
    the inputs kept in their order, or None.
    processes: split each step over this many processes, one per CPU core
    (:mod:`mlp_engine.parallel`; Linux on x86-64); 1 trains in this process.
    """

    def __init__(self, model: MLP, config: TrainConfig, X, y, X_val=None, y_val=None,
                 image_shape: tuple[int, int] | None = None, image_background: float = 0.0,
                 skip_dead_inputs: bool = True, processes: int = 1):
        if not isinstance(processes, int) or processes < 1:
            raise ValueError(f"processes must be a positive integer, got {processes!r}")
        if processes > 1 and (reason := unsupported_reason(model, processes)):
            raise ValueError(f"{reason}: train with processes=1")
        self.processes = processes
        self.model = model
        self.config = config
        X = model.check_inputs(X)
        if config.augment is not None:
            if image_shape is None or len(image_shape) != 2 or image_shape[0] * image_shape[1] != X.shape[1]:
                raise ValueError(f"augmentation needs image inputs (an (H, W) image_shape with H*W = {X.shape[1]} "
                                 f"features), got image_shape={image_shape}: set augment to null for this dataset")
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.image_background = float(image_background)
        y = model.check_targets(y, X.shape[0])
        if X_val is None and config.validation_split > 0:
            X, y, X_val, y_val = _split(X, y, config.validation_split, config.seed)
        if X_val is not None:
            X_val = model.check_inputs(X_val)
            y_val = model.check_targets(y_val, X_val.shape[0])
        if config.early_stopping_patience and X_val is None:
            raise ValueError("early stopping watches the validation loss: set validation_split > 0")
        self.X, self.y, self.X_val, self.y_val = X, y, X_val, y_val
        self.batches_per_epoch = -(-len(X) // config.batch_size)
        self.optimizer = config.optimizer.build()
        self.live_inputs = None
        if skip_dead_inputs:
            drop_dead = skip_is_exact(config.l2, self.optimizer.weight_decay, config.augment)
            self.live_inputs = input_order(X, drop_dead)
        # The training batches come from these columns, in this order: a copy, or, for
        # augmentation (which needs whole images), the images, augmented into that order.
        reorder = self.live_inputs is not None and config.augment is None
        self._X_batches = np.ascontiguousarray(X[:, self.live_inputs]) if reorder else X
        s = config.schedule
        self.lr_at = make_schedule(
            s.name, config.optimizer.lr, steps_per_epoch=self.batches_per_epoch, epochs=config.epochs,
            warmup_epochs=s.warmup_epochs, step_size=s.step_size, gamma=s.gamma, min_lr=s.min_lr,
        )
        self.epoch = 0  # epochs completed
        self.step = 0
        self.history: list[dict] = []
        self.best_val_loss = np.inf
        self.best_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None
        self.bad_epochs = 0
        sample = X_val if X_val is not None else X
        self._dead_sample = sample[:DEAD_UNIT_SAMPLES]
        self._y_variance = float(np.var(y)) if model.head.task == "regression" else None

    # -- the loop -----------------------------------------------------------
    def run(
        self,
        on_epoch: Callable[[dict], None] | None = None,
        on_batch: Callable[[dict], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> TrainResult:
        """Train the remaining epochs. ``on_epoch(metrics)`` after each epoch;
        ``on_batch({"epoch", "batch", "batches", "loss"})`` after each batch;
        ``should_stop()`` is asked between batches and cancels when true."""
        stop_reason = "completed"
        start = time.perf_counter()
        with contextlib.ExitStack() as stack:
            live, engine = self._engines(stack) if self.epoch < self.config.epochs else (None, None)
            setup = time.perf_counter() - start  # forking the peers counts to the first epoch's time
            while self.epoch < self.config.epochs:
                metrics = self._run_epoch(engine, live, on_batch, should_stop, extra_seconds=setup)
                setup = 0.0
                if metrics is None:
                    stop_reason = "cancelled"
                    break
                early_stop = self._watch_validation(metrics)
                self.history.append(metrics)
                if on_epoch:
                    on_epoch(metrics)
                if early_stop:
                    stop_reason = "early_stopping"
                    break
        if self.best_weights is not None and self.best_epoch != self.epoch:
            self.model.set_weights(self.best_weights)  # early stopping keeps the best epoch's weights
        return TrainResult(self.history, stop_reason, self.best_epoch)

    def _engines(self, stack: contextlib.ExitStack) -> tuple[LiveFirstLayer | None, "SerialStep | TensorParallel"]:
        """For one run() call: the compact first layer over the live inputs (or None), and
        the engine that takes the steps, in this process or split over several."""
        cfg = self.config
        live = None
        if self.live_inputs is not None:
            live = stack.enter_context(LiveFirstLayer(self.model, self.optimizer, self.live_inputs))
        if self.processes > 1:
            engine = TensorParallel(self.model, self.optimizer, l2=cfg.l2, clip_norm=cfg.clip_norm,
                                    batches_for=self._epoch_batches, processes=self.processes)
        else:
            engine = SerialStep(self.model, self.optimizer, l2=cfg.l2, clip_norm=cfg.clip_norm)
        return live, stack.enter_context(engine)

    def _epoch_batches(self, epoch: int) -> EpochBatches:
        cfg = self.config
        return EpochBatches(self._X_batches, self.y, batch_size=cfg.batch_size, seed=cfg.seed, epoch=epoch,
                            augment=cfg.augment, image_shape=self.image_shape,
                            image_background=self.image_background,
                            pixels=self.live_inputs if cfg.augment is not None else None)  # else X is in order

    def _run_epoch(self, engine, live: LiveFirstLayer | None, on_batch, should_stop,
                   extra_seconds: float = 0.0) -> dict | None:
        """One epoch of training, then its metrics; None when cancelled. Between epochs the
        model holds every trained weight (the engines sync into it), for whoever reads it."""
        start = time.perf_counter()
        if live is not None:
            live.resume()
        sums = self._train_batches(engine, on_batch, should_stop)
        engine.sync()
        if live is not None:
            live.sync()
        seconds = time.perf_counter() - start + extra_seconds
        if sums is None:
            return None
        loss_sum, score_sum, lr = sums
        model, y, n = self.model, self.y, len(self.y)
        self.epoch += 1
        metrics = {"epoch": self.epoch, "train_loss": loss_sum / n}
        if model.head.task == "regression":
            mse = score_sum / y.size
            metrics.update(train_mse=mse, train_r2=1.0 - mse / self._y_variance if self._y_variance else 0.0)
        else:
            metrics["train_accuracy"] = float(score_sum) / n
        if self.X_val is not None:
            val = evaluate(model, self.X_val, self.y_val)
            metrics.update({f"val_{k}": v for k, v in val.items()})
        metrics.update(
            lr=lr, seconds=seconds, samples_per_second=n / seconds if seconds > 0 else None,
            layers=layer_stats(model, self._dead_sample, self.config.histogram_bins),
        )
        return metrics

    def _train_batches(self, engine, on_batch, should_stop) -> tuple[float, float, float] | None:
        """The epoch's mini-batch steps on ``engine`` (a :class:`SerialStep` or a
        :class:`~mlp_engine.parallel.TensorParallel`): (loss sum, score sum, last lr),
        or None when cancelled. The score is the count of correct predictions,
        or the squared error."""
        model, n = self.model, len(self.y)
        regression = model.head.task == "regression"
        batches = self._epoch_batches(self.epoch)
        engine.begin_epoch(self.epoch)
        loss_sum = score_sum = 0.0
        for b in range(len(batches)):
            if should_stop is not None and should_stop():
                return None
            lr = self.lr_at(self.step)
            yb = batches.labels(b)
            loss, logits = engine.step(batches, b, yb, lr)
            self.step += 1
            loss_sum += loss * len(yb)
            if regression:
                score_sum += float(np.sum((logits - yb) ** 2))
            else:
                score_sum += np.count_nonzero(model.head.predict_logits(logits) == yb)
            if on_batch is not None:
                on_batch({"epoch": self.epoch + 1, "batch": b + 1, "batches": len(batches),
                          "loss": loss_sum / min(n, (b + 1) * batches.batch_size)})
        return loss_sum, score_sum, lr

    def _watch_validation(self, metrics: dict) -> bool:
        """Track the best validation loss; True when early stopping should stop now."""
        if self.X_val is None or not self.config.early_stopping_patience:
            return False
        if metrics["val_loss"] < self.best_val_loss:
            self.best_val_loss, self.best_epoch, self.bad_epochs = metrics["val_loss"], self.epoch, 0
            self.best_weights = self.model.get_weights()
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.config.early_stopping_patience

    # -- checkpoints --------------------------------------------------------
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        """(arrays, JSON-able scalars) that :meth:`load_state_dict` resumes from."""
        opt_arrays, opt_scalars = self.optimizer.state_dict()
        arrays = {f"optimizer/{k}": v for k, v in opt_arrays.items()}
        if self.best_weights is not None:
            arrays.update({f"best/{k}": v for k, v in self.best_weights.items()})
        scalars = {
            # Per-layer statistics of the last epoch only: the history is rewritten every
            # epoch, and carrying every epoch's histograms made checkpointing grow quadratically.
            "epoch": self.epoch, "step": self.step,
            "history": [{k: v for k, v in m.items() if k != "layers"} for m in self.history[:-1]] + self.history[-1:],
            "best_val_loss": None if np.isinf(self.best_val_loss) else self.best_val_loss,
            "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs, "optimizer": opt_scalars,
        }
        return arrays, scalars

    def load_state_dict(self, arrays: dict[str, np.ndarray], scalars: dict) -> None:
        self.epoch, self.step = int(scalars["epoch"]), int(scalars["step"])
        self.history = list(scalars["history"])
        self.best_val_loss = np.inf if scalars["best_val_loss"] is None else scalars["best_val_loss"]
        self.best_epoch, self.bad_epochs = scalars["best_epoch"], int(scalars["bad_epochs"])
        best = {k.removeprefix("best/"): v for k, v in arrays.items() if k.startswith("best/")}
        self.best_weights = best or None
        opt = {k.removeprefix("optimizer/"): v for k, v in arrays.items() if k.startswith("optimizer/")}
        self.optimizer.load_state_dict(opt, scalars["optimizer"])


def _split(X, y, fraction: float, seed: int):
    """Seeded random hold-out: (X_train, y_train, X_val, y_val)."""
    order = np.random.default_rng([seed, 2**31]).permutation(len(X))
    n_val = max(1, int(round(len(X) * fraction)))
    if n_val >= len(X):
        raise ValueError(f"validation_split={fraction} leaves no training data: lower it")
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def train(model: MLP, X, y, config: TrainConfig | None = None, **kwargs) -> TrainResult:
    """Train ``model`` on (X, y); keyword arguments go to :meth:`Trainer.run`
    (callbacks) or, for ``X_val``/``y_val``/``image_shape``/``image_background``, to the
    :class:`Trainer`."""
    config = config or TrainConfig()
    X_val, y_val = kwargs.pop("X_val", None), kwargs.pop("y_val", None)
    images = {k: kwargs.pop(k) for k in ("image_shape", "image_background") if k in kwargs}
    return Trainer(model, config, X, y, X_val, y_val, **images).run(**kwargs)

