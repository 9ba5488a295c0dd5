"""The run manager with real parts (SQLite in a tmp dir, the model library, worker
processes) and no HTTP: checks, queueing, events, models, restarts."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from app.config import Settings
from app.errors import ApiError
from app.models import ModelLibrary
from app.runs import RunManager
from app.schemas import RunCreate
from app.storage import SCHEMA, Storage
from app.worker import FENCE_FILE
from tests.app.helpers import XOR_RUN

QUICK = {**XOR_RUN, "epochs": 20}
# Long enough to act on mid-run (about 0.1 s an epoch here).
SLOW = {"dataset": "gaussians", "dataset_params": {"n_samples": 12000, "noise": 0.3},
        "layers": [{"units": 32, "activation": "relu"}], "epochs": 60, "batch_size": 16}


def spec(**fields) -> dict:
    """A run spec as the route hands it over (``RunCreate.model_dump()``: every field)."""
    return RunCreate(**fields).model_dump()


def with_manager(settings: Settings, body):
    """Run ``await body(manager, storage)`` with a started manager on an event loop."""

    async def main():
        storage = Storage(settings.data_dir / "playground.sqlite3")
        manager = RunManager(settings, storage, ModelLibrary(settings, storage))
        manager.start(asyncio.get_running_loop())
        try:
            return await asyncio.wait_for(body(manager, storage), 60)
        finally:
            manager.shutdown()
            storage.close()

    return asyncio.run(main())


async def follow(manager: RunManager, run_id: str, after: int = 0) -> list[tuple[int, str, dict]]:
    """The run's events until its last: [(seq, type, data)]."""
    return [(e.seq, e.type, json.loads(e.data)) async for e in await manager.events(run_id, after)]


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", max_concurrent_runs=1, max_queued_runs=2)


def test_a_run_trains_and_its_model_is_recorded_from_its_files(settings):
    async def body(manager, storage):
        run = manager.create(spec(**QUICK))
        assert run["status"] == "queued" and run["spec"]["epochs"] == 20
        events = await follow(manager, run["id"])
        assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
        assert [d["epoch"] for _, t, d in events if t == "epoch"] == list(range(1, 21))
        _, last, done = events[-1]
        assert last == "done" and done["status"] == "completed"
        # The done event carries what clients read; the model's record went to the library.
        assert set(done) == {"status", "stop_reason", "epochs_done", "best_epoch", "model_id", "test_metrics"}
        record = manager.models.record(done["model_id"])
        assert record["run_id"] == run["id"] and record["source"] == "trained" and record["name"] == "xor 2-4-1"
        assert record["metrics"]["test"] == done["test_metrics"] and record["metrics"]["epochs"] == 20
        assert record["metrics"]["dataset"]["name"] == "xor" and record["n_params"] == 17
        stored = manager.get(run["id"])
        assert (stored["status"], stored["model_id"], stored["epochs_done"]) == ("completed", done["model_id"], 20)
        assert len(manager.history(run["id"])) == 20 and "layers" not in manager.history(run["id"], True)[0]
        # A late follower gets the stored events, from any id.
        assert await follow(manager, run["id"]) == events
        assert await follow(manager, run["id"], after=events[-3][0]) == events[-2:]

    with_manager(settings, body)


def test_checks_say_what_to_change_and_where(settings):
    async def body(manager, storage):
        with pytest.raises(ApiError) as exc:
            manager.create(spec(**{**QUICK, "epochs": 5000}))
        assert exc.value.status_code == 422 and "MLP_MAX_EPOCHS" in exc.value.detail
        assert exc.value.loc == ["body", "epochs"]
        with pytest.raises(ApiError) as exc:
            manager.create(spec(**{**QUICK, "early_stopping": 2}))
        assert exc.value.loc == ["body", "early_stopping"]
        assert storage.list_runs(10, 0)[1] == 0  # nothing was stored
        with pytest.raises(ApiError) as exc:
            manager.get("nope")
        assert exc.value.status_code == 404
        with pytest.raises(ApiError):
            await manager.events("nope")

    with_manager(settings, body)


def test_queue_positions_stop_a_queued_run_and_a_full_queue(settings):
    async def body(manager, storage):
        first, second, third = (manager.create(spec(**SLOW))["id"] for _ in range(3))
        assert [manager.get(r)["queue_position"] for r in (first, second, third)] == [None, 1, 2]
        with pytest.raises(ApiError) as exc:  # one training, two waiting: the queue is full
            manager.create(spec(**QUICK))
        assert exc.value.status_code == 429 and "queue is full" in exc.value.detail

        stopped = manager.stop(second)
        assert stopped["status"] == "stopped" and stopped["queue_position"] is None
        assert manager.get(third)["queue_position"] == 1
        assert (await follow(manager, second))[-1][2]["stop_reason"] == "cancelled"
        with pytest.raises(ApiError) as exc:
            manager.stop(second)
        assert exc.value.status_code == 409

        manager.delete(first)  # the running one: its slot goes to the next in the queue
        assert manager.get(third)["queue_position"] is None
        manager.stop(third)
        events = await follow(manager, third)
        assert events[-1][1] == "done" and events[-1][2]["status"] == "stopped"

    with_manager(settings, body)


def test_a_deleted_run_ends_its_stream(settings):
    async def body(manager, storage):
        run_id = manager.create(spec(**SLOW))["id"]
        stream = await manager.events(run_id)
        assert (await anext(stream)).type == "status"
        manager.delete(run_id)
        assert [e async for e in stream if e.type in ("done", "error")] == []
        with pytest.raises(ApiError):
            manager.get(run_id)

    with_manager(settings, body)


def test_after_a_restart_running_runs_are_interrupted_and_queued_ones_start(settings):
    storage = Storage(settings.data_dir / "playground.sqlite3")
    running, queued = storage.create_run(spec(**QUICK)), storage.create_run(spec(**QUICK))
    storage.append_event(running, "status", {"status": "running", "epochs_done": 0}, {"status": "running"})
    storage.close()  # as a server that died would leave them

    async def body(manager, storage):
        assert manager.get(running)["status"] == "interrupted"
        # A new attempt fences off whatever the previous server left writing.
        assert manager.get(running)["attempt"] == 1
        assert (settings.data_dir / "runs" / running / FENCE_FILE).read_text() == "1"
        assert (await follow(manager, queued))[-1][2]["status"] == "completed"
        manager.resume(running)  # no checkpoint: it starts from scratch
        events = await follow(manager, running)
        statuses = [d["status"] for _, t, d in events if t == "status"]
        assert statuses[:4] == ["running", "interrupted", "queued", "running"]
        assert events[-1][2]["status"] == "completed" and events[-1][2]["epochs_done"] == 20
        assert manager.get(running)["attempt"] == 2 and manager.get(queued)["attempt"] == 1

    with_manager(settings, body)


def test_the_library_caches_loaded_models_until_deleted(settings):
    async def body(manager, storage):
        run_id = manager.create(spec(**QUICK))["id"]
        model_id = (await follow(manager, run_id))[-1][2]["model_id"]
        models = manager.models
        loaded = models.load(model_id)
        assert models.load(model_id) is loaded  # no second read from disk
        assert loaded.spec["epochs"] == 20 and loaded.classes == ["0", "1"]
        imported = models.import_zip(models.export_zip(model_id))
        assert imported["source"] == "imported" and imported["name"] == "xor 2-4-1"
        assert models.load(imported["id"]).spec == loaded.spec  # the spec travels in the zip
        models.delete(model_id)
        assert not models.path(model_id).exists()
        with pytest.raises(ApiError) as exc:
            models.load(model_id)
        assert exc.value.status_code == 404
        assert [m["id"] for m in models.records()] == [imported["id"]]

    with_manager(settings, body)


def test_events_of_a_stale_attempt_are_refused(settings):
    """A worker of an earlier attempt (one a restart fenced off) is not heard."""

    async def body(manager, storage):
        run_id = manager.create(spec(**SLOW))["id"]
        stream = await manager.events(run_id)
        assert (await anext(stream)).type == "status"  # running: a free worker took it at once
        assert storage.get_run(run_id)["attempt"] == 1
        manager.handle_event(run_id, 0, "epoch", {"epoch": 999, "train_loss": 0.0})
        manager.handle_event(run_id, 0, "done", {"status": "completed", "stop_reason": "finished",
                                                  "epochs_done": 999, "best_epoch": None, "model_id": None,
                                                  "test_metrics": None})
        manager.handle_event(run_id, 0, "died", {"message": "killed"})
        manager.stop(run_id)
        events = [(e.type, json.loads(e.data)) async for e in stream]
        assert all(d.get("epoch") != 999 and d.get("epochs_done") != 999 for _, d in events)
        assert events[-1][0] == "done" and events[-1][1]["status"] == "stopped"
        run = manager.get(run_id)
        assert run["status"] == "stopped" and run["error"] is None and run["epochs_done"] < 999

    with_manager(settings, body)


def test_a_database_from_before_attempts_gets_the_column(settings):
    settings.data_dir.mkdir(parents=True)
    path = settings.data_dir / "playground.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA.replace(",\n    attempt INTEGER NOT NULL DEFAULT 0", ""))
        assert "attempt" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        db.execute("INSERT INTO runs (id, created_at, updated_at, status, spec, dataset, epochs_total)"
                   " VALUES ('old', 0, 0, 'completed', '{}', 'xor', 1)")
    db.close()
    storage = Storage(path)
    try:
        assert storage.get_run("old")["attempt"] == 0
        assert storage.start_attempt("old") == 1
    finally:
        storage.close()
