"""No black boxes: walk one example through a model, and see where a model goes wrong."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ..deps import ModelsDep
from ..schemas import EvaluationPublic, ExamplesPublic, TracePublic, TraceRequest

router = APIRouter(prefix="/api/models", tags=["inspect"])


@router.post("/{model_id}/trace", response_model=TracePublic)
def trace(model_id: str, body: TraceRequest, models: ModelsDep):
    """One example forward and backward, stage by stage: each layer's `z = a W + b` and
    `a = f(z)`, the output and the loss, `dL/dz`, each layer's `dW`, `db`, `dL/da` and
    `f'(z)`, then one optimiser step on a copy of the weights and the loss after it. Each
    stage has its formula, its shapes multiplied out and its numbers; `gradient_check`
    compares a few gradients with central differences. The model is not changed."""
    return models.trace(model_id, body)


@router.get("/{model_id}/evaluation", response_model=EvaluationPublic)
def evaluation(model_id: str, models: ModelsDep,
               split: Annotated[Literal["train", "test"], Query()] = "test",
               limit: Annotated[int, Query(ge=0, le=1000, description="Misclassified examples listed")] = 100,
               true: Annotated[int | None, Query(ge=0, description="List only mistakes of this true class")] = None,
               predicted: Annotated[int | None, Query(ge=0, description="List only mistakes predicted as this class")] = None):
    """Confusion matrix, per-class and overall accuracy, and the misclassified examples
    (most confident first) of a classifier on its own dataset's split; `true` and
    `predicted` narrow the list to one cell of the matrix (the counts stay whole)."""
    return models.evaluation(model_id, split, limit, true=true, predicted=predicted)


@router.get("/{model_id}/examples", response_model=ExamplesPublic)
def examples(model_id: str, models: ModelsDep,
             index: Annotated[list[int], Query(min_length=1, max_length=100,
                                               description="Rows of the split, e.g. ?index=3&index=17")],
             split: Annotated[Literal["train", "test"], Query()] = "test"):
    """Examples of the model's own dataset by row (the evaluation's misclassified ones, say),
    to draw as thumbnails; `POST .../trace` with `dataset_index` walks one through."""
    return models.examples(model_id, split, index)
