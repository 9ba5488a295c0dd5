"""Trained models on disk, loaded once and kept in a small LRU cache for predict."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from mlp_engine import MLP, load_model, model_from_zip, model_to_zip, save_model
from mlp_engine.preprocessing import decode_base64_image, decode_image, preprocess_digit

from .errors import ApiError
from .runs import new_id
from .storage import Storage

CACHE_SIZE = 8
MNIST_INPUTS = 784


class ModelStore:
    def __init__(self, directory: Path, storage: Storage):
        self.directory = directory
        self.storage = storage
        self._cache: OrderedDict[str, tuple[MLP, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, model_id: str) -> dict:
        record = self.storage.get_model(model_id)
        if record is None:
            raise ApiError(404, f"no model with id {model_id!r}: list models with GET /api/models")
        return record

    def load(self, model_id: str) -> tuple[MLP, dict]:
        with self._lock:
            if model_id in self._cache:
                self._cache.move_to_end(model_id)
                return self._cache[model_id]
        record = self.record(model_id)
        model, _ = load_model(self.directory / model_id)
        with self._lock:
            self._cache[model_id] = (model, record)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return model, record

    # -- predict ------------------------------------------------------------
    def predict(self, model_id: str, inputs) -> dict:
        model, record = self.load(model_id)
        try:
            stages = model.trace(np.asarray(inputs, dtype=np.float64))
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        output = stages[-1]["a"]
        predictions = model.head.predict(output)
        probabilities = model.head.probabilities(output)
        classes = record["metrics"].get("dataset", {}).get("classes") or None
        return {
            "predictions": predictions.tolist(),
            "labels": [classes[int(i)] for i in predictions] if classes else None,
            "probabilities": None if probabilities is None else probabilities.tolist(),
            # (layers, N, units) -> per example, per hidden layer
            "activations": [[s["a"][i].tolist() for s in stages[:-1]] for i in range(len(output))],
        }

    def predict_image(self, model_id: str, *, base64_text: str | None = None, data: bytes | None = None) -> dict:
        model, _ = self.load(model_id)
        if model.config.input_dim != MNIST_INPUTS:
            raise ApiError(422, f"this model takes {model.config.input_dim} inputs, not a 28x28 image: "
                                "send 'inputs' instead, or pick an MNIST model")
        try:
            image = decode_base64_image(base64_text) if base64_text is not None else decode_image(data)
            digit = preprocess_digit(image)  # (28, 28) in [0, 1]
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        return {**self.predict(model_id, digit.reshape(1, -1)), "input": digit.tolist()}

    # -- import / export ----------------------------------------------------
    def export_zip(self, model_id: str) -> bytes:
        model, record = self.load(model_id)
        return model_to_zip(model, {"name": record["name"], "dataset": record["dataset"], "metrics": record["metrics"]})

    def import_zip(self, data: bytes, max_bytes: int) -> dict:
        try:
            model, meta = model_from_zip(data, max_uncompressed=8 * max_bytes)
        except ValueError as exc:
            raise ApiError(422, f"not a valid model file: {exc}") from None
        model_id = new_id()
        save_model(model, self.directory / model_id, meta)
        metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        dataset = str(meta.get("dataset") or "unknown")
        sizes = "-".join(str(s) for s in model.config.layer_sizes)
        self.storage.create_model(
            model_id, run_id=None, name=str(meta.get("name") or f"imported {sizes}"), dataset=dataset,
            source="imported", architecture=model.config.to_dict(), metrics=metrics, n_params=model.n_params,
        )
        return self.record(model_id)

    def delete(self, model_id: str) -> None:
        self.record(model_id)
        self.storage.delete_model(model_id)
        with self._lock:
            self._cache.pop(model_id, None)
