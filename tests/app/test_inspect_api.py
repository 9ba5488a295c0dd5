"""The step-through trace and the evaluation over real HTTP."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.app.helpers import XOR_RUN, assert_error, read_events

MNIST_RUN = {"dataset": "mnist", "dataset_params": {"train_subset": 2000}, "layers": [{"units": 64}],
             "epochs": 1, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.003}}
# Non-default parameters and seed: the evaluation must rebuild exactly this split.
GAUSSIANS_RUN = {"dataset": "gaussians", "dataset_params": {"n_samples": 200, "n_classes": 4}, "seed": 3,
                 "layers": [{"units": 8}], "epochs": 5, "batch_size": 16}
SINE_RUN = {"dataset": "sine", "layers": [{"units": 8, "activation": "tanh"}], "epochs": 2}


def train(api: httpx.Client, spec: dict) -> str:
    created = api.post("/api/runs", json=spec)
    assert created.status_code == 201, created.text
    done = read_events(api, created.json()["id"])[-1]
    assert done["event"] == "done" and done["data"]["model_id"], done
    return done["data"]["model_id"]


@pytest.fixture(scope="module")
def xor_model(shared_api):
    return train(shared_api, XOR_RUN)


@pytest.fixture(scope="module")
def mnist_model(shared_api, mnist_dir):
    return train(shared_api, MNIST_RUN)


def names(trace: dict) -> list[str]:
    return [s["name"] for s in trace["stages"]]


def stage(trace: dict, name: str) -> dict:
    return next(s for s in trace["stages"] if s["name"] == name)


def digit_png() -> str:
    """A hand-drawn 7: black strokes on a transparent canvas, as the page's canvas sends."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(70, 60), (210, 60), (120, 240)], fill=(0, 0, 0, 255), width=20)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_trace_by_input(shared_api, xor_model):
    url = f"/api/models/{xor_model}/trace"
    before = shared_api.post(f"/api/models/{xor_model}/predict", json={"inputs": [[0, 1]]}).json()
    response = shared_api.post(url, json={"input": [0, 1], "label": 1})
    assert response.status_code == 200, response.text
    trace = response.json()
    assert names(trace) == ["input", "z1", "a1", "z2", "output", "loss", "dz2", "dW2", "db2", "da1", "dz1",
                            "dW1", "db1", "update", "loss_after_step"]
    assert trace["source"] == {"kind": "input"} and trace["classes"] == ["0", "1"]
    assert trace["label"] == 1 and trace["model"]["layer_sizes"] == [2, 4, 1]
    output = stage(trace, "output")
    assert output["values"][0] == pytest.approx(before["probabilities"][0][1], abs=1e-6)
    assert stage(trace, "z1")["shapes"] == "(1, 2) · (2, 4) + (4,) → (1, 4)"
    assert stage(trace, "dW1")["engine_check"]["matches"] and stage(trace, "dW1")["values"]
    assert stage(trace, "update")["optimizer"]["name"] == "sgd"
    assert trace["loss_after_step"] < trace["loss"]
    assert max(r["relative_error"] for r in trace["gradient_check"]) < 1e-4

    adam = shared_api.post(url, json={"input": [0, 1], "label": 1, "optimizer": {"name": "adam", "lr": 0.001}}).json()
    update = stage(adam, "update")
    assert update["optimizer"]["beta1"] == 0.9 and update["bias_correction"]["1-beta1^t"] == pytest.approx(0.1)
    assert {"m", "v", "m_hat", "v_hat"} <= set(update["parameters"][0]["state"])
    # The trace stepped a copy: the model predicts as before.
    after = shared_api.post(f"/api/models/{xor_model}/predict", json={"inputs": [[0, 1]]}).json()
    assert after["probabilities"] == before["probabilities"]


def test_trace_by_dataset_index(shared_api, xor_model):
    trace = shared_api.post(f"/api/models/{xor_model}/trace", json={"dataset_index": 3, "split": "train"}).json()
    assert trace["source"] == {"kind": "dataset", "split": "train", "index": 3}
    assert stage(trace, "input")["values"] == [1.0, 1.0] and trace["label"] == 0  # XOR(1, 1) = 0
    relabelled = shared_api.post(f"/api/models/{xor_model}/trace", json={"dataset_index": 3, "label": 1}).json()
    assert relabelled["label"] == 1 and relabelled["loss"] > trace["loss"]


def test_trace_mnist_by_dataset_index_and_by_image(shared_api, mnist_model):
    url = f"/api/models/{mnist_model}/trace"
    response = shared_api.post(url, json={"dataset_index": 0, "split": "test", "optimizer": {"name": "adam"}})
    assert response.status_code == 200, response.text
    assert len(response.content) < 1_000_000
    trace = response.json()
    assert trace["label"] == 7  # the first MNIST test digit
    assert len(stage(trace, "input")["image"]) == 28
    first = stage(trace, "z1")["W"]
    assert "values" not in first and len(first["columns"][0]["image"]) == 28
    assert len(stage(trace, "dW1")["top_k"]) == 10
    assert sum(stage(trace, "output")["values"]) == pytest.approx(1.0, abs=1e-5)
    assert stage(trace, "a1")["zero_units"] >= 0

    drawn = shared_api.post(url, json={"image": digit_png(), "label": 7})
    assert drawn.status_code == 200, drawn.text
    traced = drawn.json()
    assert traced["source"] == {"kind": "image"}
    image = stage(traced, "input")["image"]
    assert len(image) == 28 and max(max(row) for row in image) == 1.0  # preprocessed like MNIST
    assert traced["loss_after_step"] < traced["loss"]


def test_evaluation(shared_api, mnist_model, xor_model):
    response = shared_api.get(f"/api/models/{mnist_model}/evaluation", params={"split": "test"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["n"] == 10000 and result["classes"] == [str(d) for d in range(10)]
    assert [sum(row) for row in result["confusion"]] == result["class_counts"]
    assert sum(result["class_counts"]) == 10000
    record = shared_api.get(f"/api/models/{mnist_model}").json()
    assert result["accuracy"] == pytest.approx(record["metrics"]["test"]["accuracy"], abs=1e-9)
    assert len(result["misclassified"]) == min(100, result["n_misclassified"])
    first = result["misclassified"][0]
    assert first["true"] != first["predicted"]
    capped = shared_api.get(f"/api/models/{mnist_model}/evaluation", params={"limit": 5}).json()
    assert len(capped["misclassified"]) == 5
    xor = shared_api.get(f"/api/models/{xor_model}/evaluation").json()
    assert xor["confusion"] == [[2, 0], [0, 2]] and xor["accuracy"] == 1.0
    # One cell's own mistakes, all of them, most confident first; the counts stay whole.
    t, p = result["most_confused"][0]["true"], result["most_confused"][0]["predicted"]
    cell = shared_api.get(f"/api/models/{mnist_model}/evaluation",
                          params={"true": t, "predicted": p, "limit": 1000}).json()
    assert [(m["true"], m["predicted"]) for m in cell["misclassified"]] == [(t, p)] * result["confusion"][t][p]
    assert [m["confidence"] for m in cell["misclassified"]] == sorted((m["confidence"] for m in cell["misclassified"]),
                                                                      reverse=True)
    assert cell["confusion"] == result["confusion"]
    predicted_only = shared_api.get(f"/api/models/{mnist_model}/evaluation", params={"predicted": p, "limit": 1000}).json()
    assert len(predicted_only["misclassified"]) == sum(row[p] for k, row in enumerate(result["confusion"]) if k != p)


def test_evaluation_rebuilds_the_models_own_split_and_refuses_regression(shared_api):
    gaussians = train(shared_api, GAUSSIANS_RUN)
    result = shared_api.get(f"/api/models/{gaussians}/evaluation").json()
    record = shared_api.get(f"/api/models/{gaussians}").json()
    assert result["n"] == 40 and len(result["confusion"]) == 4  # 20% of 200 points, 4 classes
    assert result["accuracy"] == pytest.approx(record["metrics"]["test"]["accuracy"], abs=1e-9)

    sine = train(shared_api, SINE_RUN)
    assert_error(shared_api.get(f"/api/models/{sine}/evaluation"), 422, "regression")
    trace = shared_api.post(f"/api/models/{sine}/trace", json={"dataset_index": 0}).json()
    assert stage(trace, "output")["symbol"] == "ŷ" and isinstance(trace["label"], list)
    assert stage(trace, "dz2")["formula"] == "dL/dz2 = 2 (ŷ − y) / 1"


def test_trace_and_evaluation_errors(shared_api, xor_model):
    url = f"/api/models/{xor_model}/trace"
    assert_error(shared_api.post("/api/models/nope/trace", json={"input": [0, 1], "label": 0}), 404, "no model with id")
    assert_error(shared_api.get("/api/models/nope/evaluation"), 404, "no model with id")
    assert_error(shared_api.post(url, json={"input": [0, 1, 1], "label": 0}), 422, "3 values", "takes 2")
    assert_error(shared_api.post(url, json={"input": [0, 1], "label": 2}), 422, "out of range", "0..1")
    assert_error(shared_api.post(url, json={"input": [0, 1], "label": 0.5}), 422, "whole class index")
    assert_error(shared_api.post(url, content=b'{"input": [NaN, 1], "label": 0}',
                          headers={"content-type": "application/json"}), 422, "input")
    assert_error(shared_api.post(url, json={"input": [0, 1]}), 422, "label")
    assert_error(shared_api.post(url, json={"input": [0, 1], "dataset_index": 0, "label": 0}), 422, "exactly one of")
    assert_error(shared_api.post(url, json={"dataset_index": 4}), 422, "out of range", "4 examples")
    assert_error(shared_api.post(url, json={"image": "aGVsbG8=", "label": 1}), 422, "not a 28x28 image")
    assert_error(shared_api.post(url, json={"input": [0, 1], "label": 0, "optimizer": {"name": "lbfgs"}}), 422,
                 "optimizer.name")
    assert_error(shared_api.post(url, json={"input": [0, 1], "label": 0, "optimizer": {"lr": 0}}), 422, "optimizer.lr")
    assert_error(shared_api.get(f"/api/models/{xor_model}/evaluation", params={"split": "val"}), 422, "split")


def test_openapi_documents_the_inspect_routes(shared_api):
    spec = shared_api.get("/openapi.json").json()
    assert "post" in spec["paths"]["/api/models/{model_id}/trace"]
    assert spec["paths"]["/api/models/{model_id}/trace"]["post"]["tags"] == ["inspect"]
    assert "/api/models/{model_id}/evaluation" in spec["paths"]
    assert spec["components"]["schemas"]["TraceRequest"]["examples"][0]["label"] == 1


def test_examples_by_index(shared_api, xor_model):
    body = shared_api.get(f"/api/models/{xor_model}/examples", params={"split": "test", "index": [3, 1]}).json()
    assert [e["index"] for e in body["examples"]] == [3, 1]
    assert body["examples"][0]["x"] == [1.0, 1.0] and body["examples"][0]["label"] == 0  # XOR(1, 1)
    assert body["examples"][1]["x"] == [0.0, 1.0] and body["examples"][1]["label"] == 1
    assert_error(shared_api.get(f"/api/models/{xor_model}/examples", params={"index": 9}), 422, "out of range")
