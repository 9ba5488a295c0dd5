"""The body of a training worker process.

It trains one run, obeys the control flag the server sets (pause, resume,
stop), writes checkpoints and the final model into the data directory, and
reports everything as ``(run_id, type, data)`` tuples down its events pipe. It
never touches SQLite: the server is the only writer.

It dies with the server: a thread waits on a lifeline pipe whose only writing end
the server holds, and ends the process when it closes (the server exited or was
killed); the tensor-parallel peers it forks die with it (``PR_SET_PDEATHSIG``).

It is fenced: each start of a run is a new attempt, whose number the server writes
in the run's fence file (:func:`claim_run`). Before each write of a checkpoint or a
model the worker checks, under a lock on that file, that its attempt is still the
run's; a stale worker (one the server fenced off and started again) exits without
writing.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from threadpoolctl import threadpool_limits

from mlp_engine import MLP, Experiment, Trainer, evaluate, load_checkpoint, save_checkpoint, save_model
from mlp_engine.engines import processes_for
from mlp_engine.visualize import prediction_view

# Values of the shared control flag.
RUN, PAUSE, STOP = 0, 1, 2
#: Training yields the CPU to the server process, so requests stay fast while runs train.
WORKER_NICENESS = 10
#: Boundary pictures per run at most (plus the last epoch's), to bound the event history.
MAX_VIEWS = 50
#: The run's fence file, in its checkpoint directory: the number of its current attempt.
FENCE_FILE = "attempt"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class Job:
    """One start of a run in a worker: the validated spec and what the worker needs besides."""

    run_id: str
    attempt: int  # this start's number: the run's fence file holds the current one
    experiment: Experiment
    resume: bool  # from the checkpoint in checkpoint_dir
    epochs_stored: int  # epochs the server has stored: a resume announces any after these
    model_id: str  # the id the trained model is saved under (in model_dir)
    model_dir: Path
    checkpoint_dir: Path
    mnist_dir: Path | None
    progress_interval: float  # least seconds between two progress events
    cores: int  # tensor-parallel processes where the network is big enough to gain, else BLAS threads


class Fenced(Exception):
    """This worker's attempt is no longer the run's: it may not write."""


def claim_run(checkpoint_dir: Path, attempt: int) -> None:
    """Make ``attempt`` the run's current one (in the server, before its worker starts):
    from now on a worker of any other attempt may not write into the run's files."""
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(checkpoint_dir / FENCE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for a worker's write in progress
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(attempt).encode(), 0)
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _fenced_write(job: Job) -> Iterator[None]:
    """Hold the run's fence file while writing its files; raise :class:`Fenced` if
    ``job``'s attempt is no longer the run's (or the run's files are gone)."""
    try:
        fd = os.open(job.checkpoint_dir / FENCE_FILE, os.O_RDONLY)
    except FileNotFoundError:
        raise Fenced(f"run {job.run_id} has no fence file: it was deleted") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        current = os.pread(fd, 32, 0).decode()
        if current != str(job.attempt):
            raise Fenced(f"run {job.run_id} is at attempt {current}, this worker's is {job.attempt}")
        yield
    finally:
        os.close(fd)


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent exits (Linux); exit now if it already has."""
    parent = os.getppid()
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _exit_when_closed(lifeline: Connection) -> None:
    """Wait for the server's end of ``lifeline`` to close, then end this process at once."""
    try:
        lifeline.recv_bytes()  # the server never writes: this returns only at EOF
    except (EOFError, OSError):
        pass
    os._exit(1)  # no more checkpoints, no model, no events: nobody would record them


def run_job(job: Job, control, events: Connection, lifeline: Connection) -> None:
    """Train ``job``, obeying ``control`` (RUN, PAUSE, STOP); send ``(run_id, type, data)``
    down the ``events`` pipe: status, progress, epoch, then done or error. Ends the
    process when ``lifeline`` closes; returns without a word once fenced off."""

    def emit(type_: str, data: dict) -> None:
        events.send((job.run_id, type_, data))

    threading.Thread(target=_exit_when_closed, args=(lifeline,), name="lifeline", daemon=True).start()
    os.register_at_fork(after_in_child=_die_with_parent)  # the tensor-parallel peers
    os.nice(WORKER_NICENESS)
    try:
        with threadpool_limits(limits=job.cores):
            _train(job, control, emit)
    except Fenced:
        return  # a newer attempt owns the run: its worker reports for it
    except Exception as exc:  # the run fails, the server lives on
        emit("error", {"message": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)})


def _train(job: Job, control, emit) -> None:
    experiment = job.experiment
    data = experiment.load_dataset(job.mnist_dir)
    config = experiment.train_config()
    if job.resume:
        model, arrays, scalars = load_checkpoint(job.checkpoint_dir)
    else:
        model = MLP(experiment.model_config(data.info()))
    processes = processes_for(model, len(data.X_train), config.batch_size, job.cores)
    trainer = Trainer(model, config, data.X_train, data.y_train, image_shape=data.image_shape,
                      image_background=data.image_background, processes=processes)
    if job.resume:
        trainer.load_state_dict(arrays, scalars)
        # The checkpoint is written before its epoch is announced: epochs the server
        # never stored (it died in between) are announced now, so none goes missing.
        for metrics in trainer.history[job.epochs_stored:]:
            emit("epoch", metrics)
    emit("status", {"status": "running", "epochs_done": trainer.epoch, "processes": processes})

    progress = _ProgressReporter(trainer, emit, job.progress_interval)
    view_every = max(1, experiment.epochs // MAX_VIEWS)

    def on_batch(info: dict) -> None:
        progress(info)
        if control.value == PAUSE:
            emit("status", {"status": "paused", "epochs_done": trainer.epoch})
            while control.value == PAUSE:
                time.sleep(0.05)
            if control.value == RUN:
                emit("status", {"status": "running", "epochs_done": trainer.epoch})
                progress.restart_clock()

    def on_epoch(metrics: dict) -> None:
        # Checkpoint first: an announced epoch is always one a resume can start after.
        with _fenced_write(job):
            save_checkpoint(job.checkpoint_dir, model, *trainer.state_dict())
        event = {**metrics, "ended_at": time.time()}  # wall clock, for measuring delivery latency
        if metrics["epoch"] % view_every == 0 or metrics["epoch"] == experiment.epochs:
            event["view"] = prediction_view(model, data.X_train)
        emit("epoch", event)

    result = trainer.run(on_epoch=on_epoch, on_batch=on_batch, should_stop=lambda: control.value == STOP)
    status = "stopped" if result.stop_reason == "cancelled" else "completed"
    done = {"status": status, "stop_reason": result.stop_reason, "epochs_done": trainer.epoch,
            "best_epoch": result.best_epoch, "model_id": None, "test_metrics": None}
    if trainer.epoch > 0:
        test = evaluate(model, data.X_test, data.y_test)
        # The metadata a model file carries (as an exported one does): the model library records it.
        meta = {"dataset": data.name, "metrics": {"test": test, "epochs": trainer.epoch, "dataset": data.info()},
                "spec": experiment.to_dict(), "run_id": job.run_id}
        with _fenced_write(job):
            save_model(model, job.model_dir, meta)
        done.update(model_id=job.model_id, test_metrics=test)
    emit("done", done)


class _ProgressReporter:
    """Turns per-batch callbacks into at most one progress event per interval,
    with throughput and the time left for the whole run."""

    def __init__(self, trainer: Trainer, emit, interval: float):
        self.trainer, self.emit, self.interval = trainer, emit, interval
        self.total_batches = trainer.batches_per_epoch * trainer.config.epochs
        self.restart_clock()

    def restart_clock(self) -> None:
        self.start, self.start_step, self.last = time.perf_counter(), self.trainer.step, 0.0

    def __call__(self, info: dict) -> None:
        now = time.perf_counter()
        if now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.start
        steps = self.trainer.step - self.start_step
        rate = steps / elapsed if elapsed > 0 else 0.0
        left = self.total_batches - self.trainer.step
        self.emit("progress", {
            **info,
            "samples_per_second": rate * self.trainer.config.batch_size,
            "eta_seconds": left / rate if rate > 0 else None,
        })
