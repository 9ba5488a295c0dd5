"""An uploaded model's metadata is checked at import, against what the app reads back
(issue #14 item 5): each crafted field is a 422 naming it, never a 500 later on predict,
trace or evaluation."""

from __future__ import annotations

import pytest

from mlp_engine import MLP, LayerSpec, ModelConfig, model_to_zip
from tests.app.helpers import assert_error

MNIST_SHAPED = MLP(ModelConfig(784, (LayerSpec(8),), 10))
DATASET = {"name": "mnist", "task": "multiclass", "classes": [str(d) for d in range(10)], "input_shape": [28, 28],
           "standardization": {"mean": 0.13, "std": 0.31}}


def upload(client, metadata: dict):
    blob = model_to_zip(MNIST_SHAPED, metadata)
    return client.post("/api/models/import", files={"file": ("m.zip", blob, "application/zip")})


@pytest.mark.parametrize("metadata, where", [
    ({"metrics": {"dataset": "mnist"}}, "metadata.metrics.dataset"),
    ({"metrics": {"dataset": {"classes": [1, 2, 3]}}}, "metadata.metrics.dataset.classes.0"),
    ({"metrics": {"dataset": {"classes": {"a": 1}}}}, "metadata.metrics.dataset.classes"),
    ({"metrics": {"dataset": {"classes": ["a", "b"]}}}, "names 2 classes; the network has 10 outputs"),
    ({"metrics": {"dataset": {"standardization": {"mean": "x", "std": 1}}}}, "standardization.mean"),
    ({"metrics": {"dataset": {"standardization": {"mean": 0, "std": 0}}}}, "standardization.std"),
    ({"metrics": {"dataset": {"input_shape": [100000, 100000]}}}, "is not the network's 784 inputs"),
    ({"spec": {"dataset": ["mnist"]}}, "metadata.spec is not a run spec"),
    ({"spec": "mnist"}, "metadata.spec"),
    ({"name": {"a": 1}}, "metadata.name"),
    ({"metrics": [1]}, "metadata.metrics"),
])
def test_crafted_metadata_is_refused_at_import(app_client, metadata, where):
    assert_error(upload(app_client, metadata), 422, "not a valid model file", where)


def test_metadata_the_app_reads_is_accepted_and_used(app_client):
    response = upload(app_client, {"name": "digits", "dataset": "mnist", "metrics": {"dataset": DATASET,
                                                                                      "anything": {"else": [1]}}})
    assert response.status_code == 201, response.text
    model_id = response.json()["id"]
    predicted = app_client.post(f"/api/models/{model_id}/predict", json={"inputs": [[0.0] * 784]}).json()
    assert predicted["labels"][0] in DATASET["classes"]
