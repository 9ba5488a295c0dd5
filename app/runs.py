"""The run manager: validates and queues runs, hands them to the executor,
stores every event before announcing it, fans events out to subscribers, and
hands each finished run's model to the model library.

Threads: routes call it from the event loop or its thread pool; the executor's
bridge thread calls :meth:`RunManager.handle_event`. A lock guards the queue and
the set of active runs; subscribers' asyncio queues are fed on the event loop
through ``loop.call_soon_threadsafe``.

Fencing: each start of a run in a worker is a new attempt (a counter stored with
the run, also written in the run's fence file for the worker to check before it
writes files); events from any attempt but the run's current one are refused. A
worker that dies without a word leaves its run interrupted, resumable from its
last checkpoint, with the reason in its error.

Storage faults (a full disk, a read-only data directory) degrade, never wedge: a
run whose event cannot be stored is ended and recorded as failed (or interrupted,
when it has a checkpoint) as soon as a write gets through, retried every
``RETRY_SECONDS`` by a timer thread; meanwhile no queued run starts, and once the
ending is stored the queue moves on by itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from mlp_engine import Experiment
from mlp_engine.serialization import checkpoint_path

from .config import Settings
from .errors import ApiError
from .executor import TERMINAL_EVENTS, Executor, LocalProcessExecutor
from .models import ModelLibrary
from .spec import validate_spec
from .storage import STORAGE_FAULTS, Storage, fault_reason
from .worker import Job, claim_run

TERMINAL = ("completed", "stopped", "failed")
#: Seconds between two tries to record the end of a run lost to a storage fault.
RETRY_SECONDS = 1.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    data: str  # JSON


class RunManager:
    def __init__(self, settings: Settings, storage: Storage, models: ModelLibrary,
                 executor: Executor | None = None):
        self.settings = settings
        self.storage = storage
        self.models = models
        self.executor = executor or LocalProcessExecutor(self.handle_event)
        self._lock = threading.RLock()
        self._queue: deque[str] = deque()
        self._active: set[str] = set()  # running or paused in a worker
        self._subscribers: dict[str, set[asyncio.Queue]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unrecorded: dict[str, tuple[str, str]] = {}  # lost run -> (status, reason) not yet stored
        self._retry: threading.Timer | None = None
        self._closing = False

    # -- lifecycle ----------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the event loop; mark runs a previous server left running as
        interrupted and put its queued runs back in the queue."""
        self._loop = loop
        for run in self.storage.runs_with_status("running", "paused"):
            self._new_attempt(run["id"])  # fences off any worker of the previous server
            self._emit(run["id"], "status", {"status": "interrupted", "epochs_done": run["epochs_done"]},
                       status="interrupted")
        for run in self.storage.runs_with_status("queued"):
            self._queue.append(run["id"])
        self._start_next()
        self._announce_positions()

    def shutdown(self) -> None:
        with self._lock:
            self._closing = True
            if self._retry is not None:
                self._retry.cancel()
        self.executor.shutdown()

    def _checkpoint_dir(self, run_id: str) -> Path:
        return self.settings.data_dir / "runs" / run_id

    # -- commands -----------------------------------------------------------
    def create(self, spec: dict) -> dict:
        """Check a run spec (as ``RunCreate`` dumps it) and queue it; returns the stored run."""
        experiment = validate_spec(spec, self.settings)
        with self._lock:
            if len(self._queue) >= self.settings.max_queued_runs and self._slots_free() == 0:
                raise ApiError(429, f"the queue is full ({self.settings.max_queued_runs} runs wait): "
                                    "wait for a run to finish or stop one")
            run_id = self.storage.create_run(experiment.to_dict())
            self._queue.append(run_id)
            self._start_next()
            if run_id in self._queue:  # only a run that waits is told its place; one a worker took says "running"
                self._announce_position(run_id, self._queue.index(run_id) + 1)
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
                self._emit(run_id, "status", {"status": "queued", "position": len(self._queue)}, status="queued",
                           error=None)  # the reason it was interrupted is past
                self._start_next()
        else:
            raise ApiError(409, f"run {run_id} is {run['status']}: only a paused or interrupted run can be resumed")
        return self.get(run_id)

    def stop(self, run_id: str) -> dict:
        run = self._require(run_id)
        with self._lock:
            if run_id in self._active:
                self.executor.control(run_id, "stop")  # the worker ends the epoch's batch and saves the model
            elif run_id in self._queue or run["status"] == "interrupted":  # no worker to ask: it ends here
                if run_id in self._queue:
                    self._queue.remove(run_id)
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
        shutil.rmtree(self._checkpoint_dir(run_id), ignore_errors=True)
        self._publish(run_id, Event(0, "deleted", json.dumps({"status": "deleted"})))

    # -- queries ------------------------------------------------------------
    def get(self, run_id: str) -> dict:
        run = self._require(run_id)
        run["queue_position"] = self._queue_position(run_id)
        return run

    def page(self, limit: int, offset: int) -> tuple[list[dict], int]:
        """Runs newest first, ``limit`` from ``offset``, and how many there are in all."""
        runs, total = self.storage.list_runs(limit, offset)
        for run in runs:
            run["queue_position"] = self._queue_position(run["id"])
        return runs, total

    def history(self, run_id: str, metrics_only: bool = False) -> list[dict]:
        """The run's epoch events; ``metrics_only`` leaves out layer histograms and boundary views."""
        self._require(run_id)
        epochs = self.storage.epoch_history(run_id)
        if metrics_only:
            epochs = [{k: v for k, v in m.items() if k not in ("layers", "view")} for m in epochs]
        return epochs

    def health(self) -> dict:
        """What ``GET /api/health`` reports: whether writes get through now, the free
        disk, the live workers, and the runs queued and running."""
        writable = self.storage.writable()
        with self._lock:
            queued, running = len(self._queue), len(self._active)
        return {"database_writable": writable, "free_disk_bytes": shutil.disk_usage(self.settings.data_dir).free,
                "live_workers": self.executor.live_workers(), "queued": queued, "running": running}

    def _queue_position(self, run_id: str) -> int | None:
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
            # A run started while an ending cannot be stored would be lost as well.
            while self._queue and self._slots_free() > 0 and not self._unrecorded:
                run_id = self._queue.popleft()
                self._active.add(run_id)
                try:
                    self.executor.submit(self._job(run_id))
                except STORAGE_FAULTS as exc:  # its record unreadable, or no process to be had: it waits
                    log.error("run %s could not start: %s", run_id, fault_reason(exc))
                    self._active.discard(run_id)
                    self._queue.appendleft(run_id)
                    self._retry_later()
                    return
                self._announce_positions()

    def _new_attempt(self, run_id: str) -> int:
        """Start the run's next attempt: workers of earlier ones may no longer write."""
        attempt = self.storage.start_attempt(run_id)
        claim_run(self._checkpoint_dir(run_id), attempt)
        return attempt

    def _job(self, run_id: str) -> Job:
        attempt = self._new_attempt(run_id)
        run = self.storage.get_run(run_id)
        checkpoint_dir = self._checkpoint_dir(run_id)
        model_id = self.storage.new_id()  # the library records the model under it when the run ends
        return Job(
            run_id=run_id, attempt=attempt, experiment=Experiment.from_dict(run["spec"]),
            resume=checkpoint_path(checkpoint_dir).exists(), epochs_stored=run["epochs_done"],
            model_id=model_id, model_dir=self.models.path(model_id), checkpoint_dir=checkpoint_dir,
            mnist_dir=self.settings.mnist_dir, progress_interval=self.settings.progress_interval,
            # Runs share the cores: threads or processes that outnumber them spin and steal time.
            cores=max(1, (os.cpu_count() or 1) // self.settings.max_concurrent_runs),
        )

    def _announce_positions(self) -> None:
        with self._lock:
            for position, run_id in enumerate(self._queue, start=1):
                self._announce_position(run_id, position)

    def _announce_position(self, run_id: str, position: int) -> None:
        """Tell a queued run its place. Best effort (GET answers it too): a storage fault
        here must not undo the step that moved the queue."""
        try:
            self._emit(run_id, "status", {"status": "queued", "position": position})
        except STORAGE_FAULTS as exc:
            log.warning("run %s was not told its queue position: %s", run_id, fault_reason(exc))

    # -- events -------------------------------------------------------------
    def handle_event(self, run_id: str, attempt: int, type_: str, data: dict) -> None:
        """From the executor (bridge thread): store, then announce; refuse an event
        of any attempt but the run's current one (a stale worker's); a run whose event
        cannot be stored is lost (:meth:`_lose`)."""
        try:
            self._handle(run_id, attempt, type_, data)
        except STORAGE_FAULTS as exc:
            self._lose(run_id, exc)

    def _handle(self, run_id: str, attempt: int, type_: str, data: dict) -> None:
        run = self.storage.get_run(run_id)
        if run is None or run["attempt"] != attempt:  # deleted meanwhile, or started again
            return
        if type_ == "status":
            self._emit(run_id, type_, data, status=data["status"], epochs_done=data["epochs_done"])
        elif type_ == "epoch":
            self._emit(run_id, type_, data, epochs_done=data["epoch"])
        elif type_ == "done":
            self._finish(run_id, data)
        elif type_ == "error":
            self._end(run_id, "error", data, status="failed", error=data["message"])
        elif type_ == "died":  # killed from outside: resumable from its last checkpoint
            interrupted = {"status": "interrupted", "epochs_done": run["epochs_done"], "message": data["message"]}
            self._end(run_id, "status", interrupted, status="interrupted", error=data["message"])
        else:
            self._emit(run_id, type_, data)

    def _finish(self, run_id: str, done: dict) -> None:
        """Record a run's end: its model (if any), then the done event."""
        if done["model_id"]:
            self.models.add_trained(done["model_id"], run_id)
        self._end(run_id, "done", done, status=done["status"], epochs_done=done["epochs_done"],
                  model_id=done["model_id"], test_metrics=done["test_metrics"])

    def _end(self, run_id: str, type_: str, data: dict, **run_fields) -> None:
        """Announce a run's last event with its slot already free: whoever hears it
        and starts another run finds room for it."""
        with self._lock:
            self._active.discard(run_id)
            self._emit(run_id, type_, data, **run_fields)
            self._start_next()
            self._announce_positions()

    def _lose(self, run_id: str, exc: Exception) -> None:
        """End a run whose event could not be stored: its worker is stopped (what it said
        next would be lost too, leaving a gap in its events) and its slot freed; the run
        is recorded as interrupted when a checkpoint lets it resume, else as failed."""
        reason = f"its events could not be stored: {fault_reason(exc)}"
        log.error("run %s ends: %s", run_id, reason)
        self.executor.cancel(run_id)
        status = "interrupted" if checkpoint_path(self._checkpoint_dir(run_id)).exists() else "failed"
        with self._lock:
            self._active.discard(run_id)
            self._unrecorded[run_id] = (status, reason)
            self._record_endings()

    def _record_endings(self) -> None:
        """Store the endings of lost runs, then let the queue move; while a write fails
        (or a run cannot start), try again in ``RETRY_SECONDS``."""
        with self._lock:
            if self._retry is not None:  # this call does its work now
                self._retry.cancel()
                self._retry = None
            for run_id, (status, reason) in list(self._unrecorded.items()):
                try:
                    self._record_ending(run_id, status, reason)
                except STORAGE_FAULTS:
                    self._retry_later()
                    return
                del self._unrecorded[run_id]
            self._start_next()
            self._announce_positions()

    def _retry_later(self) -> None:
        """Call :meth:`_record_endings` (which moves the queue) again in ``RETRY_SECONDS``."""
        if self._retry is None and not self._closing:
            self._retry = threading.Timer(RETRY_SECONDS, self._record_endings)
            self._retry.daemon = True
            self._retry.start()

    def _record_ending(self, run_id: str, status: str, reason: str) -> None:
        run = self.storage.get_run(run_id)
        if run is None:  # deleted meanwhile
            return
        if status == "failed":
            self._emit(run_id, "error", {"message": reason}, status="failed", error=reason)
        else:
            self._emit(run_id, "status", {"status": status, "epochs_done": run["epochs_done"], "message": reason},
                       status=status, error=reason)

    def _emit(self, run_id: str, type_: str, data: dict, **run_fields) -> None:
        payload = json.dumps(data)
        seq = self.storage.append_event(run_id, type_, data, run_fields)
        self._publish(run_id, Event(seq, type_, payload))

    # -- subscribers --------------------------------------------------------
    async def events(self, run_id: str, after: int = 0) -> AsyncIterator[Event]:
        """The run's events after id ``after``: the stored ones, then live ones, until
        its done or error event (or its deletion). Raises ApiError(404) first for an
        unknown run, so the caller can answer before it starts streaming."""
        await asyncio.to_thread(self._require, run_id)
        queue = self._subscribe(run_id)  # before reading the history: nothing falls between
        return self._stream(run_id, after, queue)

    async def _stream(self, run_id: str, last: int, queue: asyncio.Queue) -> AsyncIterator[Event]:
        try:
            for seq, type_, data in await asyncio.to_thread(self.storage.events_after, run_id, last):
                yield Event(seq, type_, data)
                last = seq
                if type_ in TERMINAL_EVENTS:
                    return
            run = await asyncio.to_thread(self.storage.get_run, run_id)
            if run is None or run["status"] in TERMINAL and run["last_seq"] <= last:
                return
            while True:
                event = await queue.get()
                if event.type == "deleted":
                    return
                if event.seq <= last:
                    continue  # already sent from the history
                yield event
                last = event.seq
                if event.type in TERMINAL_EVENTS:
                    return
        finally:
            self._unsubscribe(run_id, queue)

    def _subscribe(self, run_id: str) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue()
        self._subscribers.setdefault(run_id, set()).add(q)
        return q

    def _unsubscribe(self, run_id: str, q: asyncio.Queue) -> None:
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
