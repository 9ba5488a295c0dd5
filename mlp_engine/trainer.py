"""The training loop: shuffled mini-batches, validation, early stopping, metrics.

It knows nothing of the web: it reports through callbacks (``on_batch``,
``on_epoch``) and checks ``should_stop()`` between batches. Everything it
reports is plain floats, lists and dicts, ready for JSON. The steps themselves are
taken by an engine from :mod:`mlp_engine.engines` (serial or tensor-parallel).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .batches import split_validation
from .engines import make_engine
from .metrics import evaluate, layer_stats
from .model import MLP
from .schedules import make_schedule
from .train_config import TrainConfig

#: Samples used to measure dead units at the end of each epoch.
DEAD_UNIT_SAMPLES = 1024


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
    rest most often non-zero first (:mod:`mlp_engine.engines.live_inputs`).
    processes: split each step over this many processes, one per CPU core
    (:mod:`mlp_engine.engines.parallel`; Linux on x86-64); 1 trains in this process.
    ``engine``: what takes the steps (:func:`~mlp_engine.engines.make_engine`).
    """

    def __init__(self, model: MLP, config: TrainConfig, X, y, X_val=None, y_val=None,
                 image_shape: tuple[int, int] | None = None, image_background: float = 0.0,
                 skip_dead_inputs: bool = True, processes: int = 1):
        self.model = model
        self.config = config
        X = model.check_inputs(X)
        if config.augment is not None:
            if image_shape is None or len(image_shape) != 2 or image_shape[0] * image_shape[1] != X.shape[1]:
                raise ValueError(f"augmentation needs image inputs (an (H, W) image_shape with H*W = {X.shape[1]} "
                                 f"features), got image_shape={image_shape}: set augment to null for this dataset")
        y = model.check_targets(y, X.shape[0])
        if X_val is None and config.validation_split > 0:
            X, y, X_val, y_val = split_validation(X, y, config.validation_split, config.seed)
        if X_val is not None:
            X_val = model.check_inputs(X_val)
            y_val = model.check_targets(y_val, X_val.shape[0])
        if config.early_stopping and X_val is None:
            raise ValueError("early stopping watches the validation loss: set validation_split > 0")
        self.X, self.y, self.X_val, self.y_val = X, y, X_val, y_val
        self.batches_per_epoch = -(-len(X) // config.batch_size)
        self.optimizer = config.optimizer.build()
        self.engine = make_engine(model, self.optimizer, X, y, config, image_shape=image_shape,
                                  image_background=float(image_background), skip_dead_inputs=skip_dead_inputs,
                                  processes=processes)
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
        if self.epoch < self.config.epochs:  # else no engine to start
            stop_reason = self._run_epochs(on_epoch, on_batch, should_stop)
        if self.best_weights is not None and self.best_epoch != self.epoch:
            self.model.set_weights(self.best_weights)  # early stopping keeps the best epoch's weights
        return TrainResult(self.history, stop_reason, self.best_epoch)

    def _run_epochs(self, on_epoch, on_batch, should_stop) -> str:
        """Train epochs until the last, a cancel or early stopping; returns the stop reason."""
        start = time.perf_counter()
        with self.engine:
            setup = time.perf_counter() - start  # forking the peers counts to the first epoch's time
            while self.epoch < self.config.epochs:
                metrics = self._run_epoch(on_batch, should_stop, extra_seconds=setup)
                setup = 0.0
                if metrics is None:
                    return "cancelled"
                early_stop = self._watch_validation(metrics)
                self.history.append(metrics)
                if on_epoch:
                    on_epoch(metrics)
                if early_stop:
                    return "early_stopping"
        return "completed"

    def _run_epoch(self, on_batch, should_stop, extra_seconds: float = 0.0) -> dict | None:
        """One epoch of training, then its metrics; None when cancelled. Between epochs the
        model holds every trained weight (the engine syncs into it), for whoever reads it."""
        start = time.perf_counter()
        sums = self._train_batches(on_batch, should_stop)
        self.engine.end_epoch()
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

    def _train_batches(self, on_batch, should_stop) -> tuple[float, float, float] | None:
        """The epoch's mini-batch steps on the engine: (loss sum, score sum, last lr),
        or None when cancelled. The score is the count of correct predictions,
        or the squared error."""
        model, n, engine = self.model, len(self.y), self.engine
        regression = model.head.task == "regression"
        batches = engine.begin_epoch(self.epoch)
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
        if self.X_val is None or not self.config.early_stopping:
            return False
        if metrics["val_loss"] < self.best_val_loss:
            self.best_val_loss, self.best_epoch, self.bad_epochs = metrics["val_loss"], self.epoch, 0
            self.best_weights = self.model.get_weights()
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.config.early_stopping

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
            "dropout_rng": None if self.model.dropout_rng is None else self.model.dropout_rng.bit_generator.state,
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
        if self.model.dropout_rng is not None and scalars.get("dropout_rng"):  # older checkpoints have none
            self.model.dropout_rng.bit_generator.state = scalars["dropout_rng"]


def train(model: MLP, X, y, config: TrainConfig | None = None, **kwargs) -> TrainResult:
    """Train ``model`` on (X, y); keyword arguments go to :meth:`Trainer.run`
    (callbacks) or, for ``X_val``/``y_val``/``image_shape``/``image_background``, to the
    :class:`Trainer`."""
    config = config or TrainConfig()
    X_val, y_val = kwargs.pop("X_val", None), kwargs.pop("y_val", None)
    images = {k: kwargs.pop(k) for k in ("image_shape", "image_background") if k in kwargs}
    return Trainer(model, config, X, y, X_val, y_val, **images).run(**kwargs)

