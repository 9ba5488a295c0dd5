"""Runs over real HTTP: create, stream, reconnect, control, restart, predict.

The tests share one server (``shared_api``) and look only at the runs they create;
those that kill or restart a server have their own (``server``, ``api``). Requests
answered without training (validation, 404s, datasets, OpenAPI) go to the app in
this process (``app_client``)."""

from __future__ import annotations

import os
import sqlite3
import time

import httpx
import pytest

from mlp_engine import MLP, LayerSpec, ModelConfig, model_to_zip
from tests.app.helpers import XOR_RUN, assert_error, read_events
from tests.app.live_server import LiveServer

# Long enough to act on mid-run (~0.1 s an epoch here), small enough for CI.
SLOW_RUN = {"dataset": "gaussians", "dataset_params": {"n_samples": 12000, "noise": 0.3},
            "layers": [{"units": 32, "activation": "relu"}], "epochs": 60, "batch_size": 16}


def wait_for(api: httpx.Client, run_id: str, condition, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/api/runs/{run_id}").json()
        if condition(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never got there: {run['status']}, {run['epochs_done']} epochs")


@pytest.fixture(scope="module")
def xor_model(shared_api) -> str:
    """A trained XOR model on the shared server."""
    run_id = shared_api.post("/api/runs", json=XOR_RUN).json()["id"]
    return read_events(shared_api, run_id)[-1]["data"]["model_id"]


def test_create_follow_and_predict(shared_api):
    created = shared_api.post("/api/runs", json=XOR_RUN)
    assert created.status_code == 201
    run_id = created.json()["id"]
    assert created.json()["status"] in ("queued", "running")

    events = read_events(shared_api, run_id)
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(ids) + 1))  # every event numbered, in order
    epochs = [e["data"] for e in events if e["event"] == "epoch"]
    assert [m["epoch"] for m in epochs] == list(range(1, 151))
    layer = epochs[-1]["layers"][0]
    assert layer["shape"] == [2, 4]
    assert len(layer["weights"]["edges"]) == len(layer["weights"]["counts"]) + 1
    assert sum(layer["gradients"]["counts"]) == 8
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[-1]["view"]["kind"] == "decision_grid"
    done = events[-1]
    assert done["event"] == "done" and done["data"]["status"] == "completed"
    assert done["data"]["test_metrics"]["accuracy"] == 1.0

    run = shared_api.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "completed" and run["epochs_done"] == 150
    assert len(run["history"]) == 150 and run["model_id"] == done["data"]["model_id"]

    model_id = run["model_id"]
    predicted = shared_api.post(f"/api/models/{model_id}/predict", json={"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]]})
    assert predicted.status_code == 200
    body = predicted.json()
    assert body["predictions"] == [0, 1, 1, 0]
    assert all(abs(sum(p) - 1) < 1e-5 for p in body["probabilities"])
    assert len(body["activations"]) == 4 and len(body["activations"][0][0]) == 4  # 4 examples x 1 layer x 4 units


def test_reconnect_with_last_event_id_gets_exactly_the_rest(shared_api):
    run_id = shared_api.post("/api/runs", json=XOR_RUN).json()["id"]
    first = read_events(shared_api, run_id, limit=10)
    rest = read_events(shared_api, run_id, last_event_id=first[-1]["id"])
    everything = read_events(shared_api, run_id)
    assert [e["id"] for e in first + rest] == [e["id"] for e in everything]
    assert rest[0]["id"] == first[-1]["id"] + 1


def test_two_clients_watch_one_run_and_get_the_same_events(shared_api, shared_server):
    run_id = shared_api.post("/api/runs", json=XOR_RUN).json()["id"]
    with httpx.Client(base_url=shared_server.url, timeout=30) as other:
        a = read_events(shared_api, run_id)
        b = read_events(other, run_id)
    assert [(e["id"], e["event"]) for e in a] == [(e["id"], e["event"]) for e in b]


def test_pause_resume_stop(shared_api):
    run_id = shared_api.post("/api/runs", json=SLOW_RUN).json()["id"]
    wait_for(shared_api, run_id, lambda r: r["status"] == "running" and r["epochs_done"] >= 1)
    assert shared_api.post(f"/api/runs/{run_id}/pause").status_code == 200
    paused = wait_for(shared_api, run_id, lambda r: r["status"] == "paused")
    time.sleep(0.5)
    assert shared_api.get(f"/api/runs/{run_id}").json()["epochs_done"] == paused["epochs_done"]  # really paused
    assert_error(shared_api.post(f"/api/runs/{run_id}/pause"), 409, "only a running run can be paused")
    assert shared_api.post(f"/api/runs/{run_id}/resume").status_code == 200
    wait_for(shared_api, run_id, lambda r: r["status"] == "running" and r["epochs_done"] > paused["epochs_done"])
    shared_api.post(f"/api/runs/{run_id}/stop")
    stopped = wait_for(shared_api, run_id, lambda r: r["status"] == "stopped")
    assert stopped["epochs_done"] < 60
    assert stopped["model_id"]  # the weights trained so far are kept
    statuses = [e["data"]["status"] for e in read_events(shared_api, run_id) if e["event"] == "status"]
    assert "paused" in statuses and statuses.count("running") >= 2
    assert_error(shared_api.post(f"/api/runs/{run_id}/resume"), 409, "is stopped")


def test_queue_beyond_concurrency_reports_positions(shared_api):
    """Tests before it ended their runs (a run's slot is free once its done event is out)."""
    ids = [shared_api.post("/api/runs", json=SLOW_RUN).json()["id"] for _ in range(3)]
    third = shared_api.get(f"/api/runs/{ids[2]}").json()
    assert third["status"] == "queued" and third["queue_position"] == 1
    for run_id in ids[:2]:  # both slots train (a worker reports "running" once it has started)
        wait_for(shared_api, run_id, lambda r: r["status"] == "running")
    assert shared_api.get(f"/api/runs/{ids[2]}").json()["status"] == "queued"  # answered while two runs train
    shared_api.post(f"/api/runs/{ids[0]}/stop")
    wait_for(shared_api, ids[2], lambda r: r["status"] == "running")
    for run_id in ids:
        shared_api.delete(f"/api/runs/{run_id}")


def test_restart_mid_run_interrupts_then_resume_completes(api, server):
    run_id = api.post("/api/runs", json=SLOW_RUN).json()["id"]
    before = wait_for(api, run_id, lambda r: r["epochs_done"] >= 3)
    server.restart(hard=True)  # the server and its workers die mid-epoch
    with httpx.Client(base_url=server.url, timeout=30) as fresh:
        run = fresh.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted"
        assert run["epochs_done"] >= before["epochs_done"]
        assert fresh.post(f"/api/runs/{run_id}/resume").status_code == 200
        events = read_events(fresh, run_id)
        assert events[-1]["data"]["status"] == "completed"
        history = fresh.get(f"/api/runs/{run_id}").json()["history"]
        assert [m["epoch"] for m in history] == list(range(1, 61))  # no epoch lost or repeated
        ids = [e["id"] for e in events]
        assert ids == sorted(set(ids))


def test_delete_run(shared_api):
    run_id = shared_api.post("/api/runs", json=XOR_RUN).json()["id"]
    read_events(shared_api, run_id)
    assert shared_api.delete(f"/api/runs/{run_id}").status_code == 204
    assert_error(shared_api.get(f"/api/runs/{run_id}"), 404, "no run with id")


def test_runs_are_listed_newest_first_and_paginated(shared_api):
    before = shared_api.get("/api/runs").json()["total"]
    ids = [shared_api.post("/api/runs", json={**XOR_RUN, "epochs": 1}).json()["id"] for _ in range(3)]
    page = shared_api.get("/api/runs", params={"limit": 2}).json()
    assert page["total"] == before + 3 and [r["id"] for r in page["runs"]] == ids[::-1][:2]
    assert [r["id"] for r in shared_api.get("/api/runs", params={"limit": 1, "offset": 2}).json()["runs"]] == ids[:1]


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"layers": [{"units": 4, "activation": "swish"}]}, ["layers.0.activation"]),
        ({"layers": []}, ["layers"]),
        ({"layers": [{"units": 0}]}, ["layers.0.units", "greater than or equal to 1"]),
        ({"optimizer": {"name": "adam", "lr": -1}}, ["optimizer.lr", "greater than 0"]),
        ({"epochs": "many"}, ["epochs"]),
        ({"epochs": 100000}, ["100000 epochs", "limit of 1000", "MLP_MAX_EPOCHS"]),
        ({"layers": [{"units": 4}] * 9}, ["9 hidden layers", "limit of 8"]),
        ({"dataset": "imagenet"}, ["dataset"]),
        ({"dataset_params": {"noise": 5}}, ["unknown parameter"]),
        ({"dataset": "moons", "dataset_params": {"noise": 5}}, ["noise"]),
        ({"early_stopping": 3}, ["validation_split"]),
        ({"surprise": 1}, ["surprise", "Extra inputs are not permitted"]),
        ({"augment": {"max_shift": 9}}, ["augment.max_shift", "less than or equal to 4"]),
        ({"augment": {"max_rotation": 10, "shear": 1}}, ["shear", "Extra inputs are not permitted"]),
        ({"augment": {"max_shift": 2, "max_rotation": 10}}, ["augmentation needs image inputs"]),
    ],
)
def test_bad_run_specs_get_422_with_a_detail(app_client, change, fragments):
    assert_error(app_client.post("/api/runs", json={**XOR_RUN, **change}), 422, *fragments)


def test_bad_requests_never_500(app_client):
    assert_error(app_client.post("/api/runs", content=b"{not json", headers={"content-type": "application/json"}), 422)
    assert_error(app_client.post("/api/runs/nope/stop"), 404, "no run with id 'nope'")
    assert_error(app_client.get("/api/runs/nope/events"), 404)
    assert_error(app_client.get("/api/models/nope"), 404, "no model with id")
    assert_error(app_client.get("/api/runs", params={"limit": 0}), 422, "limit")


def test_predict_rejects_bad_inputs(shared_api, xor_model):
    url = f"/api/models/{xor_model}/predict"
    assert_error(shared_api.post(url, json={"inputs": [[0, 1, 1]]}), 422, "(N, 2)")
    assert_error(shared_api.post(url, json={"inputs": [["a", 1]]}), 422, "inputs")
    nan = shared_api.post(url, content=b'{"inputs": [[NaN, 1]]}', headers={"content-type": "application/json"})
    assert_error(nan, 422)
    assert_error(shared_api.post(url, json={}), 422, "exactly one of")
    assert_error(shared_api.post(url, json={"inputs": [[0, 1]] * 2000}), 422, "MLP_MAX_PREDICT_ROWS")
    assert_error(shared_api.post(url, json={"image": "aGVsbG8="}), 422, "not a 28x28 image")


def test_model_download_and_import_round_trip(shared_api, xor_model):
    blob = shared_api.get(f"/api/models/{xor_model}/download")
    assert blob.headers["content-type"] == "application/zip"
    imported = shared_api.post("/api/models/import", files={"file": ("m.zip", blob.content, "application/zip")})
    assert imported.status_code == 201, imported.text
    new_id = imported.json()["id"]
    assert new_id != xor_model and imported.json()["source"] == "imported"
    inputs = {"inputs": [[0, 1], [1, 1]]}
    assert (shared_api.post(f"/api/models/{new_id}/predict", json=inputs).json()["probabilities"]
            == shared_api.post(f"/api/models/{xor_model}/predict", json=inputs).json()["probabilities"])
    assert_error(shared_api.post("/api/models/import", files={"file": ("m.zip", b"PK not really", "application/zip")}),
                 422, "not a valid model file")


def test_datasets_and_samples(app_client, mnist_dir):
    datasets = {d["name"]: d for d in app_client.get("/api/datasets").json()}
    assert datasets["xor"]["task"] == "binary" and datasets["xor"]["train_size"] == 4
    assert datasets["mnist"]["available"] and datasets["mnist"]["input_shape"] == [28, 28]
    samples = app_client.get("/api/datasets/mnist/samples", params={"n": 4}).json()
    assert len(samples["X"]) == 4 and len(samples["X"][0]) == 28 and len(samples["X"][0][0]) == 28
    assert all(0 <= label <= 9 for label in samples["y"])
    assert_error(app_client.get("/api/datasets/imagenet/samples"), 404, "no dataset 'imagenet'")


def test_openapi_lists_every_route_with_examples(app_client):
    spec = app_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/events", "/api/runs/{run_id}/pause",
                 "/api/runs/{run_id}/resume", "/api/runs/{run_id}/stop", "/api/models", "/api/models/{model_id}",
                 "/api/models/{model_id}/download", "/api/models/import", "/api/models/{model_id}/predict",
                 "/api/datasets", "/api/datasets/{name}/samples", "/api/presets"):
        assert path in paths, path
    assert spec["components"]["schemas"]["RunCreate"]["examples"][0]["dataset"] == "xor"
    assert app_client.get("/docs").status_code == 200


def test_engine_and_limit_errors_say_where(app_client):
    body = assert_error(app_client.post("/api/runs", json={**XOR_RUN, "epochs": 5000}), 422, "MLP_MAX_EPOCHS")
    assert body["errors"][0]["loc"] == ["body", "epochs"]
    moons = {**XOR_RUN, "dataset": "moons", "dataset_params": {"noise": 5}}
    body = assert_error(app_client.post("/api/runs", json=moons), 422, "noise")
    assert body["errors"][0]["loc"] == ["body", "dataset_params"]
    body = assert_error(app_client.post("/api/runs", json={**XOR_RUN, "early_stopping": 2}), 422, "validation_split")
    assert body["errors"][0]["loc"] == ["body", "early_stopping"]
    body = assert_error(app_client.post("/api/runs", json={**XOR_RUN, "augment": {"max_shift": 1}}), 422,
                        "image inputs")
    assert body["errors"][0]["loc"] == ["body", "augment"]


def test_samples_follow_the_run_dataset_params_and_seed(app_client):
    url = "/api/datasets/moons/samples"
    a = app_client.get(url, params={"n": 5, "params": '{"noise": 0.3}', "data_seed": 4}).json()
    b = app_client.get(url, params={"n": 5, "params": '{"noise": 0.3}', "data_seed": 4}).json()
    c = app_client.get(url, params={"n": 5, "params": '{"noise": 0.3}', "data_seed": 5}).json()
    assert a["X"] == b["X"] and a["X"] != c["X"]
    assert_error(app_client.get(url, params={"params": '{"noise": 9}'}), 422, "noise")
    assert_error(app_client.get(url, params={"params": "[1]"}), 422, "JSON object")


def test_history_without_layers_and_events_after_an_id(shared_api):
    run_id = shared_api.post("/api/runs", json={**XOR_RUN, "epochs": 5}).json()["id"]
    events = read_events(shared_api, run_id)
    lean = shared_api.get(f"/api/runs/{run_id}", params={"history": "metrics"}).json()["history"]
    assert len(lean) == 5 and "layers" not in lean[0] and "train_loss" in lean[0]
    with shared_api.stream("GET", f"/api/runs/{run_id}/events", params={"after": events[-2]["id"]}) as response:
        text = response.read().decode()
    assert f"id: {events[-1]['id']}" in text and f"id: {events[-2]['id']}" not in text


def test_mnist_run_with_augmentation_trains(shared_api, mnist_dir):
    spec = {"dataset": "mnist", "dataset_params": {"train_subset": 512}, "layers": [{"units": 16}], "epochs": 1,
            "augment": {"max_shift": 2, "max_rotation": 10}}
    created = shared_api.post("/api/runs", json=spec)
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["augment"] == {"max_shift": 2.0, "max_rotation": 10.0}
    run = wait_for(shared_api, created.json()["id"], lambda r: r["status"] in ("completed", "failed"))
    assert run["status"] == "completed", run["error"]


def test_an_epoch_checkpointed_but_never_stored_is_announced_on_resume(api, server):
    """The crash window between a worker's checkpoint and the server storing that
    epoch: made exact by dropping the last stored epoch from the real database."""
    run_id = api.post("/api/runs", json=SLOW_RUN).json()["id"]
    wait_for(api, run_id, lambda r: r["epochs_done"] >= 3)
    server.stop(hard=True)
    with sqlite3.connect(server.data_dir / "playground.sqlite3") as db:
        last = db.execute("SELECT MAX(seq) FROM events WHERE run_id = ? AND type = 'epoch'", (run_id,)).fetchone()[0]
        db.execute("DELETE FROM events WHERE run_id = ? AND seq >= ?", (run_id, last))
        db.execute("UPDATE runs SET epochs_done = epochs_done - 1, last_seq = ? WHERE id = ?", (last - 1, run_id))
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as fresh:
        assert fresh.post(f"/api/runs/{run_id}/resume").status_code == 200
        read_events(fresh, run_id)
        history = fresh.get(f"/api/runs/{run_id}").json()["history"]
        assert [m["epoch"] for m in history] == list(range(1, 61))


def test_a_run_with_every_core_trains_tensor_parallel(tmp_path, mnist_dir):
    """With one run at a time, a run gets all the cores, and a network big enough to gain
    trains split over that many processes (mlp_engine/parallel.py)."""
    cores = os.cpu_count() or 1
    live = LiveServer(tmp_path / "data", env={"MLP_MAX_CONCURRENT_RUNS": "1"}).start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            spec = {"dataset": "mnist", "dataset_params": {"train_subset": 10_000}, "layers": [{"units": 512}],
                    "epochs": 2}
            run_id = client.post("/api/runs", json=spec).json()["id"]
            events = read_events(client, run_id)
            running = [e["data"] for e in events if e["event"] == "status" and e["data"]["status"] == "running"]
            assert running[0]["processes"] == (cores if cores > 1 else 1)
            assert events[-1]["event"] == "done", events[-1]
            assert events[-1]["data"]["test_metrics"]["accuracy"] >= 0.93
    finally:
        live.stop()


def test_an_imported_model_past_the_network_limits_is_refused(app_client):
    wide = MLP(ModelConfig(2, (LayerSpec(4097),), 1, head="sigmoid_bce"))
    upload = {"file": ("wide.zip", model_to_zip(wide), "application/zip")}
    assert_error(app_client.post("/api/models/import", files=upload), 422, "4097 units wide", "MLP_MAX_UNITS")
    assert_error(app_client.post("/api/models/import", files={"file": ("m.zip", model_to_zip(wide, ["x"]), "x")}),
                 422, "metadata must be an object")
    assert all(m["architecture"]["hidden"][0]["units"] != 4097 for m in app_client.get("/api/models").json())
