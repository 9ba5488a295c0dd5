"""No black boxes: walk one example through a model, and see where a model goes wrong."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from ..deps import ModelsDep, SettingsDep
from ..schemas import EvaluationPublic, ExamplesPublic, TracePublic, TraceRequest

router = APIRouter(prefix="/api/models", tags=["inspect"])


@router.post("/{model_id}/trace", response_model=TracePublic)
def trace(model_id: str, body: TraceRequest, models: ModelsDep, settings: SettingsDep):
    """One example forward and backward, stage by stage: each layer's `z = a W + b` and
    `a = f(z)`, the output and the loss, `dL/dz`, each layer's `dW`, `db`, `dL/da` and
    `f'(z)`, then one optimiser step on a copy of the weights and the loss after it. Each
    stage has its formula, its shapes multiplied out and its numbers; `gradient_check`
    compares a few gradients with central differences. The model is not changed."""
    if body.dataset_index is not None:
        x, label = models.dataset_example(model_id, body.split, body.dataset_index, settings.mnist_dir)
        source = {"kind": "dataset", "split": body.split, "index": body.dataset_index}
    elif body.image is not None:
        digit = models.digit_input(model_id, base64_text=body.image)
        x, label, source = models.image_features(model_id, digit).reshape(-1), None, {"kind": "image"}
    else:
        x, label, source = body.input, None, {"kind": "input"}
    if body.label is not None:
        label = body.label
    return models.trace(model_id, x, label, body.optimizer.model_dump(), source)


@router.get("/{model_id}/evaluation", response_model=EvaluationPublic)
def evaluation(model_id: str, models: ModelsDep, settings: SettingsDep,
               split: Annotated[Literal["train", "test"], Query()] = "test",
               limit: Annotated[int, Query(ge=0, le=1000, description="Misclassified examples listed")] = 100):
    """Confusion matrix, per-class and overall accuracy, and the misclassified examples
    (most confident first) of a classifier on its own dataset's split."""
    return models.evaluation(model_id, split, settings.mnist_dir, limit)


@router.get("/{model_id}/examples", response_model=ExamplesPublic)
def examples(model_id: str, models: ModelsDep, settings: SettingsDep,
             index: Annotated[list[int], Query(min_length=1, max_length=100,
                                               description="Rows of the split, e.g. ?index=3&index=17")],
             split: Annotated[Literal["train", "test"], Query()] = "test"):
    """Examples of the model's own dataset by row (the evaluation's misclassified ones, say),
    to draw as thumbnails; `POST .../trace` with `dataset_index` walks one through."""
    rows = []
    for i in index:
        x, label = models.dataset_example(model_id, split, i, settings.mnist_dir)
        rows.append({"index": i, "x": x.tolist(), "label": label})
    shape = (models.record(model_id)["metrics"].get("dataset") or {}).get("input_shape")
    return {"split": split, "input_shape": shape if shape and len(shape) == 2 else None, "examples": rows}
