"""Saving and loading models and checkpoints without pickle.

A model is two files side by side: ``model.json`` (format, version, the
:class:`ModelConfig`, free-form metadata such as metrics) and ``weights.npz``
(the parameter arrays by name, loaded with ``allow_pickle=False``). A zip of the
pair is the download/import form. Loading checks names, shapes and values
against the config and raises :class:`ModelFileError` saying what is wrong.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .model import MLP, ModelConfig

FORMAT = "mlp-playground-model"
FORMAT_VERSION = 1
MODEL_JSON = "model.json"
WEIGHTS_NPZ = "weights.npz"
CHECKPOINT_NPZ = "checkpoint.npz"


class ModelFileError(ValueError):
    """A model file is corrupt, of another format or version, or does not match its config."""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # readers never see a half-written file


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:  # np.load raises many kinds on garbage
        raise ModelFileError(f"{WEIGHTS_NPZ} is not a readable .npz weights file ({exc})") from None


def model_document(model: MLP, metadata: dict | None = None) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.config.to_dict(),
            "metadata": metadata or {}}


def _model_from_parts(doc_bytes: bytes, weights_bytes: bytes) -> tuple[MLP, dict]:
    try:
        doc = json.loads(doc_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{MODEL_JSON} is not valid JSON ({exc})") from None
    return _model_from_document(doc, _read_npz(weights_bytes))


def _model_from_document(doc, weights: dict[str, np.ndarray]) -> tuple[MLP, dict]:
    """Check a model document and its weights against each other; build the model."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{MODEL_JSON} is not an MLP Playground model (format must be {FORMAT!r})")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"model format version {doc.get('format_version')!r} is not supported (this build reads {FORMAT_VERSION})"
        )
    try:
        model = MLP(ModelConfig.from_dict(doc["config"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{MODEL_JSON} has an invalid config: {exc}") from None
    expected = model.params()
    if set(weights) != set(expected):
        raise ModelFileError(f"weights are {sorted(weights)}, the config needs {sorted(expected)}")
    for name, value in weights.items():
        if value.shape != expected[name].shape:
            raise ModelFileError(f"{name} has shape {value.shape}, the config needs {expected[name].shape}")
        if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            raise ModelFileError(f"{name} must hold finite floating-point numbers")
    model.set_weights(weights)
    return model, doc.get("metadata") or {}


def save_model(model: MLP, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write ``model.json`` and ``weights.npz`` into ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / WEIGHTS_NPZ, _npz_bytes(model.params()))
    _atomic_write(directory / MODEL_JSON, json.dumps(model_document(model, metadata), indent=1).encode())
    return directory


def load_model(directory: str | Path) -> tuple[MLP, dict]:
    """Read a model saved by :func:`save_model`: returns (model, metadata)."""
    directory = Path(directory)
    try:
        return _model_from_parts((directory / MODEL_JSON).read_bytes(), (directory / WEIGHTS_NPZ).read_bytes())
    except FileNotFoundError as exc:
        raise ModelFileError(f"no saved model in {directory}: {exc.filename} is missing") from None


def model_to_zip(model: MLP, metadata: dict | None = None) -> bytes:
    """The model as a zip holding ``model.json`` and ``weights.npz``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MODEL_JSON, json.dumps(model_document(model, metadata), indent=1))
        zf.writestr(WEIGHTS_NPZ, _npz_bytes(model.params()))
    return buf.getvalue()


def model_from_zip(data: bytes, max_uncompressed: int = 256 * 2**20) -> tuple[MLP, dict]:
    """Read a zip made by :func:`model_to_zip`; refuses archives that would unpack
    past ``max_uncompressed`` bytes (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if not {MODEL_JSON, WEIGHTS_NPZ} <= names:
                raise ModelFileError(f"the zip must contain {MODEL_JSON} and {WEIGHTS_NPZ}, it has {sorted(names)}")
            if sum(zf.getinfo(n).file_size for n in (MODEL_JSON, WEIGHTS_NPZ)) > max_uncompressed:
                raise ModelFileError(f"the model unpacks to more than {max_uncompressed} bytes")
            doc, weights = zf.read(MODEL_JSON), zf.read(WEIGHTS_NPZ)
    except zipfile.BadZipFile:
        raise ModelFileError("not a zip file: export a model with its download button or model_to_zip") from None
    return _model_from_parts(doc, weights)


def checkpoint_path(directory: str | Path) -> Path:
    """Where :func:`save_checkpoint` writes; it exists once a checkpoint is complete."""
    return Path(directory) / CHECKPOINT_NPZ


def save_checkpoint(directory: str | Path, model: MLP, arrays: dict[str, np.ndarray], scalars: dict) -> None:
    """Model plus training state (``Trainer.state_dict()``), to resume training.

    One ``.npz`` replaced atomically, holding the weights (``model/…``), the state
    arrays, and the config and scalars as JSON bytes (``meta``): a crash mid-write
    leaves the previous checkpoint whole, never weights of one epoch beside the
    optimizer state of another."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({**model_document(model), "scalars": scalars}).encode()
    payload = {f"model/{k}": v for k, v in model.params().items()}
    payload.update({f"state/{k}": v for k, v in arrays.items()})
    payload["meta"] = np.frombuffer(meta, dtype=np.uint8)
    _atomic_write(checkpoint_path(directory), _npz_bytes(payload))


def load_checkpoint(directory: str | Path) -> tuple[MLP, dict[str, np.ndarray], dict]:
    """(model, state arrays, scalars) from :func:`save_checkpoint`."""
    path = checkpoint_path(directory)
    try:
        payload = _read_npz(path.read_bytes())
    except FileNotFoundError:
        raise ModelFileError(f"no checkpoint in {directory}: {path.name} is missing") from None
    if "meta" not in payload:
        raise ModelFileError(f"{path} is not a checkpoint (no meta entry)")
    doc = json.loads(payload.pop("meta").tobytes())
    weights = {k.removeprefix("model/"): v for k, v in payload.items() if k.startswith("model/")}
    arrays = {k.removeprefix("state/"): v for k, v in payload.items() if k.startswith("state/")}
    model, _ = _model_from_document(doc, weights)
    return model, arrays, doc["scalars"]
