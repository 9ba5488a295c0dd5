"""Trained models: list, inspect, download, import, predict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from ..deps import ModelsDep, SettingsDep
from ..errors import ApiError
from ..schemas import ModelPublic, PredictRequest, PredictResponse

router = APIRouter(prefix="/api/models", tags=["models"])


@router.get("", response_model=list[ModelPublic])
def list_models(models: ModelsDep, dataset: Annotated[str | None, Query()] = None):
    """Models, newest first; `?dataset=mnist` for one dataset's."""
    return models.records(dataset)


@router.get("/{model_id}", response_model=ModelPublic)
def get_model(model_id: str, models: ModelsDep):
    """A model's architecture, dataset and test metrics."""
    return models.record(model_id)


@router.delete("/{model_id}", status_code=204)
def delete_model(model_id: str, models: ModelsDep):
    models.delete(model_id)


@router.get("/{model_id}/download", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "model.json + weights.npz"}})
def download_model(model_id: str, models: ModelsDep):
    """The model as a zip of `model.json` (architecture, metadata) and `weights.npz`."""
    return Response(models.export_zip(model_id), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="model-{model_id}.zip"'})


async def _read_capped(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"the upload is over the {limit}-byte limit (MLP_MAX_UPLOAD_BYTES)")
    return data


@router.post("/import", status_code=201, response_model=ModelPublic)
async def import_model(models: ModelsDep, settings: SettingsDep, file: UploadFile = File(...)):
    """Import a zip made by the download route (checked; no pickle; size-capped)."""
    return models.import_zip(await _read_capped(file, settings.max_upload_bytes))


@router.post("/{model_id}/predict", response_model=PredictResponse, response_model_exclude_none=True)
def predict(model_id: str, body: PredictRequest, models: ModelsDep):
    """Classify raw feature vectors (`inputs`; for MNIST 784 values in [0, 1]) or a
    drawn digit (`image`, base64 PNG). Returns predictions, probabilities, and every
    hidden layer's activations."""
    if body.image is not None:
        return models.predict_image(model_id, base64_text=body.image)
    return models.predict(model_id, body.inputs)


@router.post("/{model_id}/predict/image", response_model=PredictResponse, response_model_exclude_none=True)
async def predict_upload(model_id: str, models: ModelsDep, settings: SettingsDep, file: UploadFile = File(...)):
    """Classify an uploaded image file (multipart) with an MNIST model."""
    return models.predict_image(model_id, data=await _read_capped(file, settings.max_upload_bytes))
