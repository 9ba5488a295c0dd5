"""SQLite storage: runs, their events, and models. The only module with SQL, and
the one place that mints ids.

One thread owns the write connection (writes queue up behind it, as in
datasette); reads borrow a connection from a pool, so no connection outlives its use
(thread-local ones stayed open after their thread ended, until a garbage collection).
WAL mode lets reads go on while a write is in progress.

A full disk or a read-only data directory fails a write with ``sqlite3.OperationalError``
(or ``OSError`` from a file beside the database): :func:`fault_reason` says which in
words, and the next write tries afresh, so the service recovers once the disk has room.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    dataset TEXT NOT NULL,
    epochs_total INTEGER NOT NULL,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    model_id TEXT,
    error TEXT,
    test_metrics TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    attempt INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at DESC);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    run_id TEXT,
    created_at REAL NOT NULL,
    name TEXT NOT NULL,
    dataset TEXT NOT NULL,
    source TEXT NOT NULL,
    architecture TEXT NOT NULL,
    metrics TEXT NOT NULL,
    n_params INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS models_created ON models (created_at DESC);
"""

RUN_JSON_FIELDS = ("spec", "test_metrics")
MODEL_JSON_FIELDS = ("architecture", "metrics")
#: Errors that mean the disk refuses writes: a storage fault, not a bug.
STORAGE_FAULTS = (sqlite3.OperationalError, OSError)
#: Bytes a health probe writes beside the database: one page, as a write would need.
PROBE_BYTES = 4096


def _row(row: sqlite3.Row | None, json_fields: tuple[str, ...]) -> dict | None:
    if row is None:
        return None
    out = dict(row)
    for key in json_fields:
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    return out


def _add_attempt_column(conn: sqlite3.Connection) -> None:
    """A database made before runs had attempts gets the column (every run at attempt 0)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "attempt" not in columns:
        conn.execute("ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0")


def fault_reason(exc: BaseException) -> str:
    """What a storage error (one of :data:`STORAGE_FAULTS`) means, in words an operator acts on."""
    name = getattr(exc, "sqlite_errorname", "")
    code = getattr(exc, "errno", None)
    if name == "SQLITE_FULL" or code in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({exc})"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the data directory is not writable ({exc})"
    return f"the data directory cannot be used ({exc})"


class Storage:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._write_conn: sqlite3.Connection | None = None
        self._write(lambda conn: conn.executescript(SCHEMA))
        self._write(_add_attempt_column)

    # -- connections --------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)  # one user at a time
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A read connection, borrowed from the pool (made when none is idle) and given back."""
        try:
            conn = self._idle_readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._idle_readers.put(conn)

    def _fetch(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._reader() as conn:
            return conn.execute(sql, args).fetchall()

    def _fetch_one(self, sql: str, args: tuple = ()) -> sqlite3.Row | None:
        rows = self._fetch(sql, args)
        return rows[0] if rows else None

    def _write(self, fn) -> Any:
        """Run ``fn(conn)`` in a transaction on the writer thread; wait for its result."""

        def task():
            if self._write_conn is None:
                self._write_conn = self._connect()
            try:
                with self._write_conn:
                    return fn(self._write_conn)
            except sqlite3.Error:
                # A commit that failed (disk full) may leave its transaction open: the
                # next write starts on a fresh connection instead.
                self._write_conn.close()
                self._write_conn = None
                raise

        return self._writer.submit(task).result()

    def writable(self) -> bool:
        """Whether a write gets through now: a page-sized file written and removed beside
        the database, and a write transaction on it (what a full disk or a read-only
        directory refuses)."""
        try:
            with tempfile.TemporaryFile(dir=self.path.parent, prefix=".write-probe-") as probe:  # nameless: no race
                probe.write(b"\0" * PROBE_BYTES)
                probe.flush()
                os.fsync(probe.fileno())
            self._write(lambda c: c.execute("BEGIN IMMEDIATE"))
        except STORAGE_FAULTS:
            return False
        return True

    def close(self) -> None:
        self._writer.submit(lambda: self._write_conn and self._write_conn.close()).result()
        self._writer.shutdown()
        while not self._idle_readers.empty():
            self._idle_readers.get_nowait().close()

    @staticmethod
    def new_id() -> str:
        """A fresh id for a run or a model (12 hex digits)."""
        return uuid.uuid4().hex[:12]

    # -- runs ---------------------------------------------------------------
    def create_run(self, spec: dict) -> str:
        """Store a new queued run of ``spec`` (a validated spec, every field filled in); returns its id."""
        run_id, now = self.new_id(), time.time()
        self._write(lambda c: c.execute(
            "INSERT INTO runs (id, created_at, updated_at, status, spec, dataset, epochs_total)"
            " VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            (run_id, now, now, json.dumps(spec), spec["dataset"], spec["epochs"]),
        ))
        return run_id

    def get_run(self, run_id: str) -> dict | None:
        row = self._fetch_one("SELECT * FROM runs WHERE id = ?", (run_id,))
        return _row(row, RUN_JSON_FIELDS)

    def list_runs(self, limit: int, offset: int) -> tuple[list[dict], int]:
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT * FROM runs ORDER BY created_at DESC, id LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
            total = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return [_row(r, RUN_JSON_FIELDS) for r in rows], total

    def runs_with_status(self, *statuses: str) -> list[dict]:
        marks = ",".join("?" * len(statuses))
        rows = self._fetch(f"SELECT * FROM runs WHERE status IN ({marks}) ORDER BY created_at", statuses)
        return [_row(r, RUN_JSON_FIELDS) for r in rows]

    def start_attempt(self, run_id: str) -> int:
        """Count a new start of the run; returns its attempt number (1, 2, ...)."""
        return self._write(lambda c: c.execute(
            "UPDATE runs SET attempt = attempt + 1 WHERE id = ? RETURNING attempt", (run_id,)).fetchone()[0])

    def delete_run(self, run_id: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM runs WHERE id = ?", (run_id,)))

    # -- events -------------------------------------------------------------
    def append_event(self, run_id: str, type_: str, data: dict, run_fields: dict | None = None) -> int:
        """Store the run's next event (and any run column changes) in one
        transaction; returns its sequence number."""
        fields = dict(run_fields or {})
        for key in RUN_JSON_FIELDS:
            if fields.get(key) is not None:
                fields[key] = json.dumps(fields[key])

        def write(c: sqlite3.Connection) -> int:
            seq = c.execute("SELECT last_seq FROM runs WHERE id = ?", (run_id,)).fetchone()[0] + 1
            c.execute("INSERT INTO events (run_id, seq, type, data) VALUES (?, ?, ?, ?)",
                      (run_id, seq, type_, json.dumps(data)))
            sets = "".join(f", {k} = ?" for k in fields)
            c.execute(f"UPDATE runs SET last_seq = ?, updated_at = ?{sets} WHERE id = ?",
                      (seq, time.time(), *fields.values(), run_id))
            return seq

        return self._write(write)

    def events_after(self, run_id: str, after_seq: int) -> list[tuple[int, str, str]]:
        """(seq, type, JSON data) of the run's events after ``after_seq``, in order."""
        return [tuple(r) for r in self._fetch(
            "SELECT seq, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq", (run_id, after_seq))]

    def epoch_history(self, run_id: str) -> list[dict]:
        rows = self._fetch("SELECT data FROM events WHERE run_id = ? AND type = 'epoch' ORDER BY seq", (run_id,))
        return [json.loads(r[0]) for r in rows]

    # -- models -------------------------------------------------------------
    def create_model(self, model_id: str, *, run_id: str | None, name: str, dataset: str, source: str,
                     architecture: dict, metrics: dict, n_params: int) -> None:
        """Record a model whose files are saved under ``model_id`` (an id from :meth:`new_id`)."""
        self._write(lambda c: c.execute(
            "INSERT INTO models (id, run_id, created_at, name, dataset, source, architecture, metrics, n_params)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (model_id, run_id, time.time(), name, dataset, source, json.dumps(architecture), json.dumps(metrics),
             n_params),
        ))

    def get_model(self, model_id: str) -> dict | None:
        row = self._fetch_one("SELECT * FROM models WHERE id = ?", (model_id,))
        return _row(row, MODEL_JSON_FIELDS)

    def list_models(self, dataset: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM models", ()
        if dataset:
            sql, args = sql + " WHERE dataset = ?", (dataset,)
        rows = self._fetch(sql + " ORDER BY created_at DESC", args)
        return [_row(r, MODEL_JSON_FIELDS) for r in rows]

    def delete_model(self, model_id: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM models WHERE id = ?", (model_id,)))
