"""What a run is made of: the datasets, the presets, and the run spec's fields."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from mlp_engine import DATASETS, PRESETS, Experiment
from mlp_engine.fields import describe

from ..catalog import dataset_list, dataset_samples
from ..deps import SettingsDep
from ..errors import ApiError

router = APIRouter(prefix="/api", tags=["datasets"])


@router.get("/datasets")
def list_datasets(settings: SettingsDep) -> list[dict]:
    """Every dataset: task, input shape, classes, split sizes, parameters and defaults.
    `available` is false where its files are missing (MNIST without MLP_MNIST_DIR)."""
    return dataset_list(settings.mnist_dir)


@router.get("/datasets/{name}/samples")
def get_samples(name: str, settings: SettingsDep, n: Annotated[int, Query(ge=1, le=2000)] = 16,
                split: Annotated[str, Query(pattern="^(train|test)$")] = "train",
                params: Annotated[str | None, Query(description='dataset_params as JSON, e.g. {"noise": 0.2}')] = None,
                data_seed: Annotated[int, Query(ge=0, description="the run's seed: the same points it trains on")] = 0,
                seed: Annotated[int, Query(ge=0, description="which examples to pick")] = 0) -> dict:
    """A few examples for previews, built as a run with these `params` and `data_seed`
    would build them: `X` rows (MNIST digits as 28x28), `y` labels."""
    if name not in DATASETS:
        raise ApiError(404, f"no dataset {name!r}: choose one of {', '.join(DATASETS)}")
    try:
        dataset_params = json.loads(params) if params else {}
    except json.JSONDecodeError:
        raise ApiError(422, f"params must be a JSON object, got {params!r}") from None
    if not isinstance(dataset_params, dict):
        raise ApiError(422, f"params must be a JSON object, got {params!r}")
    return dataset_samples(name, settings.mnist_dir, dataset_params, data_seed=data_seed, n=n, split=split, seed=seed)


@router.get("/presets")
def list_presets() -> list[dict]:
    """The presets from the teaching material, as run specs for POST /api/runs."""
    return [{"name": name, "description": text, "spec": spec} for name, (text, spec) in PRESETS.items()]


@router.get("/spec")
def run_spec(settings: SettingsDep) -> dict:
    """The fields of `POST /api/runs`: each one's default, bounds (`ge`, `gt`, `le`, `lt`),
    `choices`, whether it may be null, and what it means (`doc`), as the engine declares
    them; `defaults` is the whole spec with nothing set; `limits` are this server's."""
    return {
        "fields": describe(Experiment),
        "defaults": Experiment().to_dict(),
        "limits": {"max_hidden_layers": settings.max_hidden_layers, "max_units": settings.max_units,
                   "max_epochs": settings.max_epochs, "max_batch_size": settings.max_batch_size},
    }
