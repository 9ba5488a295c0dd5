"""The local process executor with real worker processes: events come back in
order, control flags reach the worker, and a worker that dies is reported."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from dataclasses import replace

import pytest

from app.executor import LocalProcessExecutor
from app.worker import Job, claim_run
from mlp_engine import Experiment, load_checkpoint, load_model
from mlp_engine.serialization import checkpoint_path

XOR = {"dataset": "xor", "layers": [{"units": 4, "activation": "tanh"}], "init": "xavier",
       "optimizer": {"name": "adam", "lr": 0.05}, "epochs": 30, "batch_size": 4}
# Long enough to act on mid-run (about 0.1 s an epoch here).
SLOW = {"dataset": "gaussians", "dataset_params": {"n_samples": 12000, "noise": 0.3},
        "layers": [{"units": 32, "activation": "relu"}], "epochs": 60, "batch_size": 16}


class Recorder:
    """The executor's ``on_event`` callback: keeps what it gets, in order (and each event's attempt)."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.attempts: set[int] = set()

    def __call__(self, run_id: str, attempt: int, type_: str, data: dict) -> None:
        self.attempts.add(attempt)
        self.events.put((run_id, type_, data))

    def drain(self) -> list[tuple[str, str, dict]]:
        """The events received so far and not yet taken."""
        got = []
        while not self.events.empty():
            got.append(self.events.get_nowait())
        return got

    def until(self, condition, timeout: float = 60) -> list[tuple[str, str, dict]]:
        """Events up to and including the first for which ``condition(type, data)`` holds."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            item = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            got.append(item)
            if condition(item[1], item[2]):
                return got


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def executor(recorder):
    ex = LocalProcessExecutor(recorder)
    yield ex
    ex.shutdown()


def job(tmp_path, run_id: str, spec: dict, attempt: int = 1) -> Job:
    """A job of the run's current attempt (claimed, as the run manager does)."""
    claim_run(tmp_path / "runs" / run_id, attempt)
    return Job(run_id=run_id, attempt=attempt, experiment=Experiment.from_dict(spec), resume=False, epochs_stored=0,
               model_id=f"model-{run_id}", model_dir=tmp_path / "models" / run_id,
               checkpoint_dir=tmp_path / "runs" / run_id, mnist_dir=None, progress_interval=0.05, cores=1)


def is_last(type_: str, data: dict) -> bool:
    return type_ in ("done", "error")


def test_a_job_reports_running_every_epoch_then_done_and_saves_its_model(executor, recorder, tmp_path):
    executor.submit(job(tmp_path, "r1", XOR))
    events = recorder.until(is_last)
    assert {run_id for run_id, _, _ in events} == {"r1"}
    types = [type_ for _, type_, _ in events]
    assert types[0] == "status" and events[0][2]["status"] == "running"
    assert [data["epoch"] for _, type_, data in events if type_ == "epoch"] == list(range(1, 31))
    done = events[-1][2]
    assert types[-1] == "done" and done["status"] == "completed" and done["model_id"] == "model-r1"
    # The public done event says what clients read, and no more: the model is on disk.
    assert set(done) == {"status", "stop_reason", "epochs_done", "best_epoch", "model_id", "test_metrics"}
    model, meta = load_model(tmp_path / "models" / "r1")
    assert model.config.layer_sizes == [2, 4, 1]
    assert meta["dataset"] == "xor" and meta["run_id"] == "r1" and meta["metrics"]["epochs"] == 30
    assert meta["spec"]["epochs"] == 30 and meta["metrics"]["test"] == done["test_metrics"]


def test_pause_resume_and_stop_reach_the_worker(executor, recorder, tmp_path):
    executor.submit(job(tmp_path, "r2", SLOW))
    recorder.until(lambda t, d: t == "epoch")
    executor.control("r2", "pause")
    paused = recorder.until(lambda t, d: t == "status" and d["status"] == "paused")[-1][2]
    time.sleep(0.3)
    assert recorder.drain() == []  # a paused worker says nothing
    executor.control("r2", "resume")
    recorder.until(lambda t, d: t == "status" and d["status"] == "running")
    executor.control("r2", "stop")
    done = recorder.until(is_last)[-1]
    assert done[1] == "done" and done[2]["status"] == "stopped" and done[2]["stop_reason"] == "cancelled"
    assert paused["epochs_done"] <= done[2]["epochs_done"] < 60


def test_a_cancelled_job_says_nothing_more(executor, recorder, tmp_path):
    executor.submit(job(tmp_path, "r3", SLOW))
    recorder.until(lambda t, d: t == "epoch")
    executor.cancel("r3")
    assert not [p for p in mp.active_children() if p.name == "run-r3"]  # killed and joined
    time.sleep(0.6)  # longer than the bridge's poll for dead workers
    assert not [t for _, t, _ in recorder.drain() if t in ("done", "error")]


def test_a_worker_that_dies_is_reported_with_its_signal(executor, recorder, tmp_path):
    executor.submit(job(tmp_path, "r4", SLOW, attempt=3))
    recorder.until(lambda t, d: t == "epoch")
    (worker,) = [p for p in mp.active_children() if p.name == "run-r4"]
    worker.kill()  # as the out-of-memory killer would
    died = recorder.until(lambda t, d: t == "died")[-1]
    assert died[0] == "r4"
    assert died[2]["message"] == "the training process was killed by SIGKILL (likely out of memory)"
    assert recorder.attempts == {3}
    executor.submit(job(tmp_path, "r4b", SLOW))
    recorder.until(lambda t, d: t == "epoch")
    (worker,) = [p for p in mp.active_children() if p.name == "run-r4b"]
    worker.terminate()
    died = recorder.until(lambda t, d: t == "died")[-1]
    assert died[:2] == ("r4b", "died") and died[2]["message"] == "the training process was killed by SIGTERM"


def test_a_failing_job_reports_its_exception(executor, recorder, tmp_path):
    executor.submit(job(tmp_path, "r5", {**XOR, "dataset": "mnist"}))  # mnist_dir None: no files
    error = recorder.until(is_last)[-1]
    assert error[1] == "error" and error[2]["message"].startswith("FileNotFoundError")
    assert "Traceback" in error[2]["traceback"]


def test_workers_killed_mid_message_do_not_silence_the_others(executor, recorder, tmp_path):
    """A worker reporting every batch, killed five times over: the next run is still heard."""
    chatty = {**SLOW, "dataset_params": {"n_samples": 2000, "noise": 0.3}}
    for i in range(5):
        executor.submit(replace(job(tmp_path, f"k{i}", chatty), progress_interval=1e-6))
        recorder.until(lambda t, d: t == "progress")
        executor.cancel(f"k{i}")
        recorder.drain()  # what it said before: the next wait is for the next worker
    executor.submit(job(tmp_path, "after", XOR))
    last = recorder.until(is_last, timeout=30)[-1]
    assert last[:2] == ("after", "done")


def test_a_fenced_off_worker_writes_nothing_more(executor, recorder, tmp_path):
    """Once the run has a newer attempt, the old worker neither checkpoints nor saves its model."""
    executor.submit(job(tmp_path, "f1", SLOW))
    recorder.until(lambda t, d: t == "epoch")
    checkpoint = checkpoint_path(tmp_path / "runs" / "f1")
    claim_run(tmp_path / "runs" / "f1", 2)  # waits for a checkpoint being written
    written = checkpoint.read_bytes()
    fenced_at = load_checkpoint(checkpoint.parent)[2]["epoch"]
    last = recorder.until(lambda t, d: t in ("done", "error", "died"))
    # Epochs past the fence are neither checkpointed nor announced (the checkpoint comes first).
    assert all(d["epoch"] <= fenced_at for _, t, d in last if t == "epoch")
    assert last[-1][1] == "died" and "exit code 0" in last[-1][2]["message"]  # it left without a word
    assert checkpoint.read_bytes() == written
    assert not (tmp_path / "models" / "f1").exists()
