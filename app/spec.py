"""A run spec checked at the edge, once: against this server's limits (Settings)
and by the engine. What passes travels on as an :class:`~mlp_engine.Experiment`."""

from __future__ import annotations

from mlp_engine import Experiment
from mlp_engine.batches import validation_size

from .config import Settings
from .errors import ApiError


def validate_spec(spec: dict, settings: Settings) -> Experiment:
    """Check a run spec (as ``RunCreate`` dumps it) against the limits and the engine.
    Raises ApiError(422) saying what to change and where."""
    layers = spec.get("layers", ())
    widest = max(range(len(layers)), key=lambda i: layers[i].get("units", 0), default=0)
    limits = [
        (len(layers), settings.max_hidden_layers, "hidden layers", "MLP_MAX_HIDDEN_LAYERS", ["layers"]),
        (layers[widest].get("units", 0) if layers else 0, settings.max_units, "units in a layer", "MLP_MAX_UNITS",
         ["layers", widest, "units"]),
        (spec.get("epochs", 0), settings.max_epochs, "epochs", "MLP_MAX_EPOCHS", ["epochs"]),
        (spec.get("batch_size", 0), settings.max_batch_size, "batch_size", "MLP_MAX_BATCH_SIZE", ["batch_size"]),
    ]
    for value, limit, what, env, loc in limits:
        if value > limit:
            raise ApiError(422, f"{value} {what} is over this server's limit of {limit} ({env})", ["body", *loc])
    experiment = _checked(None, lambda: Experiment.from_dict(spec), spec)
    info = _checked(["dataset_params"], lambda: experiment.dataset_info(settings.mnist_dir), spec)
    _checked(["layers"], lambda: experiment.model_config(info), spec)
    _checked(["augment"], lambda: experiment.image_shape(info), spec)
    if experiment.validation_split:
        _checked(["validation_split"], lambda: validation_size(info["train_size"], experiment.validation_split), spec)
    _checked(None, experiment.train_config, spec)
    return experiment


def _checked(loc: list | None, check, spec: dict):
    """``check()``, its ValueError a 422 at ``loc`` (or at the field its message names)."""
    try:
        return check()
    except (FileNotFoundError, ValueError) as exc:
        message = str(exc)
        loc = loc or _field_named_in(message, spec)
        raise ApiError(422, message, None if loc is None else ["body", *loc]) from None


def _field_named_in(message: str, spec: dict) -> list | None:
    """The spec field an engine message is about, when it starts with its name."""
    for field in spec:
        if message.startswith(field) or message.startswith(field.replace("_", " ")):
            return [field]
    return None
