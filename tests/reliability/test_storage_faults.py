"""Storage faults degrade, never wedge (issue #14 item 2): on a real file system
that runs out of room (a small tmpfs, filled up), SQLite and the model files fail
for real; the bridge lives on, requests answer 503 JSON, and once there is room
again the service recovers without a restart.

Mounting a tmpfs needs root (or CAP_SYS_ADMIN): these tests skip where it is refused.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.executor import LocalProcessExecutor
from app.storage import Storage, fault_reason
from mlp_engine import MLP, LayerSpec, ModelConfig, model_to_zip
from tests.app.helpers import XOR_RUN, assert_error, read_events
from tests.app.live_server import LiveServer
from tests.app.test_executor import XOR, Recorder, is_last, job
from tests.app.test_run_manager import spec, with_manager

DISK_BYTES = 32 * 2**20
# Long enough to fill the disk mid-run (~0.1 s an epoch here).
SLOW_RUN = {"dataset": "gaussians", "dataset_params": {"n_samples": 12000, "noise": 0.3},
            "layers": [{"units": 32, "activation": "relu"}], "epochs": 60, "batch_size": 16}
# One epoch of 80,000 steps (seconds): lost to the full disk before its first checkpoint.
LONG_EPOCH = {**SLOW_RUN, "dataset_params": {"n_samples": 100_000, "noise": 0.3}, "epochs": 1, "batch_size": 1}


class SmallDisk:
    """A tmpfs of ``DISK_BYTES``: ``fill()`` takes every free byte, ``free()`` gives them back."""

    def __init__(self, path: Path):
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for chunk in (2**20, 4096, 1):  # big steps, then the last crumbs
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == 28, exc  # ENOSPC
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path):
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here: {mounted.stderr.strip()}")
    disk = SmallDisk(path)
    yield disk
    disk.free()
    subprocess.run(["umount", "-l", str(path)], check=True)


@pytest.fixture
def read_only(tmp_path):
    """``read_only(path)`` lays a read-only bind mount of ``path`` over itself (chmod
    does not stop root): files opened before keep their access, new writes fail with
    EROFS. Unmounted at the end of the test, or by ``read_only.undo()``."""
    mounted: list[Path] = []

    def make(path: Path) -> None:
        for args in (["--bind", str(path), str(path)], ["-o", "remount,bind,ro", str(path)]):
            done = subprocess.run(["mount", *args], capture_output=True, text=True)
            if done.returncode != 0:
                undo()
                pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.strip()}")
            mounted.append(path)

    def undo() -> None:
        if mounted:
            subprocess.run(["umount", "-l", str(mounted[0])], check=True)
            mounted.clear()

    make.undo = undo
    yield make
    undo()


def test_a_full_disk_fails_a_write_and_the_next_write_after_room_is_made_succeeds(small_disk):
    storage = Storage(small_disk.path / "playground.sqlite3")
    try:
        run_id = storage.create_run({"dataset": "xor", "epochs": 5})
        assert storage.append_event(run_id, "status", {"status": "running"}) == 1
        assert storage.writable()
        small_disk.fill()
        with pytest.raises(sqlite3.OperationalError) as exc:
            storage.append_event(run_id, "epoch", {"epoch": 1, "blob": "x" * 100_000})
        assert fault_reason(exc.value).startswith("the disk is full")
        assert not storage.writable()
        small_disk.free()
        assert storage.writable()
        assert storage.append_event(run_id, "epoch", {"epoch": 1, "blob": "x" * 100_000}) == 2  # no gap
        assert [seq for seq, _, _ in storage.events_after(run_id, 0)] == [1, 2]
    finally:
        storage.close()


def test_the_bridge_outlives_a_callback_that_raises(tmp_path):
    """An event whose handling fails (as a store on a full disk did) must not end the
    bridge: the job's later events and the next job's still come through."""
    recorder, failures = Recorder(), []

    def on_event(run_id, attempt, type_, data):
        if not failures:
            failures.append(type_)
            raise sqlite3.OperationalError("database or disk is full")
        recorder(run_id, attempt, type_, data)

    executor = LocalProcessExecutor(on_event)
    try:
        executor.submit(job(tmp_path, "a", XOR))
        assert recorder.until(is_last, timeout=30)[-1][:2] == ("a", "done")
        executor.submit(job(tmp_path, "b", XOR))
        assert recorder.until(is_last, timeout=30)[-1][:2] == ("b", "done")
        assert failures == ["status"]
    finally:
        executor.shutdown()


def test_a_run_lost_before_its_first_checkpoint_is_recorded_failed_once_there_is_room(small_disk):
    settings = Settings(data_dir=small_disk.path / "data", max_concurrent_runs=1)

    async def until(condition, what: str):
        for _ in range(600):
            if value := condition():
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"never happened: {what}")

    async def body(manager, storage):
        run_id = manager.create(spec(**LONG_EPOCH))["id"]
        stream = await manager.events(run_id)
        async for event in stream:
            if event.type == "progress":
                break
        await stream.aclose()
        small_disk.fill()
        await until(lambda: manager.health()["live_workers"] == 0, "the lost run's worker ended")
        assert storage.get_run(run_id)["status"] == "running"  # its end cannot be stored yet
        small_disk.free()
        run = await until(lambda: (r := storage.get_run(run_id))["status"] != "running" and r, "its end stored")
        assert run["status"] == "failed" and "its events could not be stored: the disk is full" in run["error"]
        last = [event async for event in await manager.events(run_id)][-1]
        assert last.type == "error" and "the disk is full" in last.data

    with_manager(settings, body)


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_a_full_disk_ends_the_run_answers_503_and_the_service_recovers_by_itself(small_disk):
    server = LiveServer(small_disk.path / "data", env={"MLP_MAX_CONCURRENT_RUNS": "1"}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            healthy = api.get("/api/health")
            assert healthy.status_code == 200
            assert set(healthy.json()) == {"database_writable", "free_disk_bytes", "live_workers", "queued", "running"}
            assert healthy.json()["database_writable"] and healthy.json()["free_disk_bytes"] > 0

            slow = api.post("/api/runs", json=SLOW_RUN).json()["id"]
            wait_for(lambda: api.get(f"/api/runs/{slow}").json()["epochs_done"] >= 1, "the slow run's first epoch")
            quick = api.post("/api/runs", json=XOR_RUN).json()["id"]  # waits: one run at a time
            small_disk.fill()

            # The slow run's events can no longer be stored: its worker is ended, the queue holds.
            sick = wait_for(lambda: (r := api.get("/api/health")).status_code == 503
                            and r.json()["live_workers"] == r.json()["running"] == 0 and r.json(),
                            "a 503 health with no worker")
            assert sick == {**sick, "database_writable": False, "queued": 1}
            assert sick["free_disk_bytes"] < 2**20
            assert_error(api.post("/api/runs", json=XOR_RUN), 503, "the disk is full")
            zipped = model_to_zip(MLP(ModelConfig(2, (LayerSpec(4),), 1, head="sigmoid_bce")))
            assert_error(api.post("/api/models/import", files={"file": ("m.zip", zipped, "application/zip")}),
                         503, "the disk is full")
            assert api.get(f"/api/runs/{quick}").json()["status"] == "queued"

            small_disk.free()  # no restart: the service notices by itself
            lost = wait_for(lambda: (r := api.get(f"/api/runs/{slow}").json())["status"] != "running" and r,
                            "the slow run's end recorded")
            assert lost["status"] == "interrupted"  # it has a checkpoint to resume from
            assert "could not be stored: the disk is full" in lost["error"]
            assert read_events(api, quick)[-1]["data"]["status"] == "completed"
            assert api.get("/api/health").status_code == 200
            assert api.post("/api/runs", json=XOR_RUN).status_code == 201
    finally:
        server.stop()


def test_a_read_only_data_dir_answers_503_and_health_recovers_when_it_is_writable_again(tmp_path, read_only):
    server = LiveServer(tmp_path / "data").start()
    zipped = model_to_zip(MLP(ModelConfig(2, (LayerSpec(4),), 1, head="sigmoid_bce")))
    upload = {"file": ("m.zip", zipped, "application/zip")}
    try:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            assert api.get("/api/health").status_code == 200
            read_only(server.data_dir)
            sick = api.get("/api/health")
            assert sick.status_code == 503 and sick.json()["database_writable"] is False
            assert_error(api.post("/api/models/import", files=upload), 503, "the data directory is not writable")
            read_only.undo()  # no restart
            assert api.get("/api/health").status_code == 200
            assert api.post("/api/models/import", files=upload).status_code == 201
    finally:
        server.stop()
