"""The run manager: validates and queues runs, hands them to the executor,
stores every event before announcing it, and fans events out to subscribers.

Threads: routes call it from the event loop or its thread pool; the executor's
bridge thread calls :meth:`RunManager.handle_event`. A lock guards the queue and
the set of active runs; subscribers' asyncio queues are fed on the event loop
through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import uuid
from collections import deque
from dataclasses import dataclass

from mlp_engine import Experiment
from mlp_engine.batches import validation_size
from mlp_engine.serialization import checkpoint_path

from .config import Settings
from .errors import ApiError
from .executor import Executor, LocalProcessExecutor
from .storage import Storage

STATUSES = ("queued", "running", "paused", "completed", "stopped", "failed", "interrupted")
TERMINAL = ("completed", "stopped", "failed")


@dataclass
class Event:
    seq: int
    type: str
    data: str  # JSON


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class RunManager:
    def __init__(self, settings: Settings, storage: Storage, executor: Executor | None = None):
        self.settings = settings
        self.storage = storage
        self.executor = executor or LocalProcessExecutor(self.handle_event)
        self._lock = threading.RLock()
        self._queue: deque[str] = deque()
        self._active: set[str] = set()  # running or paused in a worker
        self._subscribers: dict[str, set[asyncio.Queue]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the event loop; mark runs a previous server left running as
        interrupted and put its queued runs back in the queue."""
        self._loop = loop
        for run in self.storage.runs_with_status("running", "paused"):
            self._emit(run["id"], "status", {"status": "interrupted", "epochs_done": run["epochs_done"]},
                       status="interrupted")
        for run in self.storage.runs_with_status("queued"):
            self._queue.append(run["id"])
        self._start_next()
        self._announce_positions()

    def shutdown(self) -> None:
        self.executor.shutdown()

    # -- paths --------------------------------------------------------------
    def checkpoint_dir(self, run_id: str):
        return self.settings.data_dir / "runs" / run_id

    def model_dir(self, model_id: str):
        return self.settings.data_dir / "models" / model_id

    # -- commands -----------------------------------------------------------
    def create(self, spec: dict) -> dict:
        """Queue a run of ``spec`` (already validated); returns the stored run."""
        with self._lock:
            if len(self._queue) >= self.settings.max_queued_runs and self._slots_free() == 0:
                raise ApiError(429, f"the queue is full ({self.settings.max_queued_runs} runs wait): "
                                    "wait for a run to finish or stop one")
            run_id = new_id()
            self.storage.create_run(run_id, spec, "queued")
            self._queue.append(run_id)
            self._emit(run_id, "status", {"status": "queued", "position": len(self._queue)})
            self._start_next()
        return self.get(run_id)

    def pause(self, run_id: str) -> dict:
        run = self._require(run_id)
        if run["status"] != "running":
            raise ApiError(409, f"run {run_id} is {run['status']}: only a running run can be paused")
        self.executor.control(run_id, "pause")
        return run

    def resume(self, run_id: str) -> dict:
        run = self._require(run_id)
        if run["status"] == "paused":
            self.executor.control(run_id, "resume")
        elif run["status"] == "interrupted":  # from its last checkpoint, or from scratch if none
            with self._lock:
                self._queue.append(run_id)
                self._emit(run_id, "status", {"status": "queued", "position": len(self._queue)}, status="queued")
                self._start_next()
        else:
            raise ApiError(409, f"run {run_id} is {run['status']}: only a paused or interrupted run can be resumed")
        return self.get(run_id)

    def stop(self, run_id: str) -> dict:
        run = self._require(run_id)
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
                self._finish(run_id, {"status": "stopped", "stop_reason": "cancelled",
                                      "epochs_done": run["epochs_done"], "model_id": None, "test_metrics": None})
                self._announce_positions()
            elif run_id in self._active:
                self.executor.control(run_id, "stop")  # the worker ends the epoch's batch and saves the model
            elif run["status"] == "interrupted":
                self._finish(run_id, {"status": "stopped", "stop_reason": "cancelled",
                                      "epochs_done": run["epochs_done"], "model_id": None, "test_metrics": None})
            else:
                raise ApiError(409, f"run {run_id} is already {run['status']}")
        return self.get(run_id)

    def delete(self, run_id: str) -> None:
        self._require(run_id)
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
            if run_id in self._active:
                self.executor.cancel(run_id)
                self._active.discard(run_id)
            self.storage.delete_run(run_id)
            self._start_next()
            self._announce_positions()
        shutil.rmtree(self.checkpoint_dir(run_id), ignore_errors=True)
        self._publish(run_id, Event(0, "deleted", json.dumps({"status": "deleted"})))

    # -- queries ------------------------------------------------------------
    def get(self, run_id: str) -> dict:
        run = self._require(run_id)
        run["queue_position"] = self.queue_position(run_id)
        return run

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            return self._queue.index(run_id) + 1 if run_id in self._queue else None

    def _require(self, run_id: str) -> dict:
        run = self.storage.get_run(run_id)
        if run is None:
            raise ApiError(404, f"no run with id {run_id!r}: list runs with GET /api/runs")
        return run

    # -- scheduling ---------------------------------------------------------
    def _slots_free(self) -> int:
        return self.settings.max_concurrent_runs - len(self._active)

    def _start_next(self) -> None:
        with self._lock:
            while self._queue and self._slots_free() > 0:
                run_id = self._queue.popleft()
                run = self.storage.get_run(run_id)
                resume = checkpoint_path(self.checkpoint_dir(run_id)).exists()
                model_id = new_id()
                job = {
                    "run_id": run_id, "spec": run["spec"], "resume": resume, "model_id": model_id,
                    "epochs_stored": run["epochs_done"],
                    "mnist_dir": str(self.settings.mnist_dir) if self.settings.mnist_dir else None,
                    "checkpoint_dir": str(self.checkpoint_dir(run_id)), "model_dir": str(self.model_dir(model_id)),
                    "progress_interval": self.settings.progress_interval,
                    # Runs share the cores: threads or processes that outnumber them spin and steal time.
                    "cores": max(1, (os.cpu_count() or 1) // self.settings.max_concurrent_runs),
                }
                self._active.add(run_id)
                self.executor.submit(run_id, job)
                self._announce_positions()

    def _announce_positions(self) -> None:
        with self._lock:
            for position, run_id in enumerate(self._queue, start=1):
                self._emit(run_id, "status", {"status": "queued", "position": position})

    # -- events -------------------------------------------------------------
    def handle_event(self, run_id: str, type_: str, data: dict) -> None:
        """From the executor (bridge thread): store, then announce."""
        if self.storage.get_run(run_id) is None:  # deleted meanwhile
            return
        if type_ == "status":
            self._emit(run_id, type_, data, status=data["status"], epochs_done=data["epochs_done"])
        elif type_ == "epoch":
            self._emit(run_id, type_, data, epochs_done=data["epoch"])
        elif type_ == "done":
            self._finish(run_id, data)
        elif type_ == "error":
            self._emit(run_id, "error", data, status="failed", error=data["message"])
            self._release(run_id)
        else:
            self._emit(run_id, type_, data)

    def _finish(self, run_id: str, done: dict) -> None:
        """Record a run's end: its model (if any), the done event, a free slot."""
        if done.get("model_id"):
            arch = done.pop("architecture")
            info = done.pop("dataset_info")
            sizes = "-".join(str(s) for s in [arch["input_dim"], *(h["units"] for h in arch["hidden"]), arch["output_dim"]])
            self.storage.create_model(
                done["model_id"], run_id=run_id, name=f"{info['name']} {sizes}", dataset=info["name"],
                source="trained", architecture=arch,
                metrics={"test": done["test_metrics"], "epochs": done["epochs_done"], "dataset": info},
                n_params=done.pop("n_params"),
            )
        self._emit(run_id, "done", done, status=done["status"], epochs_done=done["epochs_done"],
                   model_id=done.get("model_id"), test_metrics=done.get("test_metrics"))
        self._release(run_id)

    def _release(self, run_id: str) -> None:
        with self._lock:
            self._active.discard(run_id)
            self._start_next()
            self._announce_positions()

    def _emit(self, run_id: str, type_: str, data: dict, **run_fields) -> None:
        payload = json.dumps(data)
        seq = self.storage.append_event(run_id, type_, data, run_fields)
        self._publish(run_id, Event(seq, type_, payload))

    # -- subscribers --------------------------------------------------------
    def subscribe(self, run_id: str) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue()
        self._subscribers.setdefault(run_id, set()).add(q)
        return q

    def unsubscribe(self, run_id: str, q: asyncio.Queue) -> None:
        subs = self._subscribers.get(run_id)
        if subs is not None:
            subs.discard(q)
            if not subs:
                self._subscribers.pop(run_id, None)

    def _publish(self, run_id: str, event: Event) -> None:
        if self._loop is None or not self._subscribers.get(run_id):
            return

        def deliver():
            for q in list(self._subscribers.get(run_id, ())):
                q.put_nowait(event)

        self._loop.call_soon_threadsafe(deliver)


def validate_spec(spec: dict, settings: Settings) -> dict:
    """Check a run spec against the limits and the engine; returns it normalised
    (every field filled in). Raises ApiError(422) saying what to change and where."""
    layers = spec.get("layers", ())
    widest = max(range(len(layers)), key=lambda i: layers[i].get("units", 0), default=0)
    limits = [
        (len(layers), settings.max_hidden_layers, "hidden layers", "MLP_MAX_HIDDEN_LAYERS", ["layers"]),
        (layers[widest].get("units", 0) if layers else 0, settings.max_units, "units in a layer", "MLP_MAX_UNITS",
         ["layers", widest, "units"]),
        (spec.get("epochs", 0), settings.max_epochs, "epochs", "MLP_MAX_EPOCHS", ["epochs"]),
        (spec.get("batch_size", 0), settings.max_batch_size, "batch_size", "MLP_MAX_BATCH_SIZE", ["batch_size"]),
    ]
    for value, limit, what, env, loc in limits:
        if value > limit:
            raise ApiError(422, f"{value} {what} is over this server's limit of {limit} ({env})", ["body", *loc])
    experiment = _checked(None, lambda: Experiment.from_dict(spec), spec)
    info = _checked(["dataset_params"], lambda: experiment.dataset_info(settings.mnist_dir), spec)
    _checked(["layers"], lambda: experiment.model_config(info), spec)
    _checked(["augment"], lambda: experiment.image_shape(info), spec)
    if experiment.validation_split:
        _checked(["validation_split"], lambda: validation_size(info["train_size"], experiment.validation_split), spec)
    _checked(None, experiment.train_config, spec)
    return experiment.to_dict()


def _checked(loc: list | None, check, spec: dict):
    """``check()``, its ValueError a 422 at ``loc`` (or at the field its message names)."""
    try:
        return check()
    except (FileNotFoundError, ValueError) as exc:
        message = str(exc)
        loc = loc or _field_named_in(message, spec)
        raise ApiError(422, message, None if loc is None else ["body", *loc]) from None


def _field_named_in(message: str, spec: dict) -> list | None:
    """The spec field an engine message is about, when it starts with its name."""
    for field in spec:
        if message.startswith(field) or message.startswith(field.replace("_", " ")):
            return [field]
    return None
