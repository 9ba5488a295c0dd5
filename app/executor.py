"""Where training runs: behind a narrow interface, so a distributed backend (an
RQ/Celery/Dramatiq queue, or Ray) can replace the local process pool without
touching the routes or the run manager.

The interface (:class:`Executor`):
    ``submit(job)``  start a :class:`~app.worker.Job` (the run manager does the queueing);
    ``control(run_id, command)``  "pause" | "resume" | "stop";
    ``cancel(run_id)``  end it now, without waiting for a batch boundary;
    events come back through the ``on_event(run_id, type, data)`` callback.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from typing import Callable, Protocol

from . import worker

EventCallback = Callable[[str, str, dict], None]
TERMINAL_EVENTS = ("done", "error")


class Executor(Protocol):
    def submit(self, job: worker.Job) -> None: ...
    def control(self, run_id: str, command: str) -> None: ...
    def cancel(self, run_id: str) -> None: ...
    def shutdown(self) -> None: ...


class LocalProcessExecutor:
    """One worker process per run (forkserver: a clean process with NumPy and the
    engine preloaded), a shared events queue, and a bridge thread that hands
    each event to ``on_event`` and notices workers that die without a word."""

    COMMANDS = {"pause": worker.PAUSE, "resume": worker.RUN, "stop": worker.STOP}

    def __init__(self, on_event: EventCallback):
        self.on_event = on_event
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["numpy", "mlp_engine", "app.worker"])
        self._events = self._ctx.Queue()
        self._workers: dict[str, tuple[mp.Process, object]] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._bridge = threading.Thread(target=self._pump, name="executor-bridge", daemon=True)
        self._bridge.start()

    def submit(self, job: worker.Job) -> None:
        control = self._ctx.RawValue("i", worker.RUN)
        proc = self._ctx.Process(target=worker.run_job, args=(job, control, self._events),
                                 name=f"run-{job.run_id}", daemon=True)
        with self._lock:  # held across start(): the reaper must not see an unstarted process as dead
            self._workers[job.run_id] = (proc, control)
            proc.start()

    def control(self, run_id: str, command: str) -> None:
        with self._lock:
            entry = self._workers.get(run_id)
        if entry is not None:
            entry[1].value = self.COMMANDS[command]

    def cancel(self, run_id: str) -> None:
        with self._lock:
            entry = self._workers.pop(run_id, None)
        if entry is not None:
            entry[0].kill()
            entry[0].join(5)

    def shutdown(self) -> None:
        self._closing = True
        with self._lock:
            entries = list(self._workers.values())
            self._workers.clear()
        for proc, _ in entries:
            proc.kill()
        for proc, _ in entries:
            proc.join(5)
        self._events.put(None)
        self._bridge.join(5)

    # -- the bridge thread --------------------------------------------------
    def _pump(self) -> None:
        while True:
            try:
                item = self._events.get(timeout=0.5)
            except queue.Empty:
                self._reap_dead()
                continue
            if item is None:
                return
            self._deliver(*item)

    def _deliver(self, run_id: str, type_: str, data: dict) -> None:
        if type_ in TERMINAL_EVENTS:
            with self._lock:
                entry = self._workers.pop(run_id, None)
            if entry is None:  # cancelled meanwhile: the run manager already ended it
                return
        elif run_id not in self._workers:
            return
        self.on_event(run_id, type_, data)

    def _reap_dead(self) -> None:
        """A worker that exited without a done/error event crashed (killed, out of memory)."""
        with self._lock:
            dead = [(rid, p) for rid, (p, _) in self._workers.items() if not p.is_alive()]
        for run_id, proc in dead:
            while True:  # deliver what it sent before it died
                try:
                    item = self._events.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    self._deliver(*item)
            if run_id in self._workers and not self._closing:
                self._deliver(run_id, "error", {"message": f"the training process died (exit code {proc.exitcode})"})
