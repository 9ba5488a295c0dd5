"""Request and response models. Choices come from the engine's registries, so
the API accepts exactly what the engine knows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, model_validator

from mlp_engine import ACTIVATIONS, DATASETS, OPTIMIZERS, SCHEDULES
from mlp_engine.augmentation import AUGMENT_LIMITS
from mlp_engine.model import INITS

Activation = Literal[tuple(ACTIVATIONS)]
OptimizerName = Literal[tuple(OPTIMIZERS)]
ScheduleName = Literal[tuple(SCHEDULES)]
DatasetName = Literal[tuple(DATASETS)]
Init = Literal[INITS]
#: The largest integer SQLite stores: bigger query numbers are a 422, not an overflow.
MAX_STORED_INT = 2**63 - 1
Status = Literal["queued", "running", "paused", "completed", "stopped", "failed", "interrupted"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LayerIn(Strict):
    units: int = Field(ge=1, description="Neurons in this hidden layer.")
    activation: Activation = "relu"


class OptimizerIn(Strict):
    name: OptimizerName = "adam"
    lr: FiniteFloat = Field(1e-3, gt=0, description="Base learning rate.")
    momentum: FiniteFloat = Field(0.9, ge=0, lt=1, description="momentum, nesterov")
    beta1: FiniteFloat = Field(0.9, ge=0, lt=1, description="adam, adamw: decay of the gradient average")
    beta2: FiniteFloat = Field(0.999, ge=0, lt=1, description="adam, adamw: decay of the squared-gradient average")
    eps: FiniteFloat = Field(1e-8, gt=0)
    rho: FiniteFloat = Field(0.99, ge=0, lt=1, description="rmsprop: decay of the squared-gradient average")
    weight_decay: FiniteFloat | None = Field(
        None, ge=0, description="Decoupled weight decay; null: the optimizer's default (0.01 for adamw, else 0).")


class ScheduleIn(Strict):
    name: ScheduleName = "constant"
    warmup_epochs: FiniteFloat = Field(0.0, ge=0)
    step_size: int = Field(1, ge=1, description="step: epochs between decays")
    gamma: FiniteFloat = Field(0.5, gt=0, le=1, description="step, exponential: decay factor")
    min_lr: FiniteFloat = Field(0.0, ge=0, description="cosine: the rate it ends at")


class AugmentIn(Strict):
    """Random rotation and shift of each training image, drawn afresh every epoch (image datasets only;
    validation and test images are never changed)."""

    max_shift: FiniteFloat = Field(2.0, ge=0, le=AUGMENT_LIMITS["max_shift"],
                                   description="Largest shift in pixels, uniform in ±max_shift along each axis.")
    max_rotation: FiniteFloat = Field(10.0, ge=0, le=AUGMENT_LIMITS["max_rotation"],
                                      description="Largest rotation in degrees, uniform in ±max_rotation.")


RUN_EXAMPLE = {
    "dataset": "xor",
    "layers": [{"units": 4, "activation": "tanh"}],
    "init": "xavier",
    "optimizer": {"name": "adam", "lr": 0.05},
    "epochs": 300,
    "batch_size": 4,
}


class RunCreate(Strict):
    """A training run: the dataset, the network, and how to train it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RUN_EXAMPLE]})

    dataset: DatasetName = "xor"
    dataset_params: dict[str, Any] = Field(default_factory=dict, description="e.g. {\"n_samples\": 400, \"noise\": 0.1}")
    layers: list[LayerIn] = Field(min_length=1, description="Hidden layers, input side first.")
    init: Init = "he"
    optimizer: OptimizerIn = Field(default_factory=OptimizerIn)
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=1)
    l2: FiniteFloat = Field(0.0, ge=0, description="Coupled L2 penalty l2/2·Σ‖W‖².")
    dropout: FiniteFloat = Field(0.0, ge=0, lt=1, description="Fraction of hidden units dropped while training.")
    clip_norm: FiniteFloat | None = Field(None, gt=0, description="Clip gradients to this global norm.")
    early_stopping: int | None = Field(None, ge=1, description="Patience in epochs; needs validation_split > 0.")
    validation_split: FiniteFloat = Field(0.0, ge=0, lt=1)
    seed: int = Field(0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    augment: AugmentIn | None = Field(None, description="Training-time augmentation of image datasets "
                                                        "(MNIST), e.g. {\"max_shift\": 2, \"max_rotation\": 10}; "
                                                        "null: off.")


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

    name: OptimizerName = "sgd"
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
