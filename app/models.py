"""The model library: trained and imported models, and what can be done with one.

A model's files (``model.json`` + ``weights.npz``) live in ``$MLP_DATA_DIR/models/<id>/``
and its record (name, dataset, metrics) in storage. Loaded models are kept in a small
LRU cache with their record and the spec they were trained with, so a predict reads
nothing from disk; deleting a model drops it from the cache.
"""

from __future__ import annotations

import math
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from mlp_engine import (MLP, Dataset, Experiment, evaluate_confusion, load_dataset, load_model, model_from_zip, model_to_zip,
                        save_model, trace_example)
from mlp_engine.datasets import standardize_inputs
from mlp_engine.preprocessing import SIZE, decode_base64_image, decode_image, preprocess_digit
from mlp_engine.serialization import ModelTooLargeError

from .config import Settings
from .errors import ApiError
from .schemas import ModelMetadataIn, TraceRequest
from .storage import Storage

#: Loaded models kept in memory.
CACHE_SIZE = 8


@dataclass(frozen=True)
class LoadedModel:
    """A model in memory with its record and the run spec it was trained with."""

    model: MLP
    record: dict  # the stored record: name, dataset, source, architecture, metrics, n_params
    spec: dict | None  # None for a model imported without one

    @property
    def dataset_info(self) -> dict:
        """What the training dataset was (``Dataset.info()``); empty if unknown (an import)."""
        return self.record["metrics"].get("dataset") or {}

    @property
    def classes(self) -> list[str] | None:
        return self.dataset_info.get("classes") or None

    @property
    def image_shape(self) -> tuple[int, int] | None:
        """(H, W) when the model reads images, else None."""
        shape = self.dataset_info.get("input_shape")
        return tuple(shape) if shape and len(shape) == 2 else None


class ModelLibrary:
    def __init__(self, settings: Settings, storage: Storage):
        self.settings = settings
        self.storage = storage
        self.directory = settings.data_dir / "models"
        self._cache: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def path(self, model_id: str) -> Path:
        """Where the model's files are (or are to be saved)."""
        return self.directory / model_id

    # -- records --------------------------------------------------------------
    def records(self, dataset: str | None = None) -> list[dict]:
        """Records, newest first; only ``dataset``'s if given."""
        return self.storage.list_models(dataset)

    def record(self, model_id: str) -> dict:
        with self._lock:
            if model_id in self._cache:
                return self._cache[model_id].record
        record = self.storage.get_model(model_id)
        if record is None:
            raise ApiError(404, f"no model with id {model_id!r}: list models with GET /api/models")
        return record

    def load(self, model_id: str) -> LoadedModel:
        with self._lock:
            if model_id in self._cache:
                self._cache.move_to_end(model_id)
                return self._cache[model_id]
        record = self.record(model_id)
        model, meta = load_model(self.path(model_id))
        return self._keep(model_id, LoadedModel(model, record, _spec_in(meta)))

    def _keep(self, model_id: str, loaded: LoadedModel) -> LoadedModel:
        with self._lock:
            self._cache[model_id] = loaded
            self._cache.move_to_end(model_id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return loaded

    # -- adding and removing ----------------------------------------------------
    def add_trained(self, model_id: str, run_id: str) -> dict:
        """Record the model a run's worker saved under ``model_id``; returns its record."""
        model, meta = load_model(self.path(model_id))
        return self._add(model_id, model, meta, source="trained", run_id=run_id)

    def import_zip(self, data: bytes) -> dict:
        """Save and record a model zip made by :meth:`export_zip`; returns its record."""
        try:
            model, meta = model_from_zip(data, self.settings.model_limits())
        except ModelTooLargeError as exc:
            raise ApiError(422, f"not a valid model file: {exc} (MLP_MAX_HIDDEN_LAYERS, MLP_MAX_UNITS)") from None
        except ValueError as exc:
            raise ApiError(422, f"not a valid model file: {exc}") from None
        meta = checked_metadata(meta, model)
        model_id = self.storage.new_id()
        try:
            save_model(model, self.path(model_id), meta)
        except OSError:  # a full disk: no half-written model is left behind
            shutil.rmtree(self.path(model_id), ignore_errors=True)
            raise
        return self._add(model_id, model, meta, source="imported", run_id=None)

    def _add(self, model_id: str, model: MLP, meta: dict, *, source: str, run_id: str | None) -> dict:
        """Record a saved model from its metadata ({"name", "dataset", "metrics", "spec"}, each optional)."""
        dataset = str(meta.get("dataset") or "unknown")
        sizes = "-".join(str(s) for s in model.config.layer_sizes)
        default_name = f"{dataset} {sizes}" if source == "trained" else f"imported {sizes}"
        metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        self.storage.create_model(
            model_id, run_id=run_id, name=str(meta.get("name") or default_name), dataset=dataset, source=source,
            architecture=model.config.to_dict(), metrics=metrics, n_params=model.n_params,
        )
        return self._keep(model_id, LoadedModel(model, self.storage.get_model(model_id), _spec_in(meta))).record

    def export_zip(self, model_id: str) -> bytes:
        """The model as a zip of ``model.json`` (with its name, dataset, metrics, spec) and ``weights.npz``."""
        loaded = self.load(model_id)
        record = loaded.record
        meta = {"name": record["name"], "dataset": record["dataset"], "metrics": record["metrics"]}
        if loaded.spec is not None:
            meta["spec"] = loaded.spec
        return model_to_zip(loaded.model, meta)

    def delete(self, model_id: str) -> None:
        self.record(model_id)
        self.storage.delete_model(model_id)
        with self._lock:
            self._cache.pop(model_id, None)
        shutil.rmtree(self.path(model_id), ignore_errors=True)

    # -- predict ----------------------------------------------------------------
    def predict(self, model_id: str, inputs) -> dict:
        """Predictions, probabilities and hidden activations for feature rows ``inputs`` (N, D)."""
        limit = self.settings.max_predict_rows
        if len(inputs) > limit:
            raise ApiError(422, f"{len(inputs)} rows is over the limit of {limit} (MLP_MAX_PREDICT_ROWS): send fewer")
        loaded = self.load(model_id)
        model = loaded.model
        try:
            stages = model.trace(np.asarray(inputs, dtype=np.float64))
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        output = stages[-1]["a"]
        predictions = model.head.predict(output)
        probabilities = model.head.probabilities(output)
        classes = loaded.classes
        return {
            "predictions": predictions.tolist(),
            "labels": [classes[int(i)] for i in predictions] if classes else None,
            "probabilities": None if probabilities is None else probabilities.tolist(),
            # (layers, N, units) -> per example, per hidden layer
            "activations": [[s["a"][i].tolist() for s in stages[:-1]] for i in range(len(output))],
        }

    def predict_image(self, model_id: str, *, base64_text: str | None = None, data: bytes | None = None) -> dict:
        """Predict a drawn digit (base64 text or raw PNG/JPEG bytes); ``input`` is the (28, 28) it became."""
        digit = self.digit_input(model_id, base64_text=base64_text, data=data)
        return {**self.predict(model_id, self.image_features(model_id, digit)), "input": digit.tolist()}

    def image_features(self, model_id: str, digit: np.ndarray) -> np.ndarray:
        """A preprocessed digit (28, 28) as the model's input row (1, 784): standardised
        the way its training images were, if they were (``standardize: true``)."""
        scaling = self.load(model_id).dataset_info.get("standardization")
        row = digit.reshape(1, -1)
        return standardize_inputs(row, scaling["mean"], scaling["std"]) if scaling else row

    def digit_input(self, model_id: str, *, base64_text: str | None = None, data: bytes | None = None) -> np.ndarray:
        """A drawn digit (base64 text or raw PNG/JPEG bytes) preprocessed as MNIST: (28, 28) in [0, 1]."""
        inputs = self.load(model_id).model.config.input_dim
        if inputs != SIZE * SIZE:
            raise ApiError(422, f"this model takes {inputs} inputs, not a {SIZE}x{SIZE} image: "
                                "send feature rows instead, or pick an MNIST model")
        try:
            image = decode_base64_image(base64_text) if base64_text is not None else decode_image(data)
            return preprocess_digit(image)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None

    # -- inspect: trace one example, evaluate on the model's dataset --------------
    def dataset(self, model_id: str) -> Dataset:
        """The model's own dataset, rebuilt with the parameters and seed it was trained with
        (an imported model without its spec gets its dataset's default parameters)."""
        loaded = self.load(model_id)
        spec = loaded.spec or {"dataset": loaded.dataset_info.get("name") or loaded.record["dataset"]}
        name = spec["dataset"]
        try:
            data = load_dataset(name, mnist_dir=self.settings.mnist_dir, seed=spec.get("seed", 0),
                                **(spec.get("dataset_params") or {}))
        except FileNotFoundError as exc:
            raise ApiError(404, f"the dataset {name!r} is not available here: {exc}") from None
        except ValueError as exc:
            raise ApiError(404, f"this model's dataset {name!r} cannot be loaded ({exc}): "
                                "send 'input' instead") from None
        inputs = loaded.model.config.input_dim
        if data.n_features != inputs:
            raise ApiError(409, f"this model takes {inputs} inputs but the dataset "
                                f"{data.name!r} has {data.n_features} features: send 'input' instead")
        return data

    def dataset_example(self, model_id: str, split: str, index: int) -> tuple[np.ndarray, object]:
        """Row ``index`` of the model's dataset split: (x: (D,), label)."""
        return _example(self.dataset(model_id), split, index)

    def examples(self, model_id: str, split: str, indexes: list[int]) -> dict:
        """Rows of the model's dataset split, with the input shape to draw them."""
        data = self.dataset(model_id)
        rows = []
        for i in indexes:
            x, label = _example(data, split, i)
            rows.append({"index": i, "x": x.tolist(), "label": label})
        shape = self.load(model_id).image_shape
        return {"split": split, "input_shape": list(shape) if shape else None, "examples": rows}

    def trace(self, model_id: str, request: TraceRequest) -> dict:
        """Every stage of one example's forward pass, backward pass and update step."""
        if request.dataset_index is not None:
            x, label = self.dataset_example(model_id, request.split, request.dataset_index)
            source = {"kind": "dataset", "split": request.split, "index": request.dataset_index}
        elif request.image is not None:
            digit = self.digit_input(model_id, base64_text=request.image)
            x, label, source = self.image_features(model_id, digit).reshape(-1), None, {"kind": "image"}
        else:
            x, label, source = request.input, None, {"kind": "input"}
        if request.label is not None:
            label = request.label
        loaded = self.load(model_id)
        n, inputs = len(x), loaded.model.config.input_dim
        if n != inputs:
            raise ApiError(422, f"the input has {n} values, this model takes {inputs}")
        settings = request.optimizer.model_dump()
        name, lr = settings.pop("name"), settings.pop("lr")
        try:
            trace = trace_example(loaded.model, np.asarray(x, dtype=np.float64), label, name, lr,
                                  image_shape=loaded.image_shape, **settings)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        return {"model_id": model_id, "source": source, "classes": loaded.classes, **trace}

    def evaluation(self, model_id: str, split: str, limit: int, *, true: int | None = None,
                   predicted: int | None = None) -> dict:
        """Confusion matrix, per-class accuracy and the misclassified examples of a split;
        with `true` and/or `predicted`, only the mistakes of that cell are listed."""
        model = self.load(model_id).model
        if model.head.task == "regression":
            raise ApiError(422, "this is a regression model: it has no classes, so no confusion matrix; "
                                "see its mse and r2 in GET /api/models/{id}")
        data = self.dataset(model_id)
        X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
        try:
            narrowed = true is not None or predicted is not None
            result = evaluate_confusion(model, X, y, max_examples=len(y) if narrowed else limit, classes=data.classes)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        if narrowed:  # every mistake was listed, most confident first: keep the cell's
            result["misclassified"] = [m for m in result["misclassified"]
                                       if true in (None, m["true"]) and predicted in (None, m["predicted"])][:limit]
        return {"model_id": model_id, "dataset": data.name, "split": split, **result}


def _spec_in(meta: dict) -> dict | None:
    spec = meta.get("spec")
    return spec if isinstance(spec, dict) and spec.get("dataset") else None


def _example(data: Dataset, split: str, index: int) -> tuple[np.ndarray, object]:
    """Row ``index`` of a dataset split: (x: (D,), label)."""
    X, y = (data.X_train, data.y_train) if split == "train" else (data.X_test, data.y_test)
    if not 0 <= index < len(X):
        raise ApiError(422, f"dataset_index {index} is out of range: the {split} split of {data.name!r} "
                            f"has {len(X)} examples, 0..{len(X) - 1}")
    label = y[index].tolist() if data.task == "regression" else int(y[index])
    return X[index], label


def checked_metadata(meta: dict, model: MLP) -> dict:
    """An uploaded model's metadata, as the app will read it back (:class:`ModelMetadataIn`)
    and consistent with the network: as many class names as it has classes, an input shape
    of as many values as it takes, a spec that is a run spec. Raises ApiError(422)."""
    try:
        checked = ModelMetadataIn.model_validate(meta)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ApiError(422, f"not a valid model file: metadata.{where}: {exc.errors()[0]['msg']}") from None
    config = model.config
    dataset = checked.metrics.dataset if checked.metrics else None
    if dataset and dataset.classes and len(dataset.classes) != max(config.output_dim, 2):
        raise ApiError(422, f"not a valid model file: metadata.metrics.dataset.classes names {len(dataset.classes)} "
                            f"classes; the network has {config.output_dim} outputs")
    if dataset and dataset.input_shape is not None and math.prod(dataset.input_shape) != config.input_dim:
        raise ApiError(422, f"not a valid model file: metadata.metrics.dataset.input_shape {dataset.input_shape} "
                            f"is not the network's {config.input_dim} inputs")
    if checked.spec is not None:
        try:
            Experiment.from_dict(checked.spec)
        except ValueError as exc:
            raise ApiError(422, f"not a valid model file: metadata.spec is not a run spec ({exc})") from None
    return meta
