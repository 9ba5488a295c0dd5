"""Request and response models. The run spec's schema is made from the engine's
declarations (:mod:`mlp_engine.fields`): every default, bound and choice is the one
``Experiment`` declares, so the API accepts exactly what the engine does."""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, create_model, model_validator

from mlp_engine import Experiment, OptimizerConfig
from mlp_engine.fields import declared, jsonable

#: The largest integer SQLite stores: bigger query numbers are a 422, not an overflow.
MAX_STORED_INT = 2**63 - 1
Status = Literal["queued", "running", "paused", "completed", "stopped", "failed", "interrupted"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every error: what to change."""

    detail: str


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where: ["body", "optimizer", "lr"], ["query", "offset"], ...')
    msg: str


class ValidationErrorOut(ErrorOut):
    errors: list[FieldError] = Field(default_factory=list, description="Each invalid field, when known.")


@cache
def request_model(config: type, name: str) -> type[BaseModel]:
    """A Pydantic model of the config dataclass ``config``'s declared fields."""
    fields = {}
    for f, rule, kind, optional in declared(config):
        annotation = _field_type(kind, rule.choices)
        constraints = {**rule.bounds(), "description": rule.doc, "validate_default": True}
        if rule.min_items is not None:
            constraints["min_length"] = rule.min_items
        if f.default is not dataclasses.MISSING:
            constraints["default"] = jsonable(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            constraints["default_factory"] = lambda factory=f.default_factory: jsonable(factory())
        fields[f.name] = (annotation | None if optional else annotation, Field(**constraints))
    return create_model(name, __base__=Strict, __doc__=config.__doc__, **fields)


def _field_type(kind: Any, choices: tuple | None) -> Any:
    if choices is not None:
        return Literal[choices]
    if kind is float:
        return FiniteFloat
    if dataclasses.is_dataclass(kind):
        return request_model(kind, f"{kind.__name__.removesuffix('Config')}In")
    if typing.get_origin(kind) is tuple:  # a tuple of configs: a JSON list
        (item, _) = typing.get_args(kind)
        return list[_field_type(item, None)]
    if kind is dict:
        return dict[str, Any]
    return kind


RUN_EXAMPLE = {
    "dataset": "xor",
    "layers": [{"units": 4, "activation": "tanh"}],
    "init": "xavier",
    "optimizer": {"name": "adam", "lr": 0.05},
    "epochs": 300,
    "batch_size": 4,
}

OptimizerIn = request_model(OptimizerConfig, "OptimizerIn")


class RunCreate(request_model(Experiment, "ExperimentIn")):
    """A training run: the dataset, the network, and how to train it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RUN_EXAMPLE]})


# -- an imported model's metadata: checked before it is stored ----------------------------


class Lenient(BaseModel):
    """Checks the fields the app reads; keeps the others (a model's free-form metrics)."""

    model_config = ConfigDict(extra="allow")


class Standardization(Lenient):
    mean: FiniteFloat
    std: FiniteFloat = Field(gt=0)


class DatasetMeta(Lenient):
    name: str | None = Field(None, max_length=200)
    classes: list[str] | None = Field(None, max_length=4096)
    input_shape: list[int] | None = Field(None, min_length=1, max_length=3)
    standardization: Standardization | None = None


class MetricsMeta(Lenient):
    dataset: DatasetMeta | None = None


class ModelMetadataIn(Lenient):
    """``model.json``'s metadata, as the app reads it back for predict, trace and evaluation."""

    name: str | None = Field(None, max_length=200)
    dataset: str | None = Field(None, max_length=200)
    metrics: MetricsMeta | None = None
    spec: dict[str, Any] | None = None


class RunPublic(BaseModel):
    id: str
    status: Status
    created_at: float
    updated_at: float
    dataset: str
    spec: dict
    epochs_total: int
    epochs_done: int
    queue_position: int | None = None
    model_id: str | None = None
    test_metrics: dict | None = None
    error: str | None = None
    last_event_id: int = Field(validation_alias="last_seq")



class RunDetail(RunPublic):
    history: list[dict] = Field(description="One entry per finished epoch: losses, accuracy, lr, seconds, per-layer stats.")


class RunPage(BaseModel):
    runs: list[RunPublic]
    total: int
    limit: int
    offset: int


class ModelPublic(BaseModel):
    id: str
    run_id: str | None
    name: str
    dataset: str
    source: Literal["trained", "imported"]
    created_at: float
    architecture: dict
    metrics: dict
    n_params: int


PREDICT_EXAMPLE = {"inputs": [[0, 1], [1, 1]]}


class PredictRequest(Strict):
    """Either raw feature vectors or, for an MNIST model, a drawn image."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PREDICT_EXAMPLE]})

    inputs: list[list[FiniteFloat]] | None = Field(None, description="One row of input features per example.")
    image: str | None = Field(None, description="A PNG/JPEG as base64 or a data: URL (MNIST models).")

    @model_validator(mode="after")
    def one_of(self):
        if (self.inputs is None) == (self.image is None):
            raise ValueError("give exactly one of 'inputs' (feature rows) or 'image' (base64 PNG)")
        return self


class PredictResponse(BaseModel):
    predictions: list[Any] = Field(description="Class index per example (values for regression).")
    labels: list[str] | None = Field(None, description="Class name per example.")
    probabilities: list[list[float]] | None = Field(description="Class probabilities per example.")
    activations: list[list[list[float]]] = Field(description="Per example, per hidden layer, each unit's output.")
    input: list[list[float]] | None = Field(None, description="The preprocessed 28x28 image, for image input.")


# -- inspect: the step-through trace and the confusion matrix --------------------------


class TraceOptimizerIn(OptimizerIn):
    """The optimiser of the trace's one update step, from a fresh state (t = 1)."""

    name: OptimizerIn.model_fields["name"].annotation = "sgd"
    lr: FiniteFloat = Field(0.01, gt=0, description="Learning rate of the one step.")


TRACE_EXAMPLE = {"input": [0, 1], "label": 1, "optimizer": {"name": "adam", "lr": 0.001}}
TRACE_DATASET_EXAMPLE = {"dataset_index": 0, "split": "test"}


class TraceRequest(Strict):
    """One example to walk through the network: feature values (`input`), a drawn digit
    (`image`, MNIST models) or an example of the model's own dataset (`dataset_index`)."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [TRACE_EXAMPLE, TRACE_DATASET_EXAMPLE]})

    input: list[FiniteFloat] | None = Field(None, description="One example's feature values (784 for MNIST).")
    image: str | None = Field(None, description="A PNG/JPEG as base64 or a data: URL (MNIST models).")
    dataset_index: int | None = Field(None, ge=0, description="Row of the model's own dataset split.")
    split: Literal["train", "test"] = Field("test", description="The split `dataset_index` counts in.")
    label: int | FiniteFloat | list[FiniteFloat] | None = Field(
        None, description="The true class index (a value, or a list of values, for regression). "
                          "Required with `input` and `image`; with `dataset_index` it replaces the dataset's label.")
    optimizer: TraceOptimizerIn = Field(default_factory=TraceOptimizerIn)

    @model_validator(mode="after")
    def one_example(self):
        given = [k for k in ("input", "image", "dataset_index") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'input' (feature values), 'image' (base64 PNG) "
                             "or 'dataset_index' (an example of the model's dataset)")
        if self.label is None and self.dataset_index is None:
            raise ValueError(f"give the true 'label' of this {given[0]}: the loss and the gradients depend on it")
        return self


class TraceStage(BaseModel):
    """One step of the walk-through. Arrays come as `shape`, `summary` (min, max, mean,
    std, nonzero, shape) and, for at most 1024 numbers, `values`; stages add their own
    fields (`shapes`, `W`, `columns`, `top_k`, `engine_check`, `derivative`, `note`, ...)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="input, z1, a1, ..., output, loss, dz3, dW3, db3, da2, dz2, ..., "
                                  "update, loss_after_step")
    phase: Literal["forward", "loss", "backward", "update"]
    layer: int | None = Field(description="1-based dense layer; 0 for the input; null for the update.")
    formula: str
    shape: list[int]
    summary: dict


class GradientCheckRow(BaseModel):
    param: str
    layer: int
    index: list[int]
    why: Literal["largest |gradient|", "random"]
    analytic: float = Field(description="Backprop's gradient, on a float64 copy of the model.")
    numeric: float = Field(description="(L(w+ε) − L(w−ε)) / 2ε")
    relative_error: float
    trace: float | None = Field(None, description="The trace's gradient, in the model's own dtype.")


class TracePublic(BaseModel):
    model_id: str
    source: dict = Field(description='{"kind": "input" | "image" | "dataset", "split", "index"}')
    classes: list[str] | None = None
    model: dict = Field(description="layer_sizes, activations, head, task, dtype")
    label: Any
    prediction: Any
    loss: float
    loss_after_step: float
    stages: list[TraceStage]
    gradient_check: list[GradientCheckRow]


class MisclassifiedExample(BaseModel):
    index: int = Field(description="Row in the split: trace it with {\"dataset_index\": index}.")
    true: int
    predicted: int
    confidence: float = Field(description="Probability of the predicted class.")
    p_true: float = Field(description="Probability of the true class.")


class EvaluationPublic(BaseModel):
    model_id: str
    dataset: str
    split: Literal["train", "test"]
    n: int
    classes: list[str]
    accuracy: float
    loss: float
    confusion: list[list[int]] = Field(description="K x K counts: row = true class, column = predicted class.")
    class_counts: list[int]
    per_class_accuracy: list[float | None] = Field(description="Per true class; null for a class with no examples.")
    most_confused: list[dict] = Field(description='[{"true", "predicted", "count"}], the top 5 mistakes')
    n_misclassified: int
    misclassified: list[MisclassifiedExample] = Field(description="The most confident mistakes first, capped.")


class DatasetExample(BaseModel):
    index: int
    x: list[float] = Field(description="The example's features (784 pixels in [0, 1] for MNIST).")
    label: Any


class ExamplesPublic(BaseModel):
    split: Literal["train", "test"]
    input_shape: list[int] | None = Field(None, description="[28, 28] for MNIST: how to draw x.")
    examples: list[DatasetExample]
