"""Where training runs: behind a narrow interface, so a distributed backend (an
RQ/Celery/Dramatiq queue, or Ray) can replace the local process pool without
touching the routes or the run manager.

The interface (:class:`Executor`):
    ``submit(job)``  start a :class:`~app.worker.Job` (the run manager does the queueing);
    ``control(run_id, command)``  "pause" | "resume" | "stop";
    ``cancel(run_id)``  end it now, without waiting for a batch boundary;
    ``live_workers()``  how many of its workers are alive (for the health report);
    events come back through the ``on_event(run_id, attempt, type, data)`` callback
    (the job's attempt, so the run manager can refuse a stale worker's), and a
    worker that dies before its done or error event is reported as a ``died`` event
    whose ``message`` says how (the signal; SIGKILL is likely the out-of-memory killer).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Protocol

from . import worker

EventCallback = Callable[[str, int, str, dict], None]
log = logging.getLogger(__name__)
TERMINAL_EVENTS = ("done", "error")


class Executor(Protocol):
    def submit(self, job: worker.Job) -> None: ...
    def control(self, run_id: str, command: str) -> None: ...
    def cancel(self, run_id: str) -> None: ...
    def live_workers(self) -> int: ...
    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class _Worker:
    process: mp.Process
    attempt: int
    control: object  # a shared int: worker.RUN, PAUSE or STOP
    events: Connection  # the reading end of the worker's own events pipe


class LocalProcessExecutor:
    """One worker process per run (forkserver: a clean process with NumPy and the
    engine preloaded), each with a pipe of its own for its events, and a bridge
    thread that hands each event to ``on_event`` and notices workers that die
    without a word (their pipe closes). The bridge outlives any exception
    ``on_event`` raises (it is logged): one run's trouble must not silence the others.

    A pipe per worker rather than one shared queue: a worker killed while it
    writes (cancelled, or out of memory) would leave a shared queue's lock held
    and silence every other run; here it spoils only its own pipe.

    Every worker also holds the reading end of one lifeline pipe whose writing end
    only this process holds: when the server ends, however it ends (``kill -9``
    included), the pipe closes and the workers end themselves (see :mod:`app.worker`)."""

    COMMANDS = {"pause": worker.PAUSE, "resume": worker.RUN, "stop": worker.STOP}

    def __init__(self, on_event: EventCallback):
        self.on_event = on_event
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["numpy", "mlp_engine", "app.worker"])
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self._new_pipes: queue.SimpleQueue[tuple[str, Connection]] = queue.SimpleQueue()
        self._wake_reader, self._wake_writer = os.pipe()  # interrupts the bridge's wait
        self._lifeline, self._lifeline_writer = self._ctx.Pipe(duplex=False)  # nothing is ever written
        self._closing = False
        self._bridge = threading.Thread(target=self._pump, name="executor-bridge", daemon=True)
        self._bridge.start()

    def submit(self, job: worker.Job) -> None:
        control = self._ctx.RawValue("i", worker.RUN)
        reader, writer = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(target=worker.run_job, args=(job, control, writer, self._lifeline),
                                 name=f"run-{job.run_id}", daemon=True)
        with self._lock:
            self._workers[job.run_id] = _Worker(proc, job.attempt, control, reader)
            proc.start()
        writer.close()  # the worker holds the only writing end now: the pipe closes when it dies
        self._new_pipes.put((job.run_id, reader))
        os.write(self._wake_writer, b"+")

    def control(self, run_id: str, command: str) -> None:
        with self._lock:
            entry = self._workers.get(run_id)
        if entry is not None:
            entry.control.value = self.COMMANDS[command]

    def cancel(self, run_id: str) -> None:
        with self._lock:
            entry = self._workers.pop(run_id, None)
        if entry is not None:
            entry.process.kill()
            entry.process.join(5)

    def live_workers(self) -> int:
        with self._lock:
            return sum(entry.process.is_alive() for entry in self._workers.values())

    def shutdown(self) -> None:
        self._closing = True
        with self._lock:
            entries = list(self._workers.values())
            self._workers.clear()
        for entry in entries:
            entry.process.kill()
        for entry in entries:
            entry.process.join(5)
        os.write(self._wake_writer, b"+")
        self._bridge.join(5)
        os.close(self._wake_reader)
        os.close(self._wake_writer)
        self._lifeline.close()
        self._lifeline_writer.close()

    # -- the bridge thread --------------------------------------------------
    def _pump(self) -> None:
        pipes: dict[Connection, str] = {}  # each live worker's events pipe -> its run
        while not self._closing:
            for ready in wait([self._wake_reader, *pipes]):
                if ready == self._wake_reader:
                    os.read(self._wake_reader, 4096)
                    while not self._new_pipes.empty():
                        run_id, reader = self._new_pipes.get()
                        pipes[reader] = run_id
                    continue
                try:
                    message = ready.recv()
                except (EOFError, OSError):  # the worker has exited, or died mid-message
                    self._closed(ready, pipes.pop(ready))
                    ready.close()
                    continue
                self._deliver(ready, *message)
        for reader in pipes:
            reader.close()

    def _current(self, run_id: str, pipe: Connection) -> bool:
        """Whether ``pipe`` is the running worker's of ``run_id`` (not a cancelled or
        finished one's, whose run may since have started again)."""
        entry = self._workers.get(run_id)
        return entry is not None and entry.events is pipe

    def _deliver(self, pipe: Connection, run_id: str, type_: str, data: dict) -> None:
        with self._lock:
            if not self._current(run_id, pipe):
                return
            entry = self._workers[run_id]
            if type_ in TERMINAL_EVENTS:
                del self._workers[run_id]
        self._hand_over(run_id, entry.attempt, type_, data)

    def _hand_over(self, run_id: str, attempt: int, type_: str, data: dict) -> None:
        """``on_event``, whose failure is logged rather than allowed to end the bridge."""
        try:
            self.on_event(run_id, attempt, type_, data)
        except Exception:
            log.exception("the %s event of run %s was not handled", type_, run_id)

    def _closed(self, pipe: Connection, run_id: str) -> None:
        """A worker whose pipe closed before its done or error event died (killed, out of memory)."""
        with self._lock:
            if not self._current(run_id, pipe):
                return
            entry = self._workers.pop(run_id)
        entry.process.join(5)
        if not self._closing:
            self._hand_over(run_id, entry.attempt, "died", {"message": death_reason(entry.process.exitcode)})


def death_reason(exitcode: int | None) -> str:
    """Why a worker ended without a word, from its exit code (minus the signal that killed it)."""
    if exitcode is None or exitcode >= 0:
        return f"the training process exited unexpectedly (exit code {exitcode})"
    name = signal.Signals(-exitcode).name if -exitcode in signal.valid_signals() else f"signal {-exitcode}"
    likely = " (likely out of memory)" if -exitcode == signal.SIGKILL else ""
    return f"the training process was killed by {name}{likely}"
