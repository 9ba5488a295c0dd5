"""Trained models on disk, loaded once and kept in a small LRU cache for predict."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from mlp_engine import (MLP, Dataset, evaluate_confusion, load_dataset, load_model, model_from_zip, model_to_zip,
                        save_model, trace_example)
from mlp_engine.datasets import standardize_inputs
from mlp_engine.preprocessing import decode_base64_image, decode_image, preprocess_digit
from mlp_engine.serialization import MODEL_JSON, ModelLimits, ModelTooLargeError

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
        digit = self.digit_input(model_id, base64_text=base64_text, data=data)
        return {**self.predict(model_id, self.image_features(model_id, digit)), "input": digit.tolist()}

    def image_features(self, model_id: str, digit: np.ndarray) -> np.ndarray:
        """A preprocessed digit (28, 28) as the model's input row (1, 784): standardised
        the way its training images were, if they were (``standardize: true``)."""
        _, record = self.load(model_id)
        scaling = (record["metrics"].get("dataset") or {}).get("standardization")
        row = digit.reshape(1, -1)
        return standardize_inputs(row, scaling["mean"], scaling["std"]) if scaling else row

    def digit_input(self, model_id: str, *, base64_text: str | None = None, data: bytes | None = None) -> np.ndarray:
        """A drawn digit (base64 text or raw PNG/JPEG bytes) preprocessed as MNIST: (28, 28) in [0, 1]."""
        model, _ = self.load(model_id)
        if model.config.input_dim != MNIST_INPUTS:
            raise ApiError(422, f"this model takes {model.config.input_dim} inputs, not a 28x28 image: "
                                "send feature rows instead, or pick an MNIST model")
        try:
            image = decode_base64_image(base64_text) if base64_text is not None else decode_image(data)
            return preprocess_digit(image)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None

    # -- import / export ----------------------------------------------------
    def export_zip(self, model_id: str) -> bytes:
        model, record = self.load(model_id)
        return model_to_zip(model, {"name": record["name"], "dataset": record["dataset"], "metrics": record["metrics"]})

    def import_zip(self, data: bytes, limits: ModelLimits) -> dict:
        try:
            model, meta = model_from_zip(data, limits)
        except ModelTooLargeError as exc:
            raise ApiError(422, f"not a valid model file: {exc} (MLP_MAX_HIDDEN_LAYERS, MLP_MAX_UNITS)") from None
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

    # -- inspect: trace one example, evaluate on the model's dataset ----------
    def training_data(self, model_id: str) -> dict:
        """The dataset the model was trained on: {"dataset", "dataset_params", "seed", "exact"}.

        From the run spec saved with the model (or its run); an imported model only
        knows its dataset's name, so it gets the default parameters (``exact`` false)."""
        record = self.record(model_id)
        try:
            meta = json.loads((self.directory / model_id / MODEL_JSON).read_text()).get("metadata") or {}
        except (OSError, ValueError):
            meta = {}
        spec = meta.get("spec")
        if not isinstance(spec, dict) and record["run_id"]:
            spec = (self.storage.get_run(record["run_id"]) or {}).get("spec")
        if isinstance(spec, dict) and spec.get("dataset"):
            return {"dataset": spec["dataset"], "dataset_params": spec.get("dataset_params") or {},
                    "seed": spec.get("seed", 0), "exact": True}
        name = (record["metrics"].get("dataset") or {}).get("name") or record["dataset"]
        return {"dataset": name, "dataset_params": {}, "seed": 0, "exact": False}

    def dataset(self, model_id: str, mnist_dir) -> Dataset:
        """The model's own dataset, rebuilt with the parameters and seed it was trained with."""
        model, _ = self.load(model_id)
        source = self.training_data(model_id)
        try:
            data = load_dataset(source["dataset"], mnist_dir=mnist_dir, seed=source["seed"], **source["dataset_params"])
        except FileNotFoundError as exc:
            raise ApiError(404, f"the dataset {source['dataset']!r} is not available here: {exc}") from None
        except ValueError as exc:
            raise ApiError(404, f"this model's dataset {source['dataset']!r} cannot be loaded ({exc}): "
                                "send 'input' instead") from None
        if data.n_features != model.config.input_dim:
            raise ApiError(409, f"this model takes {model.config.input_dim} inputs but the dataset "
                                f"{data.name!r} has {data.n_features} features: send 'input' instead")
        return data

    def dataset_example(self, model_id: str, split: str, index: int, mnist_dir) -> tuple[np.ndarray, object]:
        """Row ``index`` of the model's dataset split: (x: (D,), label)."""
        data = self.dataset(model_id, mnist_dir)
        X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
        if not 0 <= index < len(X):
            raise ApiError(422, f"dataset_index {index} is out of range: the {split} split of {data.name!r} "
                                f"has {len(X)} examples, 0..{len(X) - 1}")
        label = y[index].tolist() if data.task == "regression" else int(y[index])
        return X[index], label

    def trace(self, model_id: str, x, label, optimizer: dict, source: dict) -> dict:
        """Every stage of one example's forward pass, backward pass and update step."""
        model, record = self.load(model_id)
        n = len(x)
        if n != model.config.input_dim:
            raise ApiError(422, f"the input has {n} values, this model takes {model.config.input_dim}")
        settings = dict(optimizer)
        name, lr = settings.pop("name"), settings.pop("lr")
        shape = (record["metrics"].get("dataset") or {}).get("input_shape")
        image_shape = tuple(shape) if shape and len(shape) == 2 else None  # images are drawn as such
        try:
            trace = trace_example(model, np.asarray(x, dtype=np.float64), label, name, lr,
                                  image_shape=image_shape, **settings)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        classes = (record["metrics"].get("dataset") or {}).get("classes") or None
        return {"model_id": model_id, "source": source, "classes": classes, **trace}

    def evaluation(self, model_id: str, split: str, mnist_dir, limit: int) -> dict:
        """Confusion matrix, per-class accuracy and the misclassified examples of a split."""
        model, _ = self.load(model_id)
        if model.head.task == "regression":
            raise ApiError(422, "this is a regression model: it has no classes, so no confusion matrix; "
                                "see its mse and r2 in GET /api/models/{id}")
        data = self.dataset(model_id, mnist_dir)
        X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
        try:
            result = evaluate_confusion(model, X, y, max_examples=limit, classes=data.classes)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        return {"model_id": model_id, "dataset": data.name, "split": split, **result}
