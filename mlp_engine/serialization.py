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
from dataclasses import dataclass
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


class ModelTooLargeError(ModelFileError):
    """A model file declares a network past the :class:`ModelLimits` it is read with."""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # readers never see a half-written file


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    """Every array of a trusted ``.npz`` (a checkpoint this library wrote)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:  # np.load raises many kinds on garbage
        raise ModelFileError(f"{WEIGHTS_NPZ} is not a readable .npz weights file ({exc})") from None


@dataclass(frozen=True)
class ModelLimits:
    """What an untrusted model file may declare. Checked before any array is allocated:
    the config first, then each array's header against the shape the config gives it."""

    max_hidden_layers: int = 16
    max_units: int = 65536  # per layer, the input and output layers included
    max_json_bytes: int = 4 * 2**20


def _check_limits(config: ModelConfig, limits: ModelLimits) -> None:
    if len(config.hidden) > limits.max_hidden_layers:
        raise ModelTooLargeError(f"the model has {len(config.hidden)} hidden layers; "
                             f"this server takes at most {limits.max_hidden_layers}")
    widest = max(config.layer_sizes)
    if widest > limits.max_units:
        raise ModelTooLargeError(f"a layer of the model is {widest} units wide (sizes {config.layer_sizes}); "
                             f"this server takes at most {limits.max_units} units a layer")


def _read_array(npz: zipfile.ZipFile, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One member of a weights ``.npz``, its header checked before its data is read:
    at most the bytes ``shape`` needs are ever decompressed, whatever the zip claims."""
    with npz.open(f"{name}.npy") as fp:
        version = np.lib.format.read_magic(fp)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        stored_shape, fortran_order, dtype = header(fp)
        if stored_shape != shape:
            raise ModelFileError(f"{name} has shape {stored_shape}, the config needs {shape}")
        if dtype.kind != "f" or dtype.itemsize not in (4, 8):
            raise ModelFileError(f"{name} must hold float32 or float64 numbers, not {dtype}")
        size = dtype.itemsize * int(np.prod(shape))
        data = fp.read(size)
    if len(data) != size:
        raise ModelFileError(f"{name} is truncated: {len(data)} of {size} bytes")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")


def _read_weights(data: bytes, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The arrays of an untrusted ``weights.npz`` by name; each must have the shape in ``shapes``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as npz:
            names = {n.removesuffix(".npy") for n in npz.namelist()}
            if names != set(shapes):
                raise ModelFileError(f"weights are {sorted(names)}, the config needs {sorted(shapes)}")
            return {name: _read_array(npz, name, shape) for name, shape in shapes.items()}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{WEIGHTS_NPZ} is not a readable .npz weights file ({exc})") from None


def model_document(model: MLP, metadata: dict | None = None) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.config.to_dict(),
            "metadata": metadata or {}}


def _parse_document(doc_bytes: bytes) -> dict:
    try:
        doc = json.loads(doc_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{MODEL_JSON} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ModelFileError(f"{MODEL_JSON} nests too deeply to be a model document") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{MODEL_JSON} is not an MLP Playground model (format must be {FORMAT!r})")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"model format version {doc.get('format_version')!r} is not supported (this build reads {FORMAT_VERSION})"
        )
    if not isinstance(doc.get("metadata", {}), dict):
        raise ModelFileError(f"{MODEL_JSON}: metadata must be an object, not {type(doc['metadata']).__name__}")
    return doc


def _document_config(doc: dict) -> ModelConfig:
    try:
        return ModelConfig.from_dict(doc["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{MODEL_JSON} has an invalid config: {exc}") from None


def _checked_config(doc_bytes: bytes, limits: ModelLimits) -> tuple[dict, ModelConfig]:
    """The document and its config, within ``limits``; no array is allocated yet."""
    if len(doc_bytes) > limits.max_json_bytes:
        raise ModelFileError(f"{MODEL_JSON} is over {limits.max_json_bytes} bytes")
    doc = _parse_document(doc_bytes)
    config = _document_config(doc)
    _check_limits(config, limits)
    return doc, config


def _model_from_parts(doc: dict, config: ModelConfig, weights_bytes: bytes) -> tuple[MLP, dict]:
    weights = _read_weights(weights_bytes, config.param_shapes())
    return _model_with_weights(config, weights), doc.get("metadata") or {}


def _model_with_weights(config: ModelConfig, weights: dict[str, np.ndarray]) -> MLP:
    expected = config.param_shapes()
    if set(weights) != set(expected):
        raise ModelFileError(f"weights are {sorted(weights)}, the config needs {sorted(expected)}")
    for name, value in weights.items():
        if value.shape != expected[name]:
            raise ModelFileError(f"{name} has shape {value.shape}, the config needs {expected[name]}")
        if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            raise ModelFileError(f"{name} must hold finite floating-point numbers")
    model = MLP(config)
    model.set_weights(weights)
    return model


def save_model(model: MLP, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write ``model.json`` and ``weights.npz`` into ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / WEIGHTS_NPZ, _npz_bytes(model.params()))
    _atomic_write(directory / MODEL_JSON, json.dumps(model_document(model, metadata), indent=1).encode())
    return directory


def load_model(directory: str | Path, limits: ModelLimits = ModelLimits()) -> tuple[MLP, dict]:
    """Read a model saved by :func:`save_model`: returns (model, metadata)."""
    directory = Path(directory)
    try:
        doc, config = _checked_config((directory / MODEL_JSON).read_bytes(), limits)
        return _model_from_parts(doc, config, (directory / WEIGHTS_NPZ).read_bytes())
    except FileNotFoundError as exc:
        raise ModelFileError(f"no saved model in {directory}: {exc.filename} is missing") from None


def model_to_zip(model: MLP, metadata: dict | None = None) -> bytes:
    """The model as a zip holding ``model.json`` and ``weights.npz``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MODEL_JSON, json.dumps(model_document(model, metadata), indent=1))
        zf.writestr(WEIGHTS_NPZ, _npz_bytes(model.params()))
    return buf.getvalue()


def model_from_zip(data: bytes, limits: ModelLimits = ModelLimits()) -> tuple[MLP, dict]:
    """Read a zip made by :func:`model_to_zip`, an untrusted upload: nothing bigger than
    ``limits`` allow is decompressed or allocated, however the archive is crafted."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if not {MODEL_JSON, WEIGHTS_NPZ} <= names:
                raise ModelFileError(f"the zip must contain {MODEL_JSON} and {WEIGHTS_NPZ}, it has {sorted(names)}")
            with zf.open(MODEL_JSON) as fp:  # never more than the limit decompressed, whatever the zip claims
                doc, config = _checked_config(fp.read(limits.max_json_bytes + 1), limits)
            budget = _npz_budget(config)
            if zf.getinfo(WEIGHTS_NPZ).file_size > budget:
                raise ModelFileError(f"{WEIGHTS_NPZ} unpacks to {zf.getinfo(WEIGHTS_NPZ).file_size} bytes; the arrays "
                                     f"of a {'-'.join(map(str, config.layer_sizes))} model need at most {budget}")
            with zf.open(WEIGHTS_NPZ) as fp:  # bounded even if the zip's stated size lies
                weights = fp.read(budget)
    except zipfile.BadZipFile:
        raise ModelFileError("not a zip file: export a model with its download button or model_to_zip") from None
    return _model_from_parts(doc, config, weights)


def _npz_budget(config: ModelConfig) -> int:
    """Most bytes a ``weights.npz`` for ``config`` can take: float64 arrays, stored, with headers."""
    shapes = config.param_shapes()
    return sum(8 * int(np.prod(s)) for s in shapes.values()) + 1024 * (len(shapes) + 1)


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
    model = _model_with_weights(_document_config(doc), weights)
    return model, arrays, doc["scalars"]
